//! Identifiers and content hashes: what each string of the domain is, as a type.
//!
//! Each is a string newtype that serialises as the plain string (the JSON reports and the
//! catalog are unchanged), derefs to `&str`, and compares with `str` and `String`. The
//! ones with a shape check it where they are made from outside input
//! ([`ContentHash::parse`], [`DossierCode::parse`]); ids made here are valid by
//! construction.

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Takes a value read back from the catalog or the store, trusted as written.
            pub fn from_stored(s: impl Into<String>) -> Self {
                $name(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name(s.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

string_id!(
    /// A batch: `bat_` and a time-ordered UUID (v7), so ids sort by ingest time.
    BatchId
);
string_id!(
    /// A stored document: `doc_` and a hash of its batch, dossier and place.
    DocumentId
);
string_id!(
    /// The BLAKE3 of some bytes, 64 lowercase hex digits.
    ContentHash
);
string_id!(
    /// Where an object lives in the store (`originals/…`, `documents/…`, `work/…`).
    ObjectKey
);
string_id!(
    /// A dossier code of the shape `V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX`.
    DossierCode
);

impl BatchId {
    /// A new, time-ordered batch id.
    pub fn new() -> BatchId {
        BatchId(format!("bat_{}", uuid::Uuid::now_v7().simple()))
    }
}

impl DocumentId {
    /// The id of the `seq`-th document of the `dossier`-th dossier of a batch: the same
    /// batch always gives its documents the same ids, so a rerun is idempotent.
    pub fn for_place(batch_id: &str, dossier: usize, seq: usize) -> DocumentId {
        let h = blake3::hash(format!("{batch_id}/{dossier}/{seq}").as_bytes());
        DocumentId(format!("doc_{}", &h.to_hex()[..20]))
    }
}

impl ContentHash {
    /// The BLAKE3 of `bytes`.
    pub fn of(bytes: &[u8]) -> ContentHash {
        ContentHash(blake3::hash(bytes).to_hex().to_string())
    }

    /// A hash given as text: 64 hex digits, any case.
    pub fn parse(s: &str) -> Option<ContentHash> {
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| ContentHash(s.to_ascii_lowercase()))
    }
}

/// Circular 01/2018/TT-VPCP Art. 19: `V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX`.
static DOSSIER_CODE: LazyLock<regex::Regex> = LazyLock::new(|| regex::Regex::new(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$").expect("valid pattern"));

impl DossierCode {
    /// True if `code` has the shape of a dossier code.
    pub fn is_valid(code: &str) -> bool {
        DOSSIER_CODE.is_match(code)
    }

    /// `code` if it has the shape of a dossier code.
    pub fn parse(code: &str) -> Option<DossierCode> {
        DossierCode::is_valid(code).then(|| DossierCode(code.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_their_strings() {
        let id = BatchId::from_stored("bat_0192");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"bat_0192\"");
        assert_eq!(serde_json::from_str::<BatchId>("\"bat_0192\"").unwrap(), id);
        assert!(id == "bat_0192" && id.starts_with("bat_"));
        assert!(BatchId::new().starts_with("bat_") && BatchId::new() != BatchId::new());
        assert_eq!(DocumentId::for_place("bat_1", 0, 2), DocumentId::for_place("bat_1", 0, 2));
        assert_ne!(DocumentId::for_place("bat_1", 0, 2), DocumentId::for_place("bat_1", 1, 2));
    }

    #[test]
    fn shapes_are_checked_where_text_comes_in() {
        let h = ContentHash::of(b"scan");
        assert_eq!(ContentHash::parse(&h.to_uppercase()), Some(h.clone()));
        assert_eq!(ContentHash::parse(&h[..63]), None);
        assert!(DossierCode::parse("000.00.15.H40-250301-0007").is_some());
        for bad in ["000.00.15.h40-250301-0007", "000.00.15.H40-25030-0007", " 000.00.15.H40-250301-0007"] {
            assert_eq!(DossierCode::parse(bad), None, "{bad}");
        }
    }
}

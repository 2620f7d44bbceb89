//! Who is calling, and what they may see: bearer tokens, roles, and the scope decisions.
//!
//! A token is `sohoa_` and 43 characters of URL-safe base64 (32 random bytes); the catalog
//! keeps only its BLAKE3. The decisions are pure functions of the caller and the record,
//! tested without I/O:
//! - `clerk`: uploads; sees the batches (and page thumbnails) of its own post office;
//! - `agency`: reads, searches and downloads documents of dossiers whose code begins with
//!   its agency code and a `-` (Circular 01/2018/TT-VPCP Art. 19: the
//!   `V1V2V3.Z1Z2.Y1Y2.MX1X2` part names the receiving agency), and the thumbnails of
//!   their pages;
//! - `certifier`: what its agency may read, and certifies those documents (`certify.rs`);
//! - `admin`: everything, metrics, the audit trail.
//!
//! A role that may not use a route at all gets `forbidden`; a record outside a caller's
//! scope is `not-found`, word for word the answer for a record that does not exist.

use crate::runtime::catalog::{Catalog, NewToken, TokenRecord};
use crate::runtime::error::Error;

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Clerk,
    Agency,
    Certifier,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "clerk" => Some(Role::Clerk),
            "agency" => Some(Role::Agency),
            "certifier" => Some(Role::Certifier),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Agency => "agency",
            Role::Certifier => "certifier",
            Role::Admin => "admin",
        }
    }
}

/// The caller of a request: a valid token's id, role and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: String,
    pub role: Role,
    pub agency: Option<String>,
    pub post_office: Option<String>,
}

use crate::model::is_agency_code;
pub use crate::model::is_post_office_code;

/// Whether a dossier belongs to `agency`: its code is the agency code, then `-`.
pub fn agency_owns(agency: &str, dossier_code: Option<&str>) -> bool {
    dossier_code.and_then(|c| c.strip_prefix(agency)).is_some_and(|rest| rest.starts_with('-'))
}

impl Principal {
    pub fn may_upload(&self) -> bool {
        matches!(self.role, Role::Clerk | Role::Admin)
    }

    /// Reading, searching and downloading documents (within [`Principal::sees_dossier`]).
    pub fn may_read_documents(&self) -> bool {
        matches!(self.role, Role::Agency | Role::Certifier | Role::Admin)
    }

    /// Batch status and listings (within [`Principal::sees_batch`]).
    pub fn may_list_batches(&self) -> bool {
        matches!(self.role, Role::Clerk | Role::Admin)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the documents of a dossier with this code are in scope.
    pub fn sees_dossier(&self, dossier_code: Option<&str>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Agency | Role::Certifier => self.agency.as_deref().is_some_and(|a| agency_owns(a, dossier_code)),
            Role::Clerk => false,
        }
    }

    /// Whether a batch received at `post_office` is in scope.
    pub fn sees_batch(&self, post_office: Option<&str>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Clerk => self.post_office.is_some() && self.post_office.as_deref() == post_office,
            Role::Agency | Role::Certifier => false,
        }
    }

    /// Whether a page is in scope: in a batch the caller sees, or in a document of a
    /// dossier the caller sees (`page_dossiers`: the dossiers of the documents holding it).
    pub fn sees_page(&self, batch_post_office: Option<&str>, page_dossiers: &[Option<String>]) -> bool {
        self.sees_batch(batch_post_office) || (self.may_read_documents() && page_dossiers.iter().any(|d| self.sees_dossier(d.as_deref())))
    }

    /// The restriction on search hits: the dossier-code prefix an agency sees.
    pub fn dossier_prefix(&self) -> Option<String> {
        match self.role {
            Role::Admin | Role::Clerk => None,
            // An agency token always has its code (checked at creation); without one the
            // prefix matches nothing.
            Role::Agency | Role::Certifier => Some(format!("{}-", self.agency.as_deref().unwrap_or("\u{0}"))),
        }
    }
}

/// The BLAKE3 of a token's secret, as the catalog keeps it.
pub fn token_hash(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

/// A new token secret: `sohoa_` and 32 random bytes in URL-safe base64, no padding.
fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::from("sohoa_");
    let mut acc = 0u32;
    let mut bits = 0;
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(ALPHABET[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (6 - bits)) & 63) as usize] as char);
    }
    out
}

/// What `sohoa token create` was asked for, checked: a role's required scope given, and
/// only the scope that role uses.
pub fn check_token_request(role: &str, agency: Option<&str>, post_office: Option<&str>) -> Result<Role, Error> {
    let role = Role::parse(role).ok_or_else(|| Error::Usage(format!("--role {role:?}: use clerk, agency, certifier or admin")))?;
    if let Some(a) = agency
        && !is_agency_code(a)
    {
        return Err(Error::Usage(format!("--agency {a:?} is not an agency code such as 000.00.15.H40 (the first part of its dossier codes)")));
    }
    if let Some(p) = post_office
        && !is_post_office_code(p)
    {
        return Err(Error::Usage(format!("--post-office {p:?}: use 1 to 32 letters, digits, '-', '_' or '.'")));
    }
    match role {
        Role::Agency | Role::Certifier if agency.is_none() => Err(Error::Usage(format!("a {} token needs --agency CODE", role.as_str()))),
        Role::Clerk if post_office.is_none() => Err(Error::Usage("a clerk token needs --post-office CODE".into())),
        Role::Clerk if agency.is_some() => Err(Error::Usage("a clerk token takes --post-office, not --agency".into())),
        Role::Agency | Role::Certifier if post_office.is_some() => Err(Error::Usage(format!("a {} token takes --agency, not --post-office", role.as_str()))),
        _ => Ok(role),
    }
}

/// Creates a token: records its hash; returns the record and the secret (shown once).
pub async fn create_token(
    catalog: &Catalog,
    role: Role,
    agency: Option<String>,
    post_office: Option<String>,
    name: Option<String>,
) -> Result<(TokenRecord, String), Error> {
    let secret = new_secret();
    let new = NewToken {
        id: format!("tok_{}", uuid::Uuid::now_v7().simple()),
        token_hash: token_hash(&secret),
        role: role.as_str().into(),
        agency,
        post_office,
        name,
    };
    let record = catalog.create_token(&new).await?;
    Ok((record, secret))
}

/// The caller of a request with this `Authorization` header value (or the UI's cookie
/// value): a valid token, or `unauthorized`.
pub async fn authenticate(catalog: &Catalog, secret: Option<&str>) -> Result<Principal, Error> {
    let secret = secret.ok_or_else(|| Error::Unauthorized("this call needs a token: Authorization: Bearer TOKEN (see `sohoa token create`)".into()))?;
    let record = catalog.token_by_hash(&token_hash(secret)).await?.ok_or_else(|| Error::Unauthorized("the token is unknown or revoked".into()))?;
    let role = Role::parse(&record.role).ok_or_else(|| Error::Unauthorized(format!("the token has the unknown role {:?}", record.role)))?;
    Ok(Principal { token_id: record.id, role, agency: record.agency, post_office: record.post_office })
}

/// The token of an `Authorization: Bearer TOKEN` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role, agency: Option<&str>, post_office: Option<&str>) -> Principal {
        Principal { token_id: "tok_x".into(), role, agency: agency.map(Into::into), post_office: post_office.map(Into::into) }
    }

    const A: &str = "000.00.15.H40";

    #[test]
    fn an_agency_sees_its_own_dossiers_and_nothing_else() {
        let agency = who(Role::Agency, Some(A), None);
        assert!(agency.sees_dossier(Some("000.00.15.H40-250301-0007")));
        for other in [
            Some("000.00.15.H41-250301-0007"),
            Some("000.00.15.H4-250301-0007"),
            Some("000.00.15.H400-250301-0007"),
            Some("000.00.15.h40-250301-0007"),
            Some("000.00.15.H40"),
            Some("x000.00.15.H40-250301-0007"),
            None,
        ] {
            assert!(!agency.sees_dossier(other), "{other:?}");
        }
        let certifier = who(Role::Certifier, Some(A), None);
        assert!(certifier.sees_dossier(Some("000.00.15.H40-250301-0007")));
        assert!(!certifier.sees_dossier(Some("000.00.16.H40-250301-0007")));
        assert!(who(Role::Admin, None, None).sees_dossier(None));
        assert!(!who(Role::Clerk, None, Some("700000")).sees_dossier(Some("000.00.15.H40-250301-0007")));
        assert_eq!(agency.dossier_prefix().as_deref(), Some("000.00.15.H40-"));
        assert_eq!(who(Role::Admin, None, None).dossier_prefix(), None);
    }

    #[test]
    fn a_clerk_sees_the_batches_of_its_post_office_only() {
        let clerk = who(Role::Clerk, None, Some("700000"));
        assert!(clerk.sees_batch(Some("700000")));
        assert!(!clerk.sees_batch(Some("700001")));
        assert!(!clerk.sees_batch(None));
        // A clerk token without a post office (never created so) sees no batch.
        assert!(!who(Role::Clerk, None, None).sees_batch(None));
        assert!(!who(Role::Agency, Some(A), None).sees_batch(None));
        assert!(who(Role::Admin, None, None).sees_batch(None));
    }

    #[test]
    fn pages_follow_their_batch_or_their_documents() {
        let agency = who(Role::Agency, Some(A), None);
        let mine = [Some("000.00.15.H40-250301-0001".to_string())];
        let theirs = [Some("000.00.15.H41-250301-0001".to_string())];
        assert!(agency.sees_page(Some("700000"), &mine));
        assert!(!agency.sees_page(Some("700000"), &theirs));
        assert!(!agency.sees_page(Some("700000"), &[]), "a page in no document (a separator sheet) is not an agency's");
        let clerk = who(Role::Clerk, None, Some("700000"));
        assert!(clerk.sees_page(Some("700000"), &[]));
        assert!(!clerk.sees_page(Some("700001"), &mine));
    }

    #[test]
    fn roles_and_what_they_may_do() {
        let rows =
            [(Role::Clerk, true, false, true), (Role::Agency, false, true, false), (Role::Certifier, false, true, false), (Role::Admin, true, true, true)];
        for (role, upload, read, list) in rows {
            let p = who(role, Some(A), Some("700000"));
            assert_eq!((p.may_upload(), p.may_read_documents(), p.may_list_batches()), (upload, read, list), "{role:?}");
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
    }

    #[test]
    fn token_requests_are_checked() {
        assert_eq!(check_token_request("agency", Some(A), None).unwrap(), Role::Agency);
        assert_eq!(check_token_request("clerk", None, Some("700000")).unwrap(), Role::Clerk);
        assert_eq!(check_token_request("admin", None, None).unwrap(), Role::Admin);
        for (role, agency, po) in [
            ("agency", None, None),
            ("agency", Some("000.00.15"), None),
            ("agency", Some(A), Some("700000")),
            ("certifier", None, None),
            ("clerk", None, None),
            ("clerk", Some(A), Some("700000")),
            ("clerk", None, Some("70 00")),
            ("root", None, None),
        ] {
            let e = check_token_request(role, agency, po).unwrap_err();
            assert_eq!(e.code(), "bad-usage", "{role} {agency:?} {po:?}");
        }
    }

    #[test]
    fn secrets_are_long_random_and_hash_stably() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), "sohoa_".len() + 43);
        assert!(a["sohoa_".len()..].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(token_hash(&a), token_hash(&a.clone()));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}

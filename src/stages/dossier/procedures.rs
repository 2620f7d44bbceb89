//! The procedure catalog and the completeness check.
//!
//! Owns the procedure file format (`--procedures FILE`, TOML or JSON; the sample
//! `samples/procedures.toml` is built in and is the default), its validation, the extended
//! cover payload and the check itself:
//!
//! - a procedure has a code, a name, `required` and `optional` components given as
//!   document-type codes (the `TP:<code>` of separator sheets);
//! - `[agencies]` maps an agency code (the `V1V2V3.Z1Z2.Y1Y2.MX1X2` part of a dossier
//!   code) to its default procedure;
//! - a cover sheet may carry `HS:<dossier code>|<procedure code>|<citizen ID>` (Circular
//!   01/2023: the cover QR carries the dossier code, the procedure code and the person's
//!   identifier); the plain `HS:<dossier code>` stays valid, and either extra part may be
//!   empty (`HS:<code>||<citizen ID>`);
//! - [`ProcedureCatalog::check`] decides, from the procedure named on the cover (else the
//!   agency's default) and the types of the documents found, which required components
//!   are missing, in the order the procedure lists them. A dossier with no procedure is
//!   not checked (`complete: null`); a procedure code the catalog does not know is not
//!   checked either and says so.
//!
//! Pure: parsing takes the file's text; [`ProcedureCatalog::load`] reads the file.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The sample catalog, built into the binary: the default when no file is given.
pub const SAMPLE: &str = include_str!("../../../samples/procedures.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default, alias = "procedures")]
    procedure: Vec<RawProcedure>,
    #[serde(default)]
    agencies: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcedure {
    code: String,
    name: String,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    optional: Vec<String>,
}

/// An administrative procedure and the components of its dossiers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    /// Document-type codes every dossier must contain, in the order they are reported.
    pub required: Vec<String>,
    pub optional: Vec<String>,
}

/// Validated procedures and agency defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcedureCatalog {
    procedures: Vec<Procedure>,
    agencies: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProceduresError {
    #[error("cannot read procedures {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("procedures {path}: {message}")]
    Parse { path: String, message: String },
    #[error("procedures {path}: {message}")]
    Invalid { path: String, message: String },
}

impl ProceduresError {
    pub fn code(&self) -> &'static str {
        match self {
            ProceduresError::Read { .. } => "procedures-unreadable",
            ProceduresError::Parse { .. } => "procedures-syntax",
            ProceduresError::Invalid { .. } => "procedures-invalid",
        }
    }
}

/// A procedure code: 1 to 32 ASCII letters, digits, `.`, `-` or `_`.
pub fn is_procedure_code(code: &str) -> bool {
    (1..=32).contains(&code.len()) && code.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

/// A document-type code: 1 to 16 ASCII letters or digits.
fn is_type_code(code: &str) -> bool {
    (1..=16).contains(&code.len()) && code.bytes().all(|c| c.is_ascii_alphanumeric())
}

use crate::model::is_agency_code;

/// The agency part of a dossier code (before the first `-`), if it has the agency shape.
pub fn agency_of(dossier_code: &str) -> Option<&str> {
    dossier_code.split_once('-').map(|(a, _)| a).filter(|a| is_agency_code(a))
}

/// A 12-digit personal ID number (CCCD).
pub fn is_citizen_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// What a dossier cover carries: the dossier code, and optionally the procedure code and
/// the citizen's ID number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cover {
    pub code: String,
    pub procedure: Option<String>,
    pub citizen_id: Option<String>,
}

/// Reads the value of a cover sheet (after `HS:`): `code`, `code|procedure` or
/// `code|procedure|citizen id`; parts are trimmed and an empty part is absent. Parts are
/// kept as read (a bad procedure code or ID is reported by the check, not dropped here).
pub fn parse_cover(value: &str) -> Cover {
    let mut parts = value.split('|').map(str::trim);
    let code = parts.next().unwrap_or("").to_string();
    let part = |p: Option<&str>| p.filter(|s| !s.is_empty()).map(str::to_string);
    let procedure = part(parts.next());
    let citizen_id = part(parts.next());
    Cover { code, procedure, citizen_id }
}

/// The warning for a cover whose citizen part is not a 12-digit ID number: the dossier
/// keeps it as read, but its documents are not linked to any citizen for reuse.
pub fn citizen_warning(dossier_code: Option<&str>, citizen_id: Option<&str>) -> Option<String> {
    let id = citizen_id?;
    (!is_citizen_id(id)).then(|| {
        format!(
            "dossier {}: citizen ID {id:?} on the cover is not a 12-digit number; its documents are not linked to a citizen",
            dossier_code.unwrap_or("(no code)")
        )
    })
}

/// The outcome of the completeness check of one dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completeness {
    /// The procedure checked against (named on the cover, else the agency's default);
    /// a named code is kept even when unknown.
    pub procedure: Option<String>,
    /// `Some(true)`: every required component is there; `Some(false)`: some are missing;
    /// `None`: not checked (no procedure, or one the catalog does not know).
    pub complete: Option<bool>,
    /// Required components not found, in the procedure's order.
    pub missing: Vec<String>,
    /// Why the dossier could not be checked, for the batch warnings.
    pub warning: Option<String>,
}

impl ProcedureCatalog {
    /// Parses a procedure file: JSON if it starts with `{`, else TOML. `path` is for messages.
    pub fn parse(text: &str, path: &str) -> Result<ProcedureCatalog, ProceduresError> {
        let raw: RawCatalog = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| ProceduresError::Parse { path: path.into(), message: e.to_string() })?
        } else {
            toml::from_str(text).map_err(|e| ProceduresError::Parse { path: path.into(), message: e.to_string() })?
        };
        ProcedureCatalog::validate(raw, path)
    }

    /// Reads and parses a procedure file.
    pub fn load(path: &std::path::Path) -> Result<ProcedureCatalog, ProceduresError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProceduresError::Read { path: path.display().to_string(), source })?;
        ProcedureCatalog::parse(&text, &path.display().to_string())
    }

    /// The built-in sample.
    pub fn sample() -> ProcedureCatalog {
        ProcedureCatalog::parse(SAMPLE, "samples/procedures.toml").expect("the built-in sample is valid")
    }

    fn validate(raw: RawCatalog, path: &str) -> Result<ProcedureCatalog, ProceduresError> {
        let invalid = |message: String| ProceduresError::Invalid { path: path.into(), message };
        let mut procedures: Vec<Procedure> = Vec::with_capacity(raw.procedure.len());
        for (i, p) in raw.procedure.into_iter().enumerate() {
            let at = format!("procedure {} ({:?})", i + 1, p.code);
            if !is_procedure_code(&p.code) {
                return Err(invalid(format!("{at}: the code must be 1 to 32 letters, digits, '.', '-' or '_'")));
            }
            if procedures.iter().any(|q| q.code == p.code) {
                return Err(invalid(format!("{at}: the code is given twice")));
            }
            if p.name.trim().is_empty() {
                return Err(invalid(format!("{at}: give its `name`")));
            }
            for c in p.required.iter().chain(&p.optional) {
                if !is_type_code(c) {
                    return Err(invalid(format!("{at}: component {c:?} is not a document-type code such as CCCD or DON")));
                }
            }
            if let Some(c) = p.required.iter().find(|c| p.optional.contains(c)) {
                return Err(invalid(format!("{at}: component {c:?} is both required and optional")));
            }
            let mut required: Vec<String> = Vec::new();
            for c in p.required {
                if !required.contains(&c) {
                    required.push(c);
                }
            }
            procedures.push(Procedure { code: p.code, name: p.name.trim().to_string(), required, optional: p.optional });
        }
        for (agency, code) in &raw.agencies {
            if !is_agency_code(agency) {
                return Err(invalid(format!("agency {agency:?} is not an agency code such as 000.00.15.H40")));
            }
            if !procedures.iter().any(|p| &p.code == code) {
                return Err(invalid(format!("agency {agency:?}: no procedure {code:?} in the file")));
            }
        }
        Ok(ProcedureCatalog { procedures, agencies: raw.agencies })
    }

    pub fn procedures(&self) -> &[Procedure] {
        &self.procedures
    }

    pub fn get(&self, code: &str) -> Option<&Procedure> {
        self.procedures.iter().find(|p| p.code == code)
    }

    /// The default procedure of the agency a dossier code belongs to.
    pub fn agency_default(&self, dossier_code: &str) -> Option<&Procedure> {
        agency_of(dossier_code).and_then(|a| self.agencies.get(a)).and_then(|c| self.get(c))
    }

    /// The completeness check: `named` is the procedure on the cover, `dossier_code` the
    /// dossier's code, `doc_types` the types of its documents (untyped ones as `None`).
    pub fn check(&self, named: Option<&str>, dossier_code: Option<&str>, doc_types: &[Option<&str>]) -> Completeness {
        let procedure = match named {
            Some(code) => match self.get(code) {
                Some(p) => p,
                None => {
                    return Completeness {
                        procedure: Some(code.to_string()),
                        complete: None,
                        missing: Vec::new(),
                        warning: Some(format!(
                            "dossier {}: procedure {code:?} is not in the procedure catalog; its completeness was not checked",
                            dossier_code.unwrap_or("(no code)")
                        )),
                    };
                }
            },
            None => match dossier_code.and_then(|c| self.agency_default(c)) {
                Some(p) => p,
                None => return Completeness { procedure: None, complete: None, missing: Vec::new(), warning: None },
            },
        };
        let missing: Vec<String> = procedure.required.iter().filter(|r| !doc_types.contains(&Some(r.as_str()))).cloned().collect();
        Completeness { procedure: Some(procedure.code.clone()), complete: Some(missing.is_empty()), missing, warning: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
        [[procedure]]
        code = "1.001193"
        name = "Đăng ký khai sinh"
        required = ["TK", "CCCD"]
        optional = ["GUQ"]

        [[procedure]]
        code = "P2"
        name = "Cấp phép"
        required = ["DON", "CCCD", "QD"]

        [agencies]
        "000.00.15.H40" = "P2"
    "#;

    #[test]
    fn the_sample_is_valid_and_uses_known_types() {
        let c = ProcedureCatalog::sample();
        assert!(c.procedures().len() >= 5);
        for p in c.procedures() {
            for t in p.required.iter().chain(&p.optional) {
                assert!(crate::model::doc_kind(t).is_some(), "{} uses unknown type {t}", p.code);
            }
        }
        // No agency defaults in the sample: a dossier without a procedure is not checked.
        assert_eq!(c.agency_default("000.00.15.H40-250301-0007"), None);
    }

    #[test]
    fn covers_old_and_new() {
        assert_eq!(parse_cover("000.00.15.H40-250301-0007"), Cover { code: "000.00.15.H40-250301-0007".into(), procedure: None, citizen_id: None });
        assert_eq!(
            parse_cover("000.00.15.H40-250301-0007|1.001193"),
            Cover { code: "000.00.15.H40-250301-0007".into(), procedure: Some("1.001193".into()), citizen_id: None }
        );
        assert_eq!(
            parse_cover(" 000.00.15.H40-250301-0007 | 1.001193 | 079190000123 "),
            Cover { code: "000.00.15.H40-250301-0007".into(), procedure: Some("1.001193".into()), citizen_id: Some("079190000123".into()) }
        );
        assert_eq!(
            parse_cover("000.00.15.H40-250301-0007||079190000123"),
            Cover { code: "000.00.15.H40-250301-0007".into(), procedure: None, citizen_id: Some("079190000123".into()) }
        );
    }

    #[test]
    fn a_bad_citizen_id_is_reported() {
        assert_eq!(citizen_warning(Some("C"), None), None);
        assert_eq!(citizen_warning(Some("C"), Some("079190000123")), None);
        for bad in ["07919000012", "0791900001234", "07919000012x"] {
            assert!(citizen_warning(Some("C"), Some(bad)).unwrap().contains(bad), "{bad}");
        }
    }

    #[test]
    fn missing_required_components_in_the_procedures_order() {
        let c = ProcedureCatalog::parse(FILE, "p.toml").unwrap();
        let check = c.check(Some("1.001193"), Some("001.00.00.H01-250301-0001"), &[Some("GUQ"), None]);
        assert_eq!((check.procedure.as_deref(), check.complete, check.missing.clone()), (Some("1.001193"), Some(false), vec!["TK".to_string(), "CCCD".into()]));
        let check = c.check(Some("1.001193"), None, &[Some("CCCD"), Some("TK"), Some("CCCD")]);
        assert_eq!((check.complete, check.missing.len()), (Some(true), 0));
        // The agency's default when the cover names none; the cover wins over it.
        let check = c.check(None, Some("000.00.15.H40-250301-0007"), &[Some("DON"), Some("QD")]);
        assert_eq!((check.procedure.as_deref(), check.missing.clone()), (Some("P2"), vec!["CCCD".to_string()]));
        let check = c.check(Some("1.001193"), Some("000.00.15.H40-250301-0007"), &[Some("TK"), Some("CCCD")]);
        assert_eq!((check.procedure.as_deref(), check.complete), (Some("1.001193"), Some(true)));
        // No procedure: not checked. An unknown one: not checked, with a warning.
        let check = c.check(None, Some("001.00.00.H01-250301-0001"), &[]);
        assert_eq!((check.procedure, check.complete, check.warning), (None, None, None));
        let check = c.check(Some("9.999"), Some("001.00.00.H01-250301-0001"), &[]);
        assert_eq!((check.procedure.as_deref(), check.complete), (Some("9.999"), None));
        assert!(check.warning.unwrap().contains("9.999"));
        // An empty dossier misses everything.
        assert_eq!(c.check(Some("P2"), None, &[]).missing, vec!["DON", "CCCD", "QD"]);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let err = |t: &str| ProcedureCatalog::parse(t, "p.toml").unwrap_err();
        assert_eq!(err("[[procedure]]\ncode = \"A B\"\nname = \"x\"").code(), "procedures-invalid");
        assert_eq!(err("[[procedure]]\ncode = \"A\"\nname = \" \"").code(), "procedures-invalid");
        assert_eq!(err("[[procedure]]\ncode = \"A\"\nname = \"x\"\nrequired = [\"T K\"]").code(), "procedures-invalid");
        assert_eq!(err("[[procedure]]\ncode = \"A\"\nname = \"x\"\nrequired = [\"TK\"]\noptional = [\"TK\"]").code(), "procedures-invalid");
        assert_eq!(err("[[procedure]]\ncode = \"A\"\nname = \"x\"\n[[procedure]]\ncode = \"A\"\nname = \"y\"").code(), "procedures-invalid");
        assert_eq!(err("[[procedure]]\ncode = \"A\"\nname = \"x\"\n[agencies]\n\"000.00.15.H40\" = \"B\"").code(), "procedures-invalid");
        assert_eq!(err("[[procedure]]\ncode = \"A\"\nname = \"x\"\n[agencies]\n\"H40\" = \"A\"").code(), "procedures-invalid");
        assert_eq!(err("[[procedure]]\ncode = \"A\"\nnmae = \"x\"").code(), "procedures-syntax");
        let json = ProcedureCatalog::parse(r#"{"procedures": [{"code": "A", "name": "x", "required": ["CCCD"]}]}"#, "p.json").unwrap();
        assert_eq!(json.get("A").unwrap().required, vec!["CCCD"]);
    }
}

//! Separator rules: which barcode texts are separators, and what each asks for.
//!
//! Owns the rule file format (`--separators FILE`, TOML or JSON), its validation and the
//! defaults of the convention. A rule matches a barcode text (trimmed) exactly or by a
//! regex and maps it to an action: new dossier (the code from the regex group `code`, or
//! the first group, or the rule's `code`), new document with a type (group `type`, or the
//! first group, or the rule's `type`), or plain separator; optionally it says whether the
//! sheet is kept in the output (else `--keep-separators` decides). Rules are tried in
//! order, the file's first, then the defaults (unless `defaults = false`):
//!
//! | match | action |
//! |---|---|
//! | regex `^HS:\s*(?P<code>\S.*)$` | new dossier |
//! | regex `^TP:\s*(?P<type>\S.*)$` | new document of that type |
//! | exact `PATCHT` (also a Kodak Patch T) | plain separator |
//!
//! A text that matches no rule is not a separator: the page is content.
//!
//! ```toml
//! duplex = true            # a separator sheet's back is never content
//! [[rule]]
//! exact = "PATCH2"         # Kodak Patch 2
//! action = "document"
//! type = "CCCD"
//! keep = false
//! [[rule]]
//! regex = '^DOSSIER-(?P<code>.+)$'
//! action = "dossier"
//! ```
//!
//! Pure: parsing takes the file's text; callers read the file.

use crate::model::SeparatorAction;
use regex::Regex;
use serde::Deserialize;

/// What a rule does with a matching sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Dossier,
    Document,
    Plain,
}

/// A rule as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub exact: Option<String>,
    pub regex: Option<String>,
    pub action: Option<ActionKind>,
    /// Document type for `document` rules whose regex has no group.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// Dossier code for `dossier` rules whose regex has no group.
    pub code: Option<String>,
    /// Keep (true) or drop (false) the sheet; default: `--keep-separators`.
    pub keep: Option<bool>,
}

/// The rule file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRules {
    #[serde(default, alias = "rules")]
    pub rule: Vec<RawRule>,
    /// Append the default rules after the file's (default true).
    pub defaults: Option<bool>,
    /// Duplex scans: the page after a separator sheet is its back.
    pub duplex: Option<bool>,
    /// Default for rules without `keep` (else `--keep-separators`).
    pub keep_separators: Option<bool>,
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    Regex(Regex),
}

/// A validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    matcher: Matcher,
    action: ActionKind,
    fixed: Option<String>,
    pub keep: Option<bool>,
}

/// What a separator barcode asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub action: SeparatorAction,
    /// The rule's keep/drop choice, if it has one.
    pub keep: Option<bool>,
}

/// Validated separator rules.
#[derive(Debug, Clone)]
pub struct SeparatorRules {
    rules: Vec<Rule>,
    pub duplex: bool,
    pub keep_separators: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read separator rules {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("separator rules {path}: {message}")]
    Parse { path: String, message: String },
    #[error("separator rule {index}: {message}")]
    Invalid { index: usize, message: String },
}

impl RulesError {
    pub fn code(&self) -> &'static str {
        match self {
            RulesError::Read { .. } => "separators-unreadable",
            RulesError::Parse { .. } => "separators-syntax",
            RulesError::Invalid { .. } => "separators-invalid-rule",
        }
    }
}

impl Default for SeparatorRules {
    fn default() -> Self {
        SeparatorRules { rules: default_rules(), duplex: false, keep_separators: None }
    }
}

fn default_rules() -> Vec<Rule> {
    let regex = |r: &str| Matcher::Regex(Regex::new(r).expect("default rule"));
    vec![
        Rule { matcher: regex(r"^HS:\s*(?P<code>\S.*)$"), action: ActionKind::Dossier, fixed: None, keep: None },
        Rule { matcher: regex(r"^TP:\s*(?P<type>\S.*)$"), action: ActionKind::Document, fixed: None, keep: None },
        Rule { matcher: Matcher::Exact("PATCHT".into()), action: ActionKind::Plain, fixed: None, keep: None },
    ]
}

impl SeparatorRules {
    /// Parses a rule file: JSON if it starts with `{`, else TOML. `path` is for messages.
    pub fn parse(text: &str, path: &str) -> Result<SeparatorRules, RulesError> {
        let raw: RawRules = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| RulesError::Parse { path: path.into(), message: e.to_string() })?
        } else {
            toml::from_str(text).map_err(|e| RulesError::Parse { path: path.into(), message: e.to_string() })?
        };
        SeparatorRules::validate(raw)
    }

    /// Reads and parses a rule file.
    pub fn load(path: &std::path::Path) -> Result<SeparatorRules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read { path: path.display().to_string(), source })?;
        SeparatorRules::parse(&text, &path.display().to_string())
    }

    pub fn validate(raw: RawRules) -> Result<SeparatorRules, RulesError> {
        let mut rules = Vec::new();
        for (i, r) in raw.rule.into_iter().enumerate() {
            let index = i + 1;
            let invalid = |message: String| RulesError::Invalid { index, message };
            let matcher = match (r.exact, r.regex) {
                (Some(e), None) if !e.trim().is_empty() => Matcher::Exact(e.trim().to_string()),
                (None, Some(re)) => Matcher::Regex(Regex::new(&re).map_err(|e| invalid(format!("bad regex {re:?}: {e}")))?),
                (Some(_), Some(_)) => return Err(invalid("give either `exact` or `regex`, not both".into())),
                _ => return Err(invalid("give `exact = \"TEXT\"` or `regex = \"...\"`".into())),
            };
            let action = r.action.ok_or_else(|| invalid("missing `action` (\"dossier\", \"document\" or \"plain\")".into()))?;
            let fixed = match action {
                ActionKind::Dossier => r.code,
                ActionKind::Document => r.doc_type,
                ActionKind::Plain => None,
            };
            let has_group = match &matcher {
                Matcher::Regex(re) => re.captures_len() > 1,
                Matcher::Exact(_) => false,
            };
            if action != ActionKind::Plain && fixed.is_none() && !has_group {
                let what = if action == ActionKind::Dossier { "code" } else { "type" };
                return Err(invalid(format!("a {action:?} rule needs `{what} = \"...\"` or a regex group `(?P<{what}>...)`").to_lowercase()));
            }
            rules.push(Rule { matcher, action, fixed, keep: r.keep });
        }
        if raw.defaults.unwrap_or(true) {
            rules.extend(default_rules());
        }
        Ok(SeparatorRules { rules, duplex: raw.duplex.unwrap_or(false), keep_separators: raw.keep_separators })
    }

    /// What `text` asks for, or `None` if it is not a separator.
    pub fn classify(&self, text: &str) -> Option<Classified> {
        let text = text.trim();
        self.rules.iter().find_map(|r| r.apply(text))
    }
}

impl Rule {
    fn apply(&self, text: &str) -> Option<Classified> {
        let value = match &self.matcher {
            Matcher::Exact(e) => {
                if text != e {
                    return None;
                }
                self.fixed.clone()
            }
            Matcher::Regex(re) => {
                let caps = re.captures(text)?;
                let name = if self.action == ActionKind::Dossier { "code" } else { "type" };
                caps.name(name).or_else(|| caps.get(1)).map(|m| m.as_str().trim().to_string()).or_else(|| self.fixed.clone())
            }
        };
        let action = match self.action {
            ActionKind::Plain => SeparatorAction::Plain,
            ActionKind::Dossier => SeparatorAction::NewDossier(value.filter(|v| !v.is_empty())?),
            ActionKind::Document => SeparatorAction::NewDocument(value.filter(|v| !v.is_empty())?),
        };
        Some(Classified { action, keep: self.keep })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_convention() {
        let r = SeparatorRules::default();
        assert_eq!(r.classify("HS:000.00.15.H40-250301-0007").unwrap().action, SeparatorAction::NewDossier("000.00.15.H40-250301-0007".into()));
        assert_eq!(r.classify(" TP: CCCD ").unwrap().action, SeparatorAction::NewDocument("CCCD".into()));
        assert_eq!(r.classify("PATCHT").unwrap().action, SeparatorAction::Plain);
        // No match: content, not a separator.
        for text in ["HS:", "TP:  ", "https://dichvucong.gov.vn/?ma=123", "patcht", "PATCH2", "xHS:1"] {
            assert_eq!(r.classify(text), None, "{text:?}");
        }
    }

    #[test]
    fn toml_rules_come_before_the_defaults() {
        let r = SeparatorRules::parse(
            r#"
            duplex = true
            [[rule]]
            exact = "PATCH2"
            action = "document"
            type = "CCCD"
            keep = true
            [[rule]]
            regex = '^DOSSIER-(?P<code>.+)$'
            action = "dossier"
            [[rule]]
            regex = '^SEP-\d+$'
            action = "plain"
            keep = false
            "#,
            "rules.toml",
        )
        .unwrap();
        assert!(r.duplex);
        assert_eq!(r.classify("PATCH2"), Some(Classified { action: SeparatorAction::NewDocument("CCCD".into()), keep: Some(true) }));
        assert_eq!(r.classify("DOSSIER-42").unwrap().action, SeparatorAction::NewDossier("42".into()));
        assert_eq!(r.classify("SEP-7"), Some(Classified { action: SeparatorAction::Plain, keep: Some(false) }));
        assert_eq!(r.classify("SEP-x"), None);
        assert_eq!(r.classify("TP:GKS").unwrap().action, SeparatorAction::NewDocument("GKS".into()));
    }

    #[test]
    fn json_rules_and_no_defaults() {
        let r = SeparatorRules::parse(r#"{"defaults": false, "rules": [{"regex": "^DOC/(\\w+)$", "action": "document"}]}"#, "rules.json").unwrap();
        assert_eq!(r.classify("DOC/QD").unwrap().action, SeparatorAction::NewDocument("QD".into()));
        assert_eq!(r.classify("PATCHT"), None);
        assert_eq!(r.classify("HS:000.00.15.H40-250301-0007"), None);
    }

    #[test]
    fn bad_rules_say_how_to_fix_them() {
        let err = |text: &str| SeparatorRules::parse(text, "r.toml").unwrap_err();
        assert_eq!(err("[[rule]]\naction = \"plain\"").code(), "separators-invalid-rule");
        assert_eq!(err("[[rule]]\nexact = \"A\"\nregex = \"B\"\naction = \"plain\"").code(), "separators-invalid-rule");
        assert_eq!(err("[[rule]]\nregex = \"(\"\naction = \"plain\"").code(), "separators-invalid-rule");
        assert_eq!(err("[[rule]]\nexact = \"A\"\naction = \"document\"").code(), "separators-invalid-rule");
        assert_eq!(err("[[rule]]\nexact = \"A\"\naction = \"split\"").code(), "separators-syntax");
        assert_eq!(err("[[rule]]\nexact = \"A\"\nactoin = \"plain\"").code(), "separators-syntax");
        assert!(err("[[rule]]\nexact = \"A\"\naction = \"document\"").to_string().contains("type = "));
    }
}

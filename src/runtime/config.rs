//! Configuration: built-in defaults, an optional `sohoa.toml`, `SOHOA_*` environment
//! variables and command-line flags, merged once and validated once into [`Config`].
//!
//! The interfaces parse their own flags (clap reads the flag or its environment variable)
//! into a [`Settings`] of options; [`Config::resolve`] lays those over the file's settings
//! and the defaults, checks every value and loads the separator rules, so a bad value
//! fails at start-up with the key that is wrong. Nothing downstream re-reads flags,
//! environment or file.

use crate::runtime::error::Error;
use crate::runtime::pipeline::PipelineOptions;
use crate::runtime::signing::{self, CertifyKeys, ScanSigning};
use crate::runtime::worker::DEFAULT_CHUNK_PAGES;
use crate::stages::dossier::procedures::ProcedureCatalog;
use crate::stages::ocr::OcrConfig;
use crate::stages::split::rules::SeparatorRules;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The name of the settings file looked for in the data folder.
pub const FILE_NAME: &str = "sohoa.toml";

/// Settings as given: every field optional. Used for the file (`sohoa.toml`) and for what
/// the command line (flags and their environment variables) gave.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Object store URL (`file:///path`, `s3://bucket/prefix`).
    pub store: Option<String>,
    /// Catalog URL (`sqlite://path`, `postgres://…`).
    pub catalog: Option<String>,
    /// Tesseract languages, `+`-separated.
    pub lang: Option<String>,
    pub tessdata: Option<PathBuf>,
    pub models: Option<PathBuf>,
    /// Page threads, each with its own OCR engine.
    pub workers: Option<usize>,
    pub chunk_pages: Option<u64>,
    pub keep_separators: Option<bool>,
    /// Separator rules file.
    pub separators: Option<PathBuf>,
    /// Procedure catalog file (what each procedure's dossiers must contain).
    pub procedures: Option<PathBuf>,
    pub duplex: Option<bool>,
    /// Seconds without a heartbeat after which another worker takes a job over.
    pub stale_after: Option<f64>,
    /// Seconds between polls of an empty queue.
    pub poll: Option<f64>,
    /// Scan signing: every stored document is signed with this key (PEM or PKCS #12).
    pub sign_key: Option<PathBuf>,
    /// The environment variable holding the password of PKCS #12 key files.
    pub key_password_env: Option<String>,
    /// RFC 3161 timestamp authority (`http://` or `https://`): signatures become PAdES B-T.
    pub tsa: Option<String>,
    /// PEM file of the trust roots signatures are verified against.
    pub trust: Option<PathBuf>,
    /// `sohoa serve`: the certifier's and the certifying agency's keys, for certifications.
    pub certifier_key: Option<PathBuf>,
    pub agency_key: Option<PathBuf>,
    /// Standard of the stored PDFs: `pdfa-2b` (default) or `plain`.
    pub pdf_profile: Option<String>,
}

impl Settings {
    /// `self` where given, else `lower`.
    fn over(self, lower: Settings) -> Settings {
        Settings {
            store: self.store.or(lower.store),
            catalog: self.catalog.or(lower.catalog),
            lang: self.lang.or(lower.lang),
            tessdata: self.tessdata.or(lower.tessdata),
            models: self.models.or(lower.models),
            workers: self.workers.or(lower.workers),
            chunk_pages: self.chunk_pages.or(lower.chunk_pages),
            keep_separators: self.keep_separators.or(lower.keep_separators),
            separators: self.separators.or(lower.separators),
            procedures: self.procedures.or(lower.procedures),
            duplex: self.duplex.or(lower.duplex),
            stale_after: self.stale_after.or(lower.stale_after),
            poll: self.poll.or(lower.poll),
            sign_key: self.sign_key.or(lower.sign_key),
            key_password_env: self.key_password_env.or(lower.key_password_env),
            tsa: self.tsa.or(lower.tsa),
            trust: self.trust.or(lower.trust),
            certifier_key: self.certifier_key.or(lower.certifier_key),
            agency_key: self.agency_key.or(lower.agency_key),
            pdf_profile: self.pdf_profile.or(lower.pdf_profile),
        }
    }

    /// Reads a settings file. Relative paths in it are taken from the file's folder.
    pub fn from_file(path: &Path) -> Result<Settings, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::config(path.display().to_string(), format!("cannot read: {e}")))?;
        let mut s: Settings = toml::from_str(&text).map_err(|e| Error::config(path.display().to_string(), e.message().to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut s.tessdata, &mut s.models, &mut s.separators, &mut s.procedures, &mut s.sign_key, &mut s.trust, &mut s.certifier_key, &mut s.agency_key]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(s)
    }
}

/// The validated configuration every command runs on.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data folder: SQLite catalog, local object store, models and scratch files.
    pub data: PathBuf,
    pub store: Option<String>,
    pub catalog: Option<String>,
    pub lang: String,
    pub tessdata: Option<PathBuf>,
    pub models: Option<PathBuf>,
    pub workers: usize,
    pub chunk_pages: u64,
    pub keep_separators: bool,
    pub duplex: bool,
    pub separators: Arc<SeparatorRules>,
    /// The procedure catalog (`procedures`, else the built-in sample).
    pub procedures: Arc<ProcedureCatalog>,
    pub stale_after: Duration,
    pub poll: Duration,
    /// Scan signing, when a key is configured (loaded and checked at start-up).
    pub signing: Option<ScanSigning>,
    /// The certifier's keys, when configured (`sohoa serve` certifies with them).
    pub certify: Option<CertifyKeys>,
    /// Trust roots for verification.
    pub trust: Vec<x509_cert::Certificate>,
    pub tsa_url: Option<String>,
    pub key_password_env: Option<String>,
    pub pdf_profile: crate::stages::pdf::PdfProfile,
}

impl Config {
    /// Merges `given` (flags and environment) over the settings file (`file`, else
    /// `<data>/sohoa.toml` when it exists) and the defaults, and validates the result.
    pub fn resolve(data: PathBuf, file: Option<&Path>, given: Settings) -> Result<Config, Error> {
        let from_file = match file {
            Some(path) => Settings::from_file(path)?,
            None => {
                let path = data.join(FILE_NAME);
                if path.is_file() { Settings::from_file(&path)? } else { Settings::default() }
            }
        };
        let s = given.over(from_file);
        let lang = s.lang.unwrap_or_else(|| "vie".to_string());
        if lang.is_empty() || !lang.split('+').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
            return Err(Error::config("lang", format!("{lang:?} is not a list of Tesseract languages such as vie or vie+eng")));
        }
        for (key, dir) in [("tessdata", &s.tessdata), ("models", &s.models)] {
            if let Some(d) = dir
                && !d.is_dir()
            {
                return Err(Error::config(key, format!("{} is not a folder", d.display())));
            }
        }
        let workers = match s.workers {
            Some(w) if !(1..=256).contains(&w) => return Err(Error::config("workers", format!("must be between 1 and 256, not {w}"))),
            Some(w) => w,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        let seconds = |key: &str, v: Option<f64>, default: f64, min: f64| -> Result<Duration, Error> {
            let v = v.unwrap_or(default);
            if !v.is_finite() || v < min || v > 86_400.0 {
                return Err(Error::config(key, format!("must be a number of seconds from {min} to 86400, not {v}")));
            }
            Ok(Duration::from_secs_f64(v))
        };
        let stale_after = seconds("stale_after", s.stale_after, 60.0, 0.5)?;
        let poll = seconds("poll", s.poll, 1.0, 0.05)?;
        let pdf_profile = match &s.pdf_profile {
            Some(p) => p.parse().map_err(|e: String| Error::config("pdf_profile", e))?,
            None => crate::stages::pdf::PdfProfile::default(),
        };
        let rules = match &s.separators {
            Some(path) => SeparatorRules::load(path)?,
            None => SeparatorRules::default(),
        };
        let tsa = s.tsa.as_deref().map(signing::load_tsa).transpose()?;
        let password = s.key_password_env.as_deref();
        let scan_signing = match &s.sign_key {
            Some(path) => Some(ScanSigning { signer: signing::load_key(path, password)?, tsa: tsa.clone() }),
            None => None,
        };
        let certify = match &s.certifier_key {
            Some(path) => Some(CertifyKeys {
                certifier: signing::load_key(path, password)?,
                agency: s.agency_key.as_deref().map(|p| signing::load_key(p, password)).transpose()?,
                tsa: tsa.clone(),
            }),
            None if s.agency_key.is_some() => return Err(Error::config("agency_key", "an agency key signs after a certifier: give --certifier-key too")),
            None => None,
        };
        let trust = signing::load_roots(s.trust.as_slice())?;
        let procedures = match &s.procedures {
            Some(path) => ProcedureCatalog::load(path).map_err(|e| Error::config("procedures", format!("{e} ({})", e.code())))?,
            None => ProcedureCatalog::sample(),
        };
        Ok(Config {
            signing: scan_signing,
            certify,
            trust,
            tsa_url: s.tsa,
            key_password_env: s.key_password_env,
            data,
            store: s.store,
            catalog: s.catalog,
            lang,
            tessdata: s.tessdata,
            models: s.models,
            workers,
            chunk_pages: s.chunk_pages.unwrap_or(DEFAULT_CHUNK_PAGES),
            keep_separators: s.keep_separators.unwrap_or(false) || rules.keep_separators.unwrap_or(false),
            duplex: s.duplex.unwrap_or(false) || rules.duplex,
            separators: Arc::new(rules),
            procedures: Arc::new(procedures),
            stale_after,
            poll,
            pdf_profile,
        })
    }

    /// Pipeline options for this configuration; the built-in models are written to
    /// `<data>/models` when no models folder is configured.
    pub fn pipeline_options(&self) -> Result<PipelineOptions, Error> {
        let models = match self.models.clone() {
            Some(m) => m,
            None => crate::stages::ocr::models::materialize_models(&self.data)
                .map_err(|e| Error::LocalIo { path: self.data.join("models").display().to_string(), source: e })?,
        };
        let mut opts =
            PipelineOptions::new(OcrConfig { langs: self.lang.clone(), tessdata: self.tessdata.clone(), models: Some(models), ..Default::default() });
        opts.split.keep_separators = self.keep_separators;
        opts.split.duplex = self.duplex;
        opts.separators = Arc::clone(&self.separators);
        opts.procedures = Arc::clone(&self.procedures);
        opts.workers = self.workers;
        opts.signing = self.signing.clone();
        opts.pdf_profile = self.pdf_profile;
        Ok(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "lang = \"vie+eng\"\nworkers = 3\nchunk_pages = 8\nduplex = true\n").unwrap();
        let given = Settings { workers: Some(2), ..Default::default() };
        let c = Config::resolve(dir.path().to_path_buf(), None, given).unwrap();
        assert_eq!((c.lang.as_str(), c.workers, c.chunk_pages, c.duplex), ("vie+eng", 2, 8, true));
        assert_eq!(c.stale_after, Duration::from_secs(60));
        let c = Config::resolve(dir.path().join("elsewhere"), None, Settings::default()).unwrap();
        assert_eq!((c.lang.as_str(), c.chunk_pages, c.duplex), ("vie", DEFAULT_CHUNK_PAGES, false));
        assert_eq!(c.pdf_profile, crate::stages::pdf::PdfProfile::Pdfa2b);
        std::fs::write(dir.path().join(FILE_NAME), "pdf_profile = \"plain\"\n").unwrap();
        let c = Config::resolve(dir.path().to_path_buf(), None, Settings::default()).unwrap();
        assert_eq!(c.pdf_profile, crate::stages::pdf::PdfProfile::Plain);
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let bad = |s: Settings| Config::resolve(dir.path().to_path_buf(), None, s).unwrap_err();
        let e = bad(Settings { workers: Some(0), ..Default::default() });
        assert_eq!((e.code(), e.exit_code()), ("config", 2));
        assert!(e.to_string().starts_with("workers: "), "{e}");
        assert!(bad(Settings { lang: Some("vie eng".into()), ..Default::default() }).to_string().starts_with("lang: "));
        assert!(bad(Settings { poll: Some(0.0), ..Default::default() }).to_string().starts_with("poll: "));
        assert!(bad(Settings { pdf_profile: Some("pdfa-1a".into()), ..Default::default() }).to_string().starts_with("pdf_profile: "));
        assert!(bad(Settings { tessdata: Some(dir.path().join("none")), ..Default::default() }).to_string().starts_with("tessdata: "));
        let file = dir.path().join("other.toml");
        std::fs::write(&file, "wokers = 2\n").unwrap();
        let e = Config::resolve(dir.path().to_path_buf(), Some(&file), Settings::default()).unwrap_err();
        assert_eq!(e.code(), "config");
        assert!(e.to_string().contains("wokers"), "{e}");
    }
}

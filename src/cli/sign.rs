//! `sohoa keys dev-ca`, `sohoa certify` and `sohoa verify`: signing keys, certified copies
//! and signature checks from the command line. `verify` exits 0 when the document is
//! valid, 1 when it is not, 2 on bad usage (an unknown id, an unreadable trust file).

use super::args::Location;
use crate::runtime::catalog::{Catalog, CatalogError};
use crate::runtime::config::{Config, Settings};
use crate::runtime::error::{Error, exit};
use crate::runtime::signing::{self, Certified, CertifyKeys, Verification};
use crate::runtime::store::Store;
use crate::runtime::worker::Services;
use std::path::{Path, PathBuf};

/// `sohoa verify`'s exit code for a document that does not verify.
pub const INVALID: u8 = 1;

/// `sohoa keys dev-ca --out DIR`.
pub fn dev_ca(out: &Path) -> Result<u8, Error> {
    let files = crate::stages::sign::devca::write_dev_ca(out)?;
    for f in &files {
        println!("{}", f.display());
    }
    eprintln!("Wrote a throwaway CA and 4 identities into {}: for trying out and tests, never for real documents.", out.display());
    Ok(exit::OK)
}

/// The key flags of `sohoa certify`.
pub struct CertifyArgs {
    pub key: PathBuf,
    pub agency_key: Option<PathBuf>,
    pub key_password_env: Option<String>,
    pub tsa: Option<String>,
}

/// `sohoa certify DOCUMENT_ID --key FILE [--agency-key FILE] [--json]`.
pub async fn certify(document_id: &str, args: &CertifyArgs, loc: &Location, json: bool) -> Result<u8, Error> {
    let settings = Settings { key_password_env: args.key_password_env.clone(), tsa: args.tsa.clone(), ..loc.settings() };
    let config = Config::resolve(loc.data.clone(), loc.config.as_deref(), settings)?;
    let password = config.key_password_env.as_deref();
    let keys = CertifyKeys {
        certifier: signing::load_key(&args.key, password)?,
        agency: args.agency_key.as_deref().map(|p| signing::load_key(p, password)).transpose()?,
        tsa: config.tsa_url.as_deref().map(signing::load_tsa).transpose()?,
    };
    let services = open_existing(&config).await?;
    let result = signing::certify(&services, document_id, &keys, super::dossiers::CLI_ACTOR).await;
    services.catalog.close().await;
    let entry = result?;
    if json {
        println!("{}", serde_json::to_string(&Certified::from(&entry)).map_err(|e| Error::Internal(e.to_string()))?);
    } else {
        println!("{}", entry.document_id);
        eprintln!(
            "Certified {} as {}: Số chứng thực: {}, quyển số {} ({}, {}).",
            entry.certified_from, entry.document_id, entry.number, entry.book, entry.agency, entry.certifier
        );
    }
    Ok(exit::OK)
}

async fn open_existing(config: &Config) -> Result<Services, Error> {
    let catalog = Catalog::open_existing(config.catalog.as_deref(), &config.data).await?;
    let store = Store::open(config.store.as_deref(), &config.data)?;
    Ok(Services::new(catalog, store, config.data.clone()))
}

/// `sohoa verify FILE_OR_DOCUMENT_ID [--trust FILE]… [--json]`.
pub async fn verify(target: &str, trust: &[PathBuf], loc: &Location, json: bool) -> Result<u8, Error> {
    let config = super::location(loc)?;
    let mut roots = config.trust.clone();
    roots.extend(signing::load_roots(trust)?);
    let path = Path::new(target);
    let verification = if path.is_file() {
        let bytes = std::fs::read(path).map_err(|e| Error::Usage(format!("cannot read {target}: {e}")))?;
        // A file needs no catalog; when there is one, it names the document and its book entry.
        let catalog = match Catalog::open_existing(config.catalog.as_deref(), &config.data).await {
            Ok(c) => Some(c),
            Err(CatalogError::Missing { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let v = signing::verify_bytes(&bytes, catalog.as_ref(), None, Some(target.to_string()), &roots).await;
        if let Some(c) = catalog {
            c.close().await;
        }
        v?
    } else {
        let services = open_existing(&config).await?;
        let v = signing::verify_document(&services, target, &roots, super::dossiers::CLI_ACTOR).await;
        services.catalog.close().await;
        v?
    };
    if json {
        println!("{}", serde_json::to_string(&verification).map_err(|e| Error::Internal(e.to_string()))?);
    } else {
        print_verification(&verification);
    }
    Ok(if verification.valid { exit::OK } else { INVALID })
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

fn print_verification(v: &Verification) {
    let what = v.document_id.as_deref().or(v.file.as_deref()).unwrap_or("");
    println!("{}  {what}  ({} bytes, sha256 {})", if v.valid { "VALID" } else { "INVALID" }, v.report.bytes, v.report.sha256);
    if let Some(ok) = v.hash_matches_catalog {
        println!("  bytes match the catalog: {}", yes(ok));
    }
    for s in &v.report.signatures {
        println!(
            "  {}: {} ({}), signed {}{}",
            s.field,
            s.signer,
            s.organisation,
            s.signed_at.as_deref().unwrap_or("?"),
            if s.valid { "  valid" } else { "  INVALID" }
        );
        println!(
            "    covers the whole file: {}  digest: {}  certificate (ESS): {}  signature: {}  chain trusted: {}",
            yes(s.covers_whole_file),
            yes(s.digest_ok),
            yes(s.ess_ok),
            yes(s.signature_ok),
            yes(s.chain_trusted)
        );
        if let Some(t) = &s.timestamp {
            println!(
                "    timestamp {} by {}: imprint {}  signature {}  trusted {}",
                t.time,
                t.authority,
                yes(t.imprint_ok),
                yes(t.signature_ok),
                yes(t.chain_trusted)
            );
        }
        for p in &s.problems {
            println!("    problem: {p}");
        }
    }
    for p in &v.report.problems {
        println!("  problem: {p}");
    }
    if let Some(c) = &v.certification {
        println!(
            "  Chứng thực bản sao đúng với bản chính. Số chứng thực: {}, quyển số {} ({}; {}), bản chính {}",
            c.number, c.book, c.agency, c.certifier, c.certified_from
        );
    }
}

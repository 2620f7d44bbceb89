//! `sohoa serve`, `sohoa token …` and `sohoa audit verify`: the service and what its
//! administrator runs beside it.

use super::args::{AuditAction, TokenAction};
use crate::api::{ServeOptions, auth};
use crate::runtime::catalog::Catalog;
use crate::runtime::config::Config;
use crate::runtime::error::{Error, exit};
use crate::runtime::watch::WatchDir;
use std::time::Duration;

/// What `sohoa serve` was given besides the configuration.
pub struct ServeArgs {
    pub listen: std::net::SocketAddr,
    pub watch: Vec<String>,
    pub watch_poll: f64,
    pub no_workers: bool,
    pub max_upload_mb: u64,
}

/// Checks the serve flags into [`ServeOptions`] (a bad one fails before anything starts).
pub fn serve_options(a: &ServeArgs) -> Result<ServeOptions, Error> {
    let watch = a.watch.iter().map(|w| WatchDir::parse(w)).collect::<Result<Vec<_>, _>>()?;
    if !(a.watch_poll.is_finite() && (0.05..=3600.0).contains(&a.watch_poll)) {
        return Err(Error::config("watch_poll", format!("must be between 0.05 and 3600 seconds, not {}", a.watch_poll)));
    }
    if a.max_upload_mb == 0 || a.max_upload_mb > 1024 * 1024 {
        return Err(Error::config("max_upload_mb", format!("must be between 1 and 1048576, not {}", a.max_upload_mb)));
    }
    Ok(ServeOptions {
        listen: a.listen,
        watch,
        workers: !a.no_workers,
        max_upload_bytes: a.max_upload_mb * 1024 * 1024,
        watch_poll: Duration::from_secs_f64(a.watch_poll),
    })
}

pub async fn serve(config: &Config, args: &ServeArgs) -> Result<u8, Error> {
    let opts = serve_options(args)?;
    crate::api::serve(config, opts).await
}

pub async fn token(action: TokenAction) -> Result<u8, Error> {
    match action {
        TokenAction::Create { role, agency, post_office, name, json, loc } => {
            let role = auth::check_token_request(&role, agency.as_deref(), post_office.as_deref())?;
            let config = super::location(&loc)?;
            let catalog = Catalog::open(config.catalog.as_deref(), &config.data).await?;
            let result = auth::create_token(&catalog, role, agency, post_office, name).await;
            catalog.close().await;
            let (record, secret) = result?;
            if json {
                println!("{}", serde_json::json!({"id": record.id, "token": secret, "role": record.role}));
            } else {
                println!("{secret}");
                eprintln!("Token {} ({}): shown once; only its hash is kept.", record.id, record.role);
            }
            Ok(exit::OK)
        }
        TokenAction::List { json, loc } => {
            let config = super::location(&loc)?;
            let catalog = Catalog::open_existing(config.catalog.as_deref(), &config.data).await?;
            let tokens = catalog.list_tokens().await;
            catalog.close().await;
            let tokens = tokens?;
            if json {
                println!("{}", serde_json::json!({ "tokens": tokens }));
            } else {
                for t in &tokens {
                    let scope = t.agency.as_deref().or(t.post_office.as_deref()).unwrap_or("-");
                    let state = if t.revoked_at.is_some() { "revoked" } else { "valid" };
                    println!("{}  {:<9} {:<14} {state:<7} {}", t.id, t.role, scope, t.name.as_deref().unwrap_or(""));
                }
            }
            Ok(exit::OK)
        }
        TokenAction::Revoke { id, loc } => {
            let config = super::location(&loc)?;
            let catalog = Catalog::open_existing(config.catalog.as_deref(), &config.data).await?;
            let found = catalog.revoke_token(&id).await;
            catalog.close().await;
            if !found? {
                return Err(Error::NotFound(format!("no token {id}; `sohoa token list` lists them")));
            }
            eprintln!("Token {id} revoked.");
            Ok(exit::OK)
        }
    }
}

pub async fn audit(action: AuditAction) -> Result<u8, Error> {
    match action {
        AuditAction::Verify { json, loc } => {
            let config = super::location(&loc)?;
            let catalog = Catalog::open_existing(config.catalog.as_deref(), &config.data).await?;
            let result = catalog.verify_audit().await;
            catalog.close().await;
            let (rows, broken) = result?;
            match broken {
                None => {
                    if json {
                        println!("{}", serde_json::json!({"rows": rows, "broken": null}));
                    } else {
                        println!("Audit chain holds: {rows} rows.");
                    }
                    Ok(exit::OK)
                }
                // With --json the failure is the one `{"error":…}` object of every command.
                Some(b) => Err(Error::AuditBroken(format!("the audit chain breaks at row {}: {} ({rows} rows before it hold)", b.seq, b.reason))),
            }
        }
    }
}

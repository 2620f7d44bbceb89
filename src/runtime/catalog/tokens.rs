//! API tokens: who may call the service, as what. Only the BLAKE3 of a token's secret is
//! kept; the secret is shown once, by `sohoa token create`. A revoked token stays listed
//! (with its revocation time) and never authenticates again.

use super::{Catalog, CatalogError};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A token to record (its secret already hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub id: String,
    /// BLAKE3 of the secret, hex.
    pub token_hash: String,
    pub role: String,
    pub agency: Option<String>,
    pub post_office: Option<String>,
    pub name: Option<String>,
}

/// A recorded token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub role: String,
    pub agency: Option<String>,
    pub post_office: Option<String>,
    pub name: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds; `None` while the token is valid.
    pub revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "id, role, agency, post_office, name, created_at, revoked_at";

fn token_from_row(row: &AnyRow) -> Result<TokenRecord, CatalogError> {
    Ok(TokenRecord {
        id: row.try_get(0)?,
        role: row.try_get(1)?,
        agency: row.try_get(2)?,
        post_office: row.try_get(3)?,
        name: row.try_get(4)?,
        created_at: row.try_get(5)?,
        revoked_at: row.try_get(6)?,
    })
}

impl Catalog {
    /// Records a new token.
    pub async fn create_token(&self, t: &NewToken) -> Result<TokenRecord, CatalogError> {
        let now = self.now_ms();
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO api_tokens (id, token_hash, role, agency, post_office, name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&t.id)
            .bind(&t.token_hash)
            .bind(&t.role)
            .bind(t.agency.as_deref())
            .bind(t.post_office.as_deref())
            .bind(t.name.as_deref())
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(TokenRecord {
            id: t.id.clone(),
            role: t.role.clone(),
            agency: t.agency.clone(),
            post_office: t.post_office.clone(),
            name: t.name.clone(),
            created_at: now,
            revoked_at: None,
        })
    }

    /// The valid (not revoked) token whose secret hashes to `token_hash`.
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>, CatalogError> {
        sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(token_from_row)
            .transpose()
    }

    /// Every token, oldest first, revoked ones included.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, CatalogError> {
        sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, id"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(token_from_row)
            .collect()
    }

    /// Revokes a token; `false` when there is no such token. Revoking twice keeps the
    /// first revocation time.
    pub async fn revoke_token(&self, id: &str) -> Result<bool, CatalogError> {
        let now = self.now_ms();
        let _turn = self.write_turn().await;
        let found = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(found > 0)
    }
}

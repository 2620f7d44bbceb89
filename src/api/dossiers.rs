//! Dossier routes (issue #24): a dossier with its completeness, results and reused
//! documents; the citizen's receipt and its verification; electronic results; the reuse
//! lookup and attachment; the indicators. Bodies are the objects of the matching
//! commands (`sohoa dossier show`, `receipt`, `result`, `reuse`, `report`), built by
//! [`crate::runtime::dossiers`].
//!
//! Scope: a dossier is seen by an admin, by an agency or certifier whose agency code it
//! carries, and by a clerk of the post office its batch came from; outside that it is
//! `not-found`, as a dossier that does not exist. The receipt's verification is public:
//! knowing the dossier code and the reference (the receipt's QR) is the proof.

use super::SharedState;
use super::auth::{Principal, Role};
use super::error::{ApiError, ApiResult, Path, Query};
use crate::runtime::dossiers as records;
use crate::runtime::error::Error;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;

/// Whether `who` sees dossier `code` (received at `post_office`).
pub fn sees(who: &Principal, code: &str, post_office: Option<&str>) -> bool {
    who.sees_dossier(Some(code)) || (who.role == Role::Clerk && who.sees_batch(post_office))
}

/// The dossier if `who` sees it; `not-found` otherwise.
async fn visible(state: &SharedState, who: &Principal, code: &str) -> ApiResult<()> {
    let code = records::dossier_code(code)?;
    match state.services.catalog.dossier_record(&code).await? {
        Some(r) if sees(who, &code, r.post_office.as_deref()) => Ok(()),
        _ => Err(ApiError(Error::NotFound(format!("no stored dossier {code}")))),
    }
}

/// A dossier: the object of `sohoa dossier show --json`.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}", tag = "dossiers", params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, description = "The object of `sohoa dossier show --json`: documents, procedure, complete, missing, results, reused", body = Object),
        (status = 401, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn show(State(state): State<SharedState>, who: Principal, Path(code): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    visible(&state, &who, &code).await?;
    Ok(Json(records::dossier_body(&state.services.catalog, &state.procedures, &code).await?))
}

/// The citizen's receipt: one A4 PDF page (header `X-Receipt-Reference`).
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/receipt", tag = "dossiers", params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, description = "The receipt PDF", content_type = "application/pdf"), (status = 401, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn receipt(State(state): State<SharedState>, who: Principal, Path(code): Path<String>) -> ApiResult<Response> {
    visible(&state, &who, &code).await?;
    let (pdf, reference) = records::receipt(&state.services.catalog, &state.procedures, &code).await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"bien-nhan-{code}.pdf\"")),
            (header::HeaderName::from_static("x-receipt-reference"), reference),
        ],
        pdf,
    )
        .into_response())
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct VerifyParams {
    /// The reference printed on the receipt (`BN-…`), or the QR's whole text.
    #[serde(rename = "ref")]
    #[param(rename = "ref")]
    reference: String,
}

/// Checks a receipt's reference (public): `{"dossier", "reference", "valid", …}`.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/receipt/verify", tag = "dossiers", security(()), params(("code" = String, Path, description = "Dossier code"), VerifyParams),
    responses((status = 200, description = "`valid` says whether the catalog holds exactly the documents the receipt lists", body = Object), (status = 400, body = super::openapi::ErrorBody)))]
pub async fn verify(State(state): State<SharedState>, Path(code): Path<String>, Query(p): Query<VerifyParams>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(records::verify_receipt(&state.services.catalog, &state.procedures, Some(&code), &p.reference).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ResultParams {
    /// The result file's name (kept with it).
    file_name: Option<String>,
}

/// Stores the request body as the dossier's next electronic result (`<code>-KQ<n>`);
/// admin, or an agency of the dossier.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/results", tag = "dossiers", params(("code" = String, Path, description = "Dossier code"), ResultParams),
    request_body(content_type = "application/octet-stream", description = "The result file"),
    responses((status = 201, description = "The result: id (`<code>-KQ<n>`), n, file_name, object_key, blake3, bytes, created_at", body = Object),
        (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn add_result(
    State(state): State<SharedState>,
    who: Principal,
    Path(code): Path<String>,
    Query(p): Query<ResultParams>,
    body: Bytes,
) -> ApiResult<Response> {
    if !matches!(who.role, Role::Admin | Role::Agency | Role::Certifier) {
        return Err(ApiError(Error::Forbidden(format!("a {} token does not record results", who.role.as_str()))));
    }
    visible(&state, &who, &code).await?;
    let name = super::batches::safe_file_name(p.file_name.as_deref(), 1);
    let v = records::add_result(&state.services.catalog, &state.services.store, &code, &name, body.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// The dossier's electronic results: `{"dossier", "results":[…]}`.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/results", tag = "dossiers", params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, description = "The object of `sohoa result list --json`", body = Object), (status = 401, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn results(State(state): State<SharedState>, who: Principal, Path(code): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    visible(&state, &who, &code).await?;
    Ok(Json(records::results_body(&state.services.catalog, &code).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ReuseParams {
    /// The citizen's 12-digit ID number.
    citizen_id: String,
    /// Document type code (CCCD, GKS, …).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    doc_type: String,
    /// Attach the newest document found to this dossier (POST only).
    attach: Option<String>,
    /// At most this many documents (default 20).
    limit: Option<i64>,
}

async fn reuse_answer(state: &SharedState, who: &Principal, p: ReuseParams, attach: bool) -> ApiResult<Json<serde_json::Value>> {
    if !who.may_read_documents() {
        return Err(ApiError(Error::Forbidden(format!("a {} token does not look up documents", who.role.as_str()))));
    }
    let target = match (attach, p.attach) {
        (true, Some(t)) => {
            visible(state, who, &t).await?;
            Some(t)
        }
        (true, None) => return Err(ApiError(Error::Usage("give attach=DOSSIER_CODE".into()))),
        (false, Some(_)) => return Err(ApiError(Error::Usage("attach with POST, not GET".into()))),
        (false, None) => None,
    };
    let mut v =
        records::reuse(&state.services.catalog, &p.citizen_id, &p.doc_type, target.as_deref(), p.limit.unwrap_or(20), (&who.token_id, who.role.as_str()))
            .await?;
    // An agency sees only the documents of its own dossiers.
    if let Some(docs) = v["documents"].as_array_mut() {
        docs.retain(|d| who.sees_dossier(d["dossier"].as_str()));
    }
    Ok(Json(v))
}

/// Earlier digitized documents of a citizen, by type: the object of `sohoa reuse --json`.
#[utoipa::path(get, path = "/api/v1/reuse", tag = "dossiers", params(ReuseParams),
    responses((status = 200, description = "The object of `sohoa reuse --json`", body = Object), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn reuse_lookup(State(state): State<SharedState>, who: Principal, Query(p): Query<ReuseParams>) -> ApiResult<Json<serde_json::Value>> {
    reuse_answer(&state, &who, p, false).await
}

/// The lookup, and the newest document found attached to `attach` (recorded, audited).
#[utoipa::path(post, path = "/api/v1/reuse", tag = "dossiers", params(ReuseParams),
    responses((status = 200, description = "The object of `sohoa reuse --attach --json`", body = Object), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn reuse_attach(State(state): State<SharedState>, who: Principal, Query(p): Query<ReuseParams>) -> ApiResult<Json<serde_json::Value>> {
    reuse_answer(&state, &who, p, true).await
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ReportParams {
    /// First day, YYYY-MM-DD (Vietnam time).
    from: String,
    /// Last day, YYYY-MM-DD, included.
    to: String,
    /// `post-office` or `agency`.
    by: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// The indicators (admin): the object of `sohoa report --json`, or its CSV.
#[utoipa::path(get, path = "/api/v1/reports/indicators", tag = "dossiers", params(ReportParams),
    responses((status = 200, description = "The object of `sohoa report --json` (or `--csv` with format=csv)", body = Object), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn indicators(State(state): State<SharedState>, who: Principal, Query(p): Query<ReportParams>) -> ApiResult<Response> {
    if !who.is_admin() {
        return Err(ApiError(Error::Forbidden("the indicators need an admin token".into())));
    }
    let (v, csv) = records::report(&state.services.catalog, &p.from, &p.to, p.by.as_deref()).await?;
    match p.format.as_deref() {
        None | Some("json") => Ok(Json(v).into_response()),
        Some("csv") => Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv.join("\n") + "\n").into_response()),
        Some(f) => Err(ApiError(Error::Usage(format!("format {f:?}: use json or csv")))),
    }
}

/// The admin page's section from the report object: a bar chart of the digitization
/// (4.2) and reuse (4.3) rates per group and in total, and the counts.
pub fn indicators_html(v: &serde_json::Value) -> String {
    use super::ui::esc;
    let mut html = format!(
        r#"<section id="indicators"><h2>Chỉ số số hóa ({} – {}, theo bưu cục)</h2><svg class="chart" viewBox="0 0 240 80" role="img" aria-label="tỉ lệ số hóa và tái sử dụng">"#,
        esc(v["from"].as_str().unwrap_or("")),
        esc(v["to"].as_str().unwrap_or(""))
    );
    let groups: Vec<&serde_json::Value> = v["groups"].as_array().into_iter().flatten().chain(std::iter::once(&v["total"])).collect();
    let width = 240.0 / groups.len().max(1) as f64;
    for (i, g) in groups.iter().enumerate() {
        let x = i as f64 * width;
        for (k, (key, name)) in [("digitization_rate", "4.2"), ("reuse_rate", "4.3")].into_iter().enumerate() {
            let r = g[key].as_f64().unwrap_or(0.0);
            let h = (r * 70.0).round();
            let _ = write!(
                html,
                r#"<rect class="{cls}" x="{:.1}" y="{}" width="{:.1}" height="{h}"><title>{} {name}: {:.1}%</title></rect>"#,
                x + 2.0 + k as f64 * (width / 2.0 - 1.0),
                75.0 - h,
                (width / 2.0 - 3.0).max(1.0),
                esc(g["group"].as_str().unwrap_or("")),
                r * 100.0,
                cls = if k == 0 { "rate-digitized" } else { "rate-reused" },
            );
        }
    }
    html.push_str("</svg><table class=\"indicators\"><thead><tr><th>Bưu cục</th><th>Tiếp nhận</th><th>Qua BCCI</th><th>Tỉ lệ số hóa (4.2)</th><th>Tỉ lệ tái sử dụng (4.3)</th><th>Tài liệu</th><th>Trang</th><th>Thiếu thành phần</th><th>Trung vị quét→lưu (s)</th></tr></thead><tbody>");
    let pct = |x: &serde_json::Value| x.as_f64().map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "-".into());
    for g in groups {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(g["group"].as_str().unwrap_or("")),
            g["received"],
            g["received_postal"],
            pct(&g["digitization_rate"]),
            pct(&g["reuse_rate"]),
            g["documents"],
            g["pages"],
            g["completeness_failures"],
            g["median_scan_to_stored_s"].as_f64().map(|s| format!("{s:.1}")).unwrap_or_else(|| "-".into())
        );
    }
    html.push_str("</tbody></table></section>");
    html
}

/// The indicators of the last 30 days (Vietnam time) by post office, as the admin page's section.
pub async fn dashboard_section(state: &SharedState) -> String {
    let offset = chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset");
    let today = chrono::Utc::now().with_timezone(&offset).date_naive();
    let from = today - chrono::Days::new(29);
    match records::report(&state.services.catalog, &from.to_string(), &today.to_string(), Some("post-office")).await {
        Ok((v, _)) => indicators_html(&v),
        Err(e) => format!("<section id=\"indicators\"><p class=\"error\">{}</p></section>", super::ui::esc(&e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role, agency: Option<&str>, post_office: Option<&str>) -> Principal {
        Principal { token_id: "t".into(), role, agency: agency.map(str::to_string), post_office: post_office.map(str::to_string) }
    }

    #[test]
    fn dossier_scope() {
        let code = "000.00.15.H40-250301-0007";
        assert!(sees(&who(Role::Admin, None, None), code, None));
        assert!(sees(&who(Role::Agency, Some("000.00.15.H40"), None), code, Some("700000")));
        assert!(!sees(&who(Role::Agency, Some("000.00.15.H41"), None), code, Some("700000")));
        assert!(sees(&who(Role::Clerk, None, Some("700000")), code, Some("700000")));
        assert!(!sees(&who(Role::Clerk, None, Some("700000")), code, Some("550000")));
        assert!(!sees(&who(Role::Clerk, None, Some("700000")), code, None));
    }

    #[test]
    fn the_chart_has_two_bars_per_group_and_escapes() {
        let v = serde_json::json!({"from": "2025-03-01", "to": "2025-03-31", "groups": [{"group": "<po>", "digitization_rate": 0.5, "reuse_rate": 0.25}], "total": {"group": "total", "digitization_rate": 1.0, "reuse_rate": null}});
        let html = indicators_html(&v);
        assert_eq!(html.matches("<rect").count(), 4);
        assert!(html.contains("&lt;po&gt;") && !html.contains("<po>"));
        assert!(html.contains("50.0%") && html.contains("25.0%"));
    }
}

//! The web UI: server-rendered pages in Vietnamese, one small script of our own
//! (`assets/app.js`: uploads, live refresh, re-queue), no CDN. Signing in exchanges a token
//! for an HttpOnly, SameSite=Strict session cookie holding it; the pages then call the
//! same API routes (and scope rules) as any client.
//!
//! Clerks see their post office's batches with live progress, upload scans, open a batch
//! (dossiers needing review first, page thumbnails with kind, skew, rotation, separator
//! payload and warnings) and re-queue a failed one; agencies search, preview and download;
//! admins also see throughput (pages per minute over the last hour), the queue and the
//! workers.

use super::auth::{self, Principal, Role};
use super::{SESSION_COOKIE, SharedState, session_secret};
use crate::runtime::views;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::fmt::Write;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, who: Option<&Principal>, body: &str, live: bool) -> Html<String> {
    let user = match who {
        Some(p) => {
            let scope = p.agency.as_deref().or(p.post_office.as_deref()).unwrap_or("");
            format!(
                r#"<span class="who">{} {}</span><form method="post" action="/ui/logout"><button id="logout">Đăng xuất</button></form>"#,
                esc(role_name(p.role)),
                esc(scope)
            )
        }
        None => String::new(),
    };
    Html(format!(
        r#"<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{t} · sohoa</title><link rel="stylesheet" href="/ui/assets/app.css"><script src="/ui/assets/app.js" defer></script></head>
<body data-live="{live}"><header><a href="/ui" class="brand">sohoa · Số hóa hồ sơ</a>{user}</header><main><h1>{t}</h1>{body}</main></body></html>"#,
        t = esc(title),
        live = u8::from(live),
    ))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Clerk => "Nhân viên bưu cục",
        Role::Agency => "Cơ quan",
        Role::Certifier => "Người chứng thực",
        Role::Admin => "Quản trị",
    }
}

fn state_name(state: &str) -> &'static str {
    match state {
        "queued" => "Đang chờ",
        "running" => "Đang xử lý",
        "done" => "Hoàn tất",
        "failed" => "Lỗi",
        _ => "?",
    }
}

fn kind_name(kind: &str) -> &'static str {
    match kind {
        "content" => "Nội dung",
        "separator" => "Tờ phân cách",
        "blank" => "Trang trắng",
        _ => "?",
    }
}

async fn principal(state: &SharedState, headers: &HeaderMap) -> Option<Principal> {
    auth::authenticate(&state.services.catalog, session_secret(headers)).await.ok()
}

pub async fn home() -> Redirect {
    Redirect::to("/ui")
}

pub async fn login_page() -> Html<String> {
    login_form(None)
}

fn login_form(error: Option<&str>) -> Html<String> {
    let error = error.map(|e| format!(r#"<p class="error" id="login-error">{}</p>"#, esc(e))).unwrap_or_default();
    let body = format!(
        r#"{error}<form method="post" action="/ui/login" class="login"><label>Mã truy cập <input type="password" name="token" id="token" autocomplete="off" required></label>
<button type="submit" id="login">Đăng nhập</button></form><p class="hint">Mã do quản trị viên cấp bằng <code>sohoa token create</code>.</p>"#
    );
    layout("Đăng nhập", None, &body, false)
}

/// Signs in: a valid token becomes the session cookie.
pub async fn login(State(state): State<SharedState>, body: String) -> Response {
    let token = url::form_urlencoded::parse(body.as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    match auth::authenticate(&state.services.catalog, Some(&token)).await {
        Ok(_) => {
            let cookie = format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200");
            (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, "/ui".to_string())]).into_response()
        }
        Err(_) => (StatusCode::UNAUTHORIZED, login_form(Some("Mã truy cập không hợp lệ hoặc đã bị thu hồi."))).into_response(),
    }
}

pub async fn logout() -> Response {
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, "/ui/login".to_string())]).into_response()
}

pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("assets/app.js")).into_response()
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("assets/app.css")).into_response()
}

#[derive(serde::Deserialize, Default)]
pub struct SearchForm {
    q: Option<String>,
    dossier: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    citizen_id: Option<String>,
}

/// The home page of the signed-in role.
pub async fn page(State(state): State<SharedState>, headers: HeaderMap, Query(form): Query<SearchForm>) -> Response {
    let Some(who) = principal(&state, &headers).await else { return Redirect::to("/ui/login").into_response() };
    let mut body = String::new();
    if who.is_admin() {
        body.push_str(&dashboard(&state).await);
        body.push_str(&super::dossiers::dashboard_section(&state).await);
    }
    if who.may_upload() {
        body.push_str(
            r#"<section><h2>Tải lên bản quét</h2><form id="upload-form"><input type="file" name="file" id="file" multiple accept=".tif,.tiff,.pdf,.png,.jpg,.jpeg" required>
<button type="submit" id="upload">Tải lên</button> <span id="upload-result" role="status"></span></form></section>"#,
        );
    }
    if who.may_list_batches() {
        let rows = batch_rows(&state, &who).await;
        let _ = write!(
            body,
            r#"<section><h2>Lô quét</h2><table class="batches"><thead><tr><th>Lô</th><th>Nguồn</th><th>Trạng thái</th><th>Tiến độ</th><th>Cần kiểm tra</th></tr></thead><tbody id="batches" data-refresh="/ui/batches">{rows}</tbody></table></section>"#
        );
    }
    if who.may_read_documents() {
        body.push_str(&search_section(&state, &who, &form).await);
    }
    layout(role_name(who.role), Some(&who), &body, false).into_response()
}

/// The rows of the batch table (refreshed by the script every two seconds).
pub async fn batches_fragment(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let Some(who) = principal(&state, &headers).await else { return StatusCode::UNAUTHORIZED.into_response() };
    if !who.may_list_batches() {
        return StatusCode::FORBIDDEN.into_response();
    }
    Html(batch_rows(&state, &who).await).into_response()
}

async fn batch_rows(state: &SharedState, who: &Principal) -> String {
    let post_office = if who.is_admin() { None } else { Some(who.post_office.clone().unwrap_or_default()) };
    let catalog = &state.services.catalog;
    let Ok(listing) = catalog.list_batches(None, post_office.as_deref(), 100).await else {
        return r#"<tr><td colspan="5" class="error">Không đọc được danh mục.</td></tr>"#.into();
    };
    let mut rows = Vec::new();
    for b in &listing {
        let Ok(Some(v)) = views::batch_status(catalog, &b.id).await else { continue };
        let review = v["dossiers"].as_array().is_some_and(|d| d.iter().any(|d| d["needs_review"] == true));
        let (total, done) = (v["progress"]["pages"].as_u64().unwrap_or(0), v["progress"]["pages_done"].as_u64().unwrap_or(0));
        let pct = (done * 100).checked_div(total).unwrap_or(if b.state == "done" { 100 } else { 0 });
        let row = format!(
            r#"<tr data-batch="{id}" data-state="{st}" class="{cls}"><td><a class="batch-link" href="/ui/batches/{id}">{id}</a></td><td>{src}</td><td>{state}</td><td><progress max="100" value="{pct}"></progress> {done}/{total}</td><td>{rev}</td></tr>"#,
            id = esc(&b.id),
            st = esc(&b.state),
            cls = if review { "review" } else { "" },
            src = esc(v["source"].as_str().unwrap_or("")),
            state = state_name(&b.state),
            rev = if review { "Cần kiểm tra" } else { "" },
        );
        rows.push((review, row));
    }
    // Batches with a dossier to check first.
    rows.sort_by_key(|(review, _)| !review);
    if rows.is_empty() {
        return r#"<tr><td colspan="5">Chưa có lô nào.</td></tr>"#.into();
    }
    rows.into_iter().map(|(_, r)| r).collect()
}

/// One batch: dossiers (needing review first), pages with thumbnails and what was found.
pub async fn batch_page(State(state): State<SharedState>, headers: HeaderMap, axum::extract::Path(id): axum::extract::Path<String>) -> Response {
    let Some(who) = principal(&state, &headers).await else { return Redirect::to("/ui/login").into_response() };
    let catalog = &state.services.catalog;
    let visible = matches!(catalog.batch_post_office(&id).await, Ok(Some(po)) if who.may_list_batches() && who.sees_batch(po.as_deref()));
    let status = if visible { views::batch_status(catalog, &id).await.ok().flatten() } else { None };
    let Some(v) = status else {
        return (StatusCode::NOT_FOUND, layout("Không tìm thấy", Some(&who), &format!("<p>Không có lô {}.</p>", esc(&id)), false)).into_response();
    };
    let st = v["state"].as_str().unwrap_or("");
    let mut body = format!(
        r#"<p id="batch-state" data-state="{}">Trạng thái: <strong>{}</strong> · Nguồn: {}</p>"#,
        esc(st),
        state_name(st),
        esc(v["source"].as_str().unwrap_or(""))
    );
    if st == "failed" {
        let _ = write!(
            body,
            r#"<p class="error">Lỗi: {}</p><button data-requeue="{}" id="requeue">Xử lý lại</button>"#,
            esc(v["last_error"].as_str().unwrap_or("")),
            esc(&id)
        );
    }
    let mut dossiers: Vec<&serde_json::Value> = v["dossiers"].as_array().map(|d| d.iter().collect()).unwrap_or_default();
    dossiers.sort_by_key(|d| d["needs_review"] != true);
    if !dossiers.is_empty() {
        body.push_str("<h2>Hồ sơ</h2><ul class=\"dossiers\">");
        for d in dossiers {
            let review = d["needs_review"] == true;
            let missing: Vec<String> = d["missing"].as_array().into_iter().flatten().filter_map(|m| m.as_str()).map(esc).collect();
            let _ = write!(
                body,
                r#"<li class="{}"><strong>{}</strong>{}{}<ul>"#,
                if review { "review" } else { "" },
                esc(d["code"].as_str().unwrap_or("(không có mã)")),
                if review { " — Cần kiểm tra" } else { "" },
                if missing.is_empty() { String::new() } else { format!(r#" <span class="missing">— Thiếu thành phần: {}</span>"#, missing.join(", ")) }
            );
            for doc in d["documents"].as_array().into_iter().flatten() {
                let _ = write!(
                    body,
                    "<li>{} · {} · trang {}</li>",
                    esc(doc["id"].as_str().unwrap_or("")),
                    esc(doc["type"].as_str().unwrap_or("-")),
                    esc(&doc["source_pages"].to_string())
                );
            }
            body.push_str("</ul></li>");
        }
        body.push_str("</ul>");
    }
    let warnings: Vec<&str> = v["warnings"].as_array().into_iter().flatten().filter_map(|w| w.as_str()).collect();
    if !warnings.is_empty() {
        body.push_str("<h2>Cảnh báo của lô</h2><ul>");
        for w in warnings {
            let _ = write!(body, "<li>{}</li>", esc(w));
        }
        body.push_str("</ul>");
    }
    let pages = v["pages"].as_array().cloned().unwrap_or_default();
    if !pages.is_empty() {
        body.push_str(r#"<h2>Trang</h2><div class="pages">"#);
        for p in &pages {
            let index = p["index"].as_u64().unwrap_or(0);
            let url = format!("/api/v1/batches/{}/pages/{index}/thumbnail", esc(&id));
            let warns: String = p["warnings"].as_array().into_iter().flatten().filter_map(|w| w.as_str()).map(|w| format!("<li>{}</li>", esc(w))).collect();
            let _ = write!(
                body,
                r#"<figure class="page" data-index="{index}"><a class="thumb-link" href="{url}"><img class="thumb" loading="lazy" src="{url}" alt="Trang {n}"></a><figcaption>Trang {n} · {kind}<br>Độ nghiêng {skew:.1}° · Xoay {rot}°{barcode}<ul class="warnings">{warns}</ul></figcaption></figure>"#,
                n = index + 1,
                kind = kind_name(p["kind"].as_str().unwrap_or("")),
                skew = p["skew_deg"].as_f64().unwrap_or(0.0),
                rot = p["rotation"].as_u64().unwrap_or(0),
                barcode = p["barcode"].as_str().map(|b| format!("<br>Mã vạch: <code>{}</code>", esc(b))).unwrap_or_default(),
            );
        }
        body.push_str("</div>");
    }
    let live = st == "queued" || st == "running";
    layout(&format!("Lô {id}"), Some(&who), &body, live).into_response()
}

async fn search_section(state: &SharedState, who: &Principal, form: &SearchForm) -> String {
    let val = |v: &Option<String>| esc(v.as_deref().unwrap_or(""));
    let mut html = format!(
        r#"<section><h2>Tìm kiếm hồ sơ</h2><form method="get" action="/ui" class="search"><input name="q" id="q" placeholder="Từ khóa (có dấu hoặc không)" value="{}">
<input name="dossier" placeholder="Mã hồ sơ" value="{}"><input name="type" placeholder="Loại (DON, CCCD…)" value="{}"><input name="citizen_id" placeholder="Số CCCD" value="{}">
<button type="submit" id="search">Tìm</button></form>"#,
        val(&form.q),
        val(&form.dossier),
        val(&form.doc_type),
        val(&form.citizen_id)
    );
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let query = crate::runtime::catalog::SearchQuery {
        text: nonempty(&form.q),
        dossier: nonempty(&form.dossier),
        doc_type: nonempty(&form.doc_type),
        citizen_id: nonempty(&form.citizen_id),
        limit: Some(50),
        dossier_prefix: who.dossier_prefix(),
        fields: Vec::new(),
    };
    if query.text.is_none() && query.dossier.is_none() && query.doc_type.is_none() && query.citizen_id.is_none() {
        html.push_str("</section>");
        return html;
    }
    if let Err(msg) = query.plan() {
        let _ = write!(html, r#"<p class="error">{}</p></section>"#, esc(&msg));
        return html;
    }
    let catalog = &state.services.catalog;
    let hits = match catalog.search_documents(&query).await {
        Ok(h) => h,
        Err(e) => {
            let _ = write!(html, r#"<p class="error">{}</p></section>"#, esc(&e.to_string()));
            return html;
        }
    };
    let _ = write!(html, r#"<p id="hit-count">{} kết quả</p><table class="hits"><tbody>"#, hits.len());
    for h in &hits {
        // A preview: the first page of the document.
        let first = catalog.document_record(&h.document_id).await.ok().flatten().and_then(|r| r.document.source_pages.first().copied());
        let thumb = first
            .map(|p| format!(r#"<img class="thumb" loading="lazy" src="/api/v1/batches/{}/pages/{p}/thumbnail" alt="">"#, esc(&h.batch_id)))
            .unwrap_or_default();
        let pdf = format!("/api/v1/documents/{}/pdf", esc(&h.document_id));
        let _ = write!(
            html,
            r#"<tr class="hit" data-document="{id}" data-blake3="{b3}"><td>{thumb}</td><td><strong>{dossier}</strong> · {ty} · {pages} trang<br><small>{snippet}</small></td><td><a class="view" target="_blank" href="{pdf}?purpose=xem">Xem</a> · <a class="download" download="{id}.pdf" href="{pdf}?purpose=tai-ve">Tải về</a></td></tr>"#,
            id = esc(&h.document_id),
            b3 = esc(&h.blake3),
            dossier = esc(h.dossier.as_deref().unwrap_or("(không có mã)")),
            ty = esc(h.doc_type.as_deref().unwrap_or("-")),
            pages = h.page_count,
            snippet = esc(&h.snippet),
        );
    }
    html.push_str("</tbody></table></section>");
    html
}

/// Throughput (pages per minute, last hour, 5-minute bars), the queue and the workers.
async fn dashboard(state: &SharedState) -> String {
    let catalog = &state.services.catalog;
    let now = crate::runtime::catalog::system_now_ms();
    let mut html = String::from("<section><h2>Thông lượng (trang/phút, 60 phút qua)</h2>");
    let finished = catalog.finished_since(now - 3_600_000).await.unwrap_or_default();
    let mut buckets = [0u64; 12];
    for (at, pages) in finished {
        let age = (now - at).max(0) as u64 / 300_000;
        if let Some(b) = buckets.get_mut(11usize.saturating_sub(age as usize)) {
            *b += pages;
        }
    }
    let per_min: Vec<f64> = buckets.iter().map(|&p| p as f64 / 5.0).collect();
    let top = per_min.iter().cloned().fold(1.0, f64::max);
    html.push_str(r#"<svg class="chart" viewBox="0 0 240 60" role="img" aria-label="trang/phút">"#);
    for (i, v) in per_min.iter().enumerate() {
        let h = (v / top * 55.0).round();
        let _ = write!(html, r#"<rect x="{}" y="{}" width="16" height="{h}"><title>{v:.1} trang/phút</title></rect>"#, i * 20 + 2, 58.0 - h);
    }
    html.push_str("</svg>");
    if let Ok(c) = catalog.queue_counts().await {
        let _ = write!(html, r#"<h2>Hàng đợi</h2><p id="queue">Đang chờ {} · Đang xử lý {} · Hoàn tất {} · Lỗi {}</p>"#, c.queued, c.running, c.done, c.failed);
    }
    html.push_str("<h2>Máy xử lý</h2><ul id=\"workers\">");
    let workers = catalog.running_workers().await.unwrap_or_default();
    if workers.is_empty() {
        html.push_str("<li>Không có việc đang chạy.</li>");
    }
    for (id, jobs, beat) in workers {
        let ago = beat.map(|b| format!("{} giây trước", (now - b).max(0) / 1000)).unwrap_or_default();
        let _ = write!(html, "<li>{} · {jobs} việc · nhịp {ago}</li>", esc(&id));
    }
    html.push_str("</ul></section>");
    html
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_is_escaped() {
        assert_eq!(super::esc(r#"<a href="x">Hồ sơ & 'y'</a>"#), "&lt;a href=&quot;x&quot;&gt;Hồ sơ &amp; &#39;y&#39;&lt;/a&gt;");
    }
}

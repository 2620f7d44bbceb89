//! The digitization indicators (Decision 766/QĐ-TTg, group 4) from plain per-dossier
//! facts: pure, so each figure is tested on rows with known answers.
//!
//! Per group (all dossiers, or by post office, or by agency):
//! - `received`: dossiers received (coded dossiers of the batches received in the
//!   period); `received_postal`: those whose batch came through a post office (a clerk's
//!   token or a tagged hot folder), channel code 3 (BCCI) on the public-service portal;
//! - `digitized`: dossiers with at least one stored document; `digitization_rate`
//!   (indicator 4.2) = digitized ÷ received;
//! - `reused`: dossiers with at least one component served from an earlier digitized
//!   document (`sohoa reuse --attach`); `reuse_rate` (indicator 4.3) = reused ÷ received;
//! - `with_result`: dossiers with an electronic result (`sohoa result add`);
//! - `documents`, `pages`: documents and pages digitized;
//! - `completeness_failures`: dossiers checked and found incomplete;
//! - `median_scan_to_stored_s`: median over the dossiers of the time from the batch's
//!   receipt (ingest of the scan) to its commit in the catalog, seconds.
//!
//! A rate over no dossier is `null`, not 0.

use serde::Serialize;

/// What the indicators need to know of one dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierFacts {
    pub code: String,
    pub post_office: Option<String>,
    /// Unix ms of the batch's ingest (scan received) and of its commit (stored).
    pub received_at: i64,
    pub stored_at: Option<i64>,
    pub documents: u64,
    pub pages: u64,
    pub complete: Option<bool>,
    /// At least one component was served from an earlier digitized document.
    pub reused: bool,
    /// At least one electronic result was recorded.
    pub has_result: bool,
}

/// How to group the dossiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupBy {
    PostOffice,
    Agency,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        match s {
            "post-office" => Some(GroupBy::PostOffice),
            "agency" => Some(GroupBy::Agency),
            _ => None,
        }
    }

    fn key(self, d: &DossierFacts) -> String {
        match self {
            GroupBy::PostOffice => d.post_office.clone().unwrap_or_else(|| "(none)".into()),
            GroupBy::Agency => d.code.split_once('-').map_or_else(|| d.code.clone(), |(a, _)| a.to_string()),
        }
    }
}

/// The indicators of one group of dossiers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicators {
    /// The post office or agency code; `total` for all dossiers.
    pub group: String,
    pub received: u64,
    pub received_postal: u64,
    pub digitized: u64,
    pub digitization_rate: Option<f64>,
    pub reused: u64,
    pub reuse_rate: Option<f64>,
    pub with_result: u64,
    pub documents: u64,
    pub pages: u64,
    /// Only for the total (the certification book is not kept per group).
    pub certifications: Option<u64>,
    pub completeness_failures: u64,
    pub median_scan_to_stored_s: Option<f64>,
}

/// The median of `values` (the mean of the middle two for an even count); `None` if empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 })
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// The indicators of `rows` as one group named `group`.
pub fn indicators(group: &str, rows: &[&DossierFacts]) -> Indicators {
    let count = |f: &dyn Fn(&DossierFacts) -> bool| rows.iter().filter(|d| f(d)).count() as u64;
    let received = rows.len() as u64;
    let digitized = count(&|d| d.documents > 0);
    let reused = count(&|d| d.reused);
    let mut waits: Vec<f64> = rows.iter().filter_map(|d| d.stored_at.map(|s| (s - d.received_at).max(0) as f64 / 1000.0)).collect();
    Indicators {
        group: group.to_string(),
        received,
        received_postal: count(&|d| d.post_office.is_some()),
        digitized,
        digitization_rate: ratio(digitized, received),
        reused,
        reuse_rate: ratio(reused, received),
        with_result: count(&|d| d.has_result),
        documents: rows.iter().map(|d| d.documents).sum(),
        pages: rows.iter().map(|d| d.pages).sum(),
        certifications: None,
        completeness_failures: count(&|d| d.complete == Some(false)),
        median_scan_to_stored_s: median(&mut waits),
    }
}

/// The indicators per group (sorted by key) and for all dossiers.
pub fn report(rows: &[DossierFacts], by: Option<GroupBy>, certifications: u64) -> (Vec<Indicators>, Indicators) {
    let mut groups = Vec::new();
    if let Some(by) = by {
        let mut keys: Vec<String> = rows.iter().map(|d| by.key(d)).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let members: Vec<&DossierFacts> = rows.iter().filter(|d| by.key(d) == k).collect();
            groups.push(indicators(&k, &members));
        }
    }
    let mut total = indicators("total", &rows.iter().collect::<Vec<_>>());
    total.certifications = Some(certifications);
    (groups, total)
}

/// The CSV header of [`csv_row`].
pub const CSV_HEADER: &str = "group,received,received_postal,digitized,digitization_rate,reused,reuse_rate,with_result,documents,pages,certifications,completeness_failures,median_scan_to_stored_s";

/// One CSV line (RFC 4180; a group key with a comma or quote is quoted).
pub fn csv_row(i: &Indicators) -> String {
    let opt = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_default();
    let group = if i.group.contains([',', '"', '\n']) { format!("\"{}\"", i.group.replace('"', "\"\"")) } else { i.group.clone() };
    format!(
        "{group},{},{},{},{},{},{},{},{},{},{},{},{}",
        i.received,
        i.received_postal,
        i.digitized,
        opt(i.digitization_rate),
        i.reused,
        opt(i.reuse_rate),
        i.with_result,
        i.documents,
        i.pages,
        i.certifications.map(|c| c.to_string()).unwrap_or_default(),
        i.completeness_failures,
        opt(i.median_scan_to_stored_s)
    )
}

/// A day `YYYY-MM-DD` as unix ms at its start in Vietnam time (UTC+07:00).
pub fn day_start_ms(day: &str) -> Option<i64> {
    // Exactly YYYY-MM-DD (chrono alone also takes 2025-3-1).
    let b = day.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let start = date.and_hms_opt(0, 0, 0)?;
    Some(start.and_utc().timestamp_millis() - 7 * 3_600_000)
}

/// `--from DAY --to DAY` (both included) as unix ms `[from, to)`.
pub fn period_ms(from: &str, to: &str) -> Result<(i64, i64), String> {
    let f = day_start_ms(from).ok_or_else(|| format!("--from {from:?}: give a day as YYYY-MM-DD"))?;
    let t = day_start_ms(to).ok_or_else(|| format!("--to {to:?}: give a day as YYYY-MM-DD"))? + 86_400_000;
    if t <= f {
        return Err(format!("--to {to} is before --from {from}"));
    }
    Ok((f, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, po: Option<&str>, docs: u64, complete: Option<bool>, reused: bool, wait_s: i64) -> DossierFacts {
        DossierFacts {
            code: code.into(),
            post_office: po.map(str::to_string),
            received_at: 1_000_000,
            stored_at: Some(1_000_000 + wait_s * 1000),
            documents: docs,
            pages: docs * 2,
            complete,
            reused,
            has_result: docs == 3,
        }
    }

    #[test]
    fn rates_medians_and_groups() {
        let rows = vec![
            row("000.00.15.H40-250301-0001", Some("700000"), 3, Some(true), true, 10),
            row("000.00.15.H40-250301-0002", Some("700000"), 2, Some(false), false, 30),
            row("001.00.00.H01-250301-0003", None, 0, None, false, 20),
            row("001.00.00.H01-250301-0004", Some("550000"), 1, Some(false), true, 40),
        ];
        let (groups, total) = report(&rows, None, 5);
        assert!(groups.is_empty());
        assert_eq!((total.received, total.received_postal, total.digitized, total.reused, total.with_result), (4, 3, 3, 2, 1));
        assert_eq!((total.digitization_rate, total.reuse_rate), (Some(0.75), Some(0.5)));
        assert_eq!((total.documents, total.pages, total.completeness_failures, total.certifications), (6, 12, 2, Some(5)));
        assert_eq!(total.median_scan_to_stored_s, Some(25.0));
        let (groups, _) = report(&rows, Some(GroupBy::Agency), 0);
        let keys: Vec<(&str, u64, Option<f64>)> = groups.iter().map(|g| (g.group.as_str(), g.received, g.reuse_rate)).collect();
        assert_eq!(keys, vec![("000.00.15.H40", 2, Some(0.5)), ("001.00.00.H01", 2, Some(0.5))]);
        let (groups, _) = report(&rows, Some(GroupBy::PostOffice), 0);
        let keys: Vec<(&str, u64)> = groups.iter().map(|g| (g.group.as_str(), g.digitized)).collect();
        assert_eq!(keys, vec![("(none)", 0), ("550000", 1), ("700000", 2)]);
        // No dossier: rates are unknown, not zero.
        let (_, empty) = report(&[], None, 0);
        assert_eq!((empty.digitization_rate, empty.reuse_rate, empty.median_scan_to_stored_s), (None, None, None));
        assert_eq!(csv_row(&empty), "total,0,0,0,,0,,0,0,0,0,0,");
        assert_eq!(CSV_HEADER.split(',').count(), csv_row(&total).split(',').count());
    }

    #[test]
    fn medians_and_periods() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
        // 2025-03-01 00:00 +07:00 is 2025-02-28 17:00 UTC.
        assert_eq!(day_start_ms("2025-03-01"), Some(1_740_762_000_000));
        assert_eq!(period_ms("2025-03-01", "2025-03-01"), Ok((1_740_762_000_000, 1_740_762_000_000 + 86_400_000)));
        assert!(period_ms("2025-03-02", "2025-03-01").is_err());
        assert!(period_ms("2025-3-1", "2025-03-01").unwrap_err().contains("--from"));
    }
}

//! The header of a document's first page (Decree 30/2020, Art. 8): issuing and parent
//! body, number and symbol, place and date, type, trích yếu.
//!
//! The lines are classified on their fold (motto, "Số: …", "…, ngày … tháng … năm …",
//! "V/v …", a type name in capitals). The header runs from the top to the type name, or
//! for a công văn to "Kính gửi" or the first line of prose. Tesseract may read the two
//! header columns one after the other or row by row; nothing here depends on which.

use std::sync::LazyLock;

use regex::Regex;

use super::syllable::split_run_together;
use super::{Line, PageLines, SPECKS, drop_specks, is_caps, word_count};
use crate::model::DocumentFields;

/// Document types of Decree 30/2020 Art. 7 (folded name) and their App. III abbreviations.
pub const TYPES: &[(&str, &str)] = &[
    ("nghi quyet", "NQ"),
    ("quyet dinh", "QĐ"),
    ("chi thi", "CT"),
    ("quy che", "QC"),
    ("quy dinh", "QyĐ"),
    ("thong cao", "TC"),
    ("thong bao", "TB"),
    ("huong dan", "HD"),
    ("chuong trinh", "CTr"),
    ("ke hoach", "KH"),
    ("phuong an", "PA"),
    ("de an", "ĐA"),
    ("du an", "DA"),
    ("bao cao", "BC"),
    ("bien ban", "BB"),
    ("to trinh", "TTr"),
    ("hop dong", "HĐ"),
    ("cong dien", "CĐ"),
    ("ban ghi nho", "BGN"),
    ("ban thoa thuan", "BTT"),
    ("giay uy quyen", "GUQ"),
    ("giay moi", "GM"),
    ("giay gioi thieu", "GGT"),
    ("giay nghi phep", "GNP"),
    ("phieu gui", "PG"),
    ("phieu chuyen", "PC"),
    ("phieu bao", "PB"),
];

/// Titles of other papers found in dossiers (folded): no Art. 7 abbreviation, but the
/// title ends the header and a summary may follow it.
const OTHER_TITLES: &[&str] =
    &["don de nghi", "don", "to khai", "giay khai sinh", "can cuoc cong dan", "can cuoc", "giay xac nhan", "giay chung nhan", "trich luc", "giay de nghi"];

/// How the name of an organisation begins (folded, with the space after the word).
const ORGAN_HEADS: &[&str] = &[
    "ubnd ",
    "uy ban ",
    "hdnd ",
    "hoi dong ",
    "so ",
    "van phong ",
    "trung tam ",
    "buu dien ",
    "phong ",
    "ban ",
    "cuc ",
    "chi cuc ",
    "tong cuc ",
    "bo ",
    "cong an ",
    "toa an ",
    "vien ",
    "truong ",
    "benh vien ",
    "chi nhanh ",
    "cong ty ",
    "tong cong ty ",
    "tap doan ",
    "bao hiem ",
    "bhxh ",
    "kho bac ",
    "thanh tra ",
    "doan ",
    "hoi ",
    "dang uy ",
    "tinh uy ",
    "huyen uy ",
    "thanh uy ",
    "chinh phu",
    "quoc hoi",
];

/// Lines that end a summary (folded prefixes).
const SUMMARY_STOPS: &[&str] = &["kinh gui", "can cu", "theo de nghi", "dieu ", "quyet dinh", "ho va ten", "ho, chu dem", "so dinh danh", "hom nay"];

/// "Số: 12/…", a speck or two before it allowed (`_ Số: 614/2026`).
static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[^\p{L}\p{N}]{0,3}s[o0]\s*[:;.,]?\s*\d").unwrap_or_else(|e| panic!("{e}")));
static DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|[\s,.])ngay\s*([0-9oil]{1,2})\s*thang\s*([0-9oil]{1,2})\s*nam\s*([0-9oil]{4})\b").unwrap_or_else(|e| panic!("{e}")));
static PLACE_DATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[^\d,]{2,60},\s*ngay\s").unwrap_or_else(|e| panic!("{e}")));
static VV: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[^\p{L}\p{N}]{0,3}v\s*[/l|1i]\s*[vy]\b\.?\s*").unwrap_or_else(|e| panic!("{e}")));
/// The first line of a numbered list item (`1. Ông (bà) …`, `2) …`): body, not summary.
static LIST_ITEM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d{1,2}[.)]\s").unwrap_or_else(|e| panic!("{e}")));
/// A field line ("Họ và tên: …", "Nơi nhận:"): words, then a colon right after a letter (a
/// speck read as `-:` at the end of a summary line is no label).
static LABEL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[^:]{0,39}\p{L}\s?:(\s|$)").unwrap_or_else(|e| panic!("{e}")));

/// A number run into its symbol's capitals with no `/`, the symbol having its `-`.
static NO_SLASH: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d{1,5}\p{Lu}[\p{L}]*-").unwrap_or_else(|e| panic!("{e}")));

/// What each line of the first page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Motto,
    Number,
    PlaceDate,
    Vv,
    /// A type name: `Some(abbreviation)` for Art. 7 types.
    Title(Option<&'static str>),
    Other,
}

fn is_motto(l: &Line) -> bool {
    let f = &l.folded;
    f.contains("cong hoa xa hoi") || f.contains("chu nghia viet nam") || f.starts_with("doc lap") || (f.contains("tu do") && f.contains("hanh phuc"))
}

/// The letters and spaces of a folded line, single-spaced (`"QUYẾT ĐỊNH:"` → `quyet dinh`).
fn letters(folded: &str) -> String {
    folded.chars().map(|c| if c.is_alphabetic() { c } else { ' ' }).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn title_of(l: &Line) -> Option<Option<&'static str>> {
    if !is_caps(&l.text) || word_count(&l.text) > 6 {
        return None;
    }
    // Spaces left out: OCR drops the space between bold capitals (`TỜTRÌNH`); no two
    // names are the same without their spaces.
    let name: String = letters(&l.folded).chars().filter(|c| *c != ' ').collect();
    let same = |n: &str| n.chars().filter(|c| *c != ' ').eq(name.chars());
    if let Some(&(_, abbr)) = TYPES.iter().find(|(n, _)| same(n)) {
        return Some(Some(abbr));
    }
    OTHER_TITLES.iter().any(|n| same(n)).then_some(None)
}

fn kind(l: &Line) -> Kind {
    if is_motto(l) {
        Kind::Motto
    } else if NUMBER.is_match(&l.folded) && (l.text.contains('/') || number_value(l).is_some()) {
        Kind::Number
    } else if PLACE_DATE.is_match(&l.folded) && DATE.is_match(&l.folded) {
        Kind::PlaceDate
    } else if VV.is_match(&l.folded) {
        Kind::Vv
    } else if let Some(t) = title_of(l) {
        Kind::Title(t)
    } else {
        Kind::Other
    }
}

/// Reads the header fields of the first page into `f`.
pub(super) fn read(page: &PageLines, f: &mut DocumentFields) {
    let split = PageLines { lines: page.lines.iter().flat_map(split_merged).collect(), width: page.width };
    let page = &split;
    let lines = &page.lines;
    let kinds: Vec<Kind> = lines.iter().map(kind).collect();
    let title = kinds.iter().position(|k| matches!(k, Kind::Title(_)));
    // The header ends at the title, "Kính gửi" or the first line of prose.
    let end = (0..lines.len())
        .find(|&i| {
            matches!(kinds[i], Kind::Title(_)) || lines[i].folded.starts_with("kinh gui") || (kinds[i] == Kind::Other && word_count(&lines[i].text) >= 14)
        })
        .unwrap_or(lines.len());
    let number = (0..end).find(|&i| kinds[i] == Kind::Number);
    let date = (0..end).find(|&i| kinds[i] == Kind::PlaceDate);

    f.so_ky_hieu = number.and_then(|i| number_value(&lines[i]));
    f.ngay = date.and_then(|i| iso_date(&lines[i].folded));

    // Issuing body: the capitals above the number (or above the date and title when
    // there is no number), the motto left out.
    let organ_end = number.or(date).unwrap_or(end).min(end);
    let caps: Vec<&Line> =
        lines[..organ_end].iter().zip(&kinds).filter(|(l, k)| **k == Kind::Other && is_caps(&l.text) && word_count(&l.text) <= 12).map(|(l, _)| l).collect();
    let organs = group_organs(&caps);
    f.co_quan = organs.last().cloned();
    f.co_quan_chu_quan = (organs.len() >= 2).then(|| organs[organs.len() - 2].clone());

    // Type: the title's abbreviation; a numbered paper with "V/v" in its header and no
    // title is a công văn.
    let vv = (0..end).find(|&i| kinds[i] == Kind::Vv);
    match title.map(|t| kinds[t]) {
        Some(Kind::Title(abbr)) => f.loai = abbr.map(str::to_string),
        _ if vv.is_some() && number.is_some() => f.loai = Some("CV".into()),
        _ => {}
    }

    // The symbol set right where OCR mangled it and the title or the body name printed
    // above it say what it must be.
    if let (Some(v), Some(loai)) = (f.so_ky_hieu.as_deref(), f.loai.as_deref()) {
        let bodies: Vec<&str> = [f.co_quan.as_deref(), f.co_quan_chu_quan.as_deref()].into_iter().flatten().collect();
        f.so_ky_hieu = Some(super::symbol::correct(v, (loai != "CV").then_some(loai), &bodies));
    }

    // Trích yếu: after "V/v" in the header (công văn), or under the title.
    f.trich_yeu = match (vv, title) {
        (Some(v), _) if title.is_none_or(|t| v < t) => letter_summary(page, &kinds, v, end),
        (_, Some(t)) => title_summary(page, &kinds, t),
        _ => None,
    };
}

/// A line that holds the text of both header columns (Tesseract joined them across a
/// narrow gap) cut in two: before the motto ("CỘNG HÒA …", "Độc lập …"), and after the
/// number and symbol when the place and date follow it. Pieces have no geometry.
fn split_merged(l: &Line) -> Vec<Line> {
    for motto in ["cong hoa xa hoi", "doc lap"] {
        if let Some(at) = l.folded.find(motto).filter(|&at| at > 0) {
            let rest = l.text_from(at);
            let head = &l.text[..l.text.len() - rest.len()];
            if head.chars().any(char::is_alphanumeric) {
                let mut out = split_merged(&Line::new(head, None));
                out.extend(split_merged(&Line::new(rest, None)));
                return out;
            }
        }
    }
    if NUMBER.is_match(&l.folded) && DATE.is_match(&l.folded) {
        // "Số: 12/QĐ-X Quy Nhơn, ngày …": the number ends at the first token not joined to
        // it by `/` or `-`.
        let tokens: Vec<&str> = l.text.split(' ').collect();
        if let Some(first) = tokens.iter().position(|t| t.chars().any(|c| c.is_ascii_digit())) {
            let mut end = first + 1;
            while end < tokens.len() && (tokens[end - 1].ends_with(['/', '-']) || tokens[end].starts_with(['/', '-'])) {
                end += 1;
            }
            if end < tokens.len() {
                return vec![Line::new(&tokens[..end].join(" "), None), Line::new(&tokens[end..].join(" "), None)];
            }
        }
    }
    vec![l.clone()]
}

/// The text of a line in capitals without the specks OCR leaves at its ends (`- SỞ Y TẾ.`,
/// `ˆ NGƯỜI LÀM ĐƠN`: a modifier circumflex is a letter to Unicode, a speck here).
pub(super) fn trim_specks(s: &str) -> String {
    s.trim_matches(|c: char| (!c.is_alphanumeric() && c != ')' && c != '(') || SPECKS.contains(&c)).trim().to_string()
}

/// The number and symbol after "Số:", spaces removed (`12/QĐ- SNV` → `12/QĐ-SNV`).
fn number_value(l: &Line) -> Option<String> {
    let m = NUMBER.find(&l.folded)?;
    // The match ends on the first digit: the value starts there.
    let rest = l.text_from(m.end() - 1);
    let mut tokens = rest.split_whitespace();
    let mut value = tokens.next()?.to_string();
    for t in tokens {
        if value.ends_with(['/', '-']) || t.starts_with(['/', '-']) {
            value.push_str(t);
        } else {
            break;
        }
    }
    let mut value = value.trim_end_matches(['.', ',', ';', ':', '_']).to_string();
    // "1242CT-VX": the `/` between the number and the symbol was not read. The number ends
    // at the first letter and is always followed by `/` (Decree 30/2020, App. I).
    if NO_SLASH.is_match(&value) {
        let digits = value.chars().take_while(char::is_ascii_digit).count();
        value.insert(digits, '/');
    }
    let shape = value.chars().all(|c| c.is_alphanumeric() || matches!(c, '/' | '-' | '.'))
        && value.contains('/')
        && value.chars().next().is_some_and(|c| c.is_ascii_digit())
        && !value.ends_with(['/', '-']);
    shape.then_some(value)
}

/// `YYYY-MM-DD` of the first "ngày … tháng … năm …" in a folded line, if it is a date.
fn iso_date(folded: &str) -> Option<String> {
    let c = DATE.captures(folded)?;
    let num = |i: usize| -> Option<u32> {
        let s: String = c
            .get(i)?
            .as_str()
            .chars()
            .map(|ch| match ch {
                'o' => '0',
                'i' | 'l' => '1',
                d => d,
            })
            .collect();
        s.parse().ok()
    };
    let (d, m, y) = (num(2)?, num(3)?, num(4)?);
    let date = chrono::NaiveDate::from_ymd_opt(y as i32, m, d)?;
    (1945..=2100).contains(&y).then(|| date.format("%Y-%m-%d").to_string())
}

/// Organisation names from header lines in capitals: a line that begins like an
/// organisation starts a name, any other continues the one before (a wrapped name).
fn group_organs(lines: &[&Line]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        let head = word_count(&l.text) >= 2 && ORGAN_HEADS.iter().any(|h| l.folded.starts_with(h) || format!("{} ", l.folded) == *h);
        let text = split_run_together(&trim_specks(&l.text));
        match out.last_mut() {
            Some(last) if !head => {
                last.push(' ');
                last.push_str(&text);
            }
            _ => out.push(text),
        }
    }
    out
}

/// The text after "V/v" and the lines that continue it in the header's left column.
fn letter_summary(page: &PageLines, kinds: &[Kind], v: usize, end: usize) -> Option<String> {
    let lines = &page.lines;
    let m = VV.find(&lines[v].folded)?;
    let mut out = lines[v].text_from(m.end()).to_string();
    let left_col = |l: &Line| match (l.center(), page.width) {
        (Some(c), w) if w > 0 => c < w as f32 * 0.5,
        _ => true,
    };
    for (l, k) in lines.iter().zip(kinds).take(end).skip(v + 1) {
        if *k != Kind::Other || l.is_rule() || l.folded.starts_with("kinh gui") || !left_col(l) {
            break;
        }
        join_wrapped(&mut out, &l.text);
    }
    let out = summary_value(&out);
    (!out.is_empty()).then_some(out)
}

/// A summary as returned: specks dropped, run-together words cut, and no punctuation at
/// its end (a trích yếu is a phrase, not a sentence: `… tại nhà -:` → `… tại nhà`).
fn summary_value(s: &str) -> String {
    let s = split_run_together(&drop_specks(s));
    s.trim_end_matches(|c: char| !c.is_alphanumeric() && !matches!(c, ')' | '"' | '”' | '»')).trim_end().to_string()
}

/// Appends a wrapped line of a summary to the text before it, with a space. A trích yếu is
/// one phrase: a full stop read at the end of a line that the next line continues in small
/// letters is a speck (`… về thủ tục.` / `đăng ký …`), not the end of a sentence; an
/// abbreviation's stop (`TP.`, `v.v.`) is kept.
pub(super) fn join_wrapped(out: &mut String, next: &str) {
    let continues = next.trim_start().chars().next().is_some_and(char::is_lowercase);
    if continues && out.ends_with('.') {
        let last = out.rsplit(' ').next().unwrap_or("");
        let word = &last[..last.len() - 1];
        if word.chars().count() >= 2 && word.chars().all(|c| c.is_alphabetic() && c.is_lowercase()) {
            out.pop();
        }
    }
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(next);
}

/// The summary lines under the title: centred and narrower than the prose when the
/// geometry is known, short and at most three otherwise; up to a rule, a field line, a
/// recital or "Kính gửi".
fn title_summary(page: &PageLines, kinds: &[Kind], t: usize) -> Option<String> {
    let lines = &page.lines;
    let body = body_bounds(page);
    let mut parts: Vec<&str> = Vec::new();
    for (l, k) in lines.iter().zip(kinds).skip(t + 1) {
        // A speck read as one letter between the title and the summary.
        if l.text.chars().filter(|c| c.is_alphanumeric()).count() <= 1 && !l.is_rule() {
            continue;
        }
        if l.is_rule()
            || SUMMARY_STOPS.iter().any(|s| l.folded.starts_with(s))
            || LABEL.is_match(&l.folded)
            || LIST_ITEM.is_match(&l.folded)
            || matches!(k, Kind::Title(_))
        {
            break;
        }
        let summary_like = match (body, l.span) {
            (Some((bl, br)), Some((left, right))) => {
                let tol = page.width as f32 * 0.02;
                let inside = left as f32 >= bl + tol && (right as f32) <= br - tol;
                let centred = ((left + right) as f32 / 2.0 - (bl + br) / 2.0).abs() <= page.width as f32 * 0.04;
                inside && centred
            }
            _ => l.text.chars().count() <= 75 && parts.len() < 3,
        };
        if !summary_like {
            break;
        }
        let text = if parts.is_empty() { VV.find(&l.folded).map_or(l.text.as_str(), |m| l.text_from(m.end())) } else { l.text.as_str() };
        parts.push(text);
    }
    let mut out = String::new();
    for p in parts {
        join_wrapped(&mut out, p);
    }
    let out = summary_value(&out);
    (!out.is_empty()).then_some(out)
}

/// The left and right edges of the prose (lines of ten words or more: the lower quartile
/// of their left edges, the upper quartile of their right edges), when the page has
/// geometry and at least two such lines.
fn body_bounds(page: &PageLines) -> Option<(f32, f32)> {
    if page.width == 0 {
        return None;
    }
    let spans: Vec<(u32, u32)> = page.lines.iter().filter(|l| word_count(&l.text) >= 10).filter_map(|l| l.span).collect();
    if spans.len() < 2 {
        return None;
    }
    // Quartiles, not the extremes: a speck read at the end of one line of prose must not
    // widen the prose (and let a list paragraph pass for a centred summary line).
    let mut lefts: Vec<u32> = spans.iter().map(|s| s.0).collect();
    let mut rights: Vec<u32> = spans.iter().map(|s| s.1).collect();
    lefts.sort_unstable();
    rights.sort_unstable();
    Some((lefts[(lefts.len() - 1) / 4] as f32, rights[rights.len() - 1 - (rights.len() - 1) / 4] as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(t: &str) -> Line {
        Line::new(t, None)
    }

    #[test]
    fn numbers_are_read_as_printed_without_spaces() {
        assert_eq!(number_value(&line("Số: 1234/UBND-VX")).as_deref(), Some("1234/UBND-VX"));
        assert_eq!(number_value(&line("Số: 05/QĐ- SNV")).as_deref(), Some("05/QĐ-SNV"));
        assert_eq!(number_value(&line("Sô; 12 /2025")).as_deref(), Some("12/2025"));
        assert_eq!(number_value(&line("SỐ: 7/TB-ÐT")).as_deref(), Some("7/TB-ĐT"), "eth read for Đ");
        assert_eq!(number_value(&line("Số 12 đường Lê Lợi")), None);
        assert_eq!(number_value(&line("Số:1242CT-VX _")).as_deref(), Some("1242/CT-VX"), "the / not read");
        assert_eq!(kind(&line("Số:1242CT-VX _")), Kind::Number);
        assert_eq!(number_value(&line("_ Số: 614/2026")).as_deref(), Some("614/2026"), "a speck before Số");
        assert_eq!(number_value(&line("Số 12A đường Lê Lợi")), None);
        assert_eq!(kind(&line("Số 12 đường Lê Lợi")), Kind::Other);
    }

    #[test]
    fn dates_need_a_real_day() {
        assert_eq!(iso_date("quang ngai, ngay 14 thang 3 nam 2025").as_deref(), Some("2025-03-14"));
        assert_eq!(iso_date("ha noi, ngay o5 thang 0l nam 2026").as_deref(), Some("2026-01-05"));
        assert_eq!(iso_date("ha noi, ngay 30 thang 02 nam 2026"), None);
        assert_eq!(iso_date("ngay thang nam"), None);
    }

    #[test]
    fn titles_and_vv_are_recognised_through_noise() {
        assert_eq!(kind(&line("QUYÉT ĐỊNH")), Kind::Title(Some("QĐ")));
        assert_eq!(kind(&line("QUY ĐỊNH")), Kind::Title(Some("QyĐ")));
        assert_eq!(kind(&line("TỜ TRÌNH")), Kind::Title(Some("TTr")));
        assert_eq!(kind(&line("ĐƠN ĐỀ NGHỊ")), Kind::Title(None));
        assert_eq!(kind(&line("Quyết định")), Kind::Other, "a title is in capitals");
        assert_eq!(kind(&line("V/v tiếp nhận hồ sơ")), Kind::Vv);
        assert_eq!(kind(&line("V/V tiếp nhận hồ sơ")), Kind::Vv);
        assert_eq!(kind(&line("Vlv tiếp nhận hồ sơ")), Kind::Vv);
        assert_eq!(kind(&line("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM")), Kind::Motto);
        assert_eq!(kind(&line("Độc lập - Tự do - Hạnh phúc")), Kind::Motto);
        assert_eq!(kind(&line("Hà Nội, ngày 05 tháng 01 năm 2020")), Kind::PlaceDate);
    }

    #[test]
    fn lines_joined_across_the_columns_are_cut() {
        let pieces = |t: &str| split_merged(&line(t)).into_iter().map(|l| l.text).collect::<Vec<_>>();
        assert_eq!(pieces("UBND TỈNH BÌNH ĐỊNH CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), ["UBND TỈNH BÌNH ĐỊNH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]);
        assert_eq!(pieces("SỞ Y TẾ Độc lập - Tự do - Hạnh phúc"), ["SỞ Y TẾ", "Độc lập - Tự do - Hạnh phúc"]);
        assert_eq!(pieces("Số: 12/ QĐ-SYT Quảng Ngãi, ngày 14 tháng 3 năm 2025"), ["Số: 12/ QĐ-SYT", "Quảng Ngãi, ngày 14 tháng 3 năm 2025"]);
        assert_eq!(pieces("Số: 12/QĐ-SYT"), ["Số: 12/QĐ-SYT"]);
        assert_eq!(pieces("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]);
        assert_eq!(trim_specks("- UBND HUYỆN TUY PHƯỚC."), "UBND HUYỆN TUY PHƯỚC");
        assert_eq!(trim_specks("ˆ NGƯỜI LÀM ĐƠN"), "NGƯỜI LÀM ĐƠN");
    }

    #[test]
    fn wrapped_organ_names_are_joined() {
        let ls = [line("UBND THÀNH PHỐ HỒ CHÍ"), line("MINH"), line("SỞ TÀI NGUYÊN VÀ MÔI"), line("TRƯỜNG")];
        let refs: Vec<&Line> = ls.iter().collect();
        assert_eq!(group_organs(&refs), ["UBND THÀNH PHỐ HỒ CHÍ MINH", "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG"]);
    }
}

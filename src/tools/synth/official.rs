//! Administrative documents with known header fields, for `sohoa eval-fields` and its
//! test: [`official_document`] lays out one document (Decree 30/2020) and says what each
//! field of [`DocumentFields`] must read.
//!
//! Built on `text::compose` (the body prose, forms and signature block), then varied:
//! every Art. 7 type with its abbreviation and công văn, issuers with and without a
//! parent body (ministries, provinces, districts, departments, public services), numbers
//! with and without a year, dates 2019-2026, signing capacities TM., KT., TL., TUQ. and
//! none, one or two pages. Citizens' papers (applications, declarations, birth
//! certificates, ID card copies, authorisations) carry CCCD numbers, and some documents a
//! list of citizens; distractors sit beside them: phone numbers, dossier codes, account
//! numbers, 12-digit numbers with no valid province code, 13-digit numbers.
//!
//! The CCCD truth is the generated numbers that were drawn (a paragraph that did not fit
//! on the last page is not drawn), in order of first appearance. Texts are written for
//! this generator; deterministic in `(seed, index)`.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::document::layout_document;
use super::text::{Date, DocContent, Para, ParaStyle, compose, dossier_code, person_name};
use crate::model::{DocumentFields, doc_kind};
use crate::stages::render::PageLayout;

/// The document types of Decree 30/2020 Art. 7 (title as printed, App. III abbreviation).
pub const ART7_TYPES: &[(&str, &str)] = &[
    ("NGHỊ QUYẾT", "NQ"),
    ("QUYẾT ĐỊNH", "QĐ"),
    ("CHỈ THỊ", "CT"),
    ("QUY CHẾ", "QC"),
    ("QUY ĐỊNH", "QyĐ"),
    ("THÔNG CÁO", "TC"),
    ("THÔNG BÁO", "TB"),
    ("HƯỚNG DẪN", "HD"),
    ("CHƯƠNG TRÌNH", "CTr"),
    ("KẾ HOẠCH", "KH"),
    ("PHƯƠNG ÁN", "PA"),
    ("ĐỀ ÁN", "ĐA"),
    ("DỰ ÁN", "DA"),
    ("BÁO CÁO", "BC"),
    ("BIÊN BẢN", "BB"),
    ("TỜ TRÌNH", "TTr"),
    ("HỢP ĐỒNG", "HĐ"),
    ("CÔNG ĐIỆN", "CĐ"),
    ("BẢN GHI NHỚ", "BGN"),
    ("BẢN THỎA THUẬN", "BTT"),
    ("GIẤY ỦY QUYỀN", "GUQ"),
    ("GIẤY MỜI", "GM"),
    ("GIẤY GIỚI THIỆU", "GGT"),
    ("GIẤY NGHỈ PHÉP", "GNP"),
    ("PHIẾU GỬI", "PG"),
    ("PHIẾU CHUYỂN", "PC"),
    ("PHIẾU BÁO", "PB"),
];

/// An issuer: parent body (if printed), issuing body, symbol in numbers, place printed
/// before the date.
struct Issuer {
    parent: Option<&'static str>,
    body: &'static str,
    symbol: &'static str,
    place: &'static str,
}

const ISSUERS: &[Issuer] = &[
    Issuer { parent: None, body: "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", symbol: "UBND", place: "Quảng Ngãi" },
    Issuer { parent: Some("UBND TỈNH QUẢNG NGÃI"), body: "SỞ Y TẾ", symbol: "SYT", place: "Quảng Ngãi" },
    Issuer { parent: None, body: "ỦY BAN NHÂN DÂN HUYỆN PHÙ CÁT", symbol: "UBND", place: "Phù Cát" },
    Issuer { parent: Some("UBND HUYỆN TUY PHƯỚC"), body: "PHÒNG TƯ PHÁP", symbol: "PTP", place: "Tuy Phước" },
    Issuer { parent: Some("TỔNG CỤC THUẾ"), body: "CỤC THUẾ TỈNH BÌNH ĐỊNH", symbol: "CT", place: "Quy Nhơn" },
    Issuer { parent: Some("BẢO HIỂM XÃ HỘI VIỆT NAM"), body: "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA", symbol: "BHXH", place: "Nha Trang" },
    Issuer { parent: Some("BỘ CÔNG AN"), body: "CÔNG AN TỈNH NGHỆ AN", symbol: "CAT", place: "Vinh" },
    Issuer { parent: Some("TỔNG CÔNG TY BƯU ĐIỆN VIỆT NAM"), body: "BƯU ĐIỆN TỈNH BÌNH ĐỊNH", symbol: "BĐBĐ", place: "Quy Nhơn" },
    Issuer { parent: Some("UBND TỈNH LÂM ĐỒNG"), body: "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", symbol: "TTPVHCC", place: "Đà Lạt" },
    Issuer { parent: Some("SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG"), body: "VĂN PHÒNG ĐĂNG KÝ ĐẤT ĐAI", symbol: "VPĐKĐĐ", place: "Hạ Long" },
    Issuer { parent: None, body: "BỘ TƯ PHÁP", symbol: "BTP", place: "Hà Nội" },
    Issuer { parent: Some("UBND THÀNH PHỐ ĐÀ NẴNG"), body: "SỞ GIÁO DỤC VÀ ĐÀO TẠO", symbol: "SGDĐT", place: "Đà Nẵng" },
    Issuer { parent: Some("UBND TỈNH QUẢNG NINH"), body: "SỞ NỘI VỤ", symbol: "SNV", place: "Hạ Long" },
    Issuer {
        parent: Some("UBND THÀNH PHỐ HỒ CHÍ MINH"), body: "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", symbol: "STTTT", place: "Thành phố Hồ Chí Minh"
    },
    Issuer { parent: Some("UBND QUẬN HẢI CHÂU"), body: "PHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG", symbol: "TNMT", place: "Đà Nẵng" },
    Issuer { parent: Some("KHO BẠC NHÀ NƯỚC"), body: "KHO BẠC NHÀ NƯỚC CẦN THƠ", symbol: "KBCT", place: "Cần Thơ" },
    Issuer { parent: None, body: "ỦY BAN NHÂN DÂN XÃ PHƯỚC AN", symbol: "UBND", place: "Tuy Phước" },
    Issuer { parent: Some("UBND TỈNH BÌNH ĐỊNH"), body: "BAN QUẢN LÝ DỰ ÁN ĐẦU TƯ XÂY DỰNG", symbol: "BQLDA", place: "Quy Nhơn" },
    Issuer { parent: Some("UBND TỈNH THỪA THIÊN HUẾ"), body: "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", symbol: "SLĐTBXH", place: "Huế" },
    Issuer { parent: None, body: "HỘI ĐỒNG NHÂN DÂN TỈNH ĐẮK LẮK", symbol: "HĐND", place: "Buôn Ma Thuột" },
];

/// Units added to a công văn's symbol (`12/UBND-VX`).
const UNITS: &[&str] = &["VX", "KT", "NC", "TH", "VP", "HCTC", "QLĐT"];

/// Signing capacity and position.
const SIGNATURES: &[(Option<&str>, &str)] = &[
    (Some("KT. GIÁM ĐỐC"), "PHÓ GIÁM ĐỐC"),
    (None, "GIÁM ĐỐC"),
    (Some("TL. GIÁM ĐỐC"), "TRƯỞNG PHÒNG HÀNH CHÍNH"),
    (Some("TM. ỦY BAN NHÂN DÂN"), "CHỦ TỊCH"),
    (Some("KT. CHỦ TỊCH"), "PHÓ CHỦ TỊCH"),
    (Some("TUQ. CHỦ TỊCH"), "CHÁNH VĂN PHÒNG"),
    (Some("TL. BỘ TRƯỞNG"), "VỤ TRƯỞNG VỤ PHÁP CHẾ"),
    (Some("TM. HỘI ĐỒNG NHÂN DÂN"), "CHỦ TỊCH"),
    (None, "CỤC TRƯỞNG"),
];

const PROCEDURES: &[&str] = &[
    "đăng ký khai sinh",
    "cấp phiếu lý lịch tư pháp",
    "đăng ký thường trú",
    "cấp giấy phép xây dựng",
    "đăng ký hộ kinh doanh",
    "chứng thực bản sao từ bản chính",
    "cấp đổi giấy phép lái xe",
    "xác nhận tình trạng hôn nhân",
];

/// A summary (trích yếu) of an official document, written for this generator.
fn summary(rng: &mut impl Rng, year: u16) -> String {
    let p = PROCEDURES.choose(rng).copied().unwrap_or(PROCEDURES[0]);
    match rng.random_range(0..8) {
        0 => format!("Về việc tiếp nhận hồ sơ {p} qua dịch vụ bưu chính công ích"),
        1 => format!("Kết quả số hóa hồ sơ, kết quả giải quyết thủ tục hành chính năm {year}"),
        2 => format!("Về việc cử cán bộ tham gia tập huấn số hóa hồ sơ {p}"),
        3 => "Triển khai Bộ phận Một cửa tại bưu điện các huyện, thị xã".to_string(),
        4 => format!("Về việc phê duyệt danh mục thủ tục {p} tiếp nhận qua bưu điện"),
        5 => format!("Tổ chức thực hiện chuyển đổi số trong giải quyết thủ tục hành chính giai đoạn {year}-{}", year + 2),
        6 => "Về việc phối hợp trả kết quả giải quyết thủ tục hành chính tại nhà".to_string(),
        _ => format!("Về việc điều chỉnh thời hạn giải quyết hồ sơ {p}"),
    }
}

/// The text after "V/v" of a công văn, written for this generator.
fn letter_summary(rng: &mut impl Rng) -> String {
    let p = PROCEDURES.choose(rng).copied().unwrap_or(PROCEDURES[0]);
    match rng.random_range(0..5) {
        0 => format!("hướng dẫn tiếp nhận hồ sơ {p}"),
        1 => "đẩy mạnh số hóa hồ sơ, kết quả giải quyết thủ tục hành chính".to_string(),
        2 => "đề nghị cung cấp thông tin phục vụ tái sử dụng dữ liệu đã số hóa".to_string(),
        3 => format!("trả lời kiến nghị của công dân về thủ tục {p}"),
        _ => "góp ý dự thảo Quy chế tiếp nhận hồ sơ qua dịch vụ bưu chính công ích".to_string(),
    }
}

/// A date of 2019-2026 (days up to 28, or 30 outside February).
fn issue_date(rng: &mut impl Rng) -> Date {
    let month = rng.random_range(1..=12);
    let day = if month != 2 && rng.random_bool(0.1) { 30 } else { rng.random_range(1..=28) };
    Date { year: rng.random_range(2019..=2026), month, day }
}

/// A CCCD number of a valid province.
fn citizen_id(rng: &mut impl Rng) -> String {
    let p = ["001", "079", "052", "048", "051", "040", "092", "056", "022", "068"].choose(rng).copied().unwrap_or("001");
    format!("{p}{}{:02}{:06}", rng.random_range(0..=3), rng.random_range(0..100), rng.random_range(0..1_000_000u32))
}

/// A paragraph of citizens with their CCCD numbers, and next to them numbers that are not
/// CCCD numbers. Returns the paragraph and the CCCD numbers in it.
fn citizens_para(rng: &mut impl Rng) -> (Para, Vec<String>) {
    let mut ids = Vec::new();
    let mut parts = Vec::new();
    for k in 1..=rng.random_range(1..=3) {
        let id = citizen_id(rng);
        let (name, _) = person_name(rng);
        let phone = format!("09{:08}", rng.random_range(0..100_000_000u32));
        parts.push(format!("{k}. Ông (bà) {name}, CCCD số {id}, điện thoại {phone}"));
        ids.push(id);
    }
    let received = issue_date(rng);
    let code = dossier_code(rng, received);
    // Distractors: no valid province code (003 and 099 are none), 13 digits, an account.
    let bad = format!("{}{:09}", ["003", "099", "100", "250"].choose(rng).copied().unwrap_or("003"), rng.random_range(0..1_000_000_000u32));
    let long = format!("{}{:010}", ["052", "079"].choose(rng).copied().unwrap_or("052"), rng.random_range(0..10_000_000_000u64));
    let account = citizen_id(rng);
    parts.push(format!("Mã hồ sơ {code}, mã bưu gửi {bad}, số seri biên lai {long}, số tài khoản {account} mở tại ngân hàng thương mại"));
    (Para { text: format!("{}.", parts.join("; ")), style: ParaStyle::Body }, ids)
}

/// What [`official_document`] makes: the pages to render and the fields they must give.
#[derive(Debug, Clone)]
pub struct OfficialDoc {
    /// `official`, `cong-van` or the citizen paper's type code.
    pub kind: String,
    pub pages: Vec<PageLayout>,
    pub truth: DocumentFields,
}

/// Document `index` of the set of `seed` (see the module doc).
pub fn official_document(seed: u64, index: usize) -> OfficialDoc {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index as u64);
    let date = issue_date(&mut rng);
    let issuer = ISSUERS.choose(&mut rng).unwrap_or(&ISSUERS[0]);
    let n: u32 = rng.random_range(1..=2500);
    let n = if n < 10 { format!("{n:02}") } else { n.to_string() };
    let roll = rng.random_range(0..100);
    let (kind, mut content, mut body, loai) = if roll < 55 {
        let (title, abbr) = *ART7_TYPES.choose(&mut rng).unwrap_or(&ART7_TYPES[1]);
        let base = if matches!(abbr, "QĐ" | "NQ" | "CT") { "QD" } else { "TB" };
        let (mut c, b) = compose(&mut rng, doc_kind(base).unwrap_or(&crate::model::DOC_KINDS[0]));
        c.title = Some(title.to_string());
        let number = if rng.random_bool(0.25) { format!("{n}/{}/{abbr}-{}", date.year, issuer.symbol) } else { format!("{n}/{abbr}-{}", issuer.symbol) };
        c.number = Some(format!("Số: {number}"));
        c.summary = Some(summary(&mut rng, date.year));
        ("official".to_string(), c, b, Some(abbr.to_string()))
    } else if roll < 75 {
        let (mut c, b) = compose(&mut rng, doc_kind("CV").unwrap_or(&crate::model::DOC_KINDS[0]));
        let unit = UNITS.choose(&mut rng).copied().unwrap_or("VP");
        c.number = Some(format!("Số: {n}/{}-{unit}", issuer.symbol));
        c.letter_summary = Some(format!("V/v {}", letter_summary(&mut rng)));
        ("cong-van".to_string(), c, b, Some("CV".to_string()))
    } else {
        let code = ["DON", "TK", "GKS", "CCCD", "GUQ"].choose(&mut rng).copied().unwrap_or("DON");
        let (c, b) = compose(&mut rng, doc_kind(code).unwrap_or(&crate::model::DOC_KINDS[0]));
        (code.to_string(), c, b, (code == "GUQ").then(|| "GUQ".to_string()))
    };
    let official = kind == "official" || kind == "cong-van";
    if official {
        content.parent_body = issuer.parent.map(str::to_string);
        content.issuing_body = Some(issuer.body.to_string());
        let (authority, position) = *SIGNATURES.choose(&mut rng).unwrap_or(&SIGNATURES[0]);
        content.signature.authority = authority.map(str::to_string);
        content.signature.position = position.to_string();
        content.signature.name = person_name(&mut rng).0;
        content.place_date = format!("{}, {}", issuer.place, date.long_form());
    } else {
        let place = content.place_date.split(", ngày").next().unwrap_or("Hà Nội").to_string();
        content.place_date = format!("{place}, {}", date.long_form());
    }
    let mut ids = vec![body.person_id().to_string()];
    if !official || rng.random_bool(0.3) {
        let (para, more) = citizens_para(&mut rng);
        content.opening.push(para);
        ids.extend(more);
    }
    let n_pages = if rng.random_bool(0.3) { 2 } else { 1 };
    let pages = layout_document(&content, &mut body, &mut rng, n_pages);
    let drawn: String = pages.iter().map(PageLayout::text).collect::<Vec<_>>().join("\n");
    let mut truth = truth_of(&content, date, loai);
    let mut found: Vec<(usize, String)> = ids.into_iter().filter_map(|id| drawn.find(&id).map(|at| (at, id))).collect();
    found.sort();
    found.dedup_by(|a, b| a.1 == b.1);
    truth.cccd = found.into_iter().map(|(_, id)| id).collect();
    OfficialDoc { kind, pages, truth }
}

/// The fields of `c` as printed (no CCCD numbers: they depend on what was drawn).
fn truth_of(c: &DocContent, date: Date, loai: Option<String>) -> DocumentFields {
    let capacity = |a: &str| ["TM.", "KT.", "TL.", "TUQ.", "Q."].iter().any(|p| a.starts_with(p));
    DocumentFields {
        so_ky_hieu: c.number.as_deref().map(|n| n.trim_start_matches("Số: ").to_string()),
        ngay: Some(format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)),
        loai,
        co_quan: c.issuing_body.clone(),
        co_quan_chu_quan: c.issuing_body.as_ref().and(c.parent_body.clone()),
        trich_yeu: c.letter_summary.as_deref().or(c.summary.as_deref()).map(|s| s.strip_prefix("V/v ").unwrap_or(s).to_string()),
        nguoi_ky: Some(c.signature.name.clone()),
        chuc_vu: Some(c.signature.position.clone()),
        tham_quyen: c.signature.authority.clone().filter(|a| capacity(a)),
        cccd: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_deterministic_and_varied() {
        let a = official_document(3, 7);
        let b = official_document(3, 7);
        assert_eq!(a.truth, b.truth);
        assert_eq!(a.pages.iter().map(PageLayout::text).collect::<Vec<_>>(), b.pages.iter().map(PageLayout::text).collect::<Vec<_>>());
        let docs: Vec<OfficialDoc> = (0..120).map(|i| official_document(1, i)).collect();
        let loai: std::collections::BTreeSet<_> = docs.iter().filter_map(|d| d.truth.loai.clone()).collect();
        assert!(loai.len() >= 15 && loai.contains("CV"), "{loai:?}");
        assert!(docs.iter().any(|d| d.truth.co_quan_chu_quan.is_none() && d.truth.co_quan.is_some()));
        assert!(docs.iter().any(|d| d.truth.so_ky_hieu.is_none()));
        assert!(docs.iter().filter(|d| d.truth.cccd.len() >= 2).count() >= 10);
        for d in &docs {
            let text: String = d.pages.iter().map(PageLayout::text).collect::<Vec<_>>().join("\n");
            // Every field is printed as the truth says.
            for v in [&d.truth.so_ky_hieu, &d.truth.nguoi_ky].into_iter().flatten() {
                assert!(text.contains(v.as_str()), "{v} not in {text}");
            }
            for id in &d.truth.cccd {
                assert!(text.contains(id.as_str()));
            }
        }
    }
}

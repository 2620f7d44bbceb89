//! Whole-document readings of hand-written OCR text, with the noise Tesseract leaves:
//! a misread tone, an eth for `Đ`, spaces around `/` and `-`, both column orders.

use super::*;

fn lines(text: &str) -> PageLines {
    PageLines::from_text(text)
}

#[test]
fn cong_van_left_column_first() {
    let first = lines(
        "UBND TỈNH QUẢNG NGÃI\nSỞ THÔNG TIN VÀ\nTRUYỀN THÔNG\nSố: 1234/ STTTT-VX\nV/v đẩy mạnh số hóa hồ sơ,\nkết quả giải quyết thủ tục\n\
         CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nQuảng Ngãi, ngày 14 tháng 3 năm 2025\nKính gửi: Bưu điện tỉnh\n\
         Sở Thông tin và Truyền thông đã tiếp nhận hồ sơ đề nghị cấp phiếu lý lịch tư pháp của ông (bà) Lê Văn An.",
    );
    let last = lines("Nơi nhận:\n- Như trên;\n- Lưu: VT.\nKT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\nHuỳnh Thị Thu Trang");
    let f = extract(&[first, last]);
    assert_eq!(f.so_ky_hieu.as_deref(), Some("1234/STTTT-VX"));
    assert_eq!(f.ngay.as_deref(), Some("2025-03-14"));
    assert_eq!(f.loai.as_deref(), Some("CV"));
    assert_eq!(f.co_quan.as_deref(), Some("SỞ THÔNG TIN VÀ TRUYỀN THÔNG"));
    assert_eq!(f.co_quan_chu_quan.as_deref(), Some("UBND TỈNH QUẢNG NGÃI"));
    assert_eq!(f.trich_yeu.as_deref(), Some("đẩy mạnh số hóa hồ sơ, kết quả giải quyết thủ tục"));
    assert_eq!(f.nguoi_ky.as_deref(), Some("Huỳnh Thị Thu Trang"));
    assert_eq!(f.chuc_vu.as_deref(), Some("PHÓ GIÁM ĐỐC"));
    assert_eq!(f.tham_quyen.as_deref(), Some("KT. GIÁM ĐỐC"));
    assert!(f.cccd.is_empty());
}

#[test]
fn decision_read_row_by_row_with_noise() {
    // Tesseract read the header rows across both columns; a tone misread on the title,
    // an eth in the symbol, a speck line under the summary.
    let page = lines(
        "ỦY BAN NHÂN DÂN\nCỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM\nTỈNH BÌNH ĐỊNH\nĐộc lập - Tự do - Hạnh phúc\nSố: 05/QÐ-UBND\n\
         Quy Nhơn, ngày 05 tháng 01 năm 2026\nQUYÉT ĐỊNH\nVề việc phê duyệt danh mục thủ tục hành chính\n—\n\
         Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;\nQUYẾT ĐỊNH:\n\
         Điều 1. Ông (bà) Phạm Minh Tuấn, số định danh cá nhân 052190123456, có nhu cầu thực hiện thủ tục.\n\
         TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\nVõ Quốc Hải",
    );
    let f = extract(&[page]);
    assert_eq!(f.so_ky_hieu.as_deref(), Some("05/QĐ-UBND"));
    assert_eq!(f.ngay.as_deref(), Some("2026-01-05"));
    assert_eq!(f.loai.as_deref(), Some("QĐ"));
    assert_eq!(f.co_quan.as_deref(), Some("ỦY BAN NHÂN DÂN TỈNH BÌNH ĐỊNH"));
    assert_eq!(f.co_quan_chu_quan, None);
    assert_eq!(f.trich_yeu.as_deref(), Some("Về việc phê duyệt danh mục thủ tục hành chính"));
    assert_eq!(f.nguoi_ky.as_deref(), Some("Võ Quốc Hải"));
    assert_eq!(f.chuc_vu.as_deref(), Some("CHỦ TỊCH"));
    assert_eq!(f.tham_quyen.as_deref(), Some("TM. ỦY BAN NHÂN DÂN"));
    assert_eq!(f.cccd, ["052190123456"]);
}

#[test]
fn citizen_application_has_no_body_number_or_type() {
    let page = lines(
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nĐà Nẵng, ngày 09 tháng 12 năm 2025\nĐƠN ĐỀ NGHỊ\n\
         V/v đăng ký khai sinh\nKính gửi: Sở Tư pháp\nHọ và tên: Lê Thị Lan\nSố định danh cá nhân: 048301001234\n\
         Số điện thoại: 0912345678\nmã hồ sơ 000.00.15.H40-250301-0007, số 999301001234 và 0483010012345.\n\
         NGƯỜI LÀM ĐƠN\n(Ký và ghi rõ họ tên)\nLê Thị Lan",
    );
    let f = extract(&[page]);
    assert_eq!(f.so_ky_hieu, None);
    assert_eq!(f.loai, None, "an application is not an Art. 7 type");
    assert_eq!(f.co_quan, None);
    assert_eq!(f.ngay.as_deref(), Some("2025-12-09"));
    assert_eq!(f.trich_yeu.as_deref(), Some("đăng ký khai sinh"));
    assert_eq!(f.nguoi_ky.as_deref(), Some("Lê Thị Lan"));
    assert_eq!(f.cccd, ["048301001234"]);
}

#[test]
fn nothing_found_is_all_null() {
    assert_eq!(extract(&[]), DocumentFields::default());
    assert_eq!(extract(&[lines("lorem ipsum\n12345")]), DocumentFields::default());
}

#[test]
fn geometry_ends_the_summary_at_the_prose() {
    // A notice: the summary is centred and narrower than the prose that follows.
    let w = 2480;
    let mk = |t: &str, l: u32, r: u32| Line::new(t, Some((l, r)));
    let page = PageLines {
        width: w,
        lines: vec![
            mk("BƯU ĐIỆN TỈNH", 300, 700),
            mk("Số: 12/TB-BĐT", 300, 700),
            mk("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 1100, 2200),
            mk("Nha Trang, ngày 12 tháng 3 năm 2025", 1200, 2100),
            mk("THÔNG BÁO.", 1040, 1440),
            mk("ị", 1661, 1663),
            mk("Về việc tiếp nhận hồ sơ đăng ký kết hôn", 700, 1780),
            mk("Trong kỳ báo cáo, toàn tỉnh Khánh Hòa tiếp nhận 120 hồ sơ thủ tục qua bưu", 400, 2170),
            mk("chính công ích, tỷ lệ hồ sơ được số hóa đạt 90% và các hồ sơ còn lại đang", 280, 2170),
            mk("được xử lý.", 280, 600),
        ],
    };
    let f = extract(&[page]);
    assert_eq!(f.loai.as_deref(), Some("TB"));
    assert_eq!(f.trich_yeu.as_deref(), Some("Về việc tiếp nhận hồ sơ đăng ký kết hôn"));
    assert_eq!(f.co_quan.as_deref(), Some("BƯU ĐIỆN TỈNH"));
}

#[test]
fn overlong_readings_are_dropped() {
    let long = "X".repeat(40);
    let f = extract(&[lines(&format!("Số: 1/{long}\nHà Nội, ngày 01 tháng 02 năm 2025"))]);
    assert_eq!(f.so_ky_hieu, None);
    assert_eq!(f.ngay.as_deref(), Some("2025-02-01"));
}

#[test]
fn lines_from_ocr_words_keep_geometry() {
    use crate::model::OcrWord;
    let w = |t: &str, left: u32, line: u32| OcrWord { text: t.into(), left, top: 0, width: 100, height: 30, confidence: 90.0, line: (0, 0, line) };
    let page = OcrPage { words: vec![w("Số:", 10, 0), w("12/UBND", 120, 0), w("Hà", 900, 1)], confidence: None, text: String::new() };
    let p = PageLines::from_ocr(&page, 2000);
    assert_eq!(p.lines.len(), 2);
    assert_eq!(p.lines[0].text, "Số: 12/UBND");
    assert_eq!(p.lines[0].span, Some((10, 220)));
    assert_eq!(p.lines[0].text_from(4), "12/UBND");
}

#[test]
fn specks_inside_a_wrapped_summary_are_dropped() {
    assert_eq!(drop_specks("tiếp nhận hồ sơ ' đăng ký_ khai sinh ˆ"), "tiếp nhận hồ sơ đăng ký khai sinh");
    assert_eq!(drop_specks("giai đoạn 2025-2027, tại nhà"), "giai đoạn 2025-2027, tại nhà");
    let page = lines(
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nHà Nội, ngày 05 tháng 01 năm 2026\nTHÔNG BÁO\n\
         Về việc tiếp nhận hồ sơ đăng ký khai sinh _\n' qua dịch vụ bưu chính công ích\nCăn cứ Luật Hộ tịch;",
    );
    assert_eq!(extract(&[page]).trich_yeu.as_deref(), Some("Về việc tiếp nhận hồ sơ đăng ký khai sinh qua dịch vụ bưu chính công ích"));
}

#[test]
fn a_mangled_symbol_is_set_right_from_the_title() {
    let page = lines(
        "UBND TỈNH QUẢNG NGÃI\nSỞ Y TẾ\nSố: 45/TIr-SYT\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\
         Quảng Ngãi, ngày 14 tháng 3 năm 2025\nTỜ TRÌNH\nVề việc phê duyệt danh mục thủ tục\nKính gửi: Ủy ban nhân dân tỉnh",
    );
    let f = extract(&[page]);
    assert_eq!(f.loai.as_deref(), Some("TTr"));
    assert_eq!(f.so_ky_hieu.as_deref(), Some("45/TTr-SYT"));
    // No title: nothing says what the part must be, it is read as printed.
    let page = lines("SỞ Y TẾ\nSố: 45/TIr-SYT\nQuảng Ngãi, ngày 14 tháng 3 năm 2025");
    assert_eq!(extract(&[page]).so_ky_hieu.as_deref(), Some("45/TIr-SYT"));
}

#[test]
fn a_title_read_without_its_space_and_specks_before_the_number() {
    let page = lines(
        "KHO BẠC NHÀ NƯỚC\nKHO BẠC NHÀ NƯỚC CẦNTHƠ\n_ Số: 2021/TTr-KBCT\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\
         Cần Thơ, ngày 04 tháng 01 năm 2026\n— TỜTRÌNH\nKết quả số hóa hồ sơ, kết quả giải quyết thủ tục hành chính năm\n_ 2026\nKính gửi: Ủy ban nhân dân thành phố",
    );
    let f = extract(&[page]);
    assert_eq!(f.loai.as_deref(), Some("TTr"));
    assert_eq!(f.so_ky_hieu.as_deref(), Some("2021/TTr-KBCT"));
    assert_eq!(f.co_quan.as_deref(), Some("KHO BẠC NHÀ NƯỚC CẦN THƠ"), "the dropped space is put back");
    assert_eq!(f.trich_yeu.as_deref(), Some("Kết quả số hóa hồ sơ, kết quả giải quyết thủ tục hành chính năm 2026"));
}

#[test]
fn a_stop_read_at_the_end_of_a_wrapped_summary_line_is_a_speck() {
    let page = lines(
        "UBND TỈNH BÌNH ĐỊNH\nKHO BẠC NHÀ NƯỚC CẦN THƠ\nSố: 12/KBCT-VP\nV/v trả lời kiến nghị của công dân về thủ tục.\nđăng ký hộ kinh doanh\n\
         Cần Thơ, ngày 04 tháng 01 năm 2026\nKính gửi: Ủy ban nhân dân thành phố",
    );
    assert_eq!(extract(&[page]).trich_yeu.as_deref(), Some("trả lời kiến nghị của công dân về thủ tục đăng ký hộ kinh doanh"));
    let mut out = String::from("cấp tại TP.");
    super::header::join_wrapped(&mut out, "Hồ Chí Minh");
    assert_eq!(out, "cấp tại TP. Hồ Chí Minh", "an abbreviation keeps its stop");
}

#[test]
fn a_signer_read_without_the_space_between_names() {
    let page = lines("KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\nTrầnXuân Nam");
    let f = extract(&[page]);
    assert_eq!(f.nguoi_ky.as_deref(), Some("Trần Xuân Nam"));
}

#[test]
fn a_summary_ends_at_a_list_item_and_loses_its_trailing_specks() {
    // A speck at the end of one prose line must not widen the prose: the list paragraph
    // under the summary is as wide as the prose, not a centred summary line.
    let w = 1654;
    let mk = |t: &str, l: u32, r: u32| Line::new(t, Some((l, r)));
    let prose = "Dữ liệu đã được số hóa được tái sử dụng cho các lần giải quyết thủ tục sau, công";
    let page = PageLines {
        width: w,
        lines: vec![
            mk("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", 159, 760),
            mk("Số: 1451/GNP-STTTT", 296, 625),
            mk("Thành phố Hồ Chí Minh, ngày 15 tháng 9 năm 2019", 741, 1535),
            mk("GIẤY NGHỈ PHÉP", 724, 1048),
            mk("Tổ chức thực hiện chuyển đổi số trong giải quyết thủ tục hành chính", 320, 1451),
            mk("giai đoạn 2019-2021 -:", 721, 1049),
            mk("1. Ông (bà) Đặng Xuân An, CCCD số 051147951163, điện thoại 0913798908; 2.", 319, 1533),
            mk(prose, 237, 1534),
            mk(prose, 237, 1534),
            mk("điện có trách nhiệm kiểm tra tính đầy đủ của hồ sơ, hướng dẫn công dân bổ sung giấy tờ '", 237, 1568),
        ],
    };
    let f = extract(&[page]);
    assert_eq!(f.trich_yeu.as_deref(), Some("Tổ chức thực hiện chuyển đổi số trong giải quyết thủ tục hành chính giai đoạn 2019-2021"));
    assert_eq!(f.loai.as_deref(), Some("GNP"));
}

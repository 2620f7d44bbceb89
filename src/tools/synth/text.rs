//! Vietnamese texts for generated sample documents.
//!
//! Owns the vocabulary (issuing bodies, places, people, procedures, document types) and the
//! seeded composition of one document's logical content ([`DocContent`]): header fields,
//! title, summary, body paragraphs, signature and recipients. It knows nothing about pages,
//! fonts or pixels; `document` lays a [`DocContent`] out on A4 pages.
//!
//! Invariants: every string is NFC (precomposed Vietnamese letters, no combining marks),
//! uses single spaces and no leading or trailing whitespace, so the strings drawn are the
//! ground truth as they are. The prose is written for this generator (plausible
//! administrative wording about dossiers, the public postal service and digitization); it
//! is not taken from real documents. Everything is a function of the RNG passed in.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use crate::model::{DocKind, Genre};

/// National motto and a typical công văn header (Decree 30/2020, Appendix I).
pub const MOTTO: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
pub const MOTTO_SUB: &str = "Độc lập - Tự do - Hạnh phúc";

/// A province: the parent-body line, the town printed before the date, and the province
/// name used in prose.
struct Province {
    parent: &'static str,
    place: &'static str,
    name: &'static str,
    /// First three digits of personal ID numbers registered there.
    id_prefix: &'static str,
}

const PROVINCES: &[Province] = &[
    Province { parent: "UBND TỈNH BÌNH ĐỊNH", place: "Quy Nhơn", name: "tỉnh Bình Định", id_prefix: "052" },
    Province { parent: "UBND THÀNH PHỐ HÀ NỘI", place: "Hà Nội", name: "thành phố Hà Nội", id_prefix: "001" },
    Province { parent: "UBND THÀNH PHỐ ĐÀ NẴNG", place: "Đà Nẵng", name: "thành phố Đà Nẵng", id_prefix: "048" },
    Province { parent: "UBND TỈNH KHÁNH HÒA", place: "Nha Trang", name: "tỉnh Khánh Hòa", id_prefix: "056" },
    Province { parent: "UBND TỈNH NGHỆ AN", place: "Vinh", name: "tỉnh Nghệ An", id_prefix: "040" },
    Province { parent: "UBND THÀNH PHỐ CẦN THƠ", place: "Cần Thơ", name: "thành phố Cần Thơ", id_prefix: "092" },
    Province { parent: "UBND TỈNH LÂM ĐỒNG", place: "Đà Lạt", name: "tỉnh Lâm Đồng", id_prefix: "068" },
    Province { parent: "UBND TỈNH QUẢNG NINH", place: "Hạ Long", name: "tỉnh Quảng Ninh", id_prefix: "022" },
    Province { parent: "UBND THÀNH PHỐ HỒ CHÍ MINH", place: "Thành phố Hồ Chí Minh", name: "Thành phố Hồ Chí Minh", id_prefix: "079" },
];

/// Issuing bodies below the province: (name in capitals, symbol used in numbers, name in prose).
const BODIES: &[(&str, &str, &str)] = &[
    ("SỞ NỘI VỤ", "SNV", "Sở Nội vụ"),
    ("SỞ TƯ PHÁP", "STP", "Sở Tư pháp"),
    ("SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", "STNMT", "Sở Tài nguyên và Môi trường"),
    ("SỞ XÂY DỰNG", "SXD", "Sở Xây dựng"),
    ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "STTTT", "Sở Thông tin và Truyền thông"),
    ("VĂN PHÒNG UBND TỈNH", "VP", "Văn phòng Ủy ban nhân dân tỉnh"),
    ("TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", "TTPVHCC", "Trung tâm Phục vụ hành chính công"),
    ("BƯU ĐIỆN TỈNH", "BĐT", "Bưu điện tỉnh"),
];

const COMMUNES: &[&str] =
    &["UBND PHƯỜNG NGUYỄN VĂN CỪ", "UBND XÃ PHƯỚC AN", "UBND PHƯỜNG HÒA KHÁNH", "UBND XÃ NGHI PHONG", "UBND PHƯỜNG LÊ LỢI", "UBND XÃ TÂN LẬP"];

const SURNAMES: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"];
const MIDDLE_M: &[&str] = &["Văn", "Hữu", "Minh", "Đức", "Quốc", "Thanh", "Công", "Xuân"];
const MIDDLE_F: &[&str] = &["Thị", "Ngọc", "Thu", "Minh", "Thanh", "Kim", "Mỹ", "Hồng"];
const GIVEN_M: &[&str] = &["An", "Bình", "Cường", "Dũng", "Hải", "Khánh", "Long", "Nam", "Phúc", "Quang", "Sơn", "Tuấn", "Việt", "Thắng", "Hiếu", "Trung"];
const GIVEN_F: &[&str] = &["Hà", "Hạnh", "Hương", "Lan", "Mai", "Tâm", "Thảo", "Trang", "Yến", "Nhung", "Loan", "Phương", "Oanh", "Giang"];

/// Administrative procedures (thủ tục hành chính) named in the prose.
const PROCEDURES: &[&str] = &[
    "cấp bản sao trích lục hộ tịch",
    "đăng ký khai sinh",
    "cấp phiếu lý lịch tư pháp",
    "đăng ký thường trú",
    "cấp đổi giấy phép lái xe",
    "chứng thực bản sao từ bản chính",
    "đăng ký kết hôn",
    "cấp giấy phép xây dựng nhà ở riêng lẻ",
    "đăng ký hộ kinh doanh",
    "cấp giấy chứng nhận quyền sử dụng đất",
    "xác nhận tình trạng hôn nhân",
    "cấp lại giấy chứng nhận đăng ký hộ kinh doanh",
];

const STREETS: &[&str] =
    &["Trần Hưng Đạo", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Phan Bội Châu", "Quang Trung", "Lý Thường Kiệt", "Hùng Vương", "Ngô Mây", "Bạch Đằng"];

const LAWS: &[&str] = &[
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Căn cứ Luật Giao dịch điện tử ngày 22 tháng 6 năm 2023;",
    "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
    "Căn cứ Nghị định số 45/2020/NĐ-CP ngày 08 tháng 4 năm 2020 của Chính phủ về thực hiện thủ tục hành chính trên môi trường điện tử;",
    "Căn cứ Nghị định số 61/2018/NĐ-CP ngày 23 tháng 4 năm 2018 của Chính phủ về thực hiện cơ chế một cửa, một cửa liên thông trong giải quyết thủ tục hành chính;",
    "Căn cứ Quyết định số 45/2016/QĐ-TTg ngày 19 tháng 10 năm 2016 của Thủ tướng Chính phủ về việc tiếp nhận hồ sơ, trả kết quả giải quyết thủ tục hành chính qua dịch vụ bưu chính công ích;",
    "Căn cứ Thông tư số 01/2023/TT-VPCP ngày 05 tháng 4 năm 2023 của Văn phòng Chính phủ quy định một số nội dung và biện pháp thi hành trong số hóa hồ sơ, kết quả giải quyết thủ tục hành chính;",
];

/// A calendar date used in generated documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    pub fn random(rng: &mut impl Rng) -> Date {
        Date { year: rng.random_range(2025..=2026), month: rng.random_range(1..=12), day: rng.random_range(1..=28) }
    }

    /// "ngày 05 tháng 01 năm 2026": days below 10 and months 1-2 padded with a zero
    /// (Decree 30/2020, App. I).
    pub fn long_form(&self) -> String {
        let month = if self.month <= 2 { format!("{:02}", self.month) } else { self.month.to_string() };
        format!("ngày {:02} tháng {} năm {}", self.day, month, self.year)
    }

    /// "05/01/2026".
    pub fn short_form(&self) -> String {
        format!("{:02}/{:02}/{}", self.day, self.month, self.year)
    }

    /// "250301" (YYMMDD), as in dossier codes.
    pub fn yymmdd(&self) -> String {
        format!("{:02}{:02}{:02}", self.year % 100, self.month, self.day)
    }
}

/// A dossier code per Circular 01/2018/TT-VPCP, Art. 19, e.g. `000.00.15.H40-250301-0007`.
pub fn dossier_code(rng: &mut impl Rng, received: Date) -> String {
    let level = ["000", "000", "000", "001", "002", "010"].choose(rng).copied().unwrap_or("000");
    let z: u8 = rng.random_range(0..=30);
    let y: u8 = rng.random_range(0..=40);
    let letter = ['H', 'H', 'H', 'G', 'A'].choose(rng).copied().unwrap_or('H');
    let x: u8 = rng.random_range(1..=99);
    let seq: u16 = rng.random_range(1..=300);
    format!("{level}.{z:02}.{y:02}.{letter}{x:02}-{}-{seq:04}", received.yymmdd())
}

/// A paragraph of the OCR fidelity set (`sohoa eval-ocr`) and the words in it that a
/// diacritic correction must never touch: names, places, numbers, codes, dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalParagraph {
    pub text: String,
    pub protected: Vec<String>,
}

/// Administrative clauses of the fidelity set, written for it: hook-above, tilde, dot-below
/// and the vowel marks of ă, â, ê, ô, ơ, ư all occur, in the words where a misread tone
/// changes the meaning (thẩm/thấm, bổ/bố, để/đế, tổ/tố, chuyển/chuyến, cổng/cống).
const EVAL_CLAUSES: &[&str] = &[
    "Hồ sơ đã được thẩm định đầy đủ và chuyển đến bộ phận một cửa để xử lý",
    "cán bộ tiếp nhận kiểm tra thành phần hồ sơ, hướng dẫn bổ sung nếu còn thiếu",
    "tổ chức, cá nhân được thông báo kết quả qua Cổng dịch vụ công quốc gia",
    "văn bản điện tử có giá trị pháp lý như bản giấy khi được ký số hợp lệ",
    "bưu điện chuyển phát hồ sơ trong ngày, bảo đảm không để thất lạc giấy tờ",
    "người nộp hồ sơ có quyền phản ánh, kiến nghị về thái độ phục vụ của công chức",
    "kết quả số hóa được lưu trữ an toàn, phục vụ việc tra cứu và tái sử dụng dữ liệu",
    "đơn vị chủ trì rà soát quy trình nội bộ, rút ngắn thời gian giải quyết thủ tục",
    "những trường hợp phức tạp phải báo cáo lãnh đạo sở trước khi trả lời bằng văn bản",
    "việc thu phí, lệ phí thực hiện theo biểu mức do Hội đồng nhân dân tỉnh ban hành",
    "dữ liệu hộ tịch được đối chiếu với Cơ sở dữ liệu quốc gia về dân cư",
    "ủy quyền cho người khác nộp hồ sơ phải có giấy ủy quyền được chứng thực",
    "thời hạn giải quyết không quá năm ngày làm việc kể từ khi nhận đủ hồ sơ hợp lệ",
    "mọi sửa đổi, bổ sung nội dung phải được ghi vào sổ theo dõi và lưu vết điện tử",
    "nhân viên bưu chính niêm phong bì hồ sơ trước mặt người gửi và ghi rõ số hiệu",
    "khuyến khích người dân sử dụng tài khoản định danh điện tử mức độ hai",
    "Ủy ban nhân dân cấp xã xác nhận nơi cư trú và tình trạng hôn nhân của đương sự",
    "trưởng phòng chịu trách nhiệm trước giám đốc về tiến độ và chất lượng thẩm tra",
    "hệ thống tự động nhắc việc khi hồ sơ sắp quá hạn hoặc bị trả lại để chỉnh sửa",
    "bản chụp giấy tờ phải rõ nét, đủ các trang, không tẩy xóa hay che khuất chữ ký",
    "trường hợp mất bản gốc, công dân làm đơn đề nghị cấp lại kèm tờ khai theo mẫu",
    "kinh phí số hóa được bố trí từ nguồn ngân sách chi thường xuyên của ngành",
    "các quận, huyện tổng kết, rút kinh nghiệm và đề xuất khen thưởng tập thể tiêu biểu",
    "mỗi tờ khai chỉ ghi một loại việc, chữ viết rõ ràng, không viết tắt tên riêng",
];

/// Running English prose of the fidelity set, written for it (no diacritics: a correction
/// must leave every word as read).
const EVAL_CLAUSES_EN: &[&str] = &[
    "The post office receives the application and forwards it to the provincial service centre",
    "every page is scanned, checked for skew and stored with a searchable text layer",
    "a clerk compares the copy with the original before signing the register",
    "applicants may track their file online with the code printed on the receipt",
    "fees are collected at the counter and recorded in the daily settlement report",
    "documents that cannot be read are returned to the sender with a short explanation",
    "the archive keeps each record for the period set by the retention schedule",
    "a second reviewer approves any correction made after the file was closed",
    "large envelopes travel in sealed bags that are weighed at both ends of the route",
    "the system reminds staff when a request is close to its legal deadline",
    "requests for certified copies are answered within three working days",
    "missing pages are reported to the applicant by text message and by letter",
];

/// A name of a person in the fidelity set: surname, middle name, given name.
fn eval_person(rng: &mut impl Rng) -> String {
    let female = rng.random_bool(0.5);
    let (mid, given) = if female { (MIDDLE_F, GIVEN_F) } else { (MIDDLE_M, GIVEN_M) };
    format!("{} {} {}", SURNAMES.choose(rng).copied().unwrap_or("Lê"), mid.choose(rng).copied().unwrap_or("Văn"), given.choose(rng).copied().unwrap_or("An"))
}

/// `n` paragraphs of the OCR fidelity set in `lang` (`vie` or anything else for English),
/// from `rng`: clauses of administrative prose joined into sentences, with people's names,
/// addresses, CCCD numbers (12 digits, the province prefix first), dates, amounts, document
/// numbers and dossier codes; every fourth Vietnamese paragraph is a row list (a table as
/// text: number, name, CCCD, date of birth). NFC, single spaces.
pub fn eval_paragraphs(rng: &mut impl Rng, lang: &str, n: usize) -> Vec<EvalParagraph> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut protected = Vec::new();
        let text = if lang != "vie" {
            let mut s = String::new();
            for _ in 0..rng.random_range(3..=5) {
                let c = EVAL_CLAUSES_EN.choose(rng).copied().unwrap_or(EVAL_CLAUSES_EN[0]);
                let mut chars = c.chars();
                let first = chars.next().map(|f| f.to_uppercase().collect::<String>()).unwrap_or_default();
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(&first);
                s.push_str(chars.as_str());
                if rng.random_bool(0.3) {
                    let day = Date::random(rng);
                    let date = day.short_form();
                    s.push_str(&format!(" on {date}"));
                    protected.push(date);
                }
                s.push('.');
            }
            s.split_whitespace().for_each(|w| protected.push(w.to_string()));
            s
        } else if i % 4 == 3 {
            let mut rows = Vec::new();
            for k in 1..=rng.random_range(3..=5) {
                let person = eval_person(rng);
                let p = PROVINCES.choose(rng).unwrap_or(&PROVINCES[0]);
                let id = format!("{}{}{:08}", p.id_prefix, rng.random_range(0..=3), rng.random_range(0..100_000_000u32));
                let born = Date { year: rng.random_range(1950..=2005), month: rng.random_range(1..=12), day: rng.random_range(1..=28) }.short_form();
                protected.extend(person.split(' ').map(String::from));
                protected.extend([id.clone(), born.clone()]);
                protected.extend(p.place.split(' ').map(String::from));
                rows.push(format!("{k}. {person}, CCCD số {id}, sinh ngày {born}, thường trú tại {}.", p.place));
            }
            rows.join(" ")
        } else {
            let mut s = String::new();
            let k = rng.random_range(2..=4);
            let clauses: Vec<&str> = EVAL_CLAUSES.choose_multiple(rng, k).copied().collect();
            for (k, c) in clauses.iter().enumerate() {
                if k == 0 {
                    let mut chars = c.chars();
                    s.push_str(&chars.next().map(|f| f.to_uppercase().collect::<String>()).unwrap_or_default());
                    s.push_str(chars.as_str());
                } else {
                    s.push_str(if k + 1 == clauses.len() { "; " } else { ", " });
                    s.push_str(c);
                }
            }
            match rng.random_range(0..4) {
                0 => {
                    let person = eval_person(rng);
                    let street = STREETS.choose(rng).copied().unwrap_or("Lê Lợi");
                    let p = PROVINCES.choose(rng).unwrap_or(&PROVINCES[0]);
                    let house = rng.random_range(1..=450).to_string();
                    s.push_str(&format!(". Ông (bà) {person}, địa chỉ số {house} đường {street}, {}", p.name));
                    protected.extend(person.split(' ').map(String::from));
                    protected.extend(street.split(' ').map(String::from));
                    protected.push(house);
                }
                1 => {
                    let date = Date::random(rng);
                    let num = format!("{}/{}/QĐ-UBND", rng.random_range(1..=999), date.year);
                    s.push_str(&format!(" theo Quyết định số {num} {}", date.long_form()));
                    protected.push(num);
                    protected.extend(date.long_form().split(' ').filter(|w| w.chars().any(|c| c.is_ascii_digit())).map(String::from));
                }
                2 => {
                    let amount = format!("{}.{:03}.000", rng.random_range(1..=95), rng.random_range(0..1000));
                    let received = Date::random(rng);
                    let code = dossier_code(rng, received);
                    s.push_str(&format!(", lệ phí {amount} đồng, mã hồ sơ {code}"));
                    protected.extend([amount, code]);
                }
                _ => {
                    let phone = format!("0{}{:08}", rng.random_range(3..=9), rng.random_range(0..100_000_000u32));
                    s.push_str(&format!(", điện thoại liên hệ {phone}"));
                    protected.push(phone);
                }
            }
            s.push('.');
            s
        };
        out.push(EvalParagraph { text, protected });
    }
    out
}

/// How a paragraph is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParaStyle {
    /// Body prose: justified, first line indented.
    Body,
    /// Recitals ("Căn cứ ..."): italic, justified, indented.
    Recital,
    /// A centred bold line ("QUYẾT ĐỊNH:").
    CenteredBold,
    /// A field line of a form ("Họ và tên: ..."): left-aligned, indented.
    Field,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Para {
    pub text: String,
    pub style: ParaStyle,
}

/// The signature block, right-hand column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// "TM. ỦY BAN NHÂN DÂN", "KT. GIÁM ĐỐC" ... (bold capitals), if any.
    pub authority: Option<String>,
    /// "PHÓ GIÁM ĐỐC", "NGƯỜI LÀM ĐƠN" (bold capitals).
    pub position: String,
    /// "(Ký và ghi rõ họ tên)" for citizens' papers (italic).
    pub note: Option<String>,
    /// Full name (bold).
    pub name: String,
}

/// The logical content of one document, before layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocContent {
    /// Header left column: parent body (regular capitals), issuing body (bold capitals).
    /// Empty for citizens' papers.
    pub parent_body: Option<String>,
    pub issuing_body: Option<String>,
    /// "Số: 12/QĐ-SNV".
    pub number: Option<String>,
    /// Công văn only: "V/v ..." under the number in the left column.
    pub letter_summary: Option<String>,
    /// "Quy Nhơn, ngày 05 tháng 01 năm 2026" (italic, right column).
    pub place_date: String,
    /// Document type name in capitals, centred; None for công văn.
    pub title: Option<String>,
    /// The summary (trích yếu) under the title, bold, centred.
    pub summary: Option<String>,
    /// "Kính gửi: ..." line, centred.
    pub addressee: Option<String>,
    /// Paragraphs that always come first (fields, recitals).
    pub opening: Vec<Para>,
    pub signature: Signature,
    /// "Nơi nhận:" list (left column beside the signature); empty for citizens' papers.
    pub recipients: Vec<String>,
}

struct Ctx {
    province: &'static Province,
    body_prose: &'static str,
    person: String,
    person_id: String,
    procedure: &'static str,
    date: Date,
}

/// A Vietnamese full name and whether it is a woman's.
pub(crate) fn person_name(rng: &mut impl Rng) -> (String, bool) {
    let female = rng.random_bool(0.5);
    let surname = SURNAMES.choose(rng).copied().unwrap_or("Nguyễn");
    let (middle, given) = if female {
        (MIDDLE_F.choose(rng).copied().unwrap_or("Thị"), GIVEN_F.choose(rng).copied().unwrap_or("Lan"))
    } else {
        (MIDDLE_M.choose(rng).copied().unwrap_or("Văn"), GIVEN_M.choose(rng).copied().unwrap_or("An"))
    };
    (format!("{surname} {middle} {given}"), female)
}

/// A 12-digit personal ID number: province code, century-and-sex digit, two birth-year
/// digits, six random digits.
fn personal_id(rng: &mut impl Rng, prefix: &str, female: bool, birth_year: u16) -> String {
    let century_sex = match (birth_year >= 2000, female) {
        (false, false) => 0,
        (false, true) => 1,
        (true, false) => 2,
        (true, true) => 3,
    };
    format!("{prefix}{century_sex}{:02}{:06}", birth_year % 100, rng.random_range(0..1_000_000u32))
}

fn address(rng: &mut impl Rng, province: &Province) -> String {
    format!("Số {} đường {}, {}", rng.random_range(1..=250), STREETS.choose(rng).copied().unwrap_or("Lê Lợi"), province.name)
}

/// Number of sentence templates in [`sentence`].
const SENTENCES: u8 = 24;

/// Sentence template `which` (0..SENTENCES) of administrative prose about the context.
fn sentence(rng: &mut impl Rng, c: &Ctx, which: u8) -> String {
    let n_days = rng.random_range(3..=15);
    let n_docs = rng.random_range(2..=9);
    let pct = rng.random_range(60..=98);
    let count = rng.random_range(12..=480);
    let other = PROCEDURES.choose(rng).copied().unwrap_or(c.procedure);
    let p = c.procedure;
    let who = &c.person;
    let org = c.body_prose;
    let prov = c.province.name;
    let d = c.date.short_form();
    match which {
        0 => format!(
            "{org} đã tiếp nhận hồ sơ đề nghị {p} của ông (bà) {who} qua dịch vụ bưu chính công ích vào ngày {d}."
        ),
        1 => format!(
            "Hồ sơ gồm {n_docs} thành phần, đã được kiểm tra đầy đủ, hợp lệ theo quy định và được số hóa ngay khi tiếp nhận."
        ),
        2 => "Nhân viên bưu điện có trách nhiệm kiểm tra tính đầy đủ của hồ sơ, hướng dẫn công dân bổ sung giấy tờ còn thiếu trong một lần duy nhất.".to_string(),
        3 => format!(
            "Thời hạn giải quyết là {n_days} ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ; kết quả được trả qua dịch vụ bưu chính công ích theo địa chỉ công dân đã đăng ký."
        ),
        4 => "Các thành phần hồ sơ giấy sau khi số hóa được ký số bởi người thực hiện và lưu trữ trong kho dữ liệu điện tử của tổ chức, cá nhân trên Cổng dịch vụ công.".to_string(),
        5 => format!(
            "Trong kỳ báo cáo, toàn {prov} tiếp nhận {count} hồ sơ thủ tục {other} qua dịch vụ bưu chính công ích, tỷ lệ hồ sơ được số hóa đạt {pct}%."
        ),
        6 => "Đề nghị các cơ quan, đơn vị khẩn trương rà soát quy trình nội bộ, bảo đảm việc tiếp nhận và trả kết quả được thực hiện đúng thời hạn.".to_string(),
        7 => format!(
            "Trường hợp hồ sơ chưa đầy đủ, cán bộ tiếp nhận phải thông báo bằng văn bản cho công dân trong thời hạn không quá {n_days} ngày làm việc."
        ),
        8 => format!(
            "Ông (bà) {who}, số định danh cá nhân {}, có nhu cầu thực hiện thủ tục {p} tại {org}.",
            c.person_id
        ),
        9 => "Kết quả giải quyết thủ tục hành chính được gửi kèm bản điện tử có giá trị pháp lý như bản giấy theo quy định của pháp luật.".to_string(),
        10 => "Việc số hóa hồ sơ được thực hiện bằng máy quét với độ phân giải không thấp hơn 200 dpi, bảo đảm hình ảnh rõ nét, đầy đủ nội dung.".to_string(),
        11 => format!(
            "Bưu điện tỉnh phối hợp với {org} bố trí nhân sự tại bộ phận một cửa, hỗ trợ người dân nộp hồ sơ trực tuyến và thanh toán phí, lệ phí."
        ),
        12 => format!(
            "Mọi vướng mắc phát sinh trong quá trình thực hiện, đề nghị phản ánh về {org} để được hướng dẫn, giải quyết kịp thời."
        ),
        13 => "Dữ liệu đã được số hóa được tái sử dụng cho các lần giải quyết thủ tục sau, công dân không phải nộp lại giấy tờ đã có trong cơ sở dữ liệu.".to_string(),
        14 => format!(
            "Tổng số hồ sơ tồn đọng đến ngày {d} là {count} hồ sơ, trong đó có {n_docs} hồ sơ quá hạn do chưa bổ sung đủ thành phần."
        ),
        15 => "Cán bộ tiếp nhận ghi mã hồ sơ vào phiếu bìa và dán phiếu phân tách trước mỗi thành phần hồ sơ để phục vụ việc quét theo lô.".to_string(),
        16 => format!(
            "Ông (bà) {who} cam kết những thông tin kê khai trên là đúng sự thật và chịu trách nhiệm trước pháp luật về nội dung đã kê khai."
        ),
        17 => format!(
            "Hồ sơ đề nghị {p} được chuyển đến cơ quan có thẩm quyền giải quyết trong ngày làm việc tiếp theo."
        ),
        18 => "Chi phí chuyển phát hồ sơ và kết quả do tổ chức, cá nhân chi trả theo giá cước dịch vụ bưu chính công ích hiện hành.".to_string(),
        19 => format!(
            "Đến nay, {pct}% thủ tục hành chính thuộc thẩm quyền giải quyết của {org} đã được cung cấp trực tuyến toàn trình."
        ),
        20 => "Bản sao điện tử được chứng thực từ bản chính có giá trị sử dụng thay cho bản chính trong các giao dịch theo quy định.".to_string(),
        21 => format!(
            "Thủ trưởng các cơ quan, đơn vị chịu trách nhiệm tổ chức triển khai, theo dõi và báo cáo kết quả thực hiện trước ngày {d}."
        ),
        22 => "Người đến nhận kết quả thay phải xuất trình giấy ủy quyền hợp lệ và căn cước của người được ủy quyền.".to_string(),
        _ => "Quá trình lưu trữ hồ sơ điện tử phải bảo đảm tính toàn vẹn, an toàn và khả năng truy cập lâu dài theo quy định về lưu trữ.".to_string(),
    }
}

/// Writes one document of `kind` and returns its content plus an endless source of further
/// body paragraphs (so the layout can fill as many pages as it was asked to).
pub fn compose(rng: &mut impl Rng, kind: &DocKind) -> (DocContent, BodySource) {
    let province = PROVINCES.choose(rng).unwrap_or(&PROVINCES[0]);
    let body = BODIES.choose(rng).copied().unwrap_or(BODIES[0]);
    let (person, female) = person_name(rng);
    let birth_year = rng.random_range(1950..=2007);
    let person_id = personal_id(rng, province.id_prefix, female, birth_year);
    let procedure = PROCEDURES.choose(rng).copied().unwrap_or(PROCEDURES[0]);
    let date = Date::random(rng);
    let ctx = Ctx { province, body_prose: body.2, person: person.clone(), person_id: person_id.clone(), procedure, date };
    let number_n: u32 = rng.random_range(1..=999);
    let number_n = if number_n < 10 { format!("{number_n:02}") } else { number_n.to_string() };
    let place_date = format!("{}, {}", province.place, date.long_form());
    let signer = person_name(rng).0;

    let signature = {
        let (authority, position) = *[
            (Some("KT. GIÁM ĐỐC"), "PHÓ GIÁM ĐỐC"),
            (None, "GIÁM ĐỐC"),
            (Some("TL. GIÁM ĐỐC"), "TRƯỞNG PHÒNG"),
            (Some("TM. ỦY BAN NHÂN DÂN"), "CHỦ TỊCH"),
            (Some("KT. CHỦ TỊCH"), "PHÓ CHỦ TỊCH"),
        ]
        .choose(rng)
        .unwrap_or(&(None, "GIÁM ĐỐC"));
        Signature { authority: authority.map(str::to_string), position: position.to_string(), note: None, name: signer.clone() }
    };
    let recipients = vec![
        "- Như trên;".to_string(),
        format!("- {};", ["UBND tỉnh", "Bưu điện tỉnh", "Sở Nội vụ", "Văn phòng UBND tỉnh"].choose(rng).copied().unwrap_or("UBND tỉnh")),
        "- Lưu: VT.".to_string(),
    ];

    let mut content = DocContent {
        parent_body: Some(province.parent.to_string()),
        issuing_body: Some(body.0.to_string()),
        number: None,
        letter_summary: None,
        place_date,
        title: Some(kind.title.to_string()),
        summary: None,
        addressee: None,
        opening: Vec::new(),
        signature,
        recipients,
    };

    match kind.genre {
        Genre::Decision => {
            content.number = Some(format!("Số: {number_n}/QĐ-{}", body.1));
            content.summary = Some(format!(
                "Về việc {}",
                [
                    format!("giải quyết hồ sơ đề nghị {procedure} của ông (bà) {person}"),
                    "ban hành Quy chế tiếp nhận hồ sơ qua dịch vụ bưu chính công ích".to_string(),
                    "phê duyệt danh mục thủ tục hành chính thực hiện số hóa hồ sơ".to_string(),
                ]
                .choose(rng)
                .cloned()
                .unwrap_or_default()
            ));
            let k = rng.random_range(2..=4);
            let mut laws: Vec<&str> = LAWS.choose_multiple(rng, k).copied().collect();
            laws.sort_unstable();
            for l in laws {
                content.opening.push(Para { text: l.to_string(), style: ParaStyle::Recital });
            }
            content
                .opening
                .push(Para { text: format!("Theo đề nghị của Trưởng phòng Hành chính - Tổng hợp, {}.", body.2), style: ParaStyle::Recital });
            content.opening.push(Para { text: "QUYẾT ĐỊNH:".to_string(), style: ParaStyle::CenteredBold });
            return (content, BodySource::new(ctx, Some(1)));
        }
        Genre::Letter => {
            content.number = Some(format!("Số: {number_n}/{}", body.1));
            content.title = None;
            content.letter_summary = Some(format!(
                "V/v {}",
                [
                    format!("tiếp nhận hồ sơ {procedure} qua dịch vụ bưu chính công ích"),
                    "đẩy mạnh số hóa hồ sơ, kết quả giải quyết thủ tục hành chính".to_string(),
                    "trả kết quả giải quyết thủ tục hành chính qua bưu điện".to_string(),
                ]
                .choose(rng)
                .cloned()
                .unwrap_or_default()
            ));
            content.addressee = Some(format!(
                "Kính gửi: {}",
                ["Bưu điện tỉnh", "Các sở, ban, ngành thuộc tỉnh", "UBND các xã, phường", "Trung tâm Phục vụ hành chính công"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("Bưu điện tỉnh")
            ));
        }
        Genre::Notice => {
            let abbrev = kind.abbrev.unwrap_or("TB");
            content.number = Some(format!("Số: {number_n}/{abbrev}-{}", body.1));
            content.summary = Some(match kind.code {
                "BB" => "Giao nhận hồ sơ qua dịch vụ bưu chính công ích".to_string(),
                "BC" => format!("Kết quả tiếp nhận và số hóa hồ sơ thủ tục hành chính năm {}", date.year),
                "GXN" => format!("Xác nhận đã tiếp nhận hồ sơ của ông (bà) {person}"),
                _ => format!("Về việc {} hồ sơ {procedure}", ["tiếp nhận", "bổ sung", "trả kết quả"].choose(rng).copied().unwrap_or("tiếp nhận")),
            });
            if kind.code == "GXN" || kind.code == "BB" {
                content.opening.push(Para { text: format!("Họ và tên: {person}"), style: ParaStyle::Field });
                content.opening.push(Para { text: format!("Số định danh cá nhân: {person_id}"), style: ParaStyle::Field });
                content.opening.push(Para { text: format!("Địa chỉ: {}", address(rng, province)), style: ParaStyle::Field });
            }
        }
        Genre::Form => {
            content.recipients.clear();
            content.number = None;
            let citizen_sig =
                Signature {
                    authority: None, position: "NGƯỜI LÀM ĐƠN".to_string(), note: Some("(Ký và ghi rõ họ tên)".to_string()), name: person.clone()
                };
            match kind.code {
                "GKS" => {
                    content.parent_body = None;
                    content.issuing_body = COMMUNES.choose(rng).map(|s| s.to_string());
                    content.number = Some(format!("Số: {number_n}/{}", date.year));
                    content.signature.authority = None;
                    content.signature.position = "NGƯỜI KÝ GIẤY KHAI SINH".to_string();
                    let (child, _) = person_name(rng);
                    let birth = Date::random(rng);
                    content.opening.extend(fields(&[
                        format!("Họ, chữ đệm, tên: {}", child.to_uppercase()),
                        format!("Ngày, tháng, năm sinh: {}", birth.short_form()),
                        format!("Giới tính: {}", if rng.random_bool(0.5) { "Nam" } else { "Nữ" }),
                        "Dân tộc: Kinh".to_string(),
                        "Quốc tịch: Việt Nam".to_string(),
                        format!("Nơi sinh: Bệnh viện đa khoa {}", province.name),
                        format!("Họ, chữ đệm, tên người mẹ: {}", person_name(rng).0),
                        format!("Họ, chữ đệm, tên người cha: {}", person_name(rng).0),
                        format!("Nơi cư trú: {}", address(rng, province)),
                    ]));
                }
                "CCCD" => {
                    content.parent_body = None;
                    content.issuing_body = None;
                    content.signature = Signature {
                        authority: Some("NGƯỜI THỰC HIỆN CHỨNG THỰC".to_string()),
                        position: "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH".to_string(),
                        note: None,
                        name: signer.clone(),
                    };
                    content.opening.extend(fields(&[
                        format!("Số định danh cá nhân: {person_id}"),
                        format!("Họ và tên: {}", person.to_uppercase()),
                        format!("Ngày sinh: {:02}/{:02}/{birth_year}", rng.random_range(1..=28), rng.random_range(1..=12)),
                        format!("Giới tính: {}", if female { "Nữ" } else { "Nam" }),
                        "Quốc tịch: Việt Nam".to_string(),
                        format!("Quê quán: {}", province.name),
                        format!("Nơi thường trú: {}", address(rng, province)),
                        format!("Có giá trị đến: {:02}/{:02}/{}", rng.random_range(1..=28), rng.random_range(1..=12), birth_year + 60),
                    ]));
                    content.opening.push(Para {
                        text: format!(
                            "Chứng thực bản sao đúng với bản chính. Số chứng thực: {} quyển số {:02}/{}-SCT/BS.",
                            rng.random_range(1..=900),
                            rng.random_range(1..=5),
                            date.year
                        ),
                        style: ParaStyle::Body,
                    });
                }
                _ => {
                    content.parent_body = None;
                    content.issuing_body = None;
                    content.signature = citizen_sig;
                    if kind.code == "GUQ" {
                        content.signature.position = "NGƯỜI ỦY QUYỀN".to_string();
                    }
                    content.summary = match kind.code {
                        "DON" => Some(format!("V/v {procedure}")),
                        "TK" => Some(format!("Đề nghị {procedure}")),
                        _ => None,
                    };
                    content.addressee = Some(format!("Kính gửi: {}", body.2));
                    content.opening.extend(fields(&[
                        format!("Họ và tên: {person}"),
                        format!("Số định danh cá nhân: {person_id}"),
                        format!("Nơi cư trú: {}", address(rng, province)),
                        format!("Số điện thoại: 09{:08}", rng.random_range(0..100_000_000u32)),
                    ]));
                    if kind.code == "GUQ" {
                        let (agent, _) = person_name(rng);
                        content.opening.push(Para {
                            text: format!(
                                "Ủy quyền cho ông (bà) {agent} thay mặt tôi nộp hồ sơ, nhận kết quả thủ tục {procedure} qua dịch vụ bưu chính công ích."
                            ),
                            style: ParaStyle::Body,
                        });
                    }
                }
            }
        }
    }
    (content, BodySource::new(ctx, None))
}

fn fields(lines: &[String]) -> Vec<Para> {
    lines.iter().map(|t| Para { text: t.clone(), style: ParaStyle::Field }).collect()
}

/// An endless source of body paragraphs for one document. Sentence templates are dealt
/// from a shuffled deck, so a document repeats a template only after using them all.
pub struct BodySource {
    ctx: Ctx,
    /// Decisions number their paragraphs "Điều 1.", "Điều 2." ...
    next_article: Option<u32>,
    deck: Vec<u8>,
}

impl BodySource {
    fn new(ctx: Ctx, next_article: Option<u32>) -> Self {
        BodySource { ctx, next_article, deck: Vec::new() }
    }

    /// A prose paragraph of 2-4 sentences.
    fn prose(&mut self, rng: &mut impl Rng) -> String {
        let n = rng.random_range(2..=4);
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let which = self.deal(rng);
            out.push(sentence(rng, &self.ctx, which));
        }
        out.join(" ")
    }

    /// The next sentence template from the deck, reshuffled when empty.
    fn deal(&mut self, rng: &mut impl Rng) -> u8 {
        if self.deck.is_empty() {
            self.deck = (0..SENTENCES).collect();
            self.deck.shuffle(rng);
        }
        self.deck.pop().unwrap_or(0)
    }

    /// The personal ID number (CCCD) of the document's citizen, which the fields and the
    /// prose may print.
    pub fn person_id(&self) -> &str {
        &self.ctx.person_id
    }

    /// The next body paragraph.
    pub fn next_para(&mut self, rng: &mut impl Rng) -> Para {
        let text = self.prose(rng);
        let text = match self.next_article.as_mut() {
            Some(n) => {
                let t = format!("Điều {n}. {text}");
                *n += 1;
                t
            }
            None => text,
        };
        Para { text, style: ParaStyle::Body }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DOC_KINDS, doc_kind};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn date_padding_follows_decree_30() {
        assert_eq!(Date { year: 2026, month: 1, day: 5 }.long_form(), "ngày 05 tháng 01 năm 2026");
        assert_eq!(Date { year: 2025, month: 3, day: 12 }.long_form(), "ngày 12 tháng 3 năm 2025");
        assert_eq!(Date { year: 2025, month: 12, day: 9 }.long_form(), "ngày 09 tháng 12 năm 2025");
    }

    #[test]
    fn dossier_codes_match_circular_01_2018() {
        let re = regex::Regex::new(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$").unwrap();
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..500 {
            let d = Date::random(&mut rng);
            let code = dossier_code(&mut rng, d);
            assert!(re.is_match(&code), "{code}");
            assert!(code.contains(&format!("-{}-", d.yymmdd())));
        }
    }

    #[test]
    fn personal_ids_have_12_digits_and_province_prefix() {
        let mut rng = StdRng::seed_from_u64(3);
        let id = personal_id(&mut rng, "052", true, 1990);
        assert_eq!(id.len(), 12);
        assert!(id.starts_with("052190"), "{id}");
        assert!(personal_id(&mut rng, "001", false, 2003).starts_with("001203"));
    }

    #[test]
    fn doc_kind_codes_are_unique_ascii() {
        for (i, k) in DOC_KINDS.iter().enumerate() {
            assert!(k.code.chars().all(|c| c.is_ascii_uppercase()), "{}", k.code);
            assert!(DOC_KINDS[i + 1..].iter().all(|o| o.code != k.code));
            assert_eq!(doc_kind(k.code), Some(k));
        }
    }

    #[test]
    fn composed_text_is_nfc_and_single_spaced() {
        let mut rng = StdRng::seed_from_u64(11);
        for kind in DOC_KINDS {
            let (c, mut src) = compose(&mut rng, kind);
            let mut all: Vec<String> = c.opening.iter().map(|p| p.text.clone()).collect();
            all.extend(c.number.clone());
            all.extend(c.summary.clone());
            all.push(c.place_date.clone());
            for _ in 0..5 {
                all.push(src.next_para(&mut rng).text);
            }
            for s in all {
                assert!(!s.chars().any(|ch| ('\u{300}'..='\u{36f}').contains(&ch)), "combining mark in {s}");
                assert!(!s.contains("  ") && s.trim() == s, "spacing in {s:?}");
            }
        }
    }

    #[test]
    fn sentence_templates_are_dealt_without_repeats() {
        let mut rng = StdRng::seed_from_u64(8);
        let (_, mut src) = compose(&mut rng, doc_kind("TB").unwrap());
        for _round in 0..2 {
            let mut dealt: Vec<u8> = (0..SENTENCES).map(|_| src.deal(&mut rng)).collect();
            dealt.sort_unstable();
            assert_eq!(dealt, (0..SENTENCES).collect::<Vec<_>>());
        }
        for w in 0..SENTENCES {
            let s = sentence(&mut rng, &src.ctx, w);
            assert!(s.ends_with('.') && s.chars().count() > 40, "{w}: {s}");
        }
    }

    #[test]
    fn decisions_number_their_articles() {
        let mut rng = StdRng::seed_from_u64(5);
        let (_, mut src) = compose(&mut rng, doc_kind("QD").unwrap());
        assert!(src.next_para(&mut rng).text.starts_with("Điều 1. "));
        assert!(src.next_para(&mut rng).text.starts_with("Điều 2. "));
    }
}

//! The signature block of a document's last page (Decree 30/2020, Art. 8 and App. I):
//! signing capacity (`TM.`, `KT.`, `TL.`, `Q.`, `TUQ.` and the body or head it signs
//! for), position in capitals, then the signer's name under the signature.
//!
//! The name is the last line of the page that looks like a Vietnamese full name (two to
//! five words, each a capital then small letters) with a line in capitals just above it
//! (a "(Ký và ghi rõ họ tên)" note or a stamp's specks may come between): the position.

use std::sync::LazyLock;

use regex::Regex;

use super::header::trim_specks;
use super::syllable::split_run_together;
use super::{Line, PageLines, is_caps};
use crate::model::DocumentFields;

static CAPACITY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(tm|kt|tl|tuq|q)\s*[.,]\s*\S").unwrap_or_else(|e| panic!("{e}")));

/// Lines looked at above a name for its position.
const POSITION_REACH: usize = 4;

/// A full name: 2 to 5 words, each an upper-case letter followed by lower-case letters.
fn is_name(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (2..=5).contains(&words.len())
        && text.chars().count() <= 50
        && words.iter().all(|w| {
            let mut cs = w.chars();
            cs.next().is_some_and(|c| c.is_uppercase()) && cs.all(|c| c.is_alphabetic() && c.is_lowercase())
        })
}

/// "(Ký và ghi rõ họ tên)", "(Đã ký)", "(ký, đóng dấu)": notes under a position.
fn is_note(l: &Line) -> bool {
    let t = l.text.trim();
    (t.starts_with('(') || t.ends_with(')')) && (l.folded.contains("ky") || l.folded.contains("dau"))
}

/// Reads signer, position and capacity from the last page into `f`.
pub(super) fn read(page: &PageLines, f: &mut DocumentFields) {
    let lines = &page.lines;
    for j in (0..lines.len()).rev() {
        let name = split_run_together(&trim_specks(&lines[j].text));
        if !is_name(&name) {
            continue;
        }
        let mut position = None;
        for k in (j.saturating_sub(POSITION_REACH)..j).rev() {
            let l = &lines[k];
            // A stamp's or a signature's speck read as one character between the lines.
            if is_note(l) || l.is_rule() || l.text.chars().filter(|c| c.is_alphanumeric()).count() <= 1 {
                continue;
            }
            if is_caps(&l.text) && !l.text.starts_with('-') {
                position = Some(k);
            }
            break;
        }
        let Some(p) = position else { continue };
        f.nguoi_ky = Some(name);
        if CAPACITY.is_match(&lines[p].folded) {
            // The capacity line is the last caps line: "KT. GIÁM ĐỐC" with no position.
            f.tham_quyen = Some(split_run_together(&trim_specks(&lines[p].text)));
        } else {
            f.chuc_vu = Some(split_run_together(&trim_specks(&lines[p].text)));
            // The capacity line above the position (a speck may come between).
            let above = lines[..p].iter().rev().take(3).find(|l| !l.is_rule() && l.text.chars().filter(|c| c.is_alphanumeric()).count() > 1);
            if let Some(above) = above
                && CAPACITY.is_match(&above.folded)
                && is_caps(&above.text)
            {
                f.tham_quyen = Some(split_run_together(&trim_specks(&above.text)));
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(lines: &[&str]) -> PageLines {
        PageLines { lines: lines.iter().map(|t| Line::new(t, None)).collect(), width: 0 }
    }

    #[test]
    fn reads_capacity_position_and_name() {
        let mut f = DocumentFields::default();
        read(&page(&["Nơi nhận:", "- Như trên;", "- Lưu: VT.", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn An"]), &mut f);
        assert_eq!(f.nguoi_ky.as_deref(), Some("Nguyễn Văn An"));
        assert_eq!(f.chuc_vu.as_deref(), Some("PHÓ GIÁM ĐỐC"));
        assert_eq!(f.tham_quyen.as_deref(), Some("KT. GIÁM ĐỐC"));
    }

    #[test]
    fn specks_between_the_lines_are_skipped() {
        let mut f = DocumentFields::default();
        read(&page(&["TL. BỘ TRƯỞNG", "'", "VỤ TRƯỞNG VỤ PHÁP CHẾ.", "Trần Thanh Phương"]), &mut f);
        assert_eq!(f.tham_quyen.as_deref(), Some("TL. BỘ TRƯỞNG"));
        assert_eq!(f.chuc_vu.as_deref(), Some("VỤ TRƯỞNG VỤ PHÁP CHẾ"));
    }

    #[test]
    fn a_speck_read_as_a_letter_under_the_position() {
        let mut f = DocumentFields::default();
        read(&page(&["Nơi nhận:", "- Lưu: VT.", "TL. GIÁM ĐỐC", ":", "TRƯỞNG PHÒNG HÀNH CHÍNH", "l", "Huỳnh Minh Nhung"]), &mut f);
        assert_eq!(f.nguoi_ky.as_deref(), Some("Huỳnh Minh Nhung"));
        assert_eq!(f.chuc_vu.as_deref(), Some("TRƯỞNG PHÒNG HÀNH CHÍNH"));
        assert_eq!(f.tham_quyen.as_deref(), Some("TL. GIÁM ĐỐC"));
    }

    #[test]
    fn citizen_papers_and_plain_positions() {
        let mut f = DocumentFields::default();
        read(&page(&["NGƯỜI LÀM ĐƠN", "(Ký và ghi rõ họ tên)", "Trần Thị Mỹ Hạnh", "- Lưu: VT."]), &mut f);
        assert_eq!(f.nguoi_ky.as_deref(), Some("Trần Thị Mỹ Hạnh"));
        assert_eq!(f.chuc_vu.as_deref(), Some("NGƯỜI LÀM ĐƠN"));
        assert_eq!(f.tham_quyen, None);
    }

    #[test]
    fn no_position_no_signer() {
        let mut f = DocumentFields::default();
        read(&page(&["Kính gửi: Sở Nội vụ", "Nguyễn Văn An", "Quy Nhơn"]), &mut f);
        assert_eq!(f, DocumentFields::default());
        assert!(!is_name("Nguyễn Văn An, CCCD"));
        assert!(!is_name("NGUYỄN VĂN AN"));
    }
}

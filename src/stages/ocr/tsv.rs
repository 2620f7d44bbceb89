//! Words to page text ([`page_from_words`]), and parsing Tesseract's TSV output
//! (`parse_tsv`, tests only: level, page, block, par, line, word, left, top, width, height, conf,
//! text), which the engine no longer asks for: it is the reference the engine's word walk
//! is tested against.

use crate::model::{OcrPage, OcrWord};

/// Turns TSV text into an [`OcrPage`]. Lines that are not words (levels 1-4) or that do
/// not parse are skipped; empty words are dropped.
#[cfg(test)]
pub fn parse_tsv(tsv: &str) -> OcrPage {
    let mut words = Vec::new();
    for row in tsv.lines() {
        let cols: Vec<&str> = row.splitn(12, '\t').collect();
        if cols.len() < 12 || cols[0] != "5" {
            continue;
        }
        let num = |i: usize| cols[i].trim().parse::<i64>().ok();
        let (Some(b), Some(p), Some(l), Some(left), Some(top), Some(w), Some(h)) = (num(2), num(3), num(4), num(6), num(7), num(8), num(9)) else {
            continue;
        };
        let text = cols[11].trim();
        if text.is_empty() {
            continue;
        }
        let confidence = cols[10].trim().parse::<f32>().unwrap_or(-1.0);
        words.push(OcrWord {
            text: text.to_string(),
            left: left.max(0) as u32,
            top: top.max(0) as u32,
            width: w.max(0) as u32,
            height: h.max(0) as u32,
            confidence,
            line: (b.max(0) as u32, p.max(0) as u32, l.max(0) as u32),
        });
    }
    page_from_words(words)
}

/// Builds the page text (words of a line joined by spaces, lines by '\n') and the mean
/// confidence from words in reading order.
pub fn page_from_words(words: Vec<OcrWord>) -> OcrPage {
    let mut text = String::new();
    let mut last_line = None;
    for w in &words {
        if let Some(prev) = last_line {
            text.push(if prev == w.line { ' ' } else { '\n' });
        }
        text.push_str(&w.text);
        last_line = Some(w.line);
    }
    let confs: Vec<f32> = words.iter().map(|w| w.confidence).filter(|c| *c >= 0.0).collect();
    let confidence = (!confs.is_empty()).then(|| confs.iter().sum::<f32>() / confs.len() as f32);
    OcrPage { words, confidence, text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_lines_and_confidence() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
            1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t\n\
            4\t1\t1\t1\t1\t0\t100\t200\t900\t40\t-1\t\n\
            5\t1\t1\t1\t1\t1\t100\t200\t300\t40\t96.5\tCỘNG\n\
            5\t1\t1\t1\t1\t2\t420\t200\t200\t40\t93.5\tHÒA\n\
            5\t1\t1\t1\t2\t1\t100\t260\t150\t40\t90\tSố:\n\
            5\t1\t1\t1\t2\t2\t260\t260\t200\t40\t-1\t \n\
            5\t1\t2\t1\t1\t1\t100\t400\t250\t40\t80\t12/UBND-VP\n";
        let page = parse_tsv(tsv);
        assert_eq!(page.words.len(), 4);
        assert_eq!(page.text, "CỘNG HÒA\nSố:\n12/UBND-VP");
        assert_eq!(page.words[1].left, 420);
        assert_eq!(page.words[3].line, (2, 1, 1));
        assert!((page.confidence.unwrap() - 90.0).abs() < 1e-4);
        assert_eq!(parse_tsv("").confidence, None);
    }
}

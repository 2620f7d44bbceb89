//! The split plan: cuts the page stream of a batch into dossiers and documents.
//!
//! Owns the separator convention (what a barcode asks for) and the rules that turn a
//! sequence of [`PageSignal`]s into dossiers and documents. Everything here is pure: the
//! pipeline feeds pages one at a time into a [`Splitter`] (so documents can be finished
//! and stored while later pages are still being scanned), and [`plan_split`] is the same
//! fold over a whole batch, used by tests and reports.
//!
//! Rules (see the README's "Separator convention"):
//! - `HS:<dossier code>` starts a new dossier; `TP:<type>` starts a new document of that
//!   type; `PATCHT` starts a new untyped document. A cover may also name the dossier's
//!   procedure and citizen: `HS:<dossier code>|<procedure code>|<citizen ID>` (see
//!   [`crate::stages::dossier::procedures::parse_cover`]).
//! - Pages before any cover sheet go to a dossier with code `None`; pages before any
//!   document separator within a dossier form an untyped document.
//! - Blank pages belong to no document. Consecutive separators never create an empty
//!   document: a document exists only once it has a content page.
//! - Separator sheets are dropped unless `keep_separators`, in which case the sheets seen
//!   since the last content page become the first pages of the next document.
//! - Duplex (`SplitOptions::duplex`): the page right after a separator sheet is that
//!   sheet's back and joins no document (unless it is itself a separator), even if it is
//!   not blank enough for the blank detector (show-through of the barcode).
//! - A sheet's own keep/drop choice ([`PageSignal::keep`], from its rule) overrides
//!   `keep_separators`.
//! - Which barcode texts are separators is configurable: see [`rules`].
//! - Dossier codes are checked against Circular 01/2018/TT-VPCP Art. 19; an invalid code
//!   is kept as read, with a warning.
//! - Defence in depth against a missed cover sheet (which would silently append a
//!   citizen's documents to the previous dossier): a dossier *needs review*
//!   ([`SplitEvent::NeedsReview`], [`PlannedDossier::needs_review`]) when content pages
//!   come before any cover sheet (the `null` dossier), or when one of its content pages
//!   looks like a separator sheet whose barcode could not be read
//!   ([`PageSignal::unread_sheet`]); each case is also a warning naming the page.

pub mod rules;

use crate::model::{PageKind, PageSignal, SeparatorAction};
use std::sync::LazyLock;

static DEFAULT_RULES: LazyLock<rules::SeparatorRules> = LazyLock::new(rules::SeparatorRules::default);

/// True if `code` has the shape of a dossier code (Circular 01/2018/TT-VPCP Art. 19).
pub fn is_valid_dossier_code(code: &str) -> bool {
    crate::model::DossierCode::is_valid(code)
}

/// What a decoded barcode text asks for under the default convention, or `None` if it is
/// not a separator (a QR printed on a form must not split anything).
pub fn classify_barcode(text: &str) -> Option<SeparatorAction> {
    DEFAULT_RULES.classify(text).map(|c| c.action)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SplitOptions {
    pub keep_separators: bool,
    /// Duplex scan: the page after a separator sheet is its back, never content.
    pub duplex: bool,
}

/// A document as planned: its type and the input page indexes in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDocument {
    /// Index of the dossier (in [`SplitPlan::dossiers`]) this document belongs to.
    pub dossier: usize,
    pub doc_type: Option<String>,
    pub pages: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDossier {
    pub code: Option<String>,
    pub code_valid: bool,
    /// The procedure code on the cover (`HS:<code>|<procedure>`), if any.
    pub procedure: Option<String>,
    /// The citizen ID on the cover (`HS:<code>|<procedure>|<citizen ID>`), if any.
    pub citizen_id: Option<String>,
    pub documents: Vec<PlannedDocument>,
    /// See [`SplitEvent::NeedsReview`].
    pub needs_review: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitPlan {
    pub dossiers: Vec<PlannedDossier>,
    pub warnings: Vec<String>,
}

/// Something the splitter reports as pages arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitEvent {
    /// A dossier was opened (cover sheet read, or first page before any cover sheet).
    DossierOpened {
        dossier: usize,
        code: Option<String>,
        code_valid: bool,
        /// The procedure and citizen ID the cover names, if any.
        procedure: Option<String>,
        citizen_id: Option<String>,
    },
    /// A document is complete: no later page can join it.
    DocumentClosed(PlannedDocument),
    /// The dossier's split may be wrong and a clerk should check it (reported once per
    /// dossier, after the warning that says why).
    NeedsReview {
        dossier: usize,
    },
    Warning(String),
}

/// Incremental form of the split plan. Feed pages in input order with [`Splitter::push`],
/// then call [`Splitter::finish`].
#[derive(Debug, Default)]
pub struct Splitter {
    opts: SplitOptions,
    dossiers: usize,
    /// The open dossier, if any.
    dossier: Option<usize>,
    /// The open document (has at least one page).
    document: Option<PlannedDocument>,
    /// Type announced by the last document separator, waiting for its first content page.
    pending_type: Option<(Option<String>, usize)>,
    /// Separator sheets kept for the next document (`keep_separators`).
    pending_sheets: Vec<usize>,
    /// Index of the last separator sheet (duplex: its back follows).
    last_separator: Option<usize>,
    /// Dossiers already reported as needing review.
    flagged: Vec<usize>,
}

impl Splitter {
    pub fn new(opts: SplitOptions) -> Self {
        Splitter { opts, ..Default::default() }
    }

    pub fn push(&mut self, page: &PageSignal) -> Vec<SplitEvent> {
        let mut events = Vec::new();
        let is_back = self.opts.duplex && self.last_separator.is_some_and(|s| page.index == s + 1);
        match (page.kind, &page.action) {
            (PageKind::Blank, _) => {}
            // Duplex: the back of a separator sheet.
            (PageKind::Content, _) | (PageKind::Separator, None) if is_back => {}
            (PageKind::Separator, Some(action)) => {
                self.close_document(&mut events);
                self.warn_unused_type(&mut events);
                match action {
                    SeparatorAction::NewDossier(value) => {
                        let cover = crate::stages::dossier::procedures::parse_cover(value);
                        let code = &cover.code;
                        let code_valid = is_valid_dossier_code(code);
                        if !code_valid {
                            events.push(SplitEvent::Warning(format!(
                                "page {}: dossier code {code:?} does not match Circular 01/2018 \
                                 Art. 19 (e.g. 000.00.15.H40-250301-0007); kept as read",
                                page.index
                            )));
                        }
                        // Sheets kept from the previous dossier do not move into this one.
                        self.pending_sheets.clear();
                        self.open_dossier(Some(code.clone()), code_valid, cover.procedure.clone(), cover.citizen_id.clone(), &mut events);
                    }
                    SeparatorAction::NewDocument(ty) => {
                        self.pending_type = Some((Some(ty.clone()), page.index));
                    }
                    SeparatorAction::Plain => self.pending_type = Some((None, page.index)),
                }
                if page.keep.unwrap_or(self.opts.keep_separators) {
                    self.pending_sheets.push(page.index);
                }
                self.last_separator = Some(page.index);
            }
            // A separator without an action is treated as content (defensive: the
            // pipeline never produces it).
            (PageKind::Separator, None) | (PageKind::Content, _) => {
                if self.dossier.is_none() {
                    self.open_dossier(None, false, None, None, &mut events);
                    events.push(SplitEvent::Warning(format!(
                        "page {}: content before any dossier cover sheet; these pages form a dossier without a code \
                         (a cover sheet may not have been read): check the batch",
                        page.index
                    )));
                    self.flag(&mut events);
                }
                let dossier = self.dossier.expect("a dossier is open");
                if page.unread_sheet {
                    events.push(SplitEvent::Warning(format!(
                        "page {}: looks like a separator sheet but no barcode could be read; kept as a content page: check the split",
                        page.index
                    )));
                    self.flag(&mut events);
                }
                let document = self.document.get_or_insert_with(|| PlannedDocument {
                    dossier,
                    doc_type: self.pending_type.take().and_then(|(ty, _)| ty),
                    pages: std::mem::take(&mut self.pending_sheets),
                });
                document.pages.push(page.index);
            }
        }
        events
    }

    /// Closes the last document. The splitter is then empty.
    pub fn finish(&mut self) -> Vec<SplitEvent> {
        let mut events = Vec::new();
        self.close_document(&mut events);
        self.warn_unused_type(&mut events);
        self.pending_sheets.clear();
        events
    }

    fn open_dossier(&mut self, code: Option<String>, code_valid: bool, procedure: Option<String>, citizen_id: Option<String>, events: &mut Vec<SplitEvent>) {
        let dossier = self.dossiers;
        self.dossiers += 1;
        self.dossier = Some(dossier);
        events.push(SplitEvent::DossierOpened { dossier, code, code_valid, procedure, citizen_id });
    }

    /// Marks the open dossier as needing review (once).
    fn flag(&mut self, events: &mut Vec<SplitEvent>) {
        if let Some(d) = self.dossier
            && !self.flagged.contains(&d)
        {
            self.flagged.push(d);
            events.push(SplitEvent::NeedsReview { dossier: d });
        }
    }

    fn close_document(&mut self, events: &mut Vec<SplitEvent>) {
        if let Some(doc) = self.document.take() {
            events.push(SplitEvent::DocumentClosed(doc));
        }
    }

    fn warn_unused_type(&mut self, events: &mut Vec<SplitEvent>) {
        if let Some((ty, index)) = self.pending_type.take() {
            let what = ty.map_or_else(|| "plain separator".to_string(), |t| format!("document separator {t:?}"));
            events.push(SplitEvent::Warning(format!("page {index}: {what} is followed by no content page; no document created")));
        }
    }
}

/// The whole split plan of a batch: [`Splitter`] folded over `pages`.
pub fn plan_split(pages: &[PageSignal], opts: SplitOptions) -> SplitPlan {
    let mut splitter = Splitter::new(opts);
    let mut plan = SplitPlan::default();
    let events = pages.iter().flat_map(|p| splitter.push(p)).collect::<Vec<_>>();
    for event in events.into_iter().chain(splitter.finish()) {
        match event {
            SplitEvent::DossierOpened { code, code_valid, procedure, citizen_id, .. } => {
                plan.dossiers.push(PlannedDossier { code, code_valid, procedure, citizen_id, documents: Vec::new(), needs_review: false })
            }
            SplitEvent::NeedsReview { dossier } => plan.dossiers[dossier].needs_review = true,
            SplitEvent::DocumentClosed(doc) => plan.dossiers[doc.dossier].documents.push(doc),
            SplitEvent::Warning(w) => plan.warnings.push(w),
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "000.00.15.H40-250301-0007";

    fn content(i: usize) -> PageSignal {
        PageSignal { index: i, kind: PageKind::Content, action: None, keep: None, unread_sheet: false }
    }
    fn blank(i: usize) -> PageSignal {
        PageSignal { index: i, kind: PageKind::Blank, action: None, keep: None, unread_sheet: false }
    }
    fn sep(i: usize, text: &str) -> PageSignal {
        let action = classify_barcode(text).expect("a separator");
        PageSignal { index: i, kind: PageKind::Separator, action: Some(action), keep: None, unread_sheet: false }
    }
    /// Compact view: per dossier, (code, [(type, pages)]).
    type View<'a> = Vec<(Option<&'a str>, Vec<(Option<&'a str>, Vec<usize>)>)>;
    fn view(plan: &SplitPlan) -> View<'_> {
        plan.dossiers.iter().map(|d| (d.code.as_deref(), d.documents.iter().map(|doc| (doc.doc_type.as_deref(), doc.pages.clone())).collect())).collect()
    }

    #[test]
    fn classifies_the_convention() {
        assert_eq!(classify_barcode("HS:000.00.15.H40-250301-0007"), Some(SeparatorAction::NewDossier(CODE.into())));
        assert_eq!(classify_barcode(" TP:CCCD "), Some(SeparatorAction::NewDocument("CCCD".into())));
        assert_eq!(classify_barcode("PATCHT"), Some(SeparatorAction::Plain));
        assert_eq!(classify_barcode("HS:"), None);
        assert_eq!(classify_barcode("TP:"), None);
        assert_eq!(classify_barcode("https://dichvucong.gov.vn/?ma=123"), None);
        assert_eq!(classify_barcode("patcht"), None);
    }

    #[test]
    fn validates_dossier_codes() {
        assert!(is_valid_dossier_code(CODE));
        assert!(!is_valid_dossier_code("000.00.15.h40-250301-0007"));
        assert!(!is_valid_dossier_code("000.00.15.H40-25030-0007"));
        assert!(!is_valid_dossier_code(" 000.00.15.H40-250301-0007"));
    }

    #[test]
    fn typical_batch() {
        let pages = [
            sep(0, &format!("HS:{CODE}")),
            sep(1, "TP:DON"),
            content(2),
            blank(3),
            content(4),
            sep(5, "TP:CCCD"),
            content(6),
            sep(7, "HS:000.00.15.H40-250301-0008"),
            sep(8, "PATCHT"),
            content(9),
        ];
        let plan = plan_split(&pages, SplitOptions::default());
        assert_eq!(
            view(&plan),
            vec![(Some(CODE), vec![(Some("DON"), vec![2, 4]), (Some("CCCD"), vec![6])]), (Some("000.00.15.H40-250301-0008"), vec![(None, vec![9])]),]
        );
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    }

    #[test]
    fn pages_before_any_separator_form_a_null_dossier_and_untyped_document() {
        let plan = plan_split(&[content(0), content(1), sep(2, "TP:QD"), content(3)], SplitOptions::default());
        assert_eq!(view(&plan), vec![(None, vec![(None, vec![0, 1]), (Some("QD"), vec![3])])]);
    }

    #[test]
    fn pages_after_cover_before_document_separator_are_untyped() {
        let plan = plan_split(&[sep(0, &format!("HS:{CODE}")), content(1), sep(2, "TP:QD"), content(3)], SplitOptions::default());
        assert_eq!(view(&plan), vec![(Some(CODE), vec![(None, vec![1]), (Some("QD"), vec![3])])]);
    }

    #[test]
    fn consecutive_separators_never_make_empty_documents() {
        let plan =
            plan_split(&[sep(0, "TP:A"), sep(1, "TP:B"), content(2), sep(3, "PATCHT"), sep(4, "PATCHT"), content(5), sep(6, "TP:C")], SplitOptions::default());
        assert_eq!(view(&plan), vec![(None, vec![(Some("B"), vec![2]), (None, vec![5])])]);
        // Two separators without content, one with no content after it, and content
        // before any cover sheet.
        assert_eq!(plan.warnings.len(), 4, "{:?}", plan.warnings);
    }

    #[test]
    fn blank_pages_belong_to_no_document() {
        let plan = plan_split(&[blank(0), content(1), blank(2), sep(3, "TP:A"), blank(4), content(5), blank(6)], SplitOptions::default());
        assert_eq!(view(&plan), vec![(None, vec![(None, vec![1]), (Some("A"), vec![5])])]);
        // A batch of only blanks has no dossier at all.
        assert!(plan_split(&[blank(0), blank(1)], SplitOptions::default()).dossiers.is_empty());
    }

    #[test]
    fn a_cover_sheet_with_nothing_after_it_is_an_empty_dossier() {
        let plan = plan_split(&[sep(0, &format!("HS:{CODE}")), sep(1, "HS:000.00.15.H40-250301-0008"), content(2)], SplitOptions::default());
        assert_eq!(view(&plan), vec![(Some(CODE), vec![]), (Some("000.00.15.H40-250301-0008"), vec![(None, vec![2])])]);
    }

    /// Issue #24: a cover may name the procedure and the citizen; the plain form still works.
    #[test]
    fn a_cover_names_its_procedure_and_citizen() {
        let pages = [
            sep(0, &format!("HS:{CODE}|1.001193|079190000123")),
            content(1),
            sep(2, "HS:000.00.15.H40-250301-0008|1.001022"),
            content(3),
            sep(4, "HS:000.00.15.H40-250301-0009"),
            content(5),
        ];
        let plan = plan_split(&pages, SplitOptions::default());
        let got: Vec<_> = plan.dossiers.iter().map(|d| (d.code.as_deref(), d.code_valid, d.procedure.as_deref(), d.citizen_id.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                (Some(CODE), true, Some("1.001193"), Some("079190000123")),
                (Some("000.00.15.H40-250301-0008"), true, Some("1.001022"), None),
                (Some("000.00.15.H40-250301-0009"), true, None, None)
            ]
        );
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    }

    #[test]
    fn invalid_dossier_codes_are_kept_with_a_warning() {
        let plan = plan_split(&[sep(0, "HS:ABC-1"), content(1)], SplitOptions::default());
        assert_eq!(view(&plan), vec![(Some("ABC-1"), vec![(None, vec![1])])]);
        assert!(!plan.dossiers[0].code_valid);
        assert_eq!(plan.warnings.len(), 1);
        assert!(plan.warnings[0].contains("ABC-1"));
    }

    #[test]
    fn a_new_dossier_cancels_a_pending_document_type() {
        let plan = plan_split(&[sep(0, "TP:A"), sep(1, &format!("HS:{CODE}")), content(2)], SplitOptions::default());
        assert_eq!(view(&plan), vec![(Some(CODE), vec![(None, vec![2])])]);
    }

    #[test]
    fn keep_separators_puts_the_sheets_first() {
        let opts = SplitOptions { keep_separators: true, ..Default::default() };
        let plan = plan_split(&[sep(0, &format!("HS:{CODE}")), sep(1, "TP:A"), content(2), blank(3), sep(4, "TP:B"), content(5), sep(6, "TP:C")], opts);
        assert_eq!(view(&plan), vec![(Some(CODE), vec![(Some("A"), vec![0, 1, 2]), (Some("B"), vec![4, 5])])]);
    }

    #[test]
    fn duplex_backs_of_separators_join_no_document() {
        // Page 1 is the cover's back, 3 the separator's back (show-through: not blank).
        let pages = [sep(0, &format!("HS:{CODE}")), content(1), sep(2, "TP:A"), content(3), content(4), content(5)];
        let duplex = SplitOptions { duplex: true, ..Default::default() };
        assert_eq!(view(&plan_split(&pages, duplex)), vec![(Some(CODE), vec![(Some("A"), vec![4, 5])])]);
        // Without duplex the same pages are content.
        assert_eq!(view(&plan_split(&pages, SplitOptions::default())), vec![(Some(CODE), vec![(None, vec![1]), (Some("A"), vec![3, 4, 5])])]);
        // A separator printed on both sides is still a separator; a blank back stays blank.
        let pages = [sep(0, "TP:A"), sep(1, "TP:A"), blank(2), content(3)];
        assert_eq!(view(&plan_split(&pages, duplex)), vec![(None, vec![(Some("A"), vec![3])])]);
    }

    #[test]
    fn a_sheets_own_keep_choice_overrides_the_option() {
        let mut kept = sep(0, "TP:A");
        kept.keep = Some(true);
        let mut dropped = sep(2, "TP:B");
        dropped.keep = Some(false);
        let pages = [kept, content(1), dropped, content(3)];
        assert_eq!(view(&plan_split(&pages, SplitOptions::default())), vec![(None, vec![(Some("A"), vec![0, 1]), (Some("B"), vec![3])])]);
        let keep_all = SplitOptions { keep_separators: true, ..Default::default() };
        assert_eq!(view(&plan_split(&pages, keep_all)), vec![(None, vec![(Some("A"), vec![0, 1]), (Some("B"), vec![3])])]);
    }

    #[test]
    fn streaming_closes_documents_as_soon_as_possible() {
        let mut s = Splitter::new(SplitOptions::default());
        assert!(matches!(
            s.push(&content(0))[..],
            [SplitEvent::DossierOpened { dossier: 0, code: None, .. }, SplitEvent::Warning(_), SplitEvent::NeedsReview { dossier: 0 }]
        ));
        assert!(s.push(&content(1)).is_empty());
        let events = s.push(&sep(2, "TP:A"));
        assert_eq!(events, vec![SplitEvent::DocumentClosed(PlannedDocument { dossier: 0, doc_type: None, pages: vec![0, 1] })]);
        assert!(s.push(&content(3)).is_empty());
        assert_eq!(s.finish(), vec![SplitEvent::DocumentClosed(PlannedDocument { dossier: 0, doc_type: Some("A".into()), pages: vec![3] })]);
    }

    fn unread(i: usize) -> PageSignal {
        PageSignal { unread_sheet: true, ..content(i) }
    }
    fn reviews(plan: &SplitPlan) -> Vec<bool> {
        plan.dossiers.iter().map(|d| d.needs_review).collect()
    }

    /// Issue #19: a missed cover sheet must not append a dossier to the previous one in
    /// silence. A content page that looks like an unread sheet flags its dossier.
    #[test]
    fn an_unread_sheet_marks_its_dossier_for_review() {
        let pages = [sep(0, &format!("HS:{CODE}")), content(1), unread(2), content(3), sep(4, "HS:000.00.15.H40-250301-0008"), content(5)];
        let plan = plan_split(&pages, SplitOptions::default());
        // The page stays content where it was; the first dossier needs review, the next not.
        assert_eq!(view(&plan), vec![(Some(CODE), vec![(None, vec![1, 2, 3])]), (Some("000.00.15.H40-250301-0008"), vec![(None, vec![5])])]);
        assert_eq!(reviews(&plan), vec![true, false]);
        assert_eq!(plan.warnings.len(), 1);
        assert!(plan.warnings[0].starts_with("page 2:") && plan.warnings[0].contains("no barcode could be read"), "{:?}", plan.warnings);
        // Two unread sheets in one dossier: two warnings, one review mark.
        let mut s = Splitter::new(SplitOptions::default());
        let events: Vec<SplitEvent> = [sep(0, &format!("HS:{CODE}")), unread(1), unread(2)].iter().flat_map(|p| s.push(p)).collect();
        assert_eq!(events.iter().filter(|e| matches!(e, SplitEvent::NeedsReview { dossier: 0 })).count(), 1);
        assert_eq!(events.iter().filter(|e| matches!(e, SplitEvent::Warning(_))).count(), 2);
    }

    #[test]
    fn content_before_any_cover_sheet_needs_review() {
        let plan = plan_split(&[content(0), sep(1, &format!("HS:{CODE}")), content(2)], SplitOptions::default());
        assert_eq!(reviews(&plan), vec![true, false]);
        assert_eq!(plan.dossiers[0].code, None);
        assert!(plan.warnings[0].starts_with("page 0:") && plan.warnings[0].contains("before any dossier cover sheet"), "{:?}", plan.warnings);
        // Blank pages and separators before the first cover do not count.
        let plan = plan_split(&[blank(0), sep(1, "TP:A"), sep(2, &format!("HS:{CODE}")), content(3)], SplitOptions::default());
        assert_eq!(reviews(&plan), vec![false]);
        // A blank or separator page flagged as unread does nothing (only content is placed).
        let plan = plan_split(&[sep(0, &format!("HS:{CODE}")), PageSignal { unread_sheet: true, ..blank(1) }, content(2)], SplitOptions::default());
        assert_eq!(reviews(&plan), vec![false]);
    }

    /// Exhaustive check over every sequence of up to 7 pages drawn from 6 page kinds
    /// (6^7 = 279,936 batches): the invariants every plan must keep.
    #[test]
    fn invariants_hold_for_every_short_sequence() {
        let kinds = 6usize;
        for len in 0..=7u32 {
            for mut n in 0..kinds.pow(len) {
                let mut pages = Vec::new();
                for i in 0..len as usize {
                    pages.push(match n % kinds {
                        0 => content(i),
                        1 => blank(i),
                        2 => sep(i, &format!("HS:{CODE}")),
                        3 => sep(i, "TP:A"),
                        4 => sep(i, "PATCHT"),
                        _ => sep(i, "TP:B"),
                    });
                    n /= kinds;
                }
                for keep in [false, true] {
                    check_invariants(&pages, &plan_split(&pages, SplitOptions { keep_separators: keep, ..Default::default() }), keep);
                }
            }
        }
    }

    fn check_invariants(pages: &[PageSignal], plan: &SplitPlan, keep: bool) {
        let placed: Vec<usize> = plan.dossiers.iter().flat_map(|d| &d.documents).flat_map(|doc| doc.pages.clone()).collect();
        // Pages appear at most once, in input order.
        assert!(placed.windows(2).all(|w| w[0] < w[1]), "{pages:?} -> {plan:?}");
        for p in pages {
            let is_placed = placed.contains(&p.index);
            match p.kind {
                // Every content page is in exactly one document.
                PageKind::Content => assert!(is_placed, "{pages:?} -> {plan:?}"),
                PageKind::Blank => assert!(!is_placed, "{pages:?} -> {plan:?}"),
                PageKind::Separator => assert!(keep || !is_placed, "{pages:?} -> {plan:?}"),
            }
        }
        for (d, dossier) in plan.dossiers.iter().enumerate() {
            for doc in &dossier.documents {
                assert_eq!(doc.dossier, d);
                // No document without content.
                assert!(doc.pages.iter().any(|&i| pages[i].kind == PageKind::Content), "{pages:?} -> {plan:?}");
            }
        }
        // One dossier per cover sheet, plus a null one only if content precedes any cover.
        let covers = pages.iter().filter(|p| matches!(p.action, Some(SeparatorAction::NewDossier(_)))).count();
        let first_cover = pages.iter().position(|p| matches!(p.action, Some(SeparatorAction::NewDossier(_))));
        let content_before = pages[..first_cover.unwrap_or(pages.len())].iter().any(|p| p.kind == PageKind::Content);
        assert_eq!(plan.dossiers.len(), covers + content_before as usize, "{pages:?} -> {plan:?}");
        // Only the dossier without a code needs review (no page here is an unread sheet).
        assert!(plan.dossiers.iter().all(|d| d.needs_review == d.code.is_none()), "{pages:?} -> {plan:?}");
    }
}

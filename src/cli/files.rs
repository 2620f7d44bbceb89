//! `sohoa separators` and `sohoa generate`: commands that write local files, and the one
//! way an output file is written.

use crate::runtime::error::{Error, exit};
use crate::stages::barcode::{patch::PatchKind, sheets};
use std::path::Path;

/// Writes `bytes` next to `output`, then renames it into place: a reader never sees half
/// a file.
pub fn write_output(output: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = output.with_extension("pdf.part");
    std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, output)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::Output { path: output.display().to_string(), source: e }
    })
}

/// `sohoa separators`: printable separator sheets, one A4 page each, in one PDF.
pub fn separators(dossiers: &[String], types: &[String], patches: &[String], output: &Path) -> Result<u8, Error> {
    let mut list: Vec<sheets::Sheet> = dossiers.iter().map(|c| sheets::Sheet::Dossier(c.trim().to_string())).collect();
    list.extend(types.iter().map(|t| sheets::Sheet::Type(t.trim().to_string())));
    for p in patches {
        let kind = PatchKind::parse(p).ok_or_else(|| Error::Usage(format!("--patch {p:?}: use 1, 2, 3, 4, 6 or T")))?;
        list.push(sheets::Sheet::Patch(kind));
    }
    for w in sheets::check(&list) {
        eprintln!("warning: {w}");
    }
    let pdf = sheets::sheets_pdf(&list)?;
    write_output(output, &pdf)?;
    eprintln!("Wrote {} ({} sheets).", output.display(), list.len());
    Ok(exit::OK)
}

/// `sohoa generate`: a sample batch with ground truth.
pub fn generate(out: &Path, opts: &crate::tools::synth::GenOptions) -> Result<u8, Error> {
    crate::tools::synth::write_sample_set(out, opts).map_err(|e| Error::Output { path: out.display().to_string(), source: e })?;
    eprintln!("Wrote {} and {}.", out.join("batch.tif").display(), out.join("batch.truth.json").display());
    Ok(exit::OK)
}

//! `sohoa separators` and `sohoa generate`: commands that write local files, and the one
//! way an output file is written.

use crate::runtime::error::{Error, exit};
use crate::stages::barcode::{patch::PatchKind, sheets};
use std::path::Path;

/// Writes `bytes` to `output`: `-` is standard output; otherwise a regular file, written
/// beside the target and renamed into place (a reader never sees half a file). A symbolic
/// link, a directory, a device, a FIFO or a socket at `output` is refused, never replaced.
pub fn write_output(output: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let shown = output.display().to_string();
    if output == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out.write_all(bytes).and_then(|_| out.flush()).map_err(|e| Error::Output { path: "standard output".into(), source: e });
    }
    let refuse = |reason: &str| Err(Error::OutputRefused { path: shown.clone(), reason: reason.to_string() });
    match std::fs::symlink_metadata(output) {
        Ok(m) if m.file_type().is_symlink() => return refuse("is a symbolic link; give the path of a regular file"),
        Ok(m) if m.is_dir() => return refuse("is a directory; give a file name"),
        Ok(m) if !m.is_file() => return refuse("is not a regular file (a device, FIFO or socket); use -o - for standard output"),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::Output { path: shown, source: e }),
    }
    let Some(name) = output.file_name() else { return refuse("names no file") };
    let dir = output.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.{}.part", name.to_string_lossy(), std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, output));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::Output { path: shown, source: e }
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

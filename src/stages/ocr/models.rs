//! sohoa's own Tesseract configuration (`models/`: `sohoa.config`, the Vietnamese user
//! words and patterns, the diacritic correction's lexicon), compiled in and written to `<data>/models` for the engines to read
//! when no `--models` folder is given.

use std::path::{Path, PathBuf};

/// The built-in copy of `models/`, written to `<data>/models` when no `--models` is given.
const MODEL_FILES: &[(&str, &[u8])] = &[
    ("sohoa.config", include_bytes!("../../../models/sohoa.config")),
    ("vie.user-words", include_bytes!("../../../models/vie.user-words")),
    ("vie.user-patterns", include_bytes!("../../../models/vie.user-patterns")),
    ("vie.lexicon", include_bytes!("../../../models/vie.lexicon")),
];

/// Writes the built-in model files to `<data>/models` (only those that differ) and returns
/// the folder.
pub fn materialize_models(data: &Path) -> std::io::Result<PathBuf> {
    let dir = data.join("models");
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in MODEL_FILES {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(*bytes) {
            std::fs::write(&path, bytes)?;
        }
    }
    Ok(dir)
}

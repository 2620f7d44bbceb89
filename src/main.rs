//! The `sohoa` command line: argument parsing only; `sohoa::cli` does the work.

use clap::{Args, Parser, Subcommand};
use sohoa::cli;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "sohoa", version, about = "Scanned dossiers to stored, searchable, certified PDF records")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where data lives; every subcommand that touches the catalog or store takes these.
#[derive(Args, Clone)]
struct Location {
    /// Data folder: SQLite catalog, local object store, models and scratch files.
    #[arg(long, env = "SOHOA_DATA", default_value = "./sohoa-data")]
    data: PathBuf,
    /// Object store URL (file:///path, s3://bucket/prefix); default <data>/store.
    #[arg(long, env = "SOHOA_STORE")]
    store: Option<String>,
    /// Catalog URL (sqlite://path, postgres://...); default <data>/catalog.sqlite.
    #[arg(long, env = "SOHOA_CATALOG")]
    catalog: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Process scanner output (TIFF, PDF, PNG, JPEG or folders of them) into stored PDFs.
    Process {
        /// Scanner files or folders; each becomes one batch.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[command(flatten)]
        loc: Location,
        /// Print exactly one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Keep separator sheets as the first page of their document.
        #[arg(long)]
        keep_separators: bool,
        /// Tesseract languages, `+`-separated.
        #[arg(long, default_value = "vie")]
        lang: String,
        /// Folder with <lang>.traineddata (default: Tesseract's own).
        #[arg(long)]
        tessdata: Option<PathBuf>,
        /// Folder with sohoa.config, vie.user-words, vie.user-patterns (default: built in).
        #[arg(long)]
        models: Option<PathBuf>,
        /// Page threads, each with its own OCR engine (default: number of cores).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Write a stored document's PDF, byte for byte, checking its hash.
    Get {
        /// Document id (doc_...) or its BLAKE3 (or a unique prefix of 8+ hex digits).
        id: String,
        /// Where to write the PDF.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        #[command(flatten)]
        loc: Location,
    },
    /// Generate a sample scanner batch (batch.tif) with its ground truth (batch.truth.json).
    Generate {
        /// Output folder.
        out: PathBuf,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long, default_value_t = 200.0)]
        dpi: f32,
        #[arg(long, default_value_t = 2)]
        dossiers: usize,
        /// Largest skew, degrees (pages are skewed uniformly in ±this).
        #[arg(long, default_value_t = 5.0)]
        max_skew: f32,
        /// Scanner noise, standard deviation in gray levels.
        #[arg(long, default_value_t = 4.0)]
        noise: f32,
    },
    /// Score deskew, orientation and blank detection on generated pages with known truth.
    EvalImaging {
        /// Content pages (half at 200 dpi, half at 300 dpi); blank and one-line pages are added.
        #[arg(long, default_value_t = 48)]
        pages: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print exactly one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Also run the PyPI packages jdeskew and deskew on the same pages (python3, pip).
        #[arg(long)]
        compare: bool,
        /// Also OCR every content page after the image stage, and its straight twin (CER).
        #[arg(long)]
        ocr: bool,
        /// Data folder (OCR models for --ocr).
        #[arg(long, env = "SOHOA_DATA", default_value = "./sohoa-data")]
        data: PathBuf,
        /// The comparison script.
        #[arg(long, default_value = "scripts/compare_deskew.py")]
        script: PathBuf,
    },
}

fn main() -> ExitCode {
    // One Tesseract engine per thread; Tesseract's own OpenMP threads would fight them
    // (measured: 7 million futex calls and 40% of the CPU in libgomp on the sample batch).
    // libgomp reads OMP_THREAD_LIMIT when it is loaded, before `main`, so setting it here
    // is too late: run ourselves again with it set.
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        use std::os::unix::process::CommandExt;
        if let Ok(exe) = std::env::current_exe() {
            let err = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env("OMP_THREAD_LIMIT", "1")
                .exec();
            eprintln!("warning: could not restart with OMP_THREAD_LIMIT=1 ({err}); OCR may be slower");
        }
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { cli::EXIT_BAD_INPUT } else { cli::EXIT_OK });
        }
    };
    cli::init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = match cli.command {
        Command::Process { inputs, loc, json, keep_separators, lang, tessdata, models, workers } => {
            rt.block_on(cli::process(cli::ProcessArgs {
                inputs,
                data: loc.data,
                store: loc.store,
                catalog: loc.catalog,
                json,
                keep_separators,
                lang,
                tessdata,
                models,
                workers,
            }))
        }
        Command::Get { id, output, loc } => rt.block_on(cli::get(&id, &output, &loc.data, loc.store.as_deref(), loc.catalog.as_deref())),
        Command::Generate { out, seed, dpi, dossiers, max_skew, noise } => {
            let opts = sohoa::samples::GenOptions { seed, dpi, dossiers, max_skew_deg: max_skew, noise_sigma: noise, ..Default::default() };
            cli::generate(&out, &opts)
        }
        Command::EvalImaging { pages, seed, json, compare, ocr, data, script } => {
            sohoa::imaging::eval::run(&sohoa::imaging::eval::EvalArgs { pages, seed, json, compare, ocr, data, script })
        }
    };
    ExitCode::from(code)
}

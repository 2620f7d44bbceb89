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
    /// Object store URL (file:///path, s3://bucket/prefix); default <data>/objects.
    #[arg(long, env = "SOHOA_STORE")]
    store: Option<String>,
    /// Catalog URL (sqlite://path, postgres://...); default <data>/catalog.db.
    #[arg(long, env = "SOHOA_CATALOG")]
    catalog: Option<String>,
}

impl From<Location> for cli::Location {
    fn from(l: Location) -> Self {
        cli::Location { data: l.data, store: l.store, catalog: l.catalog }
    }
}

/// How pages are processed.
#[derive(Args, Clone)]
struct Engine {
    /// Keep separator sheets as the first page of their document.
    #[arg(long)]
    keep_separators: bool,
    /// Separator rules (TOML or JSON): which barcodes split, and how (see the README).
    #[arg(long, value_name = "FILE")]
    separators: Option<PathBuf>,
    /// Duplex scans: the page after a separator sheet is its back, never content.
    #[arg(long)]
    duplex: bool,
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
}

impl From<Engine> for cli::EngineArgs {
    fn from(e: Engine) -> Self {
        cli::EngineArgs { keep_separators: e.keep_separators, separators: e.separators, duplex: e.duplex, lang: e.lang, tessdata: e.tessdata, models: e.models, workers: e.workers }
    }
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
        #[command(flatten)]
        engine: Engine,
        /// Print exactly one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Split batches of more pages into parts of this many pages that several workers
        /// share (0: one job per batch).
        #[arg(long, env = "SOHOA_CHUNK_PAGES", default_value_t = sohoa::worker::DEFAULT_CHUNK_PAGES)]
        chunk_pages: u64,
    },
    /// Copy scans into the store and queue them for `sohoa worker`, without processing.
    Ingest {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[command(flatten)]
        loc: Location,
        /// Print {"batches":[{"batch_id",...}]} on stdout.
        #[arg(long)]
        json: bool,
        /// Split batches of more pages into parts of this many pages that several workers
        /// share (0: one job per batch).
        #[arg(long, env = "SOHOA_CHUNK_PAGES", default_value_t = sohoa::worker::DEFAULT_CHUNK_PAGES)]
        chunk_pages: u64,
    },
    /// Run queued batches until stopped (Ctrl-C or SIGTERM finish the batch in hand).
    Worker {
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        engine: Engine,
        /// Seconds without a heartbeat after which another worker takes a batch over.
        #[arg(long, default_value_t = 60.0)]
        stale_after: f64,
        /// Seconds between polls of an empty queue.
        #[arg(long, default_value_t = 1.0)]
        poll: f64,
        /// Stop when no batch is queued or running.
        #[arg(long)]
        exit_when_idle: bool,
    },
    /// Queue counts, or one batch (the `process --json` batch object plus "state").
    Status {
        batch_id: Option<String>,
        #[command(flatten)]
        loc: Location,
        #[arg(long)]
        json: bool,
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
    /// Find stored documents by words of their text (diacritics optional), dossier code,
    /// document type or citizen ID.
    Search {
        /// Words that must all appear in the OCR text (`word*` for a prefix).
        query: Vec<String>,
        /// Only documents of this dossier (exact code).
        #[arg(long, value_name = "CODE")]
        dossier: Option<String>,
        /// Only documents of this type (exact code: DON, CCCD, ...).
        #[arg(long = "type", value_name = "T")]
        doc_type: Option<String>,
        /// Only documents whose text contains this 12-digit CCCD number.
        #[arg(long, value_name = "ID")]
        citizen_id: Option<String>,
        /// At most this many hits (1-1000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print exactly one JSON object on stdout: {"hits":[...]}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
    /// Measure throughput end to end: pages/min, CPU per stage, peak memory, Tesseract floor.
    Bench {
        /// Pages to generate (ignored with --input).
        #[arg(long, default_value_t = 50)]
        pages: usize,
        /// Page threads, each with its own OCR engine (default: number of cores).
        #[arg(long)]
        workers: Option<usize>,
        /// Benchmark this scan instead of a generated batch.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Print exactly one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Resolution of the generated pages.
        #[arg(long, default_value_t = 200.0)]
        dpi: f32,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long, default_value = "vie")]
        lang: String,
        #[arg(long)]
        tessdata: Option<PathBuf>,
        /// Run the batch with this many `sohoa worker` processes sharing the queue
        /// (each with --workers page threads) instead of inside this process.
        #[arg(long, default_value_t = 0)]
        processes: usize,
        /// Split the batch into parts of this many pages (0: one job).
        #[arg(long, default_value_t = sohoa::worker::DEFAULT_CHUNK_PAGES)]
        chunk_pages: u64,
    },
    /// (internal) Write the generated TIFF `sohoa bench` measures, in its own process.
    #[command(hide = true)]
    BenchInput {
        out: PathBuf,
        #[arg(long)]
        pages: usize,
        #[arg(long)]
        dpi: f32,
        #[arg(long)]
        seed: u64,
    },
    /// Print separator sheets to a PDF, one A4 page each: dossier covers, then document
    /// separators, then patch sheets.
    Separators {
        /// Dossier cover sheet with this dossier code (QR at the top left); repeatable.
        #[arg(long = "dossier", value_name = "CODE")]
        dossiers: Vec<String>,
        /// Document separator for this type code (Code 128, the type's Vietnamese name); repeatable.
        #[arg(long = "type", value_name = "CODE")]
        types: Vec<String>,
        /// Kodak patch sheet: 1, 2, 3, 4, 6 or T; repeatable.
        #[arg(long = "patch", value_name = "KIND")]
        patches: Vec<String>,
        /// Where to write the PDF.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
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
        /// With --ocr: Tesseract reads the cleaned page as is instead of prepare_for_ocr of it.
        #[arg(long)]
        ocr_plain: bool,
        /// With --ocr: pages read at once, one Tesseract engine each (CPU times stay per read).
        #[arg(long, default_value_t = 1)]
        ocr_threads: usize,
        /// Content-page scanner defects: heavy (deliberately degraded) or realistic.
        #[arg(long, default_value = "heavy")]
        defects: sohoa::imaging::eval::Defects,
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
    // Page buffers go back to the system between pages (see `sohoa::alloc`).
    let tuned = sohoa::alloc::tune();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { cli::EXIT_BAD_INPUT } else { cli::EXIT_OK });
        }
    };
    cli::init_logging();
    if !tuned {
        tracing::debug!("malloc thresholds left at the C library's defaults");
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = match cli.command {
        Command::Process { inputs, loc, engine, json, chunk_pages } => {
            rt.block_on(cli::process(cli::ProcessArgs { inputs, loc: loc.into(), engine: engine.into(), json, chunk_pages }))
        }
        Command::Ingest { inputs, loc, json, chunk_pages } => rt.block_on(cli::ingest(&inputs, &loc.into(), json, chunk_pages)),
        Command::Worker { loc, engine, stale_after, poll, exit_when_idle } => rt.block_on(cli::run_worker(cli::WorkerArgs {
            loc: loc.into(),
            engine: engine.into(),
            stale_after: std::time::Duration::from_secs_f64(stale_after.max(0.5)),
            poll: std::time::Duration::from_secs_f64(poll.max(0.05)),
            exit_when_idle,
        })),
        Command::Status { batch_id, loc, json } => rt.block_on(cli::status(batch_id.as_deref(), &loc.into(), json)),
        Command::Get { id, output, loc } => rt.block_on(cli::get(&id, &output, &loc.data, loc.store.as_deref(), loc.catalog.as_deref())),
        Command::Search { query, dossier, doc_type, citizen_id, limit, json, loc } => {
            let query = sohoa::catalog::SearchQuery { text: (!query.is_empty()).then(|| query.join(" ")), dossier, doc_type, citizen_id, limit: Some(limit) };
            rt.block_on(cli::search(&query, &loc.into(), json))
        }
        Command::Bench { pages, workers, input, json, dpi, seed, lang, tessdata, processes, chunk_pages } => rt.block_on(
            sohoa::bench::run(sohoa::bench::BenchArgs { pages, workers, input, json, dpi, seed, lang, tessdata, processes, chunk_pages }),
        ),
        Command::BenchInput { out, pages, dpi, seed } => match sohoa::bench::generate_input(&out, pages, dpi, seed) {
            Ok(_) => cli::EXIT_OK,
            Err(e) => {
                eprintln!("error: {}: {e}", out.display());
                cli::EXIT_STORAGE
            }
        },
        Command::Separators { dossiers, types, patches, output } => cli::separators(&dossiers, &types, &patches, &output),
        Command::Generate { out, seed, dpi, dossiers, max_skew, noise } => {
            let opts = sohoa::samples::GenOptions { seed, dpi, dossiers, max_skew_deg: max_skew, noise_sigma: noise, ..Default::default() };
            cli::generate(&out, &opts)
        }
        Command::EvalImaging { pages, seed, json, compare, ocr, ocr_plain, ocr_threads, defects, data, script } => {
            sohoa::imaging::eval::run(&sohoa::imaging::eval::EvalArgs { pages, seed, json, compare, ocr, ocr_plain, ocr_threads, defects, data, script })
        }
    };
    ExitCode::from(code)
}

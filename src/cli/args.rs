//! The command line's grammar (clap): every subcommand with its flags.
//!
//! Only parsing lives here. Flags that are settings (`--store`, `--lang`, `--workers`, …)
//! are optional, so that [`crate::runtime::config::Config`] can tell a flag from a default
//! and lay it over `sohoa.toml`.

use crate::runtime::config::Settings;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "sohoa", version, about = "Scanned dossiers to stored, searchable, certified PDF records")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where data lives; every subcommand that touches the catalog or store takes these.
#[derive(Args, Clone)]
pub struct Location {
    /// Data folder: SQLite catalog, local object store, models and scratch files.
    #[arg(long, env = "SOHOA_DATA", default_value = "./sohoa-data")]
    pub data: PathBuf,
    /// Object store URL (file:///path, s3://bucket/prefix); default <data>/objects.
    #[arg(long, env = "SOHOA_STORE")]
    pub store: Option<String>,
    /// Catalog URL (sqlite://path, postgres://...); default <data>/catalog.db.
    #[arg(long, env = "SOHOA_CATALOG")]
    pub catalog: Option<String>,
    /// Settings file (TOML); default <data>/sohoa.toml when it exists.
    #[arg(long, env = "SOHOA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// How pages are processed.
#[derive(Args, Clone)]
pub struct Engine {
    /// Keep separator sheets as the first page of their document.
    #[arg(long)]
    pub keep_separators: bool,
    /// Separator rules (TOML or JSON): which barcodes split, and how (see the README).
    #[arg(long, value_name = "FILE")]
    pub separators: Option<PathBuf>,
    /// Duplex scans: the page after a separator sheet is its back, never content.
    #[arg(long)]
    pub duplex: bool,
    /// Procedure catalog (TOML or JSON): what each procedure's dossiers must contain
    /// (default: the built-in samples/procedures.toml).
    #[arg(long, value_name = "FILE", env = "SOHOA_PROCEDURES")]
    pub procedures: Option<PathBuf>,
    /// Tesseract languages, `+`-separated (default vie).
    #[arg(long, env = "SOHOA_LANG")]
    pub lang: Option<String>,
    /// Folder with <lang>.traineddata (default: Tesseract's own).
    #[arg(long, env = "SOHOA_TESSDATA")]
    pub tessdata: Option<PathBuf>,
    /// Folder with sohoa.config, vie.user-words, vie.user-patterns (default: built in).
    #[arg(long, env = "SOHOA_MODELS")]
    pub models: Option<PathBuf>,
    /// Page threads, each with its own OCR engine (default: number of cores).
    #[arg(long, env = "SOHOA_WORKERS")]
    pub workers: Option<usize>,
    /// Sign every stored document with this key (PEM, or PKCS #12 with --key-password-env).
    #[arg(long, env = "SOHOA_SIGN_KEY", value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
    /// RFC 3161 timestamp authority (http:// or https://): signatures become PAdES B-T.
    #[arg(long, env = "SOHOA_TSA_URL", value_name = "URL")]
    pub tsa: Option<String>,
    /// Environment variable holding the password of PKCS #12 key files.
    #[arg(long, value_name = "VAR")]
    pub key_password_env: Option<String>,
    /// Standard of the stored PDFs: pdfa-2b (default) or plain.
    #[arg(long, env = "SOHOA_PDF_PROFILE", value_name = "pdfa-2b|plain")]
    pub pdf_profile: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// share (0: one job per batch; default 1).
        #[arg(long, env = "SOHOA_CHUNK_PAGES")]
        chunk_pages: Option<u64>,
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
        /// share (0: one job per batch; default 1).
        #[arg(long, env = "SOHOA_CHUNK_PAGES")]
        chunk_pages: Option<u64>,
    },
    /// Run queued batches until stopped (Ctrl-C or SIGTERM finish the batch in hand).
    Worker {
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        engine: Engine,
        /// Seconds without a heartbeat after which another worker takes a batch over (default 60).
        #[arg(long)]
        stale_after: Option<f64>,
        /// Seconds between polls of an empty queue (default 1).
        #[arg(long)]
        poll: Option<f64>,
        /// Stop when no batch is queued or running.
        #[arg(long)]
        exit_when_idle: bool,
    },
    /// Run the service: the HTTP API, the worker pool and hot folders, in one process.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = crate::api::DEFAULT_LISTEN, value_name = "ADDR")]
        listen: std::net::SocketAddr,
        /// Hot folder to ingest scans from, optionally tagged with a post office
        /// (DIR=POST_OFFICE); repeatable.
        #[arg(long = "watch", value_name = "DIR[=POST_OFFICE]")]
        watch: Vec<String>,
        /// Seconds between looks at the hot folders.
        #[arg(long, default_value_t = 2.0, value_name = "S")]
        watch_poll: f64,
        /// Do not run workers here (`sohoa worker` processes run elsewhere).
        #[arg(long)]
        no_workers: bool,
        /// Largest upload (all files of one request), MB.
        #[arg(long, env = "SOHOA_MAX_UPLOAD_MB", default_value_t = crate::api::DEFAULT_MAX_UPLOAD_MB, value_name = "MB")]
        max_upload_mb: u64,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        engine: Engine,
        /// Seconds without a heartbeat after which another worker takes a batch over (default 60).
        #[arg(long)]
        stale_after: Option<f64>,
        /// Seconds between polls of an empty queue (default 1).
        #[arg(long)]
        poll: Option<f64>,
        /// The certifier's key: `POST /api/v1/documents/{id}/certify` signs with it.
        #[arg(long, env = "SOHOA_CERTIFIER_KEY", value_name = "FILE")]
        certifier_key: Option<PathBuf>,
        /// The certifying agency's key, signing after the certifier.
        #[arg(long, env = "SOHOA_AGENCY_KEY", value_name = "FILE")]
        agency_key: Option<PathBuf>,
        /// PEM file of trust roots for `GET /api/v1/documents/{id}/verify`.
        #[arg(long, env = "SOHOA_TRUST", value_name = "FILE")]
        trust: Option<PathBuf>,
    },
    /// Signing keys: `dev-ca` writes a throwaway CA and identities for trying signatures out.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Certify a stored document as a copy of its paper original (Decree 45/2020, Art. 10):
    /// the statement page, the certifier's and the agency's signatures, the book entry.
    Certify {
        /// The original's document id (doc_…).
        document_id: String,
        /// The certifier's key (PEM, or PKCS #12 with --key-password-env).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The certifying agency's key; its organisation names the book.
        #[arg(long, value_name = "FILE")]
        agency_key: Option<PathBuf>,
        /// Environment variable holding the password of PKCS #12 key files.
        #[arg(long, value_name = "VAR")]
        key_password_env: Option<String>,
        /// RFC 3161 timestamp authority (http:// or https://): the signatures become PAdES B-T.
        #[arg(long, env = "SOHOA_TSA_URL", value_name = "URL")]
        tsa: Option<String>,
        /// Print exactly {"document_id","certified_from","book","number","year"}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
    /// Verify the signatures of a PDF file or a stored document: exit 0 valid, 1 invalid.
    Verify {
        /// A PDF file, or a stored document's id (doc_…) or BLAKE3.
        target: String,
        /// PEM file of trust roots (repeatable; with the `trust` setting).
        #[arg(long = "trust", value_name = "FILE")]
        trust: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
    /// API tokens: create (the secret is printed once), list, revoke.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// The audit trail of document reads.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
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
        /// Only documents whose field NAME (so_ky_hieu, ngay, loai, co_quan, trich_yeu,
        /// nguoi_ky, cccd, ...) is VALUE (diacritics and case ignored); repeatable.
        #[arg(long, value_name = "NAME=VALUE")]
        field: Vec<String>,
        /// At most this many hits (1-1000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print exactly one JSON object on stdout: {"hits":[...]}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
    /// A dossier as received: documents, procedure, missing components, results, reused
    /// documents; or record the citizen it belongs to.
    Dossier {
        #[command(subcommand)]
        action: DossierAction,
    },
    /// The citizen's receipt of a dossier (one A4 page, QR with a verification
    /// reference), or check a receipt's reference.
    Receipt {
        /// Dossier code.
        #[arg(required_unless_present = "verify")]
        code: Option<String>,
        /// Where to write the PDF.
        #[arg(short = 'o', long = "output", required_unless_present = "verify")]
        output: Option<PathBuf>,
        /// Check a receipt instead: the QR's text (`BN:<dossier code>|<reference>`), or
        /// the reference alone with the dossier code. Exit 0 if it holds, 1 if not.
        #[arg(long, value_name = "REF")]
        verify: Option<String>,
        /// Print exactly one JSON object on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
    /// Electronic results of a dossier (`<dossier code>-KQ<n>`).
    Result {
        #[command(subcommand)]
        action: ResultAction,
    },
    /// Find earlier digitized documents of a citizen by type, to attach them to a new
    /// dossier instead of asking for the paper again.
    Reuse {
        /// The citizen's 12-digit ID number (CCCD).
        #[arg(long, value_name = "ID")]
        citizen_id: String,
        /// Document type code (CCCD, GKS, ...).
        #[arg(long = "type", value_name = "T")]
        doc_type: String,
        /// Attach the newest document found to this dossier (recorded and audited).
        #[arg(long, value_name = "DOSSIER_CODE")]
        attach: Option<String>,
        /// At most this many documents.
        #[arg(long, default_value_t = 20)]
        limit: i64,
        /// Print exactly one JSON object on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
    /// Digitization indicators over a period (Decision 766/QĐ-TTg 4.2 and 4.3, pages,
    /// documents, certifications, completeness failures, median time scan to stored).
    Report {
        /// First day, YYYY-MM-DD (Vietnam time).
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD, included.
        #[arg(long)]
        to: String,
        /// One row per post-office or agency, plus the total.
        #[arg(long, value_name = "post-office|agency")]
        by: Option<String>,
        /// Print exactly one JSON object on stdout.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV (a header, one line per group, then the total).
        #[arg(long)]
        csv: bool,
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
        #[arg(long, default_value_t = crate::runtime::worker::DEFAULT_CHUNK_PAGES)]
        chunk_pages: u64,
        /// Sign every stored document with this key, as `process --sign-key` does (the
        /// `sign` stage of the report).
        #[arg(long, value_name = "FILE")]
        sign_key: Option<PathBuf>,
        /// RFC 3161 timestamp authority for the signatures (PAdES B-T).
        #[arg(long, value_name = "URL", requires = "sign_key")]
        tsa: Option<String>,
        /// Environment variable holding the password of a PKCS #12 key file.
        #[arg(long, value_name = "VAR", requires = "sign_key")]
        key_password_env: Option<String>,
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
        /// Covers name a procedure of the sample catalog and a citizen
        /// (`HS:<code>|<procedure>|<citizen ID>`); some dossiers lack a required component.
        #[arg(long)]
        procedures: bool,
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
        defects: crate::tools::eval::Defects,
        /// Data folder (OCR models for --ocr).
        #[arg(long, env = "SOHOA_DATA", default_value = "./sohoa-data")]
        data: PathBuf,
        /// The comparison script.
        #[arg(long, default_value = "scripts/compare_deskew.py")]
        script: PathBuf,
    },
    /// Score the document-field extractor on generated administrative documents read
    /// through the pipeline's OCR: exact readings per header field, CCCD recall and false
    /// numbers (issue #24).
    EvalFields {
        /// Documents to generate.
        #[arg(long, default_value_t = 40)]
        docs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Page threads, one Tesseract engine each.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Print exactly one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Data folder (OCR models).
        #[arg(long, env = "SOHOA_DATA", default_value = "./sohoa-data")]
        data: PathBuf,
        /// Write each document's OCR (lines with their boxes) and truth to DIR/doc-NNNN.json,
        /// so the extractor can be scored again with --from without reading the pages again.
        #[arg(long, value_name = "DIR", conflicts_with = "from")]
        keep: Option<PathBuf>,
        /// Score the documents kept in DIR by an earlier --keep run (no rendering, no OCR;
        /// --docs, --seed and --threads are not used).
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
    },
    /// Score sohoa's text layer against bare Tesseract (and OCRmyPDF where installed) on
    /// generated page sets: CER, WER, tone and vowel-mark errors, per set.
    EvalOcr {
        /// Pages per set.
        #[arg(long, default_value_t = 2)]
        pages: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Only these sets (comma-separated names; all when not given).
        #[arg(long, value_delimiter = ',')]
        sets: Vec<String>,
        /// Also read with sohoa's path changed one choice at a time (OCR copy, bands,
        /// upscaling, models).
        #[arg(long)]
        ablation: bool,
        /// Only these of the ablation's readers (comma-separated: median-copy, cleaned-copy,
        /// bands, no-upscale, no-models, no-diacritics, previous); implies --ablation.
        #[arg(long, value_delimiter = ',')]
        readers: Vec<String>,
        /// Pages read at once, one set of engines each.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Print exactly one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Also list each page's word errors per reader on stderr (`reference→read`).
        #[arg(long)]
        show_errors: bool,
        /// Data folder (OCR models).
        #[arg(long, env = "SOHOA_DATA", default_value = "./sohoa-data")]
        data: PathBuf,
    },
    /// Bytes per stored page and legibility (Tesseract CER) per page encoder, at 200 and
    /// 300 dpi, gray and colour, noisy and clean (and OCRmyPDF's where installed).
    EvalSize {
        /// Pages per set.
        #[arg(long, default_value_t = 2)]
        pages: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Only these sets (comma-separated names such as 300dpi-gray-noisy; all when not given).
        #[arg(long, value_delimiter = ',')]
        sets: Vec<String>,
        /// Pages measured at once, one Tesseract engine each.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Write each page's cleaned image, stored page images and the texts read from them
        /// into this folder (to see where characters are lost).
        #[arg(long)]
        keep_work: Option<PathBuf>,
        /// Print exactly one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Data folder (OCR models).
        #[arg(long, env = "SOHOA_DATA", default_value = "./sohoa-data")]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum TokenAction {
    /// Create a token and print it once (only its hash is kept).
    Create {
        /// clerk, agency, certifier or admin.
        #[arg(long)]
        role: String,
        /// Agency code (agency and certifier tokens): the first part of its dossier codes, 000.00.15.H40.
        #[arg(long, value_name = "CODE")]
        agency: Option<String>,
        /// Post office code (clerk tokens): its uploads are tagged with it, and it sees those batches.
        #[arg(long = "post-office", value_name = "CODE")]
        post_office: Option<String>,
        /// Who or what the token is for.
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
        /// Print {"id":…,"token":…,"role":…}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
    /// List tokens (never their secrets).
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
    /// Revoke a token: it never authenticates again.
    Revoke {
        id: String,
        #[command(flatten)]
        loc: Location,
    },
}

#[derive(Subcommand)]
pub enum DossierAction {
    /// A dossier: its documents, procedure, completeness, results and reused documents.
    Show {
        code: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
    /// Record that the documents of a dossier belong to a citizen (for `sohoa reuse`).
    SetCitizen {
        code: String,
        /// The citizen's 12-digit ID number (CCCD).
        citizen_id: String,
        #[command(flatten)]
        loc: Location,
    },
}

#[derive(Subcommand)]
pub enum ResultAction {
    /// Store a file as the next electronic result of a dossier: `<dossier code>-KQ<n>`.
    Add {
        code: String,
        file: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
    /// The electronic results of a dossier.
    List {
        code: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
}

#[derive(Subcommand)]
pub enum KeysAction {
    /// Write a throwaway root CA (ca.pem) and clerk, certifier, agency and tsa identities
    /// (key and chain in one PEM each). For trying out and tests only.
    DevCa {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum AuditAction {
    /// Check the hash chain of the audit trail; exit 3 at the first row that does not hold.
    Verify {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        loc: Location,
    },
}

impl Location {
    /// What the flags and environment gave of the settings.
    pub fn settings(&self) -> Settings {
        Settings { store: self.store.clone(), catalog: self.catalog.clone(), ..Default::default() }
    }
}

impl Engine {
    /// What the flags and environment gave of the settings, over `loc`'s.
    pub fn settings(&self, loc: &Location) -> Settings {
        Settings {
            lang: self.lang.clone(),
            tessdata: self.tessdata.clone(),
            models: self.models.clone(),
            workers: self.workers,
            keep_separators: self.keep_separators.then_some(true),
            separators: self.separators.clone(),
            procedures: self.procedures.clone(),
            duplex: self.duplex.then_some(true),
            sign_key: self.sign_key.clone(),
            tsa: self.tsa.clone(),
            key_password_env: self.key_password_env.clone(),
            pdf_profile: self.pdf_profile.clone(),
            ..loc.settings()
        }
    }
}

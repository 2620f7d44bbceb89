//! `sohoa bench`: end-to-end throughput for administrators.
//!
//! Owns generating (or taking) a batch, running it through the same path as `sohoa
//! process` (ingest into the durable queue, the pipeline, the embedded SQLite catalog and
//! local object store, in a throw-away data folder), and measuring it: pages/min, content
//! pages/min, CPU time per stage and its share, peak resident memory of the run, and the
//! Tesseract floor: the same content pages through bare Tesseract engines, one per worker
//! thread, with nothing else. `efficiency = floor time / pipeline time`; 1.0 would mean
//! every stage but OCR is free.

use crate::model::PageKind;
use crate::runtime::error::exit::{BAD_INPUT as EXIT_BAD_INPUT, OK as EXIT_OK, STORAGE as EXIT_STORAGE};
use crate::runtime::pipeline::PipelineOptions;
use crate::stages::intake::Input;
use crate::stages::ocr::{OcrConfig, OcrEngine, tesseract::TesseractEngine};
use crate::timing::{CpuClock, StageTimes};
use crate::tools::synth::{GenOptions, generate_batch, write_multipage_tiff_from};

use crate::runtime::worker::{self, Services};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct BenchArgs {
    pub pages: usize,
    pub workers: Option<usize>,
    pub input: Option<PathBuf>,
    pub json: bool,
    pub dpi: f32,
    pub seed: u64,
    pub lang: String,
    pub tessdata: Option<PathBuf>,
    /// 0: run the batch in this process. N > 0: run it with N `sohoa worker` processes
    /// sharing the queue (each with `workers` page threads), as a deployment would.
    pub processes: usize,
    /// Split the batch into parts of this many pages (`--chunk-pages`).
    pub chunk_pages: u64,
    /// Scan signing, as `sohoa process --sign-key` (none by default).
    pub signing: BenchSigning,
}

/// `--sign-key`, `--tsa` and `--key-password-env` of `sohoa bench`.
#[derive(Debug, Default, Clone)]
pub struct BenchSigning {
    pub key: Option<PathBuf>,
    pub tsa: Option<String>,
    pub key_password_env: Option<String>,
}

impl BenchSigning {
    /// The pipeline's scan signing, keys loaded and checked; `None` without a key.
    fn load(&self) -> Result<Option<crate::runtime::signing::ScanSigning>, crate::runtime::error::Error> {
        use crate::runtime::signing;
        let Some(key) = &self.key else { return Ok(None) };
        let signer = signing::load_key(key, self.key_password_env.as_deref())?;
        let tsa = self.tsa.as_deref().map(signing::load_tsa).transpose()?;
        Ok(Some(signing::ScanSigning { signer, tsa }))
    }

    /// The same options for a `sohoa worker` command line.
    fn worker_args(&self) -> Vec<std::ffi::OsString> {
        let mut args = Vec::new();
        for (flag, value) in [
            ("--sign-key", self.key.as_ref().map(|k| k.as_os_str().to_owned())),
            ("--tsa", self.tsa.as_ref().map(Into::into)),
            ("--key-password-env", self.key_password_env.as_ref().map(Into::into)),
        ] {
            if let Some(v) = value {
                args.extend([flag.into(), v]);
            }
        }
        args
    }
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub input: String,
    pub workers: usize,
    /// Worker processes (0: the batch ran inside the bench process).
    pub processes: usize,
    pub pages: usize,
    pub content_pages: usize,
    /// Documents stored.
    pub documents: usize,
    /// Whether the stored documents were signed (`--sign-key`).
    pub signed: bool,
    /// Bytes of the stored PDFs (page images, text layer, metadata, signatures) per
    /// stored page.
    pub bytes_per_page: f64,
    pub wall_s: f64,
    pub pages_per_min: f64,
    pub content_pages_per_min: f64,
    /// CPU seconds per stage, summed over threads, and each stage's share of the total.
    pub stages: Vec<StageShare>,
    /// Peak resident memory while the batch ran (VmHWM, reset before the run), MiB.
    pub peak_rss_mb: f64,
    /// Bare Tesseract's CPU seconds on the same (cleaned) content pages, divided by
    /// `workers`: the least wall time OCR alone needs (see [`tesseract_floor`]).
    pub floor_s: f64,
    pub floor_content_pages_per_min: f64,
    /// floor_s / pipeline wall_s.
    pub efficiency: f64,
    /// The pipeline's own OCR CPU seconds (the `ocr` stage) divided by `workers`, over
    /// wall_s: the share of the run the engines spent reading. Unlike `efficiency`, it
    /// does not count what reading in bands saves Tesseract against whole pages, only
    /// what the other stages and the waits cost. 0 with `--processes`.
    pub engines_busy: f64,
}

#[derive(Debug, Serialize)]
pub struct StageShare {
    pub stage: &'static str,
    pub cpu_s: f64,
    pub share: f64,
}

fn fail(code: u8, msg: impl std::fmt::Display) -> u8 {
    eprintln!("error: {msg}");
    code
}

/// Pages of fresh generated batches (seed, seed+1, ...), cut at `pages`, written as one
/// TIFF; only one generated batch is in memory at a time.
pub fn generate_input(path: &Path, pages: usize, dpi: f32, seed: u64) -> std::io::Result<usize> {
    let mut seed = seed;
    let chunks = std::iter::from_fn(move || {
        let batch = generate_batch(&GenOptions { seed, dpi, dossiers: 2, max_skew_deg: 5.0, ..Default::default() });
        seed += 1;
        Some(batch.pages)
    });
    write_multipage_tiff_from(chunks.flatten().take(pages), path)
}

pub async fn run(args: BenchArgs) -> u8 {
    let scratch = match tempfile_dir() {
        Ok(d) => d,
        Err(e) => return fail(EXIT_STORAGE, format!("cannot make a scratch folder: {e}")),
    };
    let result = run_in(&args, &scratch).await;
    let _ = std::fs::remove_dir_all(&scratch);
    match result {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string(&report).expect("report serialises"));
            } else {
                print_report(&report);
            }
            EXIT_OK
        }
        Err(code) => code,
    }
}

fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("sohoa-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn run_in(args: &BenchArgs, scratch: &Path) -> Result<BenchReport, u8> {
    let input_path = match &args.input {
        Some(p) => p.clone(),
        None => {
            let path = scratch.join("bench.tif");
            eprintln!("Generating {} pages at {} dpi...", args.pages, args.dpi);
            // In a child process, so the generator's memory is not in the peak we report.
            let exe = std::env::current_exe().map_err(|e| fail(EXIT_STORAGE, e))?;
            let status = tokio::process::Command::new(exe)
                .arg("bench-input")
                .arg(&path)
                .args(["--pages", &args.pages.max(1).to_string(), "--dpi", &args.dpi.to_string(), "--seed", &args.seed.to_string()])
                .status()
                .await
                .map_err(|e| fail(EXIT_STORAGE, e))?;
            if !status.success() {
                return Err(fail(EXIT_STORAGE, "cannot write the bench batch"));
            }
            path
        }
    };
    let input = Input::open(&input_path).map_err(|e| fail(EXIT_BAD_INPUT, e))?;
    let data = scratch.join("data");
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())).max(1);
    let models = crate::stages::ocr::models::materialize_models(&data).map_err(|e| fail(EXIT_STORAGE, e))?;
    let ocr = OcrConfig { langs: args.lang.clone(), tessdata: args.tessdata.clone(), models: Some(models), ..Default::default() };
    let mut opts = PipelineOptions::new(ocr.clone());
    opts.workers = workers;
    opts.signing = args.signing.load().map_err(|e| fail(EXIT_BAD_INPUT, e))?;

    eprintln!("Running the pipeline on {} pages with {workers} worker thread(s)...", input.page_count());
    reset_peak_rss();
    let started = Instant::now();
    if args.processes == 0 {
        // Models load while the batch is ingested, as in `sohoa process` (timed).
        opts.prestart_engines();
    }
    let mut services = Services::new(
        crate::runtime::catalog::Catalog::open(None, &data).await.map_err(|e| fail(EXIT_STORAGE, e))?,
        crate::runtime::store::Store::open(None, &data).map_err(|e| fail(EXIT_STORAGE, e))?,
        data.clone(),
    );
    services.chunk_pages = args.chunk_pages;
    let ingested = worker::ingest(&services, &input).await.map_err(|e| fail(EXIT_STORAGE, e))?;
    let batch_id = ingested.batch_id().to_string();
    let outcome = if args.processes == 0 {
        worker::run_batches(&services, std::slice::from_ref(&batch_id), "bench", &opts, Duration::from_secs(60))
            .await
            .map_err(|e| fail(EXIT_STORAGE, e))?
            .pop()
            .flatten()
    } else {
        run_worker_processes(&data, args.processes, workers, &args.signing).await?;
        services.catalog.batch_report(&batch_id).await.map_err(|e| fail(EXIT_STORAGE, e))?.map(|report| crate::runtime::pipeline::BatchOutcome {
            report,
            times: StageTimes::default(),
            page_errors: 0,
        })
    }
    .ok_or_else(|| fail(EXIT_STORAGE, "the bench batch failed; run with SOHOA_LOG=info to see why"))?;
    let wall_s = started.elapsed().as_secs_f64();
    // With worker processes, the memory is theirs (not measured here).
    let peak_rss_mb = if args.processes == 0 { peak_rss_mb() } else { 0.0 };
    services.catalog.close().await;

    let content: Vec<usize> = outcome.report.pages.iter().filter(|p| p.kind == PageKind::Content).map(|p| p.index).collect();
    eprintln!("Measuring the Tesseract floor on the same {} content pages...", content.len());
    let floor_s = {
        let (input, content, ocr) = (input.clone(), content.clone(), ocr.clone());
        let threads = workers * args.processes.max(1);
        tokio::task::spawn_blocking(move || tesseract_floor(&input, &content, &ocr, threads))
            .await
            .map_err(|e| fail(EXIT_STORAGE, e))?
            .map_err(|e| fail(EXIT_BAD_INPUT, e))?
    };

    let pages = outcome.report.pages.len();
    let documents = outcome.report.dossiers.iter().map(|d| d.documents.len()).sum();
    let (stored_bytes, stored_pages) =
        outcome.report.dossiers.iter().flat_map(|d| &d.documents).fold((0u64, 0usize), |(b, p), d| (b + d.bytes, p + d.page_count));
    let per_min = |n: usize, s: f64| if s > 0.0 { n as f64 * 60.0 / s } else { 0.0 };
    Ok(BenchReport {
        input: input_path.display().to_string(),
        workers,
        processes: args.processes,
        pages,
        content_pages: content.len(),
        documents,
        signed: args.signing.key.is_some(),
        bytes_per_page: if stored_pages > 0 { stored_bytes as f64 / stored_pages as f64 } else { 0.0 },
        wall_s,
        pages_per_min: per_min(pages, wall_s),
        content_pages_per_min: per_min(content.len(), wall_s),
        stages: if args.processes == 0 { shares(&outcome.times) } else { Vec::new() },
        peak_rss_mb,
        floor_s,
        floor_content_pages_per_min: per_min(content.len(), floor_s),
        efficiency: if wall_s > 0.0 { floor_s / wall_s } else { 0.0 },
        engines_busy: if wall_s > 0.0 && args.processes == 0 { outcome.times.ocr_s / workers as f64 / wall_s } else { 0.0 },
    })
}

/// Runs `n` `sohoa worker --exit-when-idle` processes on the bench's data folder (SQLite
/// catalog and local store shared through the file system) until the queue is empty.
async fn run_worker_processes(data: &Path, n: usize, workers: usize, signing: &BenchSigning) -> Result<(), u8> {
    let exe = std::env::current_exe().map_err(|e| fail(EXIT_STORAGE, e))?;
    let mut children = Vec::new();
    for _ in 0..n {
        let child = tokio::process::Command::new(&exe)
            .arg("worker")
            .arg("--data")
            .arg(data)
            .args(["--workers", &workers.to_string(), "--exit-when-idle", "--poll", "0.1"])
            .args(signing.worker_args())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| fail(EXIT_STORAGE, e))?;
        children.push(child);
    }
    for mut child in children {
        let status = child.wait().await.map_err(|e| fail(EXIT_STORAGE, e))?;
        if !status.success() {
            return Err(fail(EXIT_STORAGE, format!("a worker process exited with {status}")));
        }
    }
    Ok(())
}

/// The Tesseract floor: bare Tesseract (the same engine and models, nothing else) on the
/// given pages, each whole, in one call, the way Tesseract reads a page when used alone.
/// It reads the OCR copy the pipeline gives it (decoded and cleaned first, untimed:
/// Tesseract on an un-deskewed page skips skewed paragraphs and would look faster than
/// it is; the OCR copy timed, as in the pipeline). The pipeline reads the same copy in
/// bands, which costs Tesseract less (see `crate::stages::ocr::bands`); that saving counts in
/// `efficiency`, and `engines_busy` leaves it out. Returns the engines' thread CPU seconds
/// divided by `workers`: the wall time `workers` cores would need if they did nothing but
/// OCR, with no start-up and no tail.
pub fn tesseract_floor(input: &Input, pages: &[usize], ocr: &OcrConfig, workers: usize) -> Result<f64, crate::stages::ocr::OcrError> {
    let engines = (0..workers).map(|_| TesseractEngine::new(ocr)).collect::<Result<Vec<_>, _>>()?;
    let wanted: std::collections::HashSet<usize> = pages.iter().copied().collect();
    let cpu = Mutex::new(0.0f64);
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<(image::GrayImage, f32)>(workers * 2);
        let rx = Arc::new(Mutex::new(rx));
        scope.spawn(move || {
            for page in input.pages().flatten() {
                if !wanted.contains(&page.index) {
                    continue;
                }
                let clean = crate::stages::imaging::clean_page(page);
                let gray = crate::stages::imaging::ocr_page_gray(&clean).into_owned();
                if tx.send((gray, clean.dpi)).is_err() {
                    break;
                }
            }
        });
        for mut engine in engines {
            let (rx, cpu) = (Arc::clone(&rx), &cpu);
            scope.spawn(move || {
                while let Ok(Ok((gray, dpi))) = rx.lock().map(|r| r.recv()) {
                    let t = CpuClock::start();
                    // The OCR copy, as in the pipeline, then bare Tesseract on the whole page.
                    let _ = engine.recognize(&crate::stages::imaging::prepare_for_ocr(&gray), dpi);
                    *cpu.lock().expect("floor counter") += t.seconds();
                }
            });
        }
    });
    Ok(cpu.into_inner().expect("floor counter") / workers as f64)
}

fn shares(t: &StageTimes) -> Vec<StageShare> {
    let stages = t.stages();
    let total: f64 = stages.iter().map(|s| s.1).sum();
    stages.into_iter().map(|(stage, cpu_s)| StageShare { stage, cpu_s, share: if total > 0.0 { cpu_s / total } else { 0.0 } }).collect()
}

/// Resets the kernel's peak-RSS mark (VmHWM) so the next reading covers only the run.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

fn print_report(r: &BenchReport) {
    println!("input            {}", r.input);
    if r.processes > 0 {
        println!("pages            {} ({} content), {} worker process(es) x {} thread(s)", r.pages, r.content_pages, r.processes, r.workers);
    } else {
        println!("pages            {} ({} content), {} worker thread(s)", r.pages, r.content_pages, r.workers);
    }
    println!("stored           {} documents, {:.1} KB/page{}", r.documents, r.bytes_per_page / 1000.0, if r.signed { ", signed" } else { "" });
    println!("wall             {:.1} s", r.wall_s);
    println!("pages/min        {:.1}", r.pages_per_min);
    println!("content pages/min {:.1}", r.content_pages_per_min);
    if r.processes == 0 {
        println!("peak memory      {:.0} MiB", r.peak_rss_mb);
    }
    println!("tesseract floor  {:.1} s ({:.1} content pages/min)", r.floor_s, r.floor_content_pages_per_min);
    println!("efficiency       {:.3}", r.efficiency);
    if r.processes == 0 {
        println!("engines busy     {:.3}", r.engines_busy);
    }
    println!("CPU per stage:");
    for s in &r.stages {
        println!("  {:<8} {:>8.2} s  {:>5.1}%", s.stage, s.cpu_s, s.share * 100.0);
    }
}

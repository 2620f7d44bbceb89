#!/usr/bin/env python3
"""sohoa against OCRmyPDF on the same generated batch: pages/min and character error rate.

    scripts/compare_ocrmypdf.py [--seed 11] [--dpi 300] [--dossiers 3] [--max-skew 5] [--jobs N]

Generates a batch with ground truth (`sohoa generate`), runs `sohoa process` and
`ocrmypdf -l vie --deskew --rotate-pages -j N` on it (OCRmyPDF gets the same pages as a
PDF made losslessly with img2pdf; that conversion is not timed), then scores the text
`pdftotext` pulls out of each tool's PDFs against the truth, on content pages only
(separator sheets and blank backs have no text to score). CER is the Levenshtein
distance over the reference length after collapsing whitespace, as in src/tools/samples/cer.rs.

Installs what is missing: `pip install ocrmypdf rapidfuzz img2pdf`, apt `ghostscript`.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time


def need(cmd, install):
    if shutil.which(cmd) is None:
        print(f"installing {install}...", file=sys.stderr)
        subprocess.run(install, shell=True, check=True)


def norm(s):
    return " ".join(s.split())


def pdftotext(pdf, page=None, raw=False):
    args = ["pdftotext", "-enc", "UTF-8"] + (["-raw"] if raw else [])
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run(args + [pdf, "-"], capture_output=True, check=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--dpi", type=float, default=300)
    ap.add_argument("--dossiers", type=int, default=3)
    ap.add_argument("--max-skew", type=float, default=5)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--keep", action="store_true", help="keep the work folder, with per-page texts in pages.json")
    ap.add_argument("--sohoa", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/sohoa/target")), "release", "sohoa"))
    args = ap.parse_args()

    need("gs", "apt-get install -y -qq --no-install-recommends ghostscript >&2")
    need("ocrmypdf", "pip install -q ocrmypdf >&2")
    need("img2pdf", "pip install -q img2pdf >&2")
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rapidfuzz"], check=True)
        from rapidfuzz.distance import Levenshtein

    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    work = tempfile.mkdtemp(prefix="sohoa-vs-ocrmypdf-")
    subprocess.run([args.sohoa, "generate", work, "--seed", str(args.seed), "--dpi", str(args.dpi),
                    "--dossiers", str(args.dossiers), "--max-skew", str(args.max_skew)], check=True, env=env)
    tif = os.path.join(work, "batch.tif")
    truth = json.load(open(os.path.join(work, "batch.truth.json")))
    content = [p for p in truth["pages"] if p["kind"] == "content"]

    # sohoa
    t = time.monotonic()
    out = subprocess.run([args.sohoa, "process", tif, "--data", os.path.join(work, "data"), "--json",
                          "--workers", str(args.jobs)], capture_output=True, check=True, env=env)
    sohoa_s = time.monotonic() - t
    batch = json.loads(out.stdout)["batches"][0]
    sohoa_text, sohoa_raw = {}, {}
    for d in batch["dossiers"]:
        for doc in d["documents"]:
            pdf = os.path.join(work, doc["id"] + ".pdf")
            subprocess.run([args.sohoa, "get", doc["id"], "-o", pdf, "--data", os.path.join(work, "data")],
                           check=True, env=env, capture_output=True)
            for j, src in enumerate(doc["source_pages"]):
                sohoa_text[src] = pdftotext(pdf, j + 1)
                sohoa_raw[src] = pdftotext(pdf, j + 1, raw=True)

    # OCRmyPDF (the same pages as an image PDF)
    src_pdf = os.path.join(work, "batch.pdf")
    subprocess.run(["img2pdf", tif, "-o", src_pdf], check=True)
    ocr_pdf = os.path.join(work, "ocrmypdf.pdf")
    t = time.monotonic()
    subprocess.run(["ocrmypdf", "-q", "-l", "vie", "--deskew", "--rotate-pages", "-j", str(args.jobs),
                    src_pdf, ocr_pdf], check=True, env=env)
    ocrmypdf_s = time.monotonic() - t

    def cer(get):
        errors = chars = 0
        for p in content:
            ref = norm(p["text"])
            errors += Levenshtein.distance(ref, norm(get(p["index"])))
            chars += len(ref)
        return errors / max(chars, 1)

    n = len(truth["pages"])
    rows = [
        ("sohoa", sohoa_s, cer(lambda i: sohoa_text.get(i, "")), cer(lambda i: sohoa_raw.get(i, ""))),
        ("OCRmyPDF", ocrmypdf_s, cer(lambda i: pdftotext(ocr_pdf, i + 1)), cer(lambda i: pdftotext(ocr_pdf, i + 1, raw=True))),
    ]
    print(f"batch: {n} pages ({len(content)} content) at {args.dpi:g} dpi, skew up to ±{args.max_skew:g}°, seed {args.seed}, {args.jobs} jobs")
    print(f"{'tool':<10} {'wall s':>8} {'pages/min':>10} {'CER % (pdftotext)':>18} {'CER % (-raw)':>13}")
    for name, s, c, r in rows:
        print(f"{name:<10} {s:>8.1f} {n * 60 / s:>10.1f} {c * 100:>18.2f} {r * 100:>13.2f}")
    print(f"speed-up: {ocrmypdf_s / sohoa_s:.2f}x")
    print(json.dumps({"pages": n, "content_pages": len(content),
                      "sohoa": {"wall_s": sohoa_s, "pages_per_min": n * 60 / sohoa_s, "cer": rows[0][2], "cer_raw": rows[0][3]},
                      "ocrmypdf": {"wall_s": ocrmypdf_s, "pages_per_min": n * 60 / ocrmypdf_s, "cer": rows[1][2], "cer_raw": rows[1][3]}}))
    if args.keep:
        pages = [{"index": p["index"], "truth": norm(p["text"]), "sohoa": norm(sohoa_text.get(p["index"], "")),
                  "ocrmypdf": norm(pdftotext(ocr_pdf, p["index"] + 1))} for p in content]
        json.dump(pages, open(os.path.join(work, "pages.json"), "w"), ensure_ascii=False, indent=1)
        print(f"kept {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

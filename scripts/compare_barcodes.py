#!/usr/bin/env python3
"""Runs zxing-cpp (PyPI `zxing-cpp`, the reader paperless-ngx uses) on the generated
separator set and prints its recall next to sohoa's.

Usage:
  cargo run --release --example separator_set -- --seed 1 --sheets 300 --content 300 --write DIR
  scripts/compare_barcodes.py DIR

The example prints sohoa's figures (and writes DIR/truth.json and one PNG per page); this
script reads the same PNGs with `zxingcpp.read_barcodes` (default options: all formats,
try rotate, try downscale, as paperless-ngx calls it) and prints, for zxing-cpp:
- recall on the sheets: sheets whose separator payload is among the texts read, overall
  and per symbology (zxing-cpp has no Kodak patch-code reader, so patch sheets are listed
  apart and counted both ways);
- false separators: content pages where a text read matches the default separator
  convention (`HS:<code>`, `TP:<type>`, `PATCHT`);
- mean time per page.
The sheets zxing-cpp misses are listed with their description.

Installs zxing-cpp and Pillow with pip if they are missing; if that fails, prints a clear
message on stderr and exits with status 3. Not part of CI.
"""

import json
import os
import re
from pip_tools import import_or_install
import sys
import time

PACKAGES = ["zxing-cpp", "Pillow"]
SEPARATOR = re.compile(r"^(HS:\s*\S.*|TP:\s*\S.*|PATCHT)$")


def version():
    try:
        from importlib.metadata import version as v

        return v("zxing-cpp")
    except Exception:
        return "?"


def import_tools():
    import zxingcpp
    from PIL import Image

    return zxingcpp, Image


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = sys.argv[1]
    tools, failure = import_or_install("compare_barcodes", PACKAGES, import_tools)
    if failure:
        print(f"compare_barcodes: zxing-cpp could not be installed ({failure}); no comparison was made.", file=sys.stderr)
        return 3
    zxingcpp, Image = tools
    with open(os.path.join(folder, "truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    per_sym = {}
    read = sheets = false_seps = content = 0
    total_s = 0.0
    missed = []
    for page in truth:
        img = Image.open(os.path.join(folder, page["file"]))
        t = time.perf_counter()
        texts = [r.text for r in zxingcpp.read_barcodes(img)]
        total_s += time.perf_counter() - t
        payload = page["payload"]
        seps = [x for x in texts if SEPARATOR.match(x.strip())]
        if payload is None:
            content += 1
            false_seps += bool(seps)
            continue
        sheets += 1
        ok = payload in texts and all(s == payload for s in seps)
        read += ok
        sym = page["symbology"]
        n, k = per_sym.get(sym, (0, 0))
        per_sym[sym] = (n + 1, k + ok)
        if not ok:
            missed.append((page["file"], payload, texts, page["describe"]))
    for m in missed:
        print("zxing-cpp missed %s %r read %r: %s" % m)
    patch_n = per_sym.get("PATCH_CODE", (0, 0))[0]
    print(
        "zxing-cpp %s: sheets read %d/%d (%.1f%%); without patch sheets %d/%d (%.1f%%); false separators %d/%d; mean %.1f ms/page"
        % (
            version(),
            read,
            sheets,
            100.0 * read / max(sheets, 1),
            read - per_sym.get("PATCH_CODE", (0, 0))[1],
            sheets - patch_n,
            100.0 * (read - per_sym.get("PATCH_CODE", (0, 0))[1]) / max(sheets - patch_n, 1),
            false_seps,
            content,
            1000.0 * total_s / max(len(truth), 1),
        )
    )
    for sym, (n, k) in sorted(per_sym.items()):
        print(f"  {sym}: {k}/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

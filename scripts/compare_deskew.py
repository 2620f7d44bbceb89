#!/usr/bin/env python3
"""Runs the PyPI skew estimators `jdeskew` and `deskew` on the pages `sohoa eval-imaging
--compare` wrote, for a side-by-side comparison with sohoa's own estimate.

Usage: compare_deskew.py DIR   (DIR holds pages.txt, one PNG file name per line)

Prints one JSON object per page and tool on stdout:
  {"file": ..., "tool": ..., "angle_deg": <float or null>, "ms": <float>}
with angles converted to sohoa's convention (positive = content turned counter-clockwise
on screen). Both packages return the angle to rotate by (counter-clockwise positive) to
straighten the page, i.e. minus the content's skew.

Installs the packages with pip if they are missing; if that fails, prints a clear message
on stderr and exits with status 3.
"""

import json
import os
from pip_tools import import_or_install
import sys
import time

PACKAGES = ["jdeskew", "deskew", "opencv-python-headless"]


def import_tools():
    import cv2  # noqa: F401  (image loading)
    from deskew import determine_skew
    from jdeskew.estimator import get_angle

    return determine_skew, get_angle


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = sys.argv[1]
    tools, failure = import_or_install("compare_deskew", PACKAGES, import_tools)
    if failure:
        print(f"compare_deskew: the PyPI packages jdeskew and deskew could not be installed ({failure}); no comparison was made.", file=sys.stderr)
        print(json.dumps({"error": f"jdeskew/deskew not installable: {failure}"}))
        return 3
    determine_skew, get_angle = tools
    import cv2

    with open(os.path.join(folder, "pages.txt"), encoding="utf-8") as f:
        files = [line.strip() for line in f if line.strip()]
    tools = [
        # Defaults as documented by each package.
        ("jdeskew", lambda g: get_angle(g)),
        ("deskew", lambda g: determine_skew(g)),
        # deskew at its finest documented resolution step we could afford (0.1 degree).
        ("deskew (min_deviation=0.1)", lambda g: determine_skew(g, min_deviation=0.1)),
    ]
    for name in files:
        gray = cv2.imread(os.path.join(folder, name), cv2.IMREAD_GRAYSCALE)
        for tool, fn in tools:
            t = time.perf_counter()
            try:
                a = fn(gray)
            except Exception as e:  # a tool failing on a page scores as no angle
                print(f"compare_deskew: {tool} failed on {name}: {e}", file=sys.stderr)
                a = None
            ms = (time.perf_counter() - t) * 1000.0
            angle = None if a is None else -float(a)
            print(json.dumps({"file": name, "tool": tool, "angle_deg": angle, "ms": ms}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Imports the comparison scripts' reference tools, installing them with pip if missing.

Shared by `compare_deskew.py` and `compare_barcodes.py`.
"""

import subprocess
import sys


def import_or_install(script, packages, importer):
    """Returns `(importer(), None)`, installing `packages` with pip first if the import
    fails; `(None, reason)` when they cannot be installed (pip's exit code and the error)."""
    try:
        return importer(), None
    except ImportError:
        pass
    print(f"{script}: installing " + " ".join(packages) + " with pip...", file=sys.stderr)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *packages], stdout=sys.stderr, stderr=sys.stderr)
    try:
        return importer(), None
    except ImportError as e:
        return None, f"pip exit {r.returncode}: {e}"

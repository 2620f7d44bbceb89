#!/usr/bin/env bash
# Installs what sohoa needs on Debian, only what is missing: Tesseract with Vietnamese and
# OSD data, Leptonica, libjpeg-turbo's TurboJPEG (page JPEGs), clang (bindgen), cmake and g++
# (zxing-cpp, built from the crate's bundled sources), poppler-utils (tests read PDFs back with
# pdftotext/pdfinfo), qpdf (tests check the PDF/A output with qpdf --check) and PostgreSQL
# (catalog tests start a real server); with --test also Chromium and its WebDriver (the web UI
# test drives a headless browser), NSS's certutil and openssl (signature tests: pdfsig trusts
# the test root through an NSS database, openssl ts is the test timestamp authority) and
# pyHanko (the second signature verifier, PyPI's pyhanko-cli in a venv under
# $SOHOA_CACHE/pyhanko).
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

for pkg in tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd libtesseract-dev libleptonica-dev libturbojpeg0-dev \
           clang libclang-dev cmake g++ pkg-config poppler-utils qpdf postgresql ca-certificates; do
  have_pkg "$pkg" || need+=("$pkg")
done
if [ "${1:-}" = "--test" ]; then
  for pkg in chromium chromium-driver libnss3-tools openssl python3-venv; do
    have_pkg "$pkg" || need+=("$pkg")
  done
fi
have_cmd cargo || { echo "error: cargo (Rust) is required: https://rustup.rs" >&2; exit 2; }

if [ ${#need[@]} -gt 0 ]; then
  echo "Installing: ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# The test suite also needs Garage (a real S3 server). Built once into the cache outside
# the clone ($SOHOA_CACHE/bin), so a warm machine skips this.
if [ "${1:-}" = "--test" ]; then
  cache="${SOHOA_CACHE:-$HOME/.cache/sohoa}"
  if ! [ -x "$cache/bin/garage" ] && ! command -v garage >/dev/null 2>&1; then
    echo "Installing Garage into $cache/bin (cargo install garage --locked; takes a while once)" >&2
    CARGO_TARGET_DIR="$cache/garage-target" cargo install garage --locked --root "$cache" >&2
    rm -rf "$cache/garage-target"
  fi
fi

# pyHanko, the signature tests' second verifier (tests/it/sign.rs finds it there).
if [ "${1:-}" = "--test" ]; then
  cache="${SOHOA_CACHE:-$HOME/.cache/sohoa}"
  if ! [ -x "$cache/pyhanko/bin/pyhanko" ] && ! command -v pyhanko >/dev/null 2>&1; then
    echo "Installing pyhanko-cli into $cache/pyhanko" >&2
    python3 -m venv "$cache/pyhanko" >&2
    "$cache/pyhanko/bin/pip" install --quiet pyhanko-cli >&2
  fi
fi

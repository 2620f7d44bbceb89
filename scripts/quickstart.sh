#!/usr/bin/env bash
# First README command: install what is missing, build, process the sample batch.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/install-deps.sh
cargo build --release --locked
"$CARGO_TARGET_DIR/release/sohoa" process samples/batch.tif --data ./sohoa-data "$@"

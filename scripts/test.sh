#!/usr/bin/env bash
# Second README command: install what is missing, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/install-deps.sh --test
cargo test --release --locked "$@"

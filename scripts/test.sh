#!/usr/bin/env bash
# Second README command: install what is missing, check the code's form, run the whole
# test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/install-deps.sh --test
# Form first: rustfmt and clippy come with rustup's default profile; a toolchain without
# them skips these two checks with a warning rather than failing the suite.
if cargo fmt --version >/dev/null 2>&1; then cargo fmt --check; else echo "warning: rustfmt missing; format not checked" >&2; fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --release --locked --all-targets -- -D warnings
else
  echo "warning: clippy missing; lints not checked" >&2
fi
# The release binary carries no test-only crate (the PostgreSQL and Garage launchers live
# in the sohoa-testkit dev-dependency).
if cargo tree --locked -e normal -p sohoa --prefix none | grep -E '^(sohoa-testkit|criterion) '; then
  echo "error: a test-only crate is a normal dependency of sohoa" >&2
  exit 1
fi
cargo test --release --locked "$@"

# Sourced by the scripts: build cache outside the clone, so a warm machine does not
# rebuild from zero. Override with SOHOA_CACHE.
export SOHOA_CACHE="${SOHOA_CACHE:-$HOME/.cache/sohoa}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$SOHOA_CACHE/target}"
export PATH="$SOHOA_CACHE/bin:$HOME/.cargo/bin:$PATH"
export OMP_THREAD_LIMIT=1
mkdir -p "$SOHOA_CACHE/bin"

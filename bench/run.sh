#!/bin/sh
# Run the end-to-end benchmark (bench/README.md): builds the release binary, makes sure GNU time
# is there for the peak RSS, and writes bench/RESULTS.md. Extra arguments go to the bench binary.
# Knobs: BENCH_DELAY_MS (25), BENCH_REPS (3), BENCH_BATCH ("100,1000"), BENCH_ONLY, BENCH_DUMP.
set -eu
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/time ]; then
    echo "bench: installing GNU time (Debian package 'time') for the peak RSS" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y time >&2 || echo "bench: could not install it: no peak RSS" >&2
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get install -y time >&2 || echo "bench: could not install it: no peak RSS" >&2
    else
        echo "bench: not root and no sudo: peak RSS will not be measured" >&2
    fi
fi

cargo build --release --bin mailprobe
MAILPROBE_BIN="${MAILPROBE_BIN:-$PWD/target/release/mailprobe}" \
    cargo bench --bench scenarios -- "$@"

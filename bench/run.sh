#!/bin/sh
# Run the end-to-end benchmark (bench/README.md): builds the release binary, makes sure GNU time
# is there for the peak RSS, and writes bench/RESULTS.md. Extra arguments go to the bench binary.
# Knobs: BENCH_DELAY_MS (25), BENCH_REPS (3), BENCH_BATCH ("20,100,1000"), BENCH_ONLY, BENCH_DUMP.
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

# `cargo bench` rebuilds the binary with the dev-dependencies' features unified and puts it at
# target/release/mailprobe too: measure a copy of the plain release build instead.
if [ -z "${MAILPROBE_BIN:-}" ]; then
    cargo build --release --bin mailprobe
    cp target/release/mailprobe target/mailprobe-bench
    MAILPROBE_BIN="$PWD/target/mailprobe-bench"
fi
# The harness itself needs no fat LTO (the measured binary is the release build above): build it
# with thin LTO and 4 codegen units, which is several minutes faster on two cores.
CARGO_PROFILE_BENCH_LTO="${CARGO_PROFILE_BENCH_LTO:-thin}" \
CARGO_PROFILE_BENCH_CODEGEN_UNITS="${CARGO_PROFILE_BENCH_CODEGEN_UNITS:-4}" \
MAILPROBE_BIN="$MAILPROBE_BIN" cargo bench --bench scenarios -- "$@"

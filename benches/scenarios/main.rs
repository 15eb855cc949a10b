//! `cargo bench --bench scenarios`: end-to-end timings of the release `mailprobe` binary against
//! the loopback test stack behind latency-injecting proxies, written to `bench/RESULTS.md`.
//!
//! Without `--bench` (which `cargo bench` passes, `cargo test --all-targets` does not) it exits at
//! once, so the test suite never runs benchmarks. Knobs (environment): `BENCH_DELAY_MS` one-way
//! delay (25), `BENCH_REPS` runs per scenario, median kept (3), `BENCH_BATCH` batch sizes
//! ("20,100,1000"), `BENCH_OUT` output file (bench/RESULTS.md), `MAILPROBE_BIN` binary under test.
//! See bench/README.md for the scenarios, the critical-path formulas and the targets.

// The integration tests' harness; its self-tests are `cfg(test)`, so some imports go unused.
#[path = "../../tests/it/support/mod.rs"]
#[allow(unused_imports)]
mod support;

mod critical;
mod measure;
mod proxy;
mod results;
mod scenarios;
mod verdict;
mod world;

use std::path::PathBuf;
use std::time::Duration;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("scenarios: benchmark skipped (run it with `cargo bench --bench scenarios`)");
        return;
    }
    let delay = Duration::from_millis(env_num("BENCH_DELAY_MS", 25));
    let reps = env_num("BENCH_REPS", 3).clamp(1, 9) as usize;
    let batches: Vec<usize> = std::env::var("BENCH_BATCH")
        .unwrap_or_else(|_| "20,100,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter(|n| *n > 0 && *n <= 5000)
        .collect();
    let out: PathBuf = std::env::var_os("BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/RESULTS.md"));
    let bin = measure::binary();
    assert!(
        bin.exists(),
        "{} does not exist: build it with `cargo build --release` or set MAILPROBE_BIN",
        bin.display()
    );
    let batch_domains = batches.iter().copied().max().unwrap_or(0).min(1000);
    eprintln!(
        "scenarios: {} | one-way delay {} ms | {} run(s) each | batches {:?}",
        bin.display(),
        delay.as_millis(),
        reps,
        batches
    );
    let world = world::World::start(delay, batch_domains);
    eprintln!(
        "scenarios: mail stack up in {} ms",
        world.stack.start_time.as_millis()
    );
    let cfg = scenarios::Config { bin, reps, batches };
    let results = scenarios::run_all(&world, &cfg);
    let md = results::markdown(&results, &world, &cfg);
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, &md).expect("write results");
    println!("{md}");
    eprintln!("scenarios: wrote {}", out.display());
}

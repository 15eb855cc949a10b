//! Running the `mailprobe` binary and measuring it: wall time (our own clock around the child),
//! peak RSS (`/usr/bin/time -v`, "Maximum resident set size"), exit code and output. Every run
//! is bounded: the child is killed when it exceeds its limit.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// GNU time (Debian package `time`); its `-v` report has the peak RSS.
pub const GNU_TIME: &str = "/usr/bin/time";

/// One measured run.
#[derive(Debug, Clone)]
pub struct Run {
    pub wall: Duration,
    /// Peak resident set size in KiB (None without GNU time).
    pub rss_kib: Option<u64>,
    /// Exit code (None: killed at the limit or by a signal).
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.stdout).ok()
    }
}

/// The binary under test: `$MAILPROBE_BIN`, else the one Cargo built for this bench (with
/// `cargo bench` that is the release-profile build), else `target/release/mailprobe`.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MAILPROBE_BIN") {
        return PathBuf::from(p);
    }
    if let Some(p) = option_env!("CARGO_BIN_EXE_mailprobe") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/mailprobe")
}

/// Run `bin args` with a clean environment (as the integration tests do) plus `env`, under GNU
/// time when it is installed; kill it after `limit`.
pub fn run(bin: &Path, args: &[String], env: &[(&str, &str)], limit: Duration) -> Run {
    let time_out = tempfile::NamedTempFile::new().expect("temp file");
    let use_time = Path::new(GNU_TIME).exists();
    let mut cmd = if use_time {
        let mut c = Command::new(GNU_TIME);
        c.arg("-v").arg("-o").arg(time_out.path()).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("HOME", std::env::temp_dir())
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out_file = tempfile::tempfile().expect("temp file");
    let err_file = tempfile::tempfile().expect("temp file");
    cmd.stdout(out_file.try_clone().expect("dup"))
        .stderr(err_file.try_clone().expect("dup"));
    let t0 = Instant::now();
    let mut child = cmd.spawn().expect("spawn mailprobe");
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if t0.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(_) => break None,
        }
    };
    let wall = t0.elapsed();
    let read = |mut f: std::fs::File| {
        use std::io::{Read, Seek};
        let mut v = Vec::new();
        let _ = f.seek(std::io::SeekFrom::Start(0));
        let _ = f.read_to_end(&mut v);
        v
    };
    let rss_kib = use_time
        .then(|| std::fs::read_to_string(time_out.path()).ok())
        .flatten()
        .and_then(|t| parse_max_rss(&t));
    Run {
        wall,
        rss_kib,
        code: status.and_then(|s| s.code()),
        stdout: read(out_file),
        stderr: read(err_file),
    }
}

/// `Maximum resident set size (kbytes): 12345` from `time -v`.
pub fn parse_max_rss(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
}

/// Median of the runs by wall time (the run itself, so its RSS and output go with it).
pub fn median(mut runs: Vec<Run>) -> Run {
    runs.sort_by_key(|r| r.wall);
    let mid = runs.len() / 2;
    runs.swap_remove(mid)
}

/// `--version`, `n` times back to back, directly (no GNU time in between): (median, min).
pub fn version_time(bin: &Path, n: usize) -> (Duration, Duration) {
    let mut v: Vec<Duration> = (0..n)
        .map(|_| {
            let t0 = Instant::now();
            let _ = Command::new(bin)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            t0.elapsed()
        })
        .collect();
    v.sort();
    (v[v.len() / 2], v[0])
}

pub fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

//! The scenarios: what is run, how often, and the critical path each is compared with.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::critical;
use crate::measure::{self, Run};
use crate::support::http::Reply;
use crate::world::{View, World};

/// Per-step timeout given to every run (a black hole or a hang costs this much when waited for).
pub const STEP_TIMEOUT_S: u64 = 3;
/// `check --concurrency` and `--per-host` defaults (CLI); in a batch the per-host limit holds
/// across all addresses.
pub const CONCURRENCY: usize = 16;
pub const PER_HOST: usize = 4;

pub struct Config {
    pub bin: PathBuf,
    pub reps: usize,
    pub batches: Vec<usize>,
}

/// One line of the results table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub key: String,
    pub name: String,
    pub command: String,
    pub wall: Option<Duration>,
    pub cp: Option<Duration>,
    pub cp_desc: String,
    pub rss_kib: Option<u64>,
    pub wall_c1: Option<Duration>,
    pub note: String,
    /// `check` rows: the critical path with the shared names already cached (batch basis).
    pub cp_warm: Option<Duration>,
    pub cp_warm_desc: String,
    /// `check` rows: the critical path of the same check in a batch's first wave (cold cache,
    /// no Receiving section).
    pub cp_cold_batch: Option<Duration>,
    /// `check` rows: per host, RTTs its probes hold a connection slot (warm cache).
    pub occupancy: Vec<(String, u32)>,
}

/// Everything measured.
#[derive(Debug, Default)]
pub struct Results {
    pub rows: Vec<Row>,
    /// `--version`: (median, min) over `VERSION_RUNS`.
    pub version: Option<(Duration, Duration)>,
    pub binary_size: Option<u64>,
    /// The discover run with a hanging source: (wall, that source's timeout).
    pub hang: Option<(Duration, Duration)>,
}

pub const VERSION_RUNS: usize = 200;

pub(crate) fn rtt_ms(w: &World) -> u64 {
    w.rtt().as_millis() as u64
}

pub(crate) fn reps(
    cfg: &Config,
    args: &[String],
    env: &[(&str, &str)],
    limit: Duration,
    n: usize,
) -> Run {
    let runs = (0..n.max(1))
        .map(|_| measure::run(&cfg.bin, args, env, limit))
        .collect();
    measure::median(runs)
}

/// `BENCH_DUMP=DIR` keeps each scenario's output (`DIR/KEY.json`, `DIR/KEY.stderr`).
pub(crate) fn dump(key: &str, r: &Run) {
    if let Some(dir) = std::env::var_os("BENCH_DUMP") {
        let dir = PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{key}.json")), &r.stdout);
        let _ = std::fs::write(dir.join(format!("{key}.stderr")), &r.stderr);
    }
}

pub(crate) fn base(cmd: &[&str], w: &World, view: View) -> Vec<String> {
    let mut a: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    a.extend(
        [
            "--json",
            "--timeout",
            &STEP_TIMEOUT_S.to_string(),
            "--deadline",
            "60",
        ]
        .map(String::from),
    );
    a.extend(w.args(view));
    a
}

pub(crate) fn shown(cmd: &[&str], extra: &str) -> String {
    format!("`mailprobe {} --json{extra}`", cmd.join(" "))
}

/// What went wrong, for the table, when a run did not give a report.
pub(crate) fn failure(r: &Run) -> String {
    let err = String::from_utf8_lossy(&r.stderr);
    let line = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    match r.code {
        None => format!("killed at the limit after {} ms", measure::ms(r.wall)),
        Some(c) => format!(
            "exit {c}, no JSON report: {}",
            line.chars().take(120).collect::<String>()
        ),
    }
}

/// `BENCH_ONLY=check,discover` runs only the scenarios whose key starts with one of these.
fn wanted(key: &str) -> bool {
    match std::env::var("BENCH_ONLY") {
        Ok(v) if !v.trim().is_empty() => v.split(',').any(|k| key.starts_with(k.trim())),
        _ => true,
    }
}

pub fn run_all(w: &World, cfg: &Config) -> Results {
    let mut res = Results {
        binary_size: std::fs::metadata(&cfg.bin).ok().map(|m| m.len()),
        ..Results::default()
    };
    eprintln!("scenarios: --version x{VERSION_RUNS}");
    res.version = Some(measure::version_time(&cfg.bin, VERSION_RUNS));
    if wanted("discover") {
        res.rows.push(discover(w, cfg));
        let (row, hang) = discover_hang(w, cfg);
        res.rows.push(row);
        res.hang = hang;
    }
    if wanted("check") {
        res.rows
            .push(check(w, cfg, View::Plain, "check", "alice@example.test"));
        res.rows.push(check(
            w,
            cfg,
            View::Blackholes,
            "check-blackholes",
            "alice@example.test",
        ));
    }
    if wanted("verdict") {
        for delayed in [false, true] {
            res.rows
                .push(crate::verdict::creds_vs_probe(w, cfg, delayed));
            res.rows.push(crate::verdict::port25(w, cfg, delayed));
        }
    }
    if wanted("roundtrip") {
        res.rows.push(roundtrip(w, cfg));
    }
    if wanted("audit") {
        res.rows.push(audit(w, cfg));
    }
    if wanted("batch") && !cfg.batches.is_empty() {
        let one = check(w, cfg, View::Plain, "check-hosted", "user@d0000.test");
        let default = BatchKind {
            delayed: true,
            per_host: PER_HOST,
        };
        for &n in &cfg.batches {
            res.rows.push(batch(w, cfg, n, &one, default));
        }
        if let Some(&n) = cfg.batches.iter().max() {
            // What limits the big batch: the per-host limit (here raised to the concurrency).
            let wide = BatchKind {
                per_host: CONCURRENCY,
                ..default
            };
            res.rows.push(batch(w, cfg, n, &one, wide));
            w.set_delay(Duration::ZERO);
            let plain = BatchKind {
                delayed: false,
                ..default
            };
            res.rows.push(batch(w, cfg, n, &one, plain));
            w.set_delay(w.delay);
        }
        res.rows.push(one);
    }
    res
}

/// The same runs with `--concurrency 1` (everything one at a time), for the comparison; the
/// output is kept as `KEY-c1` with `BENCH_DUMP`.
fn one_at_a_time(
    cfg: &Config,
    key: &str,
    args: &[String],
    env: &[(&str, &str)],
    limit: Duration,
) -> Run {
    let mut a = args.to_vec();
    a.extend(["--concurrency".to_string(), "1".to_string()]);
    let r = reps(cfg, &a, env, limit, cfg.reps);
    dump(&format!("{key}-c1"), &r);
    r
}

fn discover(w: &World, cfg: &Config) -> Row {
    let cmd = ["discover", "alice@example.test"];
    eprintln!("scenarios: discover");
    let r = reps(
        cfg,
        &base(&cmd, w, View::Plain),
        &[],
        Duration::from_secs(30),
        cfg.reps,
    );
    dump("discover", &r);
    let r1 = one_at_a_time(
        cfg,
        "discover",
        &base(&cmd, w, View::Plain),
        &[],
        Duration::from_secs(30),
    );
    let chains = critical::discovery("example.test", Some("mx.mailhost.test"), false);
    let (src, n) = chains
        .iter()
        .max_by_key(|c| c.1)
        .copied()
        .unwrap_or(("none", 0));
    let mut row = Row {
        key: "discover".into(),
        name: "discover, all sources".into(),
        command: shown(&cmd, ""),
        wall: Some(r.wall),
        cp: Some(w.rtt() * n),
        cp_desc: format!("{n} RTT ({src})"),
        rss_kib: r.rss_kib,
        wall_c1: r1.code.map(|_| r1.wall),
        note: String::new(),
        ..Row::default()
    };
    match r.json() {
        Some(v) => {
            row.note = format!(
                "{} candidates, status {}",
                v["discovery"]["candidates"].as_array().map_or(0, Vec::len),
                v["status"].as_str().unwrap_or("?")
            )
        }
        None => row.note = failure(&r),
    }
    row
}

fn discover_hang(w: &World, cfg: &Config) -> (Row, Option<(Duration, Duration)>) {
    let cmd = ["discover", "alice@example.test"];
    eprintln!("scenarios: discover with a hanging autoconfig server");
    let path = "/mail/config-v1.1.xml";
    w.http
        .set_route("autoconfig.example.test", path, Reply::Hang);
    let r = reps(
        cfg,
        &base(&cmd, w, View::Plain),
        &[],
        Duration::from_secs(30),
        cfg.reps,
    );
    let r1 = one_at_a_time(
        cfg,
        "discover-hang",
        &base(&cmd, w, View::Plain),
        &[],
        Duration::from_secs(30),
    );
    w.http.set_route(
        "autoconfig.example.test",
        path,
        crate::world::autoconfig_reply(),
    );
    dump("discover-hang", &r);
    let timeout = Duration::from_secs(STEP_TIMEOUT_S);
    let mut row = Row {
        key: "discover-hang".into(),
        name: "discover, autoconfig server hangs".into(),
        command: shown(&cmd, &format!(" --timeout {STEP_TIMEOUT_S}")),
        wall: Some(r.wall),
        cp: Some(timeout),
        cp_desc: format!("the hanging source's timeout ({STEP_TIMEOUT_S} s)"),
        rss_kib: r.rss_kib,
        wall_c1: r1.code.map(|_| r1.wall),
        ..Row::default()
    };
    let hang = match r.json() {
        Some(v) => {
            let timed_out = v["discovery"]["attempts"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|x| x["reason"].as_str().unwrap_or("").contains("timed out"))
                        .count()
                })
                .unwrap_or(0);
            row.note = format!(
                "{timed_out} attempt(s) timed out; margin over the timeout {} ms; {} candidates",
                r.wall.as_millis() as i64 - timeout.as_millis() as i64,
                v["discovery"]["candidates"].as_array().map_or(0, Vec::len)
            );
            Some((r.wall, timeout))
        }
        None => {
            row.note = failure(&r);
            None
        }
    };
    (row, hang)
}

fn check(w: &World, cfg: &Config, view: View, key: &str, addr: &str) -> Row {
    let cmd = ["check", addr];
    eprintln!("scenarios: {key}");
    let args = base(&cmd, w, view);
    let r = reps(cfg, &args, &[], Duration::from_secs(60), cfg.reps);
    let r1 = one_at_a_time(cfg, key, &args, &[], Duration::from_secs(60));
    dump(key, &r);
    let name = match key {
        "check" => "check, all sources",
        "check-blackholes" => "check, 3 black-holed candidates",
        _ => "check, hosted domain (SRV + MX)",
    };
    let mut row = Row {
        key: key.into(),
        name: name.into(),
        command: shown(&cmd, ""),
        wall: Some(r.wall),
        rss_kib: r.rss_kib,
        wall_c1: r1.code.map(|_| r1.wall),
        ..Row::default()
    };
    match r.json() {
        Some(v) if v["probes"].is_array() => {
            let c = critical::check(&v, false);
            row.cp = Some(Duration::from_millis(c.ms(rtt_ms(w))));
            row.cp_desc = format!("{} RTT: {}", c.rtt, c.why);
            // In a batch the shared names are cached after the first addresses, and batch mode
            // runs no Receiving section (src/app/batch.rs probes the settings only).
            let mut basis = v.clone();
            basis["inbound"] = Value::Null;
            let c = critical::check(&basis, true);
            row.cp_warm = Some(Duration::from_millis(c.ms(rtt_ms(w))));
            row.cp_warm_desc = format!("{} RTT: {}", c.rtt, c.why);
            let c = critical::check(&basis, false);
            row.cp_cold_batch = Some(Duration::from_millis(c.ms(rtt_ms(w))));
            row.occupancy = critical::host_occupancy(&v, true);
            let probes = v["probes"].as_array().map_or(0, Vec::len);
            let cancelled = v["probes"]
                .as_array()
                .map_or(0, |a| a.iter().filter(|p| critical::cancelled(p)).count());
            row.note = format!(
                "status {}; {probes} probes, {cancelled} cancelled; incoming {}",
                v["status"].as_str().unwrap_or("?"),
                setting(&v, "incoming"),
            );
            if let Some(v1) = r1.json().filter(|v1| v1["probes"].is_array()) {
                let p1 = critical::check_sequential(&v1);
                let cp1 = Duration::from_millis(p1.ms(rtt_ms(w)));
                row.note.push_str(&format!(
                    "; with --concurrency 1 the chain is {} RTT{} = {} ms ({}; discovery one lookup at a time too): {:.2}× this path in round trips alone (the sequential run also pays every step's processing time in turn)",
                    p1.rtt,
                    if p1.wait_ms > 0 { format!(" + {} ms", p1.wait_ms) } else { String::new() },
                    measure::ms(cp1),
                    p1.why,
                    cp1.as_secs_f64() / row.cp.map_or(1.0, |c| c.as_secs_f64()),
                ));
            }
        }
        Some(v) => row.note = format!("no probes in the report (status {})", v["status"]),
        None => row.note = failure(&r),
    }
    row
}

pub(crate) fn setting(v: &Value, which: &str) -> String {
    let s = &v["settings"][which];
    if s.is_null() {
        return "none".into();
    }
    format!(
        "{}:{} {}",
        s["host"].as_str().unwrap_or("?"),
        s["port"],
        s["security"].as_str().unwrap_or("")
    )
}

fn roundtrip(w: &World, cfg: &Config) -> Row {
    let cmd = ["roundtrip", "alice@example.test"];
    eprintln!("scenarios: roundtrip");
    let mut args = base(&cmd, w, View::Plain);
    args.extend(["--password-env", "BENCH_PASSWORD", "--wait", "20"].map(String::from));
    let (_, pw) = w.stack.user();
    let r = reps(
        cfg,
        &args,
        &[("BENCH_PASSWORD", pw)],
        Duration::from_secs(60),
        cfg.reps,
    );
    dump("roundtrip", &r);
    let r1 = one_at_a_time(
        cfg,
        "roundtrip",
        &args,
        &[("BENCH_PASSWORD", pw)],
        Duration::from_secs(60),
    );
    let mut row = Row {
        key: "roundtrip".into(),
        name: "roundtrip (submit, deliver, fetch, delete)".into(),
        command: shown(&cmd, " --password-env VAR"),
        wall: Some(r.wall),
        rss_kib: r.rss_kib,
        wall_c1: r1.code.map(|_| r1.wall),
        ..Row::default()
    };
    match r.json() {
        Some(v) => {
            let (cp, desc, note) = critical::roundtrip(&v, rtt_ms(w));
            row.cp = cp;
            row.cp_desc = desc;
            row.note = note;
        }
        None => row.note = failure(&r),
    }
    row
}

/// Batches of a world: with the injected delay or not, with the default per-host limit or more.
#[derive(Debug, Clone, Copy)]
struct BatchKind {
    delayed: bool,
    per_host: usize,
}

/// Largest batch also run with `--concurrency 1` (a sequential batch is N × a single check).
const C1_BATCH_MAX: usize = 20;

fn batch(w: &World, cfg: &Config, n: usize, one: &Row, kind: BatchKind) -> Row {
    let BatchKind { delayed, per_host } = kind;
    let mut key = format!("batch-{n}");
    let mut name = format!("check --batch, {n} addresses");
    if !delayed {
        key.push_str("-nodelay");
        name.push_str(", **no injected delay** (plain loopback)");
    }
    if per_host != PER_HOST {
        key.push_str(&format!("-perhost{per_host}"));
        name.push_str(&format!(", `--per-host {per_host}`"));
    }
    eprintln!("scenarios: {key}");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = w.batch_file(dir.path(), n);
    let f = file.display().to_string();
    let cmd = ["check", "--batch", f.as_str()];
    let mut args = base(&cmd, w, View::Plain);
    // The deadline covers the whole batch run (the last option wins).
    args.extend(["--deadline".to_string(), "300".to_string()]);
    if per_host != PER_HOST {
        args.extend(["--per-host".to_string(), per_host.to_string()]);
    }
    let limit = Duration::from_secs(300);
    let r = measure::run(&cfg.bin, &args, &[], limit);
    let r1 = (delayed && n <= C1_BATCH_MAX).then(|| {
        let mut c1 = args.clone();
        c1.extend(["--concurrency".to_string(), "1".to_string()]);
        measure::run(&cfg.bin, &c1, &[], limit)
    });
    dump(&key, &r);
    let waves = n.div_ceil(CONCURRENCY) as u32;
    let mut row = Row {
        key: key.clone(),
        name,
        command: format!(
            "`mailprobe check --batch FILE --json{}` ({n} hosted domains)",
            if per_host != PER_HOST {
                format!(" --per-host {per_host}")
            } else {
                String::new()
            }
        ),
        wall: Some(r.wall),
        rss_kib: r.rss_kib,
        wall_c1: r1.as_ref().and_then(|r| r.code.map(|_| r.wall)),
        ..Row::default()
    };
    if let (Some(cp1), Some(cold), true) = (one.cp_warm, one.cp_cold_batch, delayed) {
        // The first wave finds the resolver cache cold, the others warm.
        let by_waves = cold + cp1 * (waves - 1);
        // --per-host holds across the batch: N × (RTTs a host's slots are busy per address) / P.
        let (host, occ) = one
            .occupancy
            .iter()
            .max_by_key(|o| o.1)
            .cloned()
            .unwrap_or_default();
        let by_host = w.rtt() * (n as u32 * occ).div_ceil(per_host as u32);
        row.cp = Some(by_waves.max(by_host));
        row.cp_desc = format!(
            "max(⌈{n}/{CONCURRENCY}⌉ = {waves} waves: the first a cold hosted check ({} ms), the others with the shared names cached ({} ms = {}); per-host limit: {n} × {occ} RTT on {host} / {per_host} = {} ms)",
            measure::ms(cold),
            measure::ms(cp1),
            one.cp_warm_desc,
            measure::ms(by_host)
        );
    }
    let out = String::from_utf8_lossy(&r.stdout);
    let reports = count_reports(&out);
    row.note = if r.code.is_none() || reports == 0 {
        failure(&r)
    } else {
        let err = String::from_utf8_lossy(&r.stderr);
        let summary = err.lines().find(|l| l.contains(" checked:")).unwrap_or("");
        format!(
            "{reports} reports, exit {}; {}",
            r.code.unwrap_or(-1),
            summary.trim()
        )
    };
    if delayed && r1.is_none() && per_host == PER_HOST {
        row.note.push_str(&format!(
            "; --concurrency 1 run only up to {C1_BATCH_MAX} addresses (≈ N × a single check)"
        ));
    }
    row
}

/// Reports in a batch's JSON output (an array, or one JSON document per line).
fn count_reports(out: &str) -> usize {
    if let Ok(v) = serde_json::from_str::<Value>(out) {
        return match v {
            Value::Array(a) => a.len(),
            Value::Object(o) if o.contains_key("reports") => {
                o["reports"].as_array().map_or(0, Vec::len)
            }
            _ => 1,
        };
    }
    out.lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok())
        .count()
}

/// `audit` of a domain with 3 MX × 2 addresses and every policy.
fn audit(w: &World, cfg: &Config) -> Row {
    let cmd = ["audit", crate::world::AUDIT_DOMAIN];
    eprintln!("scenarios: audit");
    let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    args.extend(
        [
            "--json",
            "--timeout",
            &STEP_TIMEOUT_S.to_string(),
            "--deadline",
            "60",
        ]
        .map(String::from),
    );
    // The per-address mappings first: the first matching --connect-to wins.
    args.extend(w.audit_args());
    args.extend(w.args(View::Plain));
    let r = reps(cfg, &args, &[], Duration::from_secs(60), cfg.reps);
    let r1 = one_at_a_time(cfg, "audit", &args, &[], Duration::from_secs(60));
    dump("audit", &r);
    let mut row = Row {
        key: "audit".into(),
        name: "audit, 3 MX × 2 addresses, all policies".into(),
        command: shown(&cmd, ""),
        wall: Some(r.wall),
        rss_kib: r.rss_kib,
        wall_c1: r1.code.map(|_| r1.wall),
        ..Row::default()
    };
    match r.json() {
        Some(v) if v["inbound"].is_object() => {
            let (n, desc) = critical::audit(&v);
            row.cp = Some(w.rtt() * n);
            row.cp_desc = desc;
            let probed = v["inbound"]["mx"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|h| h["addresses"].as_array().into_iter().flatten())
                .filter(|a| a["probe"]["starttls_ok"] == true)
                .count();
            let dane = v["inbound"]["policies"]["dane"]["hosts"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|h| h["addresses"].as_array().into_iter().flatten())
                .filter(|a| a["outcome"] == "valid")
                .count();
            row.note = format!(
                "{probed} addresses with working STARTTLS, DANE valid on {dane}, {} findings, status {}",
                v["findings"].as_array().map_or(0, Vec::len),
                v["status"].as_str().unwrap_or("?")
            );
        }
        Some(v) => row.note = format!("no inbound object (status {})", v["status"]),
        None => row.note = failure(&r),
    }
    row
}

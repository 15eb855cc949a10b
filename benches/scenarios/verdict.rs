//! How soon the verdict comes: a `check` with credentials against `mailprobe probe` of just the
//! two servers it recommends (with the same credentials), and a `check` with port 25 silently
//! filtered against the same `check` with port 25 open. Both on plain loopback and under the
//! injected delay.
//!
//! Targets (bench/README.md): the credentialed `check` takes at most 1.5 × the `probe` of its
//! two servers; the filtered port 25 costs at most 0.5 s more than an open one (port-25 probes
//! are information and hold the run at most 0.5 s past the verdict).

use std::time::Duration;

use serde_json::Value;

use crate::scenarios::{Config, Row, base, dump, failure, reps, setting, shown};
use crate::world::{View, World};

const PASSWORD_ENV: &str = "BENCH_PASSWORD";

/// Runs with the world's delay, or on plain loopback (delay 0) and the delay restored after.
fn with_delay<T>(w: &World, delayed: bool, f: impl FnOnce() -> T) -> T {
    if !delayed {
        w.set_delay(Duration::ZERO);
    }
    let out = f();
    w.set_delay(w.delay);
    out
}

fn label(delayed: bool, w: &World) -> String {
    if delayed {
        format!("RTT {} ms", w.rtt().as_millis())
    } else {
        "plain loopback".into()
    }
}

fn key(base: &str, delayed: bool) -> String {
    if delayed {
        base.to_string()
    } else {
        format!("{base}-nodelay")
    }
}

/// The `probe` URL of one recommended setting (`imaps://host:993`, `submission://host:587`…).
pub fn url(s: &Value) -> Option<String> {
    let scheme = match (s["protocol"].as_str()?, s["security"].as_str()?) {
        ("imap", "tls") => "imaps",
        ("imap", _) => "imap",
        ("pop3", "tls") => "pop3s",
        ("pop3", _) => "pop3",
        ("smtp", "tls") => "submissions",
        ("smtp", _) => "submission",
        _ => return None,
    };
    let plain = if s["security"] == "plain" {
        "?security=plain"
    } else {
        ""
    };
    Some(format!(
        "{scheme}://{}:{}{plain}",
        s["host"].as_str()?,
        s["port"]
    ))
}

fn creds(args: &mut Vec<String>, user: &str) {
    args.extend(["--user", user, "--password-env", PASSWORD_ENV].map(String::from));
}

/// `check` with credentials vs `probe` of the two servers that check recommends.
pub fn creds_vs_probe(w: &World, cfg: &Config, delayed: bool) -> Row {
    let k = key("verdict-creds", delayed);
    eprintln!("scenarios: {k}");
    let (user, pw) = w.stack.user();
    let env = [(PASSWORD_ENV, pw)];
    let cmd = ["check", "alice@example.test"];
    let mut args = base(&cmd, w, View::Plain);
    creds(&mut args, user);
    let limit = Duration::from_secs(60);
    let check = with_delay(w, delayed, || reps(cfg, &args, &env, limit, cfg.reps));
    dump(&k, &check);
    let mut row = Row {
        key: k.clone(),
        name: format!(
            "check with credentials vs probe of its two servers ({})",
            label(delayed, w)
        ),
        command: shown(&cmd, " --user U --password-env VAR"),
        wall: Some(check.wall),
        rss_kib: check.rss_kib,
        ..Row::default()
    };
    let Some(v) = check.json() else {
        row.note = failure(&check);
        return row;
    };
    let urls: Vec<String> = ["incoming", "outgoing"]
        .iter()
        .filter_map(|d| url(&v["settings"][*d]))
        .collect();
    if urls.len() != 2 {
        row.note = format!(
            "check recommended {} server(s): no probe to compare",
            urls.len()
        );
        return row;
    }
    let pcmd: Vec<&str> = ["probe"]
        .into_iter()
        .chain(urls.iter().map(String::as_str))
        .collect();
    let mut pargs = base(&pcmd, w, View::Plain);
    creds(&mut pargs, user);
    let probe = with_delay(w, delayed, || reps(cfg, &pargs, &env, limit, cfg.reps));
    dump(&format!("{k}-probe"), &probe);
    row.cp = Some(probe.wall);
    row.cp_desc = format!(
        "reference, not a critical path: `mailprobe probe {}` with the same credentials",
        urls.join(" ")
    );
    row.note = format!(
        "status {}; incoming {}, outgoing {}; probe status {}; target check ≤ 1.5 × probe",
        v["status"].as_str().unwrap_or("?"),
        setting(&v, "incoming"),
        setting(&v, "outgoing"),
        probe
            .json()
            .and_then(|p| p["status"].as_str().map(str::to_string))
            .unwrap_or_else(|| failure(&probe)),
    );
    row
}

/// `check` with port 25 silently filtered vs the same `check` with port 25 open.
pub fn port25(w: &World, cfg: &Config, delayed: bool) -> Row {
    let k = key("verdict-port25", delayed);
    eprintln!("scenarios: {k}");
    let cmd = ["check", "alice@example.test"];
    let limit = Duration::from_secs(60);
    let open_args = base(&cmd, w, View::Plain);
    let filtered_args = base(&cmd, w, View::Port25Filtered);
    let open = with_delay(w, delayed, || reps(cfg, &open_args, &[], limit, cfg.reps));
    let filtered = with_delay(w, delayed, || {
        reps(cfg, &filtered_args, &[], limit, cfg.reps)
    });
    dump(&format!("{k}-open"), &open);
    dump(&k, &filtered);
    let mut row = Row {
        key: k,
        name: format!("check, port 25 filtered vs open ({})", label(delayed, w)),
        command: shown(&cmd, " (port 25 drops every SYN)"),
        wall: Some(filtered.wall),
        cp: Some(open.wall),
        cp_desc: "reference, not a critical path: the same check with port 25 open".into(),
        rss_kib: filtered.rss_kib,
        ..Row::default()
    };
    let extra = filtered.wall.as_millis() as i64 - open.wall.as_millis() as i64;
    row.note = match filtered.json() {
        Some(v) => format!(
            "status {}; {extra} ms more than with port 25 open (target ≤ 500 ms); port-25 findings: {}",
            v["status"].as_str().unwrap_or("?"),
            port25_findings(&v)
        ),
        None => failure(&filtered),
    };
    row
}

fn port25_findings(v: &Value) -> String {
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["code"].as_str())
                .filter(|c| c.contains("port25"))
                .collect()
        })
        .unwrap_or_default();
    if codes.is_empty() {
        "none".into()
    } else {
        codes.join(", ")
    }
}

//! Hostile text never reaches a terminal raw: the human, Nagios and batch-table renderers over a
//! report whose every free-text field holds control and bidi characters, and a probe of a scripted server
//! whose greeting and replies carry terminal escapes; error messages quoting a hostile file name.

use mailprobe::model::{Report, Thresholds};
use mailprobe::report::{self, batch, human, nagios};
use serde_json::{Value, json};

use crate::support::cmd::mailprobe;
use crate::support::scripted::{ScriptedServer, Step};

/// Retitle the terminal, clear it, paint it red, reverse the text that follows; BEL, CR, C1 CSI.
const HOSTILE: &str = "\x1b]0;owned\x07\x1b[2J\x1b[31mOK\u{202e}gnp.exe\r\n\u{9b}1m\u{2066}";

/// The same on one line, as a server sends it.
const HOSTILE_LINE: &str = "\x1b]0;owned\x07\x1b[2J\x1b[31mOK\u{202e}gnp.exe\u{9b}1m\u{2066}";

/// Characters that must never appear raw in text output.
fn raw_unsafe(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| c != '\n' && report::safe::is_unsafe(c))
        .collect()
}

/// A report with every optional part present (probe with TLS chain, login, transcript; settings;
/// round trip with hops and authentication results; provider; findings with hints).
fn full_report() -> Value {
    let probe = json!({
        "protocol": "imap", "host": "mail.example.test", "port": 993, "security": "tls",
        "sources": ["srv"], "connected_to": "127.0.0.1:993",
        "addresses": [{"address": "127.0.0.1", "family": "ipv4", "result": "connected", "elapsed_ms": 1}],
        "steps": [{"name": "greeting", "status": "ok", "elapsed_ms": 1, "detail": "d"}],
        "greeting": "* OK ready",
        "capabilities_plain": ["IMAP4rev1"], "capabilities": ["IMAP4rev1"], "sasl": ["PLAIN"],
        "tls": {
            "version": "TLSv1.3", "cipher": "TLS13_AES_256_GCM_SHA384", "kx_group": "X25519",
            "verified": false, "verify_error": "unknown-issuer", "names": ["mail.example.test"],
            "not_after": "2030-01-01T00:00:00Z", "days_left": 100, "chain_days_left": 100,
            "chain": [{"subject": "CN=mail", "issuer": "CN=ca", "names": ["mail"],
                "not_before": "2020-01-01T00:00:00Z", "not_after": "2030-01-01T00:00:00Z",
                "days_left": 100, "self_signed": false, "sha256": "ab"}]
        },
        "outcome": {"result": "failed", "phase": "greeting", "error": "e", "hint": "h"},
        "auth": [{"mechanism": "PLAIN", "username": "u", "success": false, "elapsed_ms": 1,
            "response": "a1 NO nope"}],
        "transcript": [{"t_ms": 0, "dir": "S", "line": "* OK ready"}],
        "elapsed_ms": 3
    });
    let setting = json!({"protocol": "imap", "host": "mail.example.test", "port": 993,
        "security": "tls", "username": "u", "auth": ["password-cleartext"]});
    let step = json!({"name": "data", "status": "ok", "elapsed_ms": 1, "detail": "250 ok"});
    let login = json!({"mechanism": "PLAIN", "username": "u", "success": true, "elapsed_ms": 1,
        "response": "235 ok"});
    let finding =
        json!({"severity": "warning", "code": "tls-legacy-only", "message": "m", "hint": "h"});
    json!({
        "schema_version": 1, "command": "check", "address": "a@example.test",
        "domain": "example.test", "domain_unicode": "example.test",
        "discovery": {
            "candidates": [{"protocol": "imap", "host": "mail.example.test", "port": 993,
                "security": "tls", "username": "u", "auth": [], "sources": ["srv"]}],
            "attempts": [{"source": "srv", "target": "_imaps._tcp.example.test",
                "outcome": "error", "reason": "r", "elapsed_ms": 1}],
            "provider": {"id": "p", "name": "P", "matched_by": "domain", "verified": false, "hints": ["h"],
                "documentation": "https://example.test/doc"}
        },
        "probes": [probe],
        "settings": {"incoming": setting, "outgoing": setting},
        "roundtrip": {
            "result": "delivered", "from": "a@example.test", "to": "a@example.test",
            "message_id": "<m@example.test>", "token": "t", "submit_server": "smtp://s:465",
            "submit_steps": [step], "queue_id": "Q1", "fetch_server": "imap://s:993",
            "fetch_method": "IDLE", "folder": "INBOX", "uid": 7,
            "internal_date": "01-Jan-2030 00:00:00 +0000", "latency_ms": 5, "total_ms": 9,
            "hops": [{"from": "f", "by": "b", "with": "ESMTPS", "id": "i",
                "date": "Mon, 1 Jan 2030 00:00:00 +0000", "delay_s": 1}],
            "auth_results": [{"authserv_id": "mx", "method": "spf", "result": "pass",
                "detail": "smtp.mailfrom=example.test"}],
            "deleted": "deleted", "submit_auth": [login], "fetch_auth": [login],
            "findings": [finding]
        },
        "findings": [finding],
        "inbound": {
            "mx": [{"preference": 10, "host": "mx.example.test", "cname": "alias.example.test",
                "addresses": [{"ip": "192.0.2.1"}], "error": "e"}],
            "policies": {"mta_sts": null, "tls_rpt": null, "spf": null, "dmarc": null,
                "dkim": [], "dkim_domainkey": "exists"}
        },
        "status": "warning", "elapsed_ms": 10
    })
}

/// Put [`HOSTILE`] into every string of `v` that the model accepts as free text (enum values
/// such as `"imap"` are left as they are); returns how many fields took it.
fn poison(root: &mut Value, path: &mut Vec<PathPart>) -> usize {
    let here = at(root, path).clone();
    match here {
        Value::String(s) => {
            *at(root, path) = Value::String(format!("{s}{HOSTILE}"));
            if serde_json::from_value::<Report>(root.clone()).is_ok() {
                1
            } else {
                *at(root, path) = Value::String(s);
                0
            }
        }
        Value::Array(a) => (0..a.len())
            .map(|i| {
                path.push(PathPart::Index(i));
                let n = poison(root, path);
                path.pop();
                n
            })
            .sum(),
        Value::Object(m) => m
            .keys()
            .map(|k| {
                path.push(PathPart::Key(k.clone()));
                let n = poison(root, path);
                path.pop();
                n
            })
            .sum(),
        _ => 0,
    }
}

#[derive(Clone)]
enum PathPart {
    Key(String),
    Index(usize),
}

fn at<'a>(mut v: &'a mut Value, path: &[PathPart]) -> &'a mut Value {
    for p in path {
        v = match p {
            PathPart::Key(k) => &mut v[k.as_str()],
            PathPart::Index(i) => &mut v[*i],
        };
    }
    v
}

#[test]
fn renderers_escape_every_string_field() {
    let mut v = full_report();
    serde_json::from_value::<Report>(v.clone()).expect("the full report is a valid model");
    let poisoned = poison(&mut v, &mut Vec::new());
    assert!(poisoned > 60, "only {poisoned} free-text fields poisoned");
    let r: Report = serde_json::from_value(v).unwrap();

    colored::control::set_override(false);
    let text = human::render(&r, human::HumanOptions { all_attempts: true });
    assert_eq!(raw_unsafe(&text), Vec::<char>::new(), "{text}");
    assert!(text.contains("\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mOK\\u{202e}gnp.exe\\x0d\\x0a"));
    let text = nagios::render(&r, &Thresholds::default());
    assert_eq!(raw_unsafe(&text), Vec::<char>::new(), "{text}");
    assert!(text.contains("\\x1b[2J"), "{text}");
    // The batch tables of `check --batch` and `audit`.
    for text in [batch::table_row(&r), batch::audit_table_row(&r)] {
        assert_eq!(raw_unsafe(&text), Vec::<char>::new(), "{text}");
        assert!(text.contains("\\x1b[2J"), "{text}");
    }
    let text = nagios::render_error(HOSTILE);
    assert_eq!(raw_unsafe(&text), Vec::<char>::new(), "{text}");
    // JSON keeps the data as it was (serde writes \u001b).
    let text = report::json::render(&r);
    assert_eq!(raw_unsafe(&text), Vec::<char>::new());
    assert!(text.contains("\\u001b]0;owned"));
}

#[test]
fn probe_of_a_hostile_server_prints_nothing_raw() {
    let s = ScriptedServer::start(vec![
        Step::line(&format!("* OK {HOSTILE_LINE}")),
        Step::expect("a1 CAPABILITY"),
        Step::line(&format!("* CAPABILITY IMAP4rev1 STARTTLS {HOSTILE_LINE}")),
        Step::line("a1 OK done"),
        Step::expect("a2 STARTTLS"),
        Step::line(&format!("a2 NO {HOSTILE_LINE}")),
    ]);
    let url = "imap://mail.example.test:143";
    let to = format!("mail.example.test:143:127.0.0.1:{}", s.port());
    for format in ["human", "nagios"] {
        let out = mailprobe()
            .args(["probe", url, "--transcript", "--connect-to", &to])
            .args(["--format", format, "--color", "always", "--timeout", "3"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("\\x1b]0;owned"), "{format}: {text}");
        // Only our own colour codes (SGR, `ESC [ … m`) may remain with --color always.
        let stripped = strip_sgr(&text);
        assert!(!stripped.contains("\x1b"), "{format}: {stripped:?}");
        assert_eq!(
            raw_unsafe(&stripped),
            Vec::<char>::new(),
            "{format}: {stripped}"
        );
    }
    assert!(s.lines().iter().any(|l| l.starts_with("a2 STARTTLS")));
}

/// `text` without `ESC [ digits ; … m` sequences.
fn strip_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        let n = tail
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(tail.len());
        if tail[n..].starts_with('m') {
            rest = &tail[n + 1..];
        } else {
            out.push_str("\x1b[");
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// An error message quotes what it was given (here a file name); the binary escapes it too.
#[test]
fn an_error_quoting_a_hostile_name_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join(format!("{HOSTILE_LINE}.toml"));
    for extra in [&[][..], &["--json"][..]] {
        let out = mailprobe()
            .arg("--config")
            .arg(&name)
            .args(["discover", "alice@example.com", "--offline"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        for text in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(text);
            assert!(raw_unsafe(&text).is_empty(), "{text:?}");
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(r"\x1b]0;owned\x07"), "{err}");
    }
}

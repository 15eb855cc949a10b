//! CLI contract tests: exit codes, global option placement, renderers (insta snapshots), and the
//! committed JSON schema.

use mailprobe::model::*;
use mailprobe::report::{human, json, schema};

fn mailprobe() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("mailprobe").expect("binary built");
    c.env("NO_COLOR", "1");
    c
}

fn sample_report() -> Report {
    let mut r = Report::new("discover", "alice@example.com", "example.com");
    r.discovery.candidates = vec![
        Candidate {
            protocol: Protocol::Imap,
            host: "mail.example.com".into(),
            port: 993,
            security: Security::Tls,
            username: Some("alice@example.com".into()),
            auth: vec![AuthMethod::PasswordCleartext],
            sources: vec![Source::Autoconfig, Source::Srv],
        },
        Candidate {
            protocol: Protocol::Smtp,
            host: "mail.example.com".into(),
            port: 465,
            security: Security::Tls,
            username: Some("alice@example.com".into()),
            auth: vec![AuthMethod::PasswordCleartext],
            sources: vec![Source::Autoconfig],
        },
    ];
    r.discovery.attempts = vec![
        Attempt {
            source: Source::Autoconfig,
            target: "https://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=alice%40example.com".into(),
            outcome: AttemptOutcome::Found,
            reason: Some("2 server(s)".into()),
            elapsed_ms: 12,
        },
        Attempt {
            source: Source::Srv,
            target: "_imaps._tcp.example.com".into(),
            outcome: AttemptOutcome::Found,
            reason: Some("mail.example.com:993".into()),
            elapsed_ms: 3,
        },
        Attempt {
            source: Source::Autodiscover,
            target: "https://example.com/autodiscover/autodiscover.xml".into(),
            outcome: AttemptOutcome::Error,
            reason: Some("timed out after 10000 ms".into()),
            elapsed_ms: 10001,
        },
    ];
    r.findings = vec![
        Finding::new(
            Severity::Warning,
            FindingCode::SourcesDisagree,
            "autoconfig says imap mail.example.com:993, guess says imap imap.example.com:143",
        )
        .hint("Probe both to see which is right."),
    ];
    r.status = r.status_from_findings();
    r.elapsed_ms = 10004;
    r
}

/// Replace every "<digits> ms" and `"elapsed_ms": <digits>` by a placeholder (times vary).
fn redact_times(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let rest: String = bytes[i..bytes.len().min(i + 3)].iter().collect();
            let before: String = out
                .chars()
                .rev()
                .take(14)
                .collect::<String>()
                .chars()
                .rev()
                .collect();
            if rest.starts_with(" ms")
                || rest.starts_with("ms")
                || before.ends_with("\"elapsed_ms\": ")
            {
                out.push_str("[ms]");
            } else {
                out.extend(&bytes[start..i]);
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn human_renderer_snapshot() {
    colored::control::set_override(false);
    let text = human::render(&sample_report(), human::HumanOptions::default());
    insta::assert_snapshot!("human_discover", redact_times(&text));
}

#[test]
fn json_renderer_snapshot() {
    let text = json::render(&sample_report());
    insta::assert_snapshot!("json_discover", redact_times(&text));
}

#[test]
fn json_schema_is_committed_and_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json");
    let current = schema::report_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(&path)
        .expect("schema/report.schema.json (UPDATE_SCHEMA=1 writes it)");
    assert_eq!(
        committed, current,
        "the report types changed: review, then UPDATE_SCHEMA=1 cargo test json_schema"
    );
}

#[test]
fn real_output_validates_against_schema() {
    let schema: serde_json::Value = serde_json::from_str(&schema::report_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let out = mailprobe()
        .args(["discover", "alice@example.com", "--offline", "--json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let sample = serde_json::to_value(sample_report()).unwrap();
    assert!(validator.is_valid(&sample));
}

#[test]
fn version_names_the_provider_database_date() {
    let out = mailprobe().arg("--version").output().unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.starts_with("mailprobe ") && s.contains("provider database"),
        "{s}"
    );
}

#[test]
fn usage_errors_exit_3_with_a_hint() {
    for args in [
        vec!["discover", "alice"],
        vec!["discover", "@x"],
        vec!["discover", "a@-bad-.com"],
        vec!["--resolve", "nonsense", "discover", "a@example.com"],
        vec!["discover", "a@example.com", "--connect-to", "a:b"],
        vec!["discover", "a@example.com", "--timeout", "-1"],
        vec!["frobnicate"],
    ] {
        let out = mailprobe().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error"), "{args:?}: {err}");
    }
    let long = format!("a@{}.com", "x".repeat(300));
    let out = mailprobe()
        .args(["discover", &long, "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "unknown");
    assert!(v["error"].as_str().unwrap().contains("63"));
}

#[test]
fn global_options_work_before_and_after_the_subcommand() {
    let a = mailprobe()
        .args(["--json", "--offline", "discover", "bob@example.org"])
        .output()
        .unwrap();
    let b = mailprobe()
        .args(["discover", "bob@example.org", "--json", "--offline"])
        .output()
        .unwrap();
    assert_eq!(a.status.code(), b.status.code());
    let va: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let vb: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
    assert_eq!(va["discovery"]["candidates"], vb["discovery"]["candidates"]);
    assert_eq!(va["command"], "discover");
    // --concurrency and --per-host belong to every command, in either position.
    for args in [
        &[
            "--concurrency",
            "1",
            "--per-host",
            "2",
            "discover",
            "bob@example.org",
        ][..],
        &[
            "discover",
            "bob@example.org",
            "--concurrency",
            "1",
            "--per-host",
            "2",
        ][..],
        &["--concurrency", "1", "discover", "bob@example.org", "-v"][..],
    ] {
        let o = mailprobe()
            .args(args)
            .args(["--json", "--offline"])
            .output()
            .unwrap();
        assert!(
            serde_json::from_slice::<serde_json::Value>(&o.stdout).is_ok(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn idn_address_is_punycoded_in_json() {
    let out = mailprobe()
        .args(["discover", "jörg@bücher.example", "--offline", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["domain"], "xn--bcher-kva.example");
    assert_eq!(v["domain_unicode"], "bücher.example");
}

//! Usage errors: exit 3, one clear sentence on stderr, before any network traffic (each test
//! points `--dns` at an in-process server and checks that it got no query); option ranges;
//! logs on a redirected stderr; `--help` headings and the README's option tables.

use std::time::{Duration, Instant};

use crate::support::cmd::mailprobe;
use crate::support::dns::{DnsServer, Zone};

/// Run with `--dns` at a fresh test server; (stderr, exit code), asserting no DNS query.
fn usage_error(args: &[&str]) -> (String, i32) {
    let dns = DnsServer::start_zones(&[Zone::new("example.test")]);
    let out = mailprobe()
        .env("PW", "secret")
        .args(args)
        .args(["--dns", &dns.arg()])
        .write_stdin("")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        dns.queries().is_empty(),
        "{args:?} sent DNS queries: {:?}",
        dns.queries()
    );
    (err, out.status.code().unwrap_or(-1))
}

fn assert_usage(args: &[&str], needle: &str) -> String {
    let (err, code) = usage_error(args);
    assert_eq!(code, 3, "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: want {needle:?} in:\n{err}");
    err
}

#[test]
fn malformed_probe_host_is_a_usage_error() {
    let err = assert_usage(
        &["probe", "imaps://mail..example.com"],
        "the host 'mail..example.com' is not a valid host name: empty label (two dots in a row)",
    );
    assert!(!err.to_lowercase().contains("dns"), "{err}");
    assert_usage(&["probe", "imaps://-mail.example.test"], "hyphen");
}

#[test]
fn network_commands_refuse_offline() {
    for args in [
        &["check", "alice@example.test", "--offline"][..],
        &["--offline", "probe", "imaps://mail.example.test"][..],
        &[
            "roundtrip",
            "alice@example.test",
            "--password-env",
            "PW",
            "--offline",
        ][..],
    ] {
        assert_usage(
            args,
            "connects to mail servers and cannot run with --offline",
        );
    }
}

#[test]
fn timeout_range_is_the_real_range() {
    for v in ["0", "-1", "86401"] {
        let err = assert_usage(
            &["discover", "alice@example.test", "--timeout", v],
            "must be between 1 and 86400 seconds",
        );
        assert!(!err.contains("-- -1"), "clap's tip for {v}: {err}");
    }
}

#[test]
fn huge_concurrency_is_refused_at_parse_time() {
    let started = Instant::now();
    let err = assert_usage(
        &[
            "discover",
            "alice@example.test",
            "--concurrency",
            "18446744073709551615",
        ],
        "must be a whole number between 1 and 1024",
    );
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
}

#[test]
fn zero_concurrency_and_per_host_are_errors() {
    assert_usage(
        &["check", "alice@example.test", "--concurrency", "0"],
        "'--concurrency <N>': must be a whole number between 1 and 1024",
    );
    assert_usage(
        &["--per-host", "0", "check", "alice@example.test"],
        "'--per-host <N>': must be a whole number between 1 and 64",
    );
}

#[test]
fn warn_cert_days_below_crit_is_an_error() {
    assert_usage(
        &[
            "check",
            "alice@example.test",
            "--warn-cert-days",
            "5",
            "--crit-cert-days",
            "10",
        ],
        "--warn-cert-days (5) must not be below --crit-cert-days (10)",
    );
}

#[test]
fn json_with_another_format_is_an_error() {
    for f in ["human", "nagios"] {
        assert_usage(
            &["discover", "alice@example.test", "--json", "--format", f],
            &format!("--json and --format {f} ask for two output formats"),
        );
    }
}

#[test]
fn roundtrip_to_is_checked_up_front() {
    assert_usage(
        &[
            "roundtrip",
            "alice@example.test",
            "--password-env",
            "PW",
            "--to",
            "not-an-address",
        ],
        "--to: 'not-an-address' is not an email address: it has no '@'",
    );
}

#[test]
fn user_without_password_and_without_terminal_is_an_error() {
    let err = assert_usage(
        &[
            "probe",
            "imaps://mail.example.test",
            "--user",
            "alice@example.test",
        ],
        "--user alice@example.test asks for a login but no password was given",
    );
    for opt in ["--password-env", "--password-stdin", "--password-file"] {
        assert!(err.contains(opt), "{err}");
    }
}

#[test]
fn address_errors_hint_only_when_not_an_address() {
    let err = assert_usage(
        &["discover", "alice@gmail.com@", "--offline"],
        "'alice@gmail.com@' has 2 '@' signs",
    );
    assert!(!err.contains("hint:"), "{err}");
    let err = assert_usage(&["discover", "a@-bad-.com", "--offline"], "hyphen");
    assert!(!err.contains("hint:"), "{err}");
    assert_usage(
        &["discover", "alice", "--offline"],
        "hint: give a full address such as alice@example.com",
    );
}

#[test]
fn verbose_logs_on_a_redirected_stderr_have_no_colour() {
    let dns = DnsServer::start_zones(&[Zone::new("example.test")]);
    let run = |extra: &[&str]| {
        let out = mailprobe()
            .env_remove("NO_COLOR")
            .args(["discover", "alice@example.test", "--dns", &dns.arg()])
            .args([
                // A name the test zone does not have: the ISPDB fetch ends at the lookup.
                "--ispdb-url",
                "http://ispdb.example.test/",
                "--timeout",
                "2",
                "--deadline",
                "5",
            ])
            .args(extra)
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let vv = run(&["-vv"]);
    assert!(!vv.contains('\x1b'), "colour codes on a pipe:\n{vv}");
    assert!(vv.contains("discovery attempt"), "our steps at -vv:\n{vv}");
    assert!(!vv.contains("hickory"), "DNS library lines at -vv:\n{vv}");
    let v = run(&["-v"]);
    assert!(v.contains("discovery source answered") && !v.contains("discovery attempt"));
    let vvv = run(&["-vvv"]);
    assert!(
        vvv.contains("hickory"),
        "no DNS library lines at -vvv:\n{vvv}"
    );
    assert!(run(&["-v", "--color", "always"]).contains('\x1b'));
}

/// The headings of `COMMAND --help`, in order.
fn help_headings(command: &str) -> Vec<String> {
    let out = mailprobe().args([command, "--help"]).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.ends_with(':') && !l.starts_with(' '))
        .map(|l| l.trim_end_matches(':').to_string())
        .collect()
}

#[test]
fn check_help_groups_options_under_headings() {
    let want = [
        "Discovery",
        "Network",
        "Credentials",
        "Output",
        "Thresholds",
        "Batch",
    ];
    let got = help_headings("check");
    let order: Vec<&str> = got
        .iter()
        .map(String::as_str)
        .filter(|h| want.contains(h))
        .collect();
    assert_eq!(order, want, "{got:?}");
    let help = String::from_utf8(
        mailprobe()
            .args(["check", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let section = |h: &str| {
        let start = help.find(&format!("\n{h}:\n")).unwrap();
        let rest = &help[start + 2..];
        rest[..rest.find("\n\n").unwrap_or(rest.len())].to_string()
    };
    assert!(section("Network").contains("--timeout"));
    assert!(section("Credentials").contains("--password-env"));
    assert!(section("Output").contains("--transcript"));
    assert!(section("Batch").contains("--password-env-prefix"));
    // The README groups its option tables the same way and documents --transcript for every
    // command that has it.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let options = &readme[readme.find("\n## Options\n").expect("## Options")..];
    let mut at = 0;
    for h in want {
        let i = options[at..]
            .find(&format!("\n### {h}\n"))
            .unwrap_or_else(|| panic!("README: no ### {h} after the previous heading"));
        at += i + 1;
    }
    for cmd in ["probe", "roundtrip"] {
        let start = readme.find(&format!("### `{cmd}`")).unwrap();
        let body = &readme[start..];
        let body = &body[..body[4..].find("\n### ").map_or(body.len(), |i| i + 4)];
        assert!(body.contains("--transcript"), "README's {cmd} section");
    }
}

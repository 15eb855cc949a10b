//! `mailprobe check` end to end against the real Dovecot + Postfix stack: discovery from a
//! loopback DNS server (SRV on the standard ports), `--connect-to` onto the stack's ports so the
//! real name is kept for SNI and the certificate check, the verdict, exit codes, `--transcript`,
//! and the expired-certificate case.

mod flood;
mod receiving;

use serde_json::Value;

use crate::support::certs::Validity;
use crate::support::cmd::{mailprobe, stack_args};
use crate::support::dns::{DnsServer, Zone};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use crate::support::mailstack::{MailStack, StackOptions};

/// A production-like stack: on 127.0.0.2 Dovecot does not count the client as local, so
/// nothing offers authentication before TLS (on 127.0.0.1 it would, and `check` would rightly
/// warn about it).
pub(crate) fn stack() -> &'static MailStack {
    static STACK: OnceLock<MailStack> = OnceLock::new();
    STACK.get_or_init(|| {
        MailStack::start(StackOptions {
            addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
            ..StackOptions::default()
        })
    })
}

/// example.test with RFC 6186/8314 SRV records on the standard ports, all at mail.example.test.
pub(crate) fn zone(stack: &MailStack) -> Zone {
    let ip = stack.addr.to_string();
    Zone::new("example.test")
        .mx(10, "mail.example.test")
        .a("mail", &ip)
        .srv("_imaps._tcp", 0, 1, 993, "mail.example.test")
        .srv("_imap._tcp", 0, 1, 143, "mail.example.test")
        .srv("_pop3s._tcp", 0, 1, 995, "mail.example.test")
        .srv("_pop3._tcp", 0, 1, 110, "mail.example.test")
        .srv("_submissions._tcp", 0, 1, 465, "mail.example.test")
        .srv("_submission._tcp", 0, 1, 587, "mail.example.test")
}

fn run(stack: &MailStack, dns: &DnsServer, extra: &[&str]) -> (Value, i32, String) {
    let mut args = stack_args(stack, "mail.example.test");
    args.extend(extra.iter().map(|a| a.to_string()));
    check_json(dns, &args)
}

/// `mailprobe check alice@example.test --json` against `dns`, plus `args`: the JSON, the exit
/// code and stderr.
fn check_json(dns: &DnsServer, args: &[String]) -> (Value, i32, String) {
    let out = mailprobe()
        .args([
            "check",
            "alice@example.test",
            "--json",
            "--timeout",
            "5",
            "--dns",
            &dns.addr().to_string(),
        ])
        .args(["--ispdb-url", "http://127.0.0.1:9/"])
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        v,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn setting(v: &Value, which: &str) -> (String, String, u64, String) {
    let s = &v["settings"][which];
    assert!(!s.is_null(), "{which} is null: {:#}", v["findings"]);
    (
        s["protocol"].as_str().unwrap().into(),
        s["host"].as_str().unwrap().into(),
        s["port"].as_u64().unwrap(),
        s["security"].as_str().unwrap().into(),
    )
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn check_against_the_real_stack_picks_imaps_993_and_smtps_465() {
    let stack = stack();
    let dns = DnsServer::start_zones(&[zone(stack)]);
    let (v, code, err) = run(stack, &dns, &[]);
    assert_eq!(
        setting(&v, "incoming"),
        ("imap".into(), "mail.example.test".into(), 993, "tls".into())
    );
    assert_eq!(
        setting(&v, "outgoing"),
        ("smtp".into(), "mail.example.test".into(), 465, "tls".into())
    );
    assert_eq!(code, 0, "findings: {:#}\nstderr: {err}", v["findings"]);
    assert_eq!(v["status"], "ok");
    let probes = v["probes"].as_array().unwrap();
    let imaps = probes
        .iter()
        .find(|p| p["port"] == 993)
        .expect("imaps probe");
    assert_eq!(imaps["tls"]["verified"], true);
    assert!(
        imaps["tls"]["names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "mail.example.test")
    );
    assert!(
        imaps["connected_to"]
            .as_str()
            .unwrap_or_default()
            .starts_with("127.0.0.2:"),
        "{imaps:#}"
    );
    for step in imaps["steps"].as_array().unwrap() {
        assert!(
            step["elapsed_ms"].is_u64() && step["name"].is_string() && step["status"].is_string()
        );
    }
}

#[test]
fn human_output_prints_settings_to_paste() {
    let stack = stack();
    let dns = DnsServer::start_zones(&[zone(stack)]);
    let out = mailprobe()
        .args([
            "check",
            "alice@example.test",
            "--dns",
            &dns.addr().to_string(),
            "--ispdb-url",
            "http://127.0.0.1:9/",
        ])
        .args(stack_args(stack, "mail.example.test"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Incoming IMAP mail.example.test 993 SSL/TLS username: alice@example.test"),
        "{text}"
    );
    assert!(
        flat.contains("Outgoing SMTP mail.example.test 465 SSL/TLS username: alice@example.test"),
        "{text}"
    );
}

#[test]
fn transcript_shows_the_wire_dialogue() {
    let stack = stack();
    let dns = DnsServer::start_zones(&[zone(stack)]);
    let (v, _, _) = run(stack, &dns, &["--transcript"]);
    let probes = v["probes"].as_array().unwrap();
    let smtp = probes
        .iter()
        .find(|p| p["port"] == 587)
        .expect("submission probe");
    let lines: Vec<String> = smtp["transcript"]
        .as_array()
        .expect("transcript kept with --transcript")
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                l["dir"].as_str().unwrap(),
                l["line"].as_str().unwrap()
            )
        })
        .collect();
    assert!(lines.iter().any(|l| l.starts_with("S 220 ")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("C EHLO ")), "{lines:#?}");
    assert!(lines.iter().any(|l| l == "C STARTTLS"), "{lines:#?}");
    let (plain, _, _) = run(stack, &dns, &[]);
    assert!(
        plain["probes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.get("transcript").is_none_or(|t| t.is_null()))
    );
}

#[test]
fn expired_certificate_is_critical_but_the_settings_still_show() {
    let stack = MailStack::start(StackOptions {
        cert: Validity::Expired,
        addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)),
        ..StackOptions::default()
    });
    let dns = DnsServer::start_zones(&[zone(&stack)]);
    let (v, code, _) = run(&stack, &dns, &[]);
    assert_eq!(code, 2, "{:#}", v["findings"]);
    assert!(
        codes(&v).iter().any(|c| c.contains("expired")),
        "{:?}",
        codes(&v)
    );
    // What would work once the certificate is fixed is still named.
    assert_eq!(setting(&v, "incoming").2, 993);
    assert_eq!(setting(&v, "outgoing").2, 465);
    let imaps = v["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["port"] == 993)
        .unwrap();
    assert_eq!(imaps["tls"]["verified"], false);
    assert_eq!(imaps["tls"]["verify_error"], "expired");
}

#[test]
fn unreachable_servers_are_critical() {
    let dns = DnsServer::start_zones(&[Zone::new("example.test")
        .a("mail", "127.0.0.1")
        .srv("_imaps._tcp", 0, 1, 993, "mail.example.test")
        .srv("_submissions._tcp", 0, 1, 465, "mail.example.test")]);
    let port = crate::support::scripted::closed_port().port();
    let args: Vec<String> = [
        "mail.example.test:993",
        "mail.example.test:465",
        "example.test:",
    ]
    .iter()
    .flat_map(|from| {
        [
            "--connect-to".to_string(),
            format!("{from}:127.0.0.1:{port}"),
        ]
    })
    .chain(["--timeout".to_string(), "2".to_string()])
    .collect();
    let (v, code, _) = check_json(&dns, &args);
    assert_eq!(code, 2);
    assert!(v["settings"]["incoming"].is_null() && v["settings"]["outgoing"].is_null());
}

/// Filters for what changes from run to run: times, ports, dates, fingerprints.
fn volatile() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"\s*\b\d+ ?ms\b", " [ms]");
    s.add_filter(
        r#""(elapsed_ms|t_ms|handshake_ms|total_ms|latency_ms)": \d+"#,
        r#""$1": "[ms]""#,
    );
    s.add_filter(r"127\.0\.0\.(\d+):\d+", "127.0.0.$1:[port]");
    s.add_filter(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b", "[date]");
    s.add_filter(
        r#""days_left": -?\d+|"chain_days_left": -?\d+"#,
        r#""days": [n]"#,
    );
    s.add_filter(r"\(\-?\d+ days\)", "([n] days)");
    s.add_filter(r"\b[0-9a-f]{64}\b", "[sha256]");
    s.add_filter(r"Example Test CA [0-9a-zA-Z]+", "Example Test CA [id]");
    s.add_filter(r"TLS13_[A-Z0-9_]+|TLS_[A-Z0-9_]+", "[cipher]");
    s.add_filter(r#""kx_group": "[^"]+""#, r#""kx_group": "[group]""#);
    s.add_filter(r"\b\d+(\.\d+)? s\b", "[s]");
    s.add_filter(r"\d+ µs", "[µs]");
    s.add_filter(r"(?m)^\s+\d+ ([CS*]) ", "      [t] $1 ");
    s
}

#[test]
fn snapshots_of_check_human_json_and_transcript() {
    let stack = stack();
    let dns = DnsServer::start_zones(&[zone(stack)]);
    // One connection at a time: which probes the verdict stops, and when, is then the same on
    // every run (993 and 465 win in turn, the rest of their groups is never started, port 25
    // starts after the verdict and is cut once connected).
    let base = |extra: &[&str]| {
        let out = mailprobe()
            .args([
                "check",
                "alice@example.test",
                "--concurrency",
                "1",
                "--dns",
                &dns.addr().to_string(),
                "--ispdb-url",
                "http://127.0.0.1:9/",
                // The Receiving section has its own tests (check/receiving.rs).
                "--no-receiving",
            ])
            .args(stack_args(stack, "mail.example.test"))
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let human = base(&[]);
    // Only the probe of IMAP 993 (its dialogue is short and deterministic) in the transcript snapshot.
    let transcript = mailprobe()
        .args(["probe", "imaps://mail.example.test", "--transcript"])
        .args(stack_args(stack, "mail.example.test"))
        .output()
        .unwrap();
    let transcript = String::from_utf8(transcript.stdout).unwrap();
    let json: Value = serde_json::from_str(&base(&["--json"])).unwrap();
    // The JSON snapshot keeps the verdict and the shape of one probe; attempts vary in order.
    let slim = serde_json::json!({
        "schema_version": json["schema_version"],
        "command": json["command"],
        "settings": json["settings"],
        "status": json["status"],
        "findings": json["findings"],
        "probe_993": json["probes"].as_array().unwrap().iter().find(|p| p["port"] == 993),
    });
    volatile().bind(|| {
        insta::assert_snapshot!("check_human", human);
        insta::assert_snapshot!("probe_transcript_human", transcript);
        insta::assert_snapshot!("check_json", serde_json::to_string_pretty(&slim).unwrap());
    });
}

#[test]
fn batch_keeps_input_order_caches_discovery_and_exits_with_the_worst() {
    let stack = stack();
    let dns = DnsServer::start_zones(&[zone(stack)]);
    let input = "# helpdesk list\nalice@example.test\nnot-an-address\nbob@example.test\n\ncarol@example.test,carol@example.test,\n";
    let out = mailprobe()
        .args([
            "check",
            "--batch",
            "-",
            "--format",
            "json",
            "--dns",
            &dns.addr().to_string(),
            "--ispdb-url",
            "http://127.0.0.1:9/",
        ])
        .args(stack_args(stack, "mail.example.test"))
        .write_stdin(input)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let docs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect();
    let addrs: Vec<&str> = docs
        .iter()
        .map(|d| d["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        addrs,
        [
            "alice@example.test",
            "not-an-address",
            "bob@example.test",
            "carol@example.test"
        ]
    );
    assert_eq!(docs[0]["status"], "ok");
    assert_eq!(docs[1]["status"], "unknown");
    assert_eq!(
        docs[2]["settings"]["incoming"]["username"], "bob@example.test",
        "user names rewritten per address"
    );
    assert_eq!(out.status.code(), Some(3), "worst status: the invalid line");
    let summary = String::from_utf8(out.stderr).unwrap();
    assert!(
        summary.contains("4 checked: 3 OK, 0 WARNING, 0 CRITICAL, 1 UNKNOWN"),
        "{summary}"
    );
    let mx_queries = dns
        .queries()
        .iter()
        .filter(|q| q.0.starts_with("example.test") && q.1 == "MX")
        .count();
    assert_eq!(
        mx_queries,
        1,
        "one discovery per domain: {:?}",
        dns.queries()
    );

    let human = mailprobe()
        .args([
            "check",
            "--batch",
            "-",
            "--dns",
            &dns.addr().to_string(),
            "--ispdb-url",
            "http://127.0.0.1:9/",
        ])
        .args(stack_args(stack, "mail.example.test"))
        .write_stdin("alice@example.test\nbob@example.test\n")
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(0));
    let t = String::from_utf8(human.stdout).unwrap();
    assert!(
        t.starts_with("STATUS") && t.contains("2 checked: 2 OK") && t.contains("Slowest:"),
        "{t}"
    );
}

#[test]
fn concurrency_one_runs_everything_in_turn_with_the_same_verdict() {
    let stack = stack();
    let dns = DnsServer::start_zones(&[zone(stack)]);
    let (v, code, _) = run(stack, &dns, &["--concurrency", "1"]);
    assert_eq!(code, 0, "{:#}", v["findings"]);
    assert_eq!(setting(&v, "incoming").2, 993);
    assert_eq!(setting(&v, "outgoing").2, 465);
}

#[test]
fn probing_starts_while_a_slower_source_is_still_running() {
    // SRV answers at once; the autoconfig document is held back until the test sees the IMAP
    // server connected. Probing is pipelined with discovery, so the connection comes first and
    // the held source then adds itself to the same probe; a tool that waited for every source
    // would never connect before the gate opens.
    use crate::support::certs::{TestCa, TlsVersions, server_config};
    use crate::support::cmd::mailprobe_std;
    use crate::support::http::{HttpServer, Reply, Routes};
    use crate::support::scripted::{ScriptedServer, Step};
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let imaps = ScriptedServer::start_tls(
        server_config(
            &ca.issue(&["mail.example.test"], Validity::Valid),
            TlsVersions::Default,
        ),
        vec![
            Step::line("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready"),
            Step::expect("a1 LOGOUT"),
            Step::line("a1 OK bye"),
        ],
    );
    let doc = r#"<clientConfig version="1.1"><emailProvider id="example.test">
        <incomingServer type="imap"><hostname>mail.example.test</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></incomingServer>
        </emailProvider></clientConfig>"#;
    let (held, gate) = Reply::gated(Reply::xml(doc));
    let http = HttpServer::start(
        &ca,
        &["autoconfig.example.test"],
        Routes::new().route("autoconfig.example.test", "/mail/config-v1.1.xml", held),
    );
    let dns = DnsServer::start_zones(&[Zone::new("example.test")
        .a("mail", "127.0.0.1")
        .a("autoconfig", "127.0.0.1")
        .srv("_imaps._tcp", 0, 1, 993, "mail.example.test")]);
    let mut child = mailprobe_std()
        .args(["check", "alice@example.test", "--json", "--timeout", "20"])
        .args(["--dns", &dns.addr().to_string()])
        .args(["--ispdb-url", "http://127.0.0.1:9/"])
        .args(["--ca-file", &ca.write_pem(tmp.path()).display().to_string()])
        .args([
            "--connect-to",
            &format!("mail.example.test:993:127.0.0.1:{}", imaps.port()),
        ])
        .args(http.connect_to_args("autoconfig.example.test"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let waited = Instant::now();
    while imaps.connections() == 0 && waited.elapsed() < Duration::from_secs(15) {
        assert!(child.try_wait().unwrap().is_none(), "check ended early");
        std::thread::sleep(Duration::from_millis(10));
    }
    let connected_first = imaps.connections() == 1;
    gate.store(true, Ordering::SeqCst);
    let out = child.wait_with_output().unwrap();
    assert!(
        connected_first,
        "no probe before the held source answered: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let probes = v["probes"].as_array().unwrap();
    let imap: Vec<&Value> = probes
        .iter()
        .filter(|p| p["protocol"] == "imap" && p["port"] == 993)
        .collect();
    assert_eq!(imap.len(), 1, "probed once: {probes:#?}");
    assert_eq!(imap[0]["outcome"]["result"], "working", "{:#}", imap[0]);
    let sources = imap[0]["sources"].as_array().unwrap();
    assert!(
        sources.contains(&"autoconfig".into()) && sources.contains(&"srv".into()),
        "the held source joined the probe: {sources:?}"
    );
    assert_eq!(imaps.connections(), 1);
    assert_eq!(setting(&v, "incoming").2, 993);
}

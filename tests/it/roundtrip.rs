//! Integration tests: the round trip against a private Dovecot + Postfix stack (nobody else
//! delivers there, so message counts are exact): submission on 587 and 465, IMAP with IDLE,
//! Junk filing (carol's Sieve), POP3-only retrieval, `--to` without the recipient's credentials,
//! and `--keep`; the binary end to end, also with `--oauth` whose refresh is refused (nothing
//! sent). IMAP corner cases against scripted servers: `scripted`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mailprobe::address;
use mailprobe::auth::{Credentials, Secret};
use mailprobe::model::{Deletion, Protocol, RoundtripReport, RoundtripResult, Security, Setting};
use mailprobe::roundtrip::{self, RoundtripOptions};

use crate::auth::stack_net;
use crate::support::mailstack::{MailStack, StackOptions};

mod scripted;

/// This module's own stack: alice, bob, carol (Sieve → Junk), dave, erin, frank. Tests run in
/// parallel and assert exact message counts, so each mailbox a test delivers to is that test's
/// alone: alice (587 → IMAP), dave (465), carol (Junk), bob (POP3), erin (`--to`, `--keep`),
/// frank (the binary).
fn stack() -> &'static MailStack {
    static S: OnceLock<MailStack> = OnceLock::new();
    S.get_or_init(|| {
        MailStack::start(StackOptions {
            extra_users: vec![
                ("dave@example.test".into(), "dave-secret".into()),
                ("erin@example.test".into(), "erin-secret".into()),
                ("frank@example.test".into(), "frank-secret".into()),
            ],
            ..StackOptions::default()
        })
    })
}

fn setting(protocol: Protocol, host: &str, port: u16, security: Security) -> Setting {
    Setting {
        protocol,
        host: host.into(),
        port,
        security,
        username: None,
        auth: vec![],
    }
}

fn imaps() -> Setting {
    setting(Protocol::Imap, "imap.example.test", 993, Security::Tls)
}
fn submission() -> Setting {
    setting(Protocol::Smtp, "smtp.example.test", 587, Security::Starttls)
}

async fn run_for(
    user: &str,
    outgoing: &Setting,
    incoming: &Setting,
    opts: RoundtripOptions,
) -> RoundtripReport {
    let st = stack();
    let addr = address::parse(user).unwrap();
    let creds = Credentials {
        password: Some(Secret::new(st.password(user))),
        ..Credentials::default()
    };
    roundtrip::run(stack_net(st), &addr, outgoing, incoming, &creds, &opts).await
}

fn opts() -> RoundtripOptions {
    RoundtripOptions {
        wait: Duration::from_secs(30),
        ..RoundtripOptions::default()
    }
}

fn codes(r: &RoundtripReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.code.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_round_trip_over_587_and_imap() {
    let st = stack();
    let before = st.count_messages("alice@example.test", "INBOX");
    let t = Instant::now();
    let r = run_for("alice@example.test", &submission(), &imaps(), opts()).await;
    let wall = t.elapsed();
    assert_eq!(
        r.result,
        RoundtripResult::Delivered,
        "{r:#?}\n{}",
        st.log_tail()
    );
    assert_eq!(r.folder.as_deref(), Some("INBOX"));
    assert_eq!(r.deleted, Some(Deletion::Deleted));
    assert_eq!(r.fetch_method.as_deref(), Some("IDLE"));
    assert!(
        r.queue_id.as_deref().is_some_and(|q| !q.is_empty()),
        "{r:#?}"
    );
    assert!(r.internal_date.is_some() && r.uid.is_some());
    assert!(r.latency_ms.is_some());
    // Postfix (ESMTPSA from the client) then LMTP into Dovecot.
    assert!(r.hops.len() >= 2, "{:?}", r.hops);
    assert!(
        r.hops
            .iter()
            .any(|h| h.id.as_deref() == r.queue_id.as_deref()),
        "{:?}",
        r.hops
    );
    let names: Vec<&str> = r.submit_steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "connect",
            "auth",
            "mail-from",
            "rcpt-to",
            "data",
            "message",
            "quit"
        ]
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(
        st.count_messages("alice@example.test", "INBOX"),
        before,
        "test message not removed"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["latency_ms"].is_u64());
    assert!(!json.to_string().contains("alice-secret"));
    eprintln!(
        "round trip 587→IMAP: latency_ms={} total_ms={} wall={:?} queue_id={:?} hops={}",
        r.latency_ms.unwrap(),
        r.total_ms,
        wall,
        r.queue_id,
        r.hops.len()
    );
    eprintln!("{}", serde_json::to_string_pretty(&r).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_round_trip_over_465() {
    let st = stack();
    let before = st.count_messages("dave@example.test", "INBOX");
    let out = setting(Protocol::Smtp, "smtp.example.test", 465, Security::Tls);
    let r = run_for("dave@example.test", &out, &imaps(), opts()).await;
    assert_eq!(r.result, RoundtripResult::Delivered, "{r:#?}");
    assert_eq!(r.deleted, Some(Deletion::Deleted));
    assert_eq!(st.count_messages("dave@example.test", "INBOX"), before);
    eprintln!(
        "round trip 465→IMAP: latency_ms={:?} total_ms={}",
        r.latency_ms, r.total_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_delivery_is_found_and_reported() {
    let st = stack();
    let before = st.count_messages("carol@example.test", "Junk");
    let r = run_for("carol@example.test", &submission(), &imaps(), opts()).await;
    assert_eq!(r.result, RoundtripResult::Delivered, "{r:#?}");
    assert_eq!(r.folder.as_deref(), Some("Junk"));
    assert_eq!(codes(&r), ["roundtrip-junk"]);
    assert_eq!(r.deleted, Some(Deletion::Deleted));
    assert_eq!(st.count_messages("carol@example.test", "Junk"), before);
    eprintln!(
        "round trip to Junk: latency_ms={:?} total_ms={}",
        r.latency_ms, r.total_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_only_retrieval() {
    let st = stack();
    let before = st.count_messages("bob@example.test", "INBOX");
    let pop = setting(Protocol::Pop3, "pop.example.test", 995, Security::Tls);
    let r = run_for("bob@example.test", &submission(), &pop, opts()).await;
    assert_eq!(r.result, RoundtripResult::Delivered, "{r:#?}");
    assert_eq!(r.deleted, Some(Deletion::Deleted));
    assert!(r.hops.len() >= 2, "{:?}", r.hops);
    assert_eq!(st.count_messages("bob@example.test", "INBOX"), before);
    eprintln!(
        "round trip 587→POP3: latency_ms={:?} total_ms={}",
        r.latency_ms, r.total_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_another_mailbox_and_keep() {
    let st = stack();
    let before = st.count_messages("erin@example.test", "INBOX");
    // Without erin's credentials: accepted for delivery, not fetched.
    let o = RoundtripOptions {
        to: Some("erin@example.test".into()),
        ..opts()
    };
    let r = run_for("dave@example.test", &submission(), &imaps(), o).await;
    assert_eq!(r.result, RoundtripResult::Accepted, "{r:#?}");
    assert_eq!(codes(&r), ["roundtrip-accepted-only"]);
    assert_eq!(
        st.wait_for_messages(
            "erin@example.test",
            "INBOX",
            before + 1,
            Duration::from_secs(10)
        ),
        before + 1
    );
    // With them, and --keep: found, left in place.
    let o = RoundtripOptions {
        to: Some("erin@example.test".into()),
        to_password: Some(Secret::new("erin-secret")),
        keep: true,
        ..opts()
    };
    let r = run_for("dave@example.test", &submission(), &imaps(), o).await;
    assert_eq!(r.result, RoundtripResult::Delivered, "{r:#?}");
    assert_eq!(r.deleted, Some(Deletion::Kept));
    assert_eq!(st.count_messages("erin@example.test", "INBOX"), before + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_stops_at_submission() {
    let st = stack();
    let addr = address::parse("dave@example.test").unwrap();
    let creds = Credentials {
        password: Some(Secret::new("wrong-pw")),
        ..Credentials::default()
    };
    let r = roundtrip::run(
        stack_net(st),
        &addr,
        &submission(),
        &imaps(),
        &creds,
        &opts(),
    )
    .await;
    assert_eq!(r.result, RoundtripResult::SubmitFailed);
    assert!(
        codes(&r).contains(&"auth-wrong-password"),
        "{:?}",
        r.findings
    );
    assert!(codes(&r).contains(&"roundtrip-submit-failed"));
    assert!(!serde_json::to_string(&r).unwrap().contains("wrong-pw"));
}

// ---- the binary -------------------------------------------------------------------------------

/// DNS for example.test with RFC 6186 SRV records (IMAPS 993, POP3S 995, submission 587) and an
/// MX; every mail host is sent to the private stack by `--connect-to`; ISPDB points at a closed
/// loopback port. Returns the DNS server (keep it alive) and the arguments.
fn cli_world() -> (crate::support::dns::DnsServer, Vec<String>) {
    use crate::support::dns::{DnsServer, Zone};
    let st = stack();
    let zone = Zone::new("example.test")
        .srv("_imaps._tcp", 0, 1, 993, "imap.example.test")
        .srv("_pop3s._tcp", 10, 1, 995, "pop.example.test")
        .srv("_submission._tcp", 0, 1, 587, "smtp.example.test")
        .mx(10, "mail.example.test")
        .a("imap", "127.0.0.1")
        .a("pop", "127.0.0.1")
        .a("smtp", "127.0.0.1")
        .a("mail", "127.0.0.1");
    let dns = DnsServer::start_zones(&[zone]);
    let closed = crate::support::scripted::closed_port();
    let mut args = vec![
        "--dns".to_string(),
        dns.addr().to_string(),
        "--ispdb-url".to_string(),
        format!("http://{closed}/"),
        "--ca-file".to_string(),
        st.ca_file.display().to_string(),
        "--timeout".to_string(),
        "3".to_string(),
        "--warn-cert-days".to_string(),
        "0".to_string(),
        "--crit-cert-days".to_string(),
        "0".to_string(),
        "--json".to_string(),
    ];
    for h in [
        "imap.example.test",
        "pop.example.test",
        "smtp.example.test",
        "mail.example.test",
    ] {
        args.extend(st.connect_to_args(h));
    }
    (dns, args)
}

fn cli(
    cmd: &str,
    user: &str,
    pw: &str,
    extra: &[&str],
) -> (serde_json::Value, String, i32, Duration) {
    let (_dns, args) = cli_world();
    let t = Instant::now();
    let out = crate::support::cmd::mailprobe()
        .env("MP_PW", pw)
        .args([cmd, user, "--password-env", "MP_PW"])
        .args(args)
        .args(extra)
        .output()
        .unwrap();
    let wall = t.elapsed();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {all}"));
    (v, all, out.status.code().unwrap_or(-1), wall)
}

#[test]
fn cli_roundtrip_end_to_end() {
    let st = stack();
    let before = st.count_messages("frank@example.test", "INBOX");
    let (v, all, code, wall) = cli(
        "roundtrip",
        "frank@example.test",
        "frank-secret",
        &["--wait", "20"],
    );
    assert!(
        !all.contains("frank-secret"),
        "password in the output:\n{all}"
    );
    let rt = &v["roundtrip"];
    assert_eq!(rt["result"], "delivered", "{all}");
    assert_eq!(rt["deleted"], "deleted");
    assert!(rt["latency_ms"].is_u64());
    assert_eq!(code, 0, "{all}");
    assert_eq!(st.count_messages("frank@example.test", "INBOX"), before);
    eprintln!(
        "CLI round trip: latency_ms={} roundtrip.total_ms={} report.elapsed_ms={} wall={wall:?} via {} → {}",
        rt["latency_ms"], rt["total_ms"], v["elapsed_ms"], rt["submit_server"], rt["fetch_server"]
    );
}

#[test]
fn cli_check_with_login_keeps_only_servers_that_logged_in() {
    let (v, all, code, _) = cli("check", "dave@example.test", "dave-secret", &[]);
    assert!(!all.contains("dave-secret"), "{all}");
    let s = &v["settings"];
    assert_eq!(s["incoming"]["username"], "dave@example.test", "{all}");
    assert_eq!(s["outgoing"]["username"], "dave@example.test", "{all}");
    assert_eq!(code, 0, "{all}");
    // Every client-facing working server was logged into; port 25 never.
    let mut working = 0;
    for p in v["probes"].as_array().unwrap() {
        let logged = p
            .get("auth")
            .and_then(|a| a.as_array())
            .is_some_and(|a| !a.is_empty());
        if p["port"] == 25 {
            assert!(!logged, "{p}");
        } else if p["outcome"]["result"] == "working" {
            working += 1;
            assert!(logged, "{p}");
        }
    }
    assert!(working >= 2, "{all}");
    // Wrong password: no settings survive, critical.
    let (v, all, code, _) = cli("check", "dave@example.test", "nope-nope", &[]);
    assert!(
        v["settings"]["incoming"].is_null() && v["settings"]["outgoing"].is_null(),
        "{all}"
    );
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"auth-wrong-password") && codes.contains(&"auth-login-failed"),
        "{codes:?}"
    );
    assert_eq!(code, 2);
}

#[test]
fn cli_roundtrip_with_a_refused_oauth_refresh_sends_nothing() {
    use crate::support::oauth::OAuthServer;
    let user = "grace@example.test";
    let srv = OAuthServer::start(user);
    srv.access_token_lifetime(0);
    let data = tempfile::tempdir().unwrap();
    let out = crate::support::cmd::mailprobe()
        .env("XDG_DATA_HOME", data.path())
        .args(["oauth", "login", user, "--oauth-client-id", "c"])
        .args(["--oauth-device-url", &srv.url("/device")])
        .args(["--oauth-token-url", &srv.url("/token")])
        .args(["--allow-insecure-oauth"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    srv.revoke_refresh_tokens();
    let (_dns, args) = cli_world();
    let out = crate::support::cmd::mailprobe()
        .env("XDG_DATA_HOME", data.path())
        .args([
            "roundtrip",
            user,
            "--oauth",
            "--json",
            "--allow-insecure-oauth",
        ])
        .args(["--wait", "5"])
        .args(args)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {all}"));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert_eq!(v["findings"][0]["code"], "oauth2-grant-invalid", "{all}");
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"roundtrip-not-started"), "{codes:?}");
    assert!(v["roundtrip"].is_null(), "no message was sent: {all}");
}

//! `probe_all` as a whole: cancellation of outranked candidates (a black hole never delays the
//! verdict), the verdict waiting for higher-ranked ones, concurrency bounds, cross-probe
//! findings (port 25 blocked, wrong source, broken IPv6), the transcript switch, redaction and
//! the login hook on port 25.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mailprobe::config::{NetConfig, parse_resolve};
use mailprobe::model::{AuthAttempt, Candidate, Outcome, Protocol, Security, Source};
use mailprobe::net::Net;
use mailprobe::probe::{LoginHook, ProbeOptions, probe_all, probe_one};
use mailprobe::proto::{Redact, Session};

use super::{HOST, cand, cand_from, codes, dump, imaps_server, net_with, opts, phase, transcript};
use crate::support::certs::{TestCa, TlsVersions, Validity, server_config};
use crate::support::scripted::{ScriptedServer, Step, closed_port};

fn smtps_server(ca: &TestCa) -> ScriptedServer {
    let cfg = server_config(&ca.issue(&[HOST], Validity::Valid), TlsVersions::Default);
    ScriptedServer::start_tls(
        cfg,
        vec![
            Step::line("220 mail.example.test ESMTP"),
            Step::expect("EHLO"),
            Step::line("250-mail.example.test"),
            Step::line("250 AUTH PLAIN"),
            Step::expect("QUIT"),
            Step::line("221 bye"),
        ],
    )
}

#[tokio::test]
async fn black_holed_lower_candidate_is_cancelled_not_waited_for() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let good = imaps_server(&ca);
    let hole = ScriptedServer::blackhole();
    // A long step timeout: waiting for the black hole would be visible as its own timeout.
    let net = net_with(
        &[],
        Duration::from_secs(20),
        Some(&ca.write_pem(tmp.path())),
    );
    let cands = vec![
        cand_from(
            Protocol::Imap,
            good.port(),
            Security::Tls,
            Source::ProviderDb,
        ),
        cand_from(
            Protocol::Imap,
            hole.port(),
            Security::Starttls,
            Source::Guess,
        ),
    ];
    let run = probe_all(net, &cands, &opts()).await;
    assert_eq!(run.probes[0].outcome, Outcome::Working { tls_valid: true });
    assert_eq!(
        phase(&run.probes[1]),
        Some("cancelled"),
        "{}",
        dump(&run.probes[1])
    );
    assert_eq!(run.probes[1].steps.last().unwrap().name, "cancelled");
    assert_eq!(run.settings.incoming.as_ref().unwrap().port, good.port());
    // The cancelled guess is not a finding.
    assert!(codes(&run).is_empty(), "{:?}", run.findings);
}

#[tokio::test]
async fn verdict_waits_for_a_higher_ranked_candidate() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let hole = ScriptedServer::blackhole();
    let good = ScriptedServer::start(vec![
        Step::line("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready"),
        Step::expect("a1 STARTTLS"),
        Step::line("a1 OK go"),
        Step::StartTls(server_config(
            &ca.issue(&[HOST], Validity::Valid),
            TlsVersions::Default,
        )),
        Step::expect("a2 CAPABILITY"),
        Step::line("* CAPABILITY IMAP4rev1 AUTH=PLAIN"),
        Step::line("a2 OK done"),
        Step::expect("a3 LOGOUT"),
        Step::line("a3 OK bye"),
    ]);
    let net = net_with(
        &[],
        Duration::from_millis(800),
        Some(&ca.write_pem(tmp.path())),
    );
    // The implicit-TLS black hole ranks higher: it must be given its time, not cancelled.
    let cands = vec![
        cand(Protocol::Imap, hole.port(), Security::Tls),
        cand(Protocol::Imap, good.port(), Security::Starttls),
    ];
    let run = probe_all(net, &cands, &opts()).await;
    assert_eq!(
        phase(&run.probes[0]),
        Some("tls"),
        "{}",
        dump(&run.probes[0])
    );
    assert_eq!(run.probes[1].outcome, Outcome::Working { tls_valid: true });
    assert_eq!(
        run.settings.incoming.as_ref().unwrap().security,
        Security::Starttls
    );
}

#[tokio::test]
async fn connections_are_bounded_globally_and_per_host() {
    let s = ScriptedServer::start(vec![
        Step::Sleep(Duration::from_millis(150)),
        Step::line("220 mx.example.test ESMTP"),
        Step::expect("EHLO"),
        Step::line("250 mx.example.test"),
        Step::expect("QUIT"),
        Step::line("221 bye"),
    ]);
    let net = net_with(&[(25, s.addr())], Duration::from_secs(5), None);
    // Port 25 candidates are never cancelled, so all six run.
    let cands: Vec<Candidate> = (0..6)
        .map(|_| cand(Protocol::Smtp, 25, Security::Starttls))
        .collect();
    let o = ProbeOptions {
        per_host: 2,
        ..opts()
    };
    let run = probe_all(net.clone(), &cands, &o).await;
    assert!(
        run.probes
            .iter()
            .all(|p| matches!(p.outcome, Outcome::Working { .. }))
    );
    assert_eq!(s.connections(), 6);
    assert_eq!(s.max_concurrent(), 2);
    let before = s.connections();
    let o = ProbeOptions {
        concurrency: 1,
        ..opts()
    };
    probe_all(net, &cands[..3], &o).await;
    assert_eq!(s.connections(), before + 3);
    assert_eq!(s.max_concurrent(), 2, "never more than 2 so far");
}

#[tokio::test]
async fn port25_blocked_and_wrong_source_findings() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let imaps = imaps_server(&ca);
    let smtps = smtps_server(&ca);
    let dead = closed_port();
    let net = net_with(
        &[(25, dead)],
        Duration::from_secs(3),
        Some(&ca.write_pem(tmp.path())),
    );
    let cands = vec![
        cand_from(
            Protocol::Imap,
            imaps.port(),
            Security::Tls,
            Source::ProviderDb,
        ),
        // Autoconfig points at a dead port: autoconfig is wrong.
        cand_from(
            Protocol::Imap,
            dead.port(),
            Security::Tls,
            Source::Autoconfig,
        ),
        cand_from(
            Protocol::Smtp,
            smtps.port(),
            Security::Tls,
            Source::ProviderDb,
        ),
        cand_from(Protocol::Smtp, 25, Security::Starttls, Source::MxProvider),
    ];
    let run = probe_all(net, &cands, &opts()).await;
    let c = codes(&run);
    assert!(
        c.contains(&"port25-blocked".to_string()),
        "{:?}",
        run.findings
    );
    // The autoconfig candidate above ranks below the working one (same preference, later in
    // order) and may have been cancelled, which proves nothing. Rank it first instead.
    let net = net_with(&[], Duration::from_secs(3), Some(&ca.write_pem(tmp.path())));
    let cands = vec![
        cand_from(
            Protocol::Imap,
            dead.port(),
            Security::Tls,
            Source::Autoconfig,
        ),
        cand_from(
            Protocol::Imap,
            imaps.port(),
            Security::Tls,
            Source::ProviderDb,
        ),
    ];
    let run = probe_all(net, &cands, &opts()).await;
    let f = run
        .findings
        .iter()
        .find(|f| f.code.as_str() == "source-wrong")
        .expect("source-wrong");
    assert!(f.message.starts_with("autoconfig"), "{}", f.message);
    assert!(f.message.contains("provider-db"), "{}", f.message);
}

#[tokio::test]
async fn broken_ipv6_path_is_reported() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let imaps = imaps_server(&ca);
    let port = imaps.port();
    // Nothing listens on [::1]:port (the scripted server is IPv4 only).
    let cfg = NetConfig {
        dns: vec![closed_port()],
        resolve: vec![parse_resolve(&format!("{HOST}:{port}:[::1],127.0.0.1")).unwrap()],
        ca_file: Some(ca.write_pem(tmp.path())),
        timeout: Duration::from_secs(3),
        ..NetConfig::default()
    };
    let net: Arc<Net> = Net::new(cfg).unwrap();
    let run = probe_all(net, &[cand(Protocol::Imap, port, Security::Tls)], &opts()).await;
    let p = &run.probes[0];
    assert_eq!(
        p.outcome,
        Outcome::Working { tls_valid: true },
        "{}",
        dump(p)
    );
    assert!(
        p.addresses
            .iter()
            .any(|a| a.family == "ipv6" && a.result != "connected"),
        "{:?}",
        p.addresses
    );
    assert!(
        codes(&run).contains(&"ipv6-broken".to_string()),
        "{:?}",
        run.findings
    );
}

#[tokio::test]
async fn transcript_only_when_asked() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let s = imaps_server(&ca);
    let net = net_with(&[], Duration::from_secs(3), Some(&ca.write_pem(tmp.path())));
    let c = cand(Protocol::Imap, s.port(), Security::Tls);
    let p = probe_one(
        &net,
        &c,
        &ProbeOptions {
            transcript: false,
            ..opts()
        },
    )
    .await;
    assert!(p.transcript.is_none());
    let p = probe_one(&net, &c, &opts()).await;
    let t = transcript(&p);
    assert!(
        t.iter().any(|l| l.starts_with("* TLS established")),
        "{t:?}"
    );
    assert!(t.iter().any(|l| l == "C a1 LOGOUT"), "{t:?}");
    let times: Vec<u64> = p
        .transcript
        .as_ref()
        .unwrap()
        .iter()
        .map(|l| l.t_ms)
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

struct CountingHook(AtomicUsize);

impl LoginHook for CountingHook {
    fn login<'a>(
        &'a self,
        session: &'a mut Session,
        _candidate: &'a Candidate,
        _caps: &'a [String],
        sasl: &'a [String],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<AuthAttempt>> + Send + 'a>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            assert_eq!(sasl, ["PLAIN"]);
            let r = session
                .smtp_command("AUTH PLAIN AGFsaWNlAHNlY3JldA==", Redact::KeepWords(2))
                .await;
            vec![AuthAttempt {
                mechanism: "PLAIN".into(),
                username: "alice".into(),
                success: matches!(r, Ok(r) if r.code == 235),
                elapsed_ms: 0,
                response: None,
            }]
        })
    }
}

#[tokio::test]
async fn login_hook_redacts_and_never_runs_on_port_25() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = server_config(&ca.issue(&[HOST], Validity::Valid), TlsVersions::Default);
    let s = ScriptedServer::start_tls(
        cfg,
        vec![
            Step::line("220 mail.example.test ESMTP"),
            Step::expect("EHLO"),
            Step::line("250-mail.example.test"),
            Step::line("250 AUTH PLAIN"),
            Step::expect("AUTH PLAIN"),
            Step::line("235 2.7.0 Authentication successful"),
            Step::expect("QUIT"),
            Step::line("221 bye"),
        ],
    );
    let net = net_with(
        &[(25, s.addr())],
        Duration::from_secs(3),
        Some(&ca.write_pem(tmp.path())),
    );
    let hook = Arc::new(CountingHook(AtomicUsize::new(0)));
    let o = ProbeOptions {
        login: Some(hook.clone()),
        ..opts()
    };
    let p = probe_one(&net, &cand(Protocol::Smtp, s.port(), Security::Tls), &o).await;
    assert_eq!(
        p.outcome,
        Outcome::Working { tls_valid: true },
        "{}",
        dump(&p)
    );
    assert!(p.auth[0].success);
    let t = transcript(&p);
    assert!(t.contains(&"C AUTH PLAIN <redacted>".to_string()), "{t:?}");
    assert!(!serde_json::to_string(&p).unwrap().contains("AGFsaWNl"));
    assert_eq!(hook.0.load(Ordering::SeqCst), 1);
    // Port 25 (mapped to a server that would accept AUTH) never calls the hook.
    let s25 = smtps_server(&ca);
    let net = net_with(
        &[(25, s25.addr())],
        Duration::from_secs(3),
        Some(&ca.write_pem(tmp.path())),
    );
    let p = probe_one(&net, &cand(Protocol::Smtp, 25, Security::Tls), &o).await;
    assert_eq!(
        p.outcome,
        Outcome::Working { tls_valid: true },
        "{}",
        dump(&p)
    );
    assert!(p.auth.is_empty() && p.steps.iter().all(|s| s.name != "auth"));
    assert_eq!(hook.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn whole_run_stays_under_the_deadline() {
    let hole = ScriptedServer::blackhole();
    let silent = ScriptedServer::never_accept();
    let cfg = NetConfig {
        dns: vec![closed_port()],
        connect_to: vec![mailprobe::config::parse_connect_to("::127.0.0.1:").unwrap()],
        timeout: Duration::from_secs(20),
        deadline: Duration::from_millis(800),
        ..NetConfig::default()
    };
    let net = Net::new(cfg).unwrap();
    let cands = vec![
        cand(Protocol::Imap, hole.port(), Security::Tls),
        cand(Protocol::Smtp, silent.port(), Security::Starttls),
    ];
    let t = std::time::Instant::now();
    let run = probe_all(net, &cands, &opts()).await;
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    for p in &run.probes {
        assert!(
            matches!(phase(p), Some("tls" | "greeting" | "deadline")),
            "{}",
            dump(p)
        );
    }
    assert!(run.settings.incoming.is_none() && run.settings.outgoing.is_none());
    assert_eq!(
        mailprobe::probe::status_of(&run),
        mailprobe::model::Status::Critical
    );
}

//! The verdict the moment it is known: every candidate starts at once, an outranked probe is cut
//! at once keeping what it saw, and port-25 probes (information, not the verdict) hold the run
//! at most half a second: reachable when connected, "looks filtered" when the SYN got no answer.

use std::time::{Duration, Instant};

use mailprobe::model::{FindingCode, Outcome, Probe, Protocol, Security, Source, StepStatus};
use mailprobe::probe::{Feed, ProbeRun, probe_all, probe_feed};
use tokio::sync::mpsc;

use super::{HOST, cand_from, dump, error, imaps_server, net_with, opts, phase, transcript};
use crate::support::certs::{TestCa, TlsVersions, Validity, server_config};
use crate::support::filtered::FilteredPort;
use crate::support::scripted::{ScriptedServer, Step};

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

fn step_names(p: &Probe) -> Vec<&str> {
    p.steps.iter().map(|s| s.name.as_str()).collect()
}

#[tokio::test]
async fn guesses_start_at_once() {
    // Each connection lasts about 300 ms; three guesses overlap (no stagger holds them back).
    let s = ScriptedServer::start(vec![
        Step::Sleep(Duration::from_millis(300)),
        Step::line("220 mx.example.test ESMTP"),
        Step::expect("EHLO"),
        Step::line("250 mx.example.test"),
        Step::expect("QUIT"),
        Step::line("221 bye"),
    ]);
    let net = net_with(&[(587, s.addr())], Duration::from_secs(5), None);
    let guesses: Vec<_> = (0..3)
        .map(|_| cand_from(Protocol::Smtp, 587, Security::Starttls, Source::Guess))
        .collect();
    probe_all(net, &guesses, &opts()).await;
    assert_eq!(s.max_concurrent(), 3);
}

#[tokio::test]
async fn an_outranked_probe_in_flight_is_cut_at_once_keeping_its_steps_and_transcript() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let good = imaps_server(&ca);
    // Greets, then never answers CAPABILITY.
    let slow = ScriptedServer::start(vec![Step::line("* OK ready"), Step::ReadLine, Step::Hang]);
    let net = net_with(
        &[],
        Duration::from_secs(20),
        Some(&ca.write_pem(tmp.path())),
    );
    let w = cand_from(Protocol::Imap, good.port(), Security::Tls, Source::Srv);
    let l = cand_from(Protocol::Imap, slow.port(), Security::Plain, Source::Guess);
    let (tx, rx) = mpsc::unbounded_channel();
    let t = Instant::now();
    let run = tokio::spawn({
        let net = net.clone();
        async move { probe_feed(net, rx, &opts()).await }
    });
    tx.send(Feed::Found(vec![l.clone()])).unwrap();
    for _ in 0..500 {
        if slow.lines().iter().any(|x| x.contains("CAPABILITY")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tx.send(Feed::Settled(vec![w, l])).unwrap();
    let run = run.await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let cut = &run.probes[1];
    assert_eq!(phase(cut), Some("cancelled"), "{}", dump(cut));
    assert_eq!(
        step_names(cut),
        ["resolve", "connect", "greeting", "cancelled"],
        "{}",
        dump(cut)
    );
    let lines = transcript(cut);
    assert!(
        lines.iter().any(|l| l.contains("* OK ready"))
            && lines.iter().any(|l| l.contains("CAPABILITY")),
        "{lines:?}"
    );
    assert_eq!(run.probes[0].outcome, Outcome::Working { tls_valid: true });
}

#[tokio::test]
async fn an_outranked_probe_not_yet_started_is_dropped_without_connecting() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let good = imaps_server(&ca);
    let other = ScriptedServer::start(vec![Step::line("* OK ready"), Step::Hang]);
    let net = net_with(
        &[],
        Duration::from_secs(20),
        Some(&ca.write_pem(tmp.path())),
    );
    let w = cand_from(Protocol::Imap, good.port(), Security::Tls, Source::Srv);
    let l = cand_from(Protocol::Imap, other.port(), Security::Plain, Source::Guess);
    // One connection at a time: the guess waits for the SRV server's probe to end.
    let mut o = opts();
    o.limits = Some(mailprobe::probe::limits::Limits::new(1, 1));
    let t = Instant::now();
    let run = probe_all(net, &[w, l], &o).await;
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(run.probes[0].outcome, Outcome::Working { tls_valid: true });
    let dropped = &run.probes[1];
    assert_eq!(phase(dropped), Some("cancelled"), "{}", dump(dropped));
    assert!(
        !step_names(dropped).contains(&"connect"),
        "{}",
        dump(dropped)
    );
    assert_eq!(other.connections(), 0, "never connected");
}

/// Working IMAPS and SMTPS servers plus a port-25 candidate sent to `port25`, probed with a
/// step timeout of 20 s (waiting for port 25 would show as that timeout): the run and its time.
async fn working_pair_and_port_25(port25: std::net::SocketAddr) -> (ProbeRun, Duration) {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let (imaps, smtps) = (imaps_server(&ca), smtps_server(&ca));
    let net = net_with(
        &[(25, port25)],
        Duration::from_secs(20),
        Some(&ca.write_pem(tmp.path())),
    );
    let cands = vec![
        cand_from(
            Protocol::Imap,
            imaps.port(),
            Security::Tls,
            Source::ProviderDb,
        ),
        cand_from(
            Protocol::Smtp,
            smtps.port(),
            Security::Tls,
            Source::ProviderDb,
        ),
        cand_from(Protocol::Smtp, 25, Security::Starttls, Source::MxProvider),
    ];
    let t = Instant::now();
    let run = probe_all(net, &cands, &opts()).await;
    let took = t.elapsed();
    (run, took)
}

#[tokio::test]
async fn a_filtered_port_25_holds_the_verdict_at_most_half_a_second() {
    let filtered = FilteredPort::start();
    let (run, took) = working_pair_and_port_25(filtered.addr()).await;
    assert!(took < Duration::from_secs(3), "{took:?}");
    let p25 = &run.probes[2];
    assert_eq!(phase(p25), Some("connect"), "{}", dump(p25));
    let e = error(p25);
    assert!(
        e.starts_with("no TCP answer within ") && e.ends_with("port 25 looks filtered from here"),
        "{e}"
    );
    let f = run
        .findings
        .iter()
        .find(|f| f.code == FindingCode::Port25Blocked)
        .expect("port25-blocked");
    assert!(f.message.contains("looks filtered"), "{}", f.message);
    assert!(run.settings.outgoing.is_some() && run.settings.incoming.is_some());
}

#[tokio::test]
async fn a_connected_port_25_is_reachable_without_waiting_for_its_banner() {
    let silent = ScriptedServer::blackhole();
    let (run, took) = working_pair_and_port_25(silent.addr()).await;
    assert!(took < Duration::from_secs(3), "{took:?}");
    let p25 = &run.probes[2];
    assert_eq!(phase(p25), Some("cancelled"), "{}", dump(p25));
    assert!(
        error(p25).contains("reachable: TCP connected"),
        "{}",
        dump(p25)
    );
    assert!(
        p25.steps
            .iter()
            .any(|s| s.name == "connect" && s.status == StepStatus::Ok)
    );
    assert!(
        !run.findings
            .iter()
            .any(|f| f.code == FindingCode::Port25Blocked)
    );
}

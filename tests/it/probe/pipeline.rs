//! `probe_feed`: probing pipelined with discovery. Candidates are probed as soon as a source
//! finds them, a candidate found again is not probed twice, the final (settled) list orders the
//! probes and names all their sources, nothing is cancelled before the ranking is settled, and the
//! login waits for the settled user name.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailprobe::model::{AuthAttempt, Candidate, Outcome, Protocol, Security, Source};
use mailprobe::probe::{Feed, LoginHook, ProbeOptions, probe_feed};
use mailprobe::proto::Session;
use tokio::sync::mpsc;

use super::{cand_from, dump, imaps_server, net_with, opts, phase};
use crate::support::certs::TestCa;
use crate::support::scripted::ScriptedServer;

/// Wait (up to 10 s) until `done` holds; false if it never did.
async fn until(done: impl Fn() -> bool) -> bool {
    for _ in 0..1000 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn found_candidates_are_probed_before_discovery_settles() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let good = imaps_server(&ca);
    let net = net_with(&[], Duration::from_secs(5), Some(&ca.write_pem(tmp.path())));
    let (tx, rx) = mpsc::unbounded_channel();
    let o = opts();
    let run = tokio::spawn({
        let net = net.clone();
        async move { probe_feed(net, rx, &o).await }
    });
    tx.send(Feed::Found(vec![cand_from(
        Protocol::Imap,
        good.port(),
        Security::Tls,
        Source::Srv,
    )]))
    .unwrap();
    // The probe runs to its LOGOUT while discovery has not settled.
    assert!(until(|| good.lines().iter().any(|l| l.contains("LOGOUT"))).await);
    // A later source finds it again: not probed twice.
    tx.send(Feed::Found(vec![cand_from(
        Protocol::Imap,
        good.port(),
        Security::Tls,
        Source::Autoconfig,
    )]))
    .unwrap();
    let mut settled = cand_from(Protocol::Imap, good.port(), Security::Tls, Source::Srv);
    settled.sources = vec![Source::Autoconfig, Source::Srv];
    tx.send(Feed::Settled(vec![settled])).unwrap();
    let run = run.await.unwrap();
    assert_eq!(good.connections(), 1);
    assert_eq!(run.probes.len(), 1);
    assert_eq!(run.probes[0].outcome, Outcome::Working { tls_valid: true });
    assert_eq!(
        run.probes[0].sources,
        vec![Source::Autoconfig, Source::Srv],
        "the probe names every source of the settled candidate"
    );
    assert!(run.settings.incoming.is_some());
}

#[tokio::test]
async fn settled_list_orders_the_probes_and_adds_the_ones_never_found() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let a = imaps_server(&ca);
    let b = imaps_server(&ca);
    let net = net_with(&[], Duration::from_secs(5), Some(&ca.write_pem(tmp.path())));
    let (tx, rx) = mpsc::unbounded_channel();
    let ca_ = cand_from(Protocol::Imap, a.port(), Security::Tls, Source::Srv);
    let cb = cand_from(Protocol::Imap, b.port(), Security::Tls, Source::ProviderDb);
    tx.send(Feed::Found(vec![ca_.clone()])).unwrap();
    tx.send(Feed::Settled(vec![cb.clone(), ca_.clone()]))
        .unwrap();
    let run = probe_feed(net, rx, &opts()).await;
    let ports: Vec<u16> = run.probes.iter().map(|p| p.port).collect();
    assert_eq!(ports, vec![b.port(), a.port()]);
    assert_eq!(run.probes[0].outcome, Outcome::Working { tls_valid: true });
    // The one found first works too, unless the settled ranking put the other first and it
    // finished first: then the verdict no longer needed it.
    assert!(
        run.probes[1].outcome == Outcome::Working { tls_valid: true }
            || phase(&run.probes[1]) == Some("cancelled"),
        "{}",
        dump(&run.probes[1])
    );
    assert!(a.connections() <= 1, "never probed twice");
    assert_eq!(b.connections(), 1);
}

#[tokio::test]
async fn nothing_is_cancelled_before_the_ranking_is_settled() {
    // Found in this order, the black hole looks outranked by the working server; the settled
    // ranking puts it first, so the verdict must wait for it (its TLS timeout), not cancel it.
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let good = imaps_server(&ca);
    let hole = ScriptedServer::blackhole();
    let net = net_with(&[], Duration::from_secs(1), Some(&ca.write_pem(tmp.path())));
    let o = opts();
    let w = cand_from(Protocol::Imap, good.port(), Security::Tls, Source::Srv);
    let p = cand_from(Protocol::Imap, hole.port(), Security::Tls, Source::Guess);
    let (tx, rx) = mpsc::unbounded_channel();
    let run = tokio::spawn({
        let net = net.clone();
        async move { probe_feed(net, rx, &o).await }
    });
    tx.send(Feed::Found(vec![w.clone()])).unwrap();
    tx.send(Feed::Found(vec![p.clone()])).unwrap();
    assert!(until(|| good.lines().iter().any(|l| l.contains("LOGOUT"))).await);
    let mut p_final = p.clone();
    p_final.sources = vec![Source::ProviderDb, Source::Guess];
    tx.send(Feed::Settled(vec![p_final, w])).unwrap();
    let run = run.await.unwrap();
    assert_eq!(
        phase(&run.probes[0]),
        Some("tls"),
        "{}",
        dump(&run.probes[0])
    );
    assert_eq!(run.probes[1].outcome, Outcome::Working { tls_valid: true });
}

/// Records the user name the login was given; sends nothing.
struct UserSeen(Mutex<Vec<Option<String>>>);

impl LoginHook for UserSeen {
    fn login<'a>(
        &'a self,
        _session: &'a mut Session,
        candidate: &'a Candidate,
        _caps: &'a [String],
        _sasl: &'a [String],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<AuthAttempt>> + Send + 'a>> {
        self.0.lock().unwrap().push(candidate.username.clone());
        Box::pin(async { Vec::new() })
    }
}

#[tokio::test]
async fn login_waits_for_the_settled_user_name() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let good = imaps_server(&ca);
    let net = net_with(&[], Duration::from_secs(5), Some(&ca.write_pem(tmp.path())));
    let hook = Arc::new(UserSeen(Mutex::new(Vec::new())));
    let o = ProbeOptions {
        login: Some(hook.clone()),
        ..opts()
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let run = tokio::spawn({
        let net = net.clone();
        async move { probe_feed(net, rx, &o).await }
    });
    // Found by a guess (no user name): the probe connects and reaches the login...
    let guess = cand_from(Protocol::Imap, good.port(), Security::Tls, Source::Guess);
    tx.send(Feed::Found(vec![guess.clone()])).unwrap();
    assert!(until(|| good.connections() == 1).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        hook.0.lock().unwrap().is_empty(),
        "no login before discovery is complete"
    );
    // ...and logs in only once autoconfig's user name is settled.
    let mut settled = guess;
    settled.sources = vec![Source::Autoconfig, Source::Guess];
    settled.username = Some("alice@example.test".into());
    tx.send(Feed::Settled(vec![settled])).unwrap();
    let run = run.await.unwrap();
    assert_eq!(
        *hook.0.lock().unwrap(),
        vec![Some("alice@example.test".to_string())]
    );
    let auth = run.probes[0].steps.iter().find(|s| s.name == "auth");
    assert!(auth.is_some(), "{}", dump(&run.probes[0]));
}

//! Happy-eyeballs tests on loopback only: ordering, refusal, a listener whose backlog is full
//! (SYNs dropped: a stand-in for a blackholed path), `--resolve` / `--connect-to`, the §3
//! resolution delay with scripted lookups.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::FutureExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::Instant;

use super::race::Interleave;
use super::*;
use crate::config::{ConnectTo, NetConfig, ResolveEntry};

const V6: &str = "::1";
const V4: &str = "127.0.0.1";

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn net(mut cfg: NetConfig) -> std::sync::Arc<Net> {
    // A DNS server that never answers: these tests must not look names up.
    cfg.dns = vec![sa("127.0.0.1:9")];
    cfg.deadline = Duration::from_secs(60);
    Net::new(cfg).expect("net")
}

/// A listener on 127.0.0.1 that accepts (and keeps) connections.
async fn listener_v4() -> (u16, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind((ip(V4), 0)).await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let mut keep = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            keep.push(s);
        }
    });
    (port, task)
}

/// `::1:port` bound but not listening: connections there are refused. `None` without IPv6.
fn refusing_v6(port: u16) -> Option<TcpSocket> {
    let s = TcpSocket::new_v6().ok()?;
    s.bind(SocketAddr::new(ip(V6), port)).ok()?;
    Some(s)
}

/// A listener on `addr` whose accept queue is full, so that further SYNs are dropped (Linux,
/// `tcp_abort_on_overflow=0`): connecting there hangs like a blackholed path. Returns the
/// listener and the connections that fill it (both must stay alive); `None` if the trick
/// does not work here.
async fn blackhole(addr: SocketAddr) -> Option<(TcpListener, Vec<TcpStream>)> {
    let s = if addr.is_ipv6() {
        TcpSocket::new_v6()
    } else {
        TcpSocket::new_v4()
    }
    .ok()?;
    s.bind(addr).ok()?;
    let l = s.listen(0).ok()?;
    let target = l.local_addr().ok()?;
    let mut fill = Vec::new();
    for _ in 0..8 {
        match tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(target)).await {
            Ok(Ok(c)) => fill.push(c),
            Ok(Err(_)) => return None,
            Err(_) => return Some((l, fill)),
        }
    }
    None
}

#[test]
fn interleave_families() {
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec![
                "[::1]:1",
                "[::2]:1",
                "127.0.0.1:1",
                "127.0.0.2:1",
                "127.0.0.3:1",
            ],
            vec![
                "[::1]:1",
                "127.0.0.1:1",
                "[::2]:1",
                "127.0.0.2:1",
                "127.0.0.3:1",
            ],
        ),
        (
            vec!["127.0.0.1:1", "[::1]:1"],
            vec!["[::1]:1", "127.0.0.1:1"],
        ),
        (
            vec!["127.0.0.1:1", "127.0.0.2:1"],
            vec!["127.0.0.1:1", "127.0.0.2:1"],
        ),
        (vec!["[::1]:1", "[::1]:1"], vec!["[::1]:1"]),
        (vec![], vec![]),
    ];
    for (input, want) in cases {
        let mut q = Interleave::default();
        q.add(input.iter().map(|s| sa(s)));
        let got: Vec<String> = q.drain().iter().map(|a| a.to_string()).collect();
        assert_eq!(got, want, "{input:?}");
    }
    // A late family joins in alternation.
    let mut q = Interleave::default();
    q.add([sa("127.0.0.1:1"), sa("127.0.0.2:1")]);
    assert_eq!(q.next(), Some(sa("127.0.0.1:1")));
    q.add([sa("[::1]:1")]);
    assert_eq!(q.next(), Some(sa("[::1]:1")));
    assert_eq!(q.next(), Some(sa("127.0.0.2:1")));
}

#[test]
fn result_words() {
    use std::io::{Error, ErrorKind};
    let cases = [
        (ErrorKind::ConnectionRefused, "refused"),
        (ErrorKind::TimedOut, "timeout"),
        (ErrorKind::NetworkUnreachable, "unreachable"),
        (ErrorKind::HostUnreachable, "unreachable"),
        (ErrorKind::AddrNotAvailable, "unreachable"),
    ];
    for (k, want) in cases {
        assert_eq!(result_word(&Error::from(k)), want);
    }
    assert_eq!(result_word(&Error::other("boom")), "boom");
}

fn ar(result: &str) -> AddressResult {
    record(sa("127.0.0.1:25"), result, Some(Duration::from_millis(1)))
}

#[test]
fn failure_kinds() {
    let t = Duration::from_secs(10);
    let cases = [
        (
            vec![ar("refused"), ar("timeout")],
            true,
            ConnectErrorKind::Refused,
        ),
        (vec![ar("timeout")], true, ConnectErrorKind::Timeout),
        (
            vec![ar("unreachable"), ar("timeout")],
            false,
            ConnectErrorKind::Timeout,
        ),
        (
            vec![ar("unreachable")],
            false,
            ConnectErrorKind::Unreachable,
        ),
        (
            vec![ar("Permission denied")],
            false,
            ConnectErrorKind::Other,
        ),
    ];
    for (addrs, timed_out, want) in cases {
        let f = failure("mx.example.test:25", 25, addrs, timed_out, false, t);
        assert_eq!(f.kind, want, "{f:?}");
    }
    let f = failure(
        "mx.example.test:25",
        25,
        vec![ar("timeout")],
        true,
        false,
        t,
    );
    assert!(f.hint.unwrap_or_default().contains("port 25"));
    assert_eq!(
        failure("h:1", 1, vec![], false, true, t).kind,
        ConnectErrorKind::NotFound
    );
}

#[tokio::test]
async fn refused_ipv6_then_ipv4_connects() {
    let (port, _srv) = listener_v4().await;
    let _v6 = refusing_v6(port).expect("IPv6 loopback (::1) is needed for this test");
    let n = net(NetConfig {
        resolve: vec![ResolveEntry {
            host: "mail.example.test".into(),
            port,
            addrs: vec![ip(V4), ip(V6)],
        }],
        ..NetConfig::default()
    });
    let c = connect(&n, "mail.example.test", port)
        .await
        .expect("connected");
    assert_eq!(c.peer, SocketAddr::new(ip(V4), port));
    assert_eq!(c.redirected_to, Some(format!("127.0.0.1:{port}")));
    let got: Vec<(&str, &str, &str)> = c
        .addresses
        .iter()
        .map(|a| (a.address.as_str(), a.family.as_str(), a.result.as_str()))
        .collect();
    let (a6, a4) = ("::1".to_string(), "127.0.0.1".to_string());
    assert_eq!(
        got,
        vec![
            (a6.as_str(), "ipv6", "refused"),
            (a4.as_str(), "ipv4", "connected")
        ]
    );
    assert!(broken_ipv6(&c.addresses).is_some_and(|s| s.contains("refused")));
    // A refusal starts the next attempt at once, not after 250 ms.
    assert!(c.connect_ms < 200, "{}", c.connect_ms);
    assert_eq!(c.resolve_ms, 0);
}

#[tokio::test]
async fn connect_to_redirect_is_recorded() {
    let (port, _srv) = listener_v4().await;
    let n = net(NetConfig {
        connect_to: vec![ConnectTo {
            from_host: Some("mail.example.test".into()),
            from_port: Some(993),
            to_host: Some(V4.into()),
            to_port: Some(port),
        }],
        ..NetConfig::default()
    });
    let c = connect(&n, "mail.example.test", 993)
        .await
        .expect("connected");
    assert_eq!(c.redirected_to, Some(format!("127.0.0.1:{port}")));
    assert_eq!(c.addresses.len(), 1);
    // An IP literal without override is not a redirect.
    let c = connect(&n, V4, port).await.expect("connected");
    assert_eq!(c.redirected_to, None);
}

#[tokio::test]
async fn all_refused() {
    let port = {
        let l = std::net::TcpListener::bind((ip(V4), 0)).expect("bind");
        l.local_addr().expect("addr").port()
    };
    let n = net(NetConfig::default());
    let f = connect(&n, V4, port).await.expect_err("refused");
    assert_eq!(f.kind, ConnectErrorKind::Refused);
    assert_eq!(f.addresses.len(), 1);
    assert_eq!(f.addresses[0].result, "refused");
    assert!(f.hint.is_some());
}

#[tokio::test]
async fn slow_ipv6_loses_after_attempt_delay() {
    let (port, _srv) = listener_v4().await;
    let (_hole, _fill) = blackhole(SocketAddr::new(ip(V6), port))
        .await
        .expect("a full accept queue on ::1 simulates a blackholed IPv6 path (Linux)");
    let n = net(NetConfig {
        resolve: vec![ResolveEntry {
            host: "mail.example.test".into(),
            port,
            addrs: vec![ip(V6), ip(V4)],
        }],
        ..NetConfig::default()
    });
    let c = connect(&n, "mail.example.test", port)
        .await
        .expect("connected");
    assert_eq!(c.peer.ip(), ip(V4));
    assert_eq!(c.addresses[0].family, "ipv6");
    assert_eq!(c.addresses[0].result, "cancelled");
    assert!(
        c.addresses[0].elapsed_ms.unwrap_or(0) >= 240,
        "{:?}",
        c.addresses
    );
    assert_eq!(c.addresses[1].result, "connected");
    assert!(
        c.connect_ms >= 240 && c.connect_ms < 1500,
        "{}",
        c.connect_ms
    );
}

#[tokio::test]
async fn blackhole_times_out_within_step_timeout() {
    let (hole, _fill) = blackhole(sa("127.0.0.1:0"))
        .await
        .expect("a full accept queue simulates a blackholed path (Linux)");
    let port = hole.local_addr().expect("addr").port();
    let n = net(NetConfig {
        timeout: Duration::from_millis(400),
        ..NetConfig::default()
    });
    let started = Instant::now();
    let f = connect(&n, V4, port).await.expect_err("timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(f.kind, ConnectErrorKind::Timeout, "{f:?}");
    assert_eq!(f.addresses[0].result, "timeout");
}

#[tokio::test]
async fn offline_is_a_dns_failure() {
    let n = net(NetConfig {
        offline: true,
        ..NetConfig::default()
    });
    let f = connect(&n, "mail.example.test", 993)
        .await
        .expect_err("no dns");
    assert_eq!(f.kind, ConnectErrorKind::Dns);
}

/// A scripted lookup answering `ips` after `delay`.
fn scripted(ips: Vec<IpAddr>, delay: u64) -> Lookup {
    async move {
        tokio::time::sleep(Duration::from_millis(delay)).await;
        Ok(ips)
    }
    .boxed()
    .fuse()
}

fn failing(e: DnsError, delay: u64) -> Lookup {
    async move {
        tokio::time::sleep(Duration::from_millis(delay)).await;
        Err(e)
    }
    .boxed()
    .fuse()
}

#[tokio::test]
async fn resolution_delay_waits_briefly_for_aaaa() {
    let (port, _srv) = listener_v4().await;
    let Some(_v6) = refusing_v6(port) else { return };
    let deadline = Instant::now() + Duration::from_secs(3);
    // AAAA 20 ms after A: inside the 50 ms resolution delay, so IPv6 is still tried first.
    let r = race(
        vec![],
        scripted(vec![ip(V6)], 30),
        scripted(vec![ip(V4)], 10),
        port,
        deadline,
    )
    .await;
    let fams: Vec<&str> = r.addresses.iter().map(|a| a.family.as_str()).collect();
    assert_eq!(fams, vec!["ipv6", "ipv4"], "{:?}", r.addresses);
    assert!(r.winner.is_some());
    // AAAA far behind A: IPv4 goes first and wins; IPv6 arrives too late to be tried.
    let r = race(
        vec![],
        scripted(vec![ip(V6)], 2000),
        scripted(vec![ip(V4)], 10),
        port,
        deadline,
    )
    .await;
    assert_eq!(r.addresses.len(), 1, "{:?}", r.addresses);
    assert_eq!(r.addresses[0].family, "ipv4");
    assert!((50..500).contains(&r.resolve_ms), "{}", r.resolve_ms);
}

#[tokio::test]
async fn dns_errors_surface_when_nothing_resolves() {
    let deadline = Instant::now() + Duration::from_secs(3);
    let r = race(
        vec![],
        failing(DnsError::NoRecords("h".into(), "AAAA"), 5),
        failing(DnsError::Timeout("h".into()), 10),
        25,
        deadline,
    )
    .await;
    assert!(r.nothing_tried && r.winner.is_none() && !r.timed_out);
    assert_eq!(pick_dns_error(r.dns_errors), DnsError::Timeout("h".into()));
    let e = pick_dns_error(vec![
        DnsError::NxDomain("h".into()),
        DnsError::NxDomain("h".into()),
    ]);
    assert_eq!(dns_failure(&e).kind, ConnectErrorKind::NotFound);
}

#[test]
fn broken_ipv6_finding() {
    let r = |addr: &str, result: &str, ms: Option<u64>| AddressResult {
        address: addr.into(),
        family: if addr.contains(':') { "ipv6" } else { "ipv4" }.into(),
        result: result.into(),
        elapsed_ms: ms,
    };
    let v6_refused = r("2001:db8::1", "refused", Some(1));
    let v6_slow = r("2001:db8::1", "cancelled", Some(251));
    let v6_ok = r("2001:db8::1", "connected", Some(5));
    let v6_untried = r("2001:db8::2", "not_tried", None);
    let v4_ok = r("192.0.2.1", "connected", Some(3));
    let v4_ok2 = v4_ok.clone();
    let v4_bad = r("192.0.2.1", "refused", Some(3));
    let cases: Vec<(Vec<AddressResult>, Option<&str>)> = vec![
        (
            vec![v6_refused.clone(), v4_ok.clone()],
            Some("IPv6 does not work (2001:db8::1 refused); IPv4 was used"),
        ),
        (
            vec![v6_slow, v4_ok.clone(), v6_untried.clone()],
            Some("IPv6 does not work (2001:db8::1 no answer after 251 ms); IPv4 was used"),
        ),
        (vec![v6_ok, v6_untried.clone()], None),
        (vec![v4_ok.clone()], None),
        (vec![v4_ok, v6_untried], None),
        (vec![v6_refused, v4_bad], None),
        (
            vec![r("2001:db8::1", "unreachable", Some(0)), v4_ok2],
            Some(
                "no IPv6 route from this machine: the server's IPv6 addresses could not be tested",
            ),
        ),
    ];
    for (addrs, want) in cases {
        assert_eq!(broken_ipv6(&addrs).as_deref(), want, "{addrs:?}");
    }
}

/// The probe spawns connections on the multi-threaded runtime: the future must be `Send`.
#[tokio::test]
async fn connect_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let n = net(NetConfig::default());
    let fut = connect(&n, "mail.example.test", 993);
    assert_send(&fut);
}

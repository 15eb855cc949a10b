//! Slow clients (slowloris) against the exporter, with `header-timeout = 2` and
//! `max-connections = 6`: a request head trickled byte by byte is cut at the header timeout
//! (the trickle does not extend it) while other scrapes are answered at once; a flood of
//! connections that never send a byte holds at most `max-connections` sockets in the exporter,
//! each closed at the timeout, and the exporter answers again once the flood is gone.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::value;
use crate::support::prometheus::{exporter, get};

const CONFIG: &str = "[serve]\nmax-connections = 6\nheader-timeout = 2\n";
const TIMEOUT: Duration = Duration::from_secs(2);

/// Trickle a request head that never ends, one byte per 100 ms; how long until the server
/// closed the connection (None: still open after 15 s).
fn trickle(addr: SocketAddr) -> Option<Duration> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let head = b"GET /metrics HTTP/1.1\r\nHost: exporter.test\r\nX-Slow: ";
    let t0 = Instant::now();
    let mut buf = [0u8; 512];
    for i in 0.. {
        if t0.elapsed() > Duration::from_secs(15) {
            return None;
        }
        let byte = head.get(i).copied().unwrap_or(b'a');
        if s.write_all(&[byte]).is_err() {
            return Some(t0.elapsed());
        }
        match s.read(&mut buf) {
            Ok(0) => return Some(t0.elapsed()),
            // An error answer (408) before the close: the close follows.
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(t0.elapsed()),
        }
    }
    None
}

/// Sockets the process holds (listener, connections, resolver), from /proc.
fn sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|l| l.to_string_lossy().starts_with("socket:"))
                .count()
        })
        .unwrap_or(0)
}

/// Whether the server has closed `s` (it sent its end of stream).
fn closed(s: &TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 512];
    let r = loop {
        match (&mut &*s).read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break false,
            Err(_) => break true,
        }
    };
    s.set_nonblocking(false).unwrap();
    r
}

#[test]
fn slow_request_heads_are_cut_at_the_header_timeout_while_scrapes_go_on() {
    let (daemon, addr) = exporter(CONFIG, &["--dns".into(), "127.0.0.1:9".into()]);
    let slow: Vec<_> = (0..3)
        .map(|_| std::thread::spawn(move || trickle(addr)))
        .collect();
    // While they trickle, scrapes are answered at once.
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..5 {
        let t = Instant::now();
        let (code, body) = get(addr, "/metrics");
        assert_eq!(code, 200, "{body}");
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        let open = value(&body, "mailprobe_exporter_connections_open").unwrap();
        assert!((4.0..=6.0).contains(&open), "{open}\n{body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    for h in slow {
        let cut = h
            .join()
            .unwrap()
            .expect("a trickling client is closed within 15 s");
        eprintln!("trickling client closed after {cut:?}");
        assert!(
            cut >= TIMEOUT - Duration::from_millis(300) && cut < TIMEOUT + Duration::from_secs(3),
            "closed after {cut:?}, header-timeout {TIMEOUT:?}"
        );
    }
    let (_, own) = get(addr, "/metrics");
    assert_eq!(
        value(&own, "mailprobe_exporter_header_timeouts_total"),
        Some(3.0),
        "{own}"
    );
    assert!(daemon.terminate().success());
}

#[test]
fn a_flood_of_silent_connections_holds_at_most_max_connections() {
    let (daemon, addr) = exporter(CONFIG, &["--dns".into(), "127.0.0.1:9".into()]);
    let pid = daemon.child.id();
    assert_eq!(get(addr, "/metrics").0, 200);
    std::thread::sleep(Duration::from_millis(200));
    let baseline = sockets(pid);
    let flood: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(addr).expect("connect (the kernel's backlog)"))
        .collect();
    // 3 s: the first 6 are accepted, cut at 2 s, and the next 6 taken from the backlog.
    let t0 = Instant::now();
    let mut peak = 0;
    while t0.elapsed() < TIMEOUT + Duration::from_secs(1) {
        peak = peak.max(sockets(pid));
        std::thread::sleep(Duration::from_millis(50));
    }
    let cut = flood.iter().filter(|s| closed(s)).count();
    eprintln!(
        "40 silent connections, max-connections 6: {baseline} sockets before, peak {peak}, {cut} closed by the server after {:?}",
        t0.elapsed()
    );
    assert!(
        peak <= baseline + 6,
        "peak {peak} sockets, {baseline} before the flood"
    );
    assert!((6..40).contains(&cut), "{cut} of 40 closed after 3 s");
    // The flood leaves: its queued connections end at once, and scrapes are answered again.
    drop(flood);
    let t = Instant::now();
    let (code, own) = get(addr, "/metrics");
    assert_eq!(code, 200, "{own}");
    assert!(
        t.elapsed() < TIMEOUT + Duration::from_secs(2),
        "{:?}",
        t.elapsed()
    );
    let timeouts = value(&own, "mailprobe_exporter_header_timeouts_total").unwrap();
    assert!(timeouts >= 6.0, "{own}");
    assert!(daemon.terminate().success());
}

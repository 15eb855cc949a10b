//! Latency-injecting TCP and UDP forwarder, so that every round trip on loopback costs what it
//! costs on a real network (one-way delay `d`, RTT = 2·d, unlimited bandwidth, no loss).
//!
//! TCP model (RFC 9293 §3.5 three-way handshake): a real `connect()` returns after 1 RTT and the
//! server's `accept()` happens when the final ACK arrives, 1.5 RTT after the SYN. The kernel
//! completes our local handshake at once, so the proxy instead connects upstream 3·d after the
//! client connected (the server "accepts" then), forwards client bytes no earlier than 2·d + d
//! (the client could not have sent before its connect returned), and delays every chunk by `d`
//! in each direction, in order. A server-first greeting therefore reaches the client 2 RTT after
//! its connect started and a TLS ClientHello is answered after 2 RTT, exactly as on a network.
//!
//! UDP (DNS): every datagram is delayed by `d` each way, each query from its own upstream socket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::support::rt::Background;

/// Largest chunk read at once (one forwarded "segment").
const CHUNK: usize = 64 * 1024;

/// The one-way delay, shared by every proxy of a world and changeable between runs (µs).
#[derive(Clone, Default)]
pub struct Delay(Arc<AtomicU64>);

impl Delay {
    pub fn new(d: Duration) -> Delay {
        let me = Delay::default();
        me.set(d);
        me
    }

    pub fn set(&self, d: Duration) {
        self.0.store(d.as_micros() as u64, Ordering::SeqCst);
    }

    pub fn get(&self) -> Duration {
        Duration::from_micros(self.0.load(Ordering::SeqCst))
    }
}

/// A running forwarder: TCP and, for DNS, UDP on the same port. Stops on drop.
pub struct Proxy {
    pub addr: SocketAddr,
    _bg: Background,
}

impl Proxy {
    /// TCP only, in front of `upstream`.
    pub fn tcp(upstream: SocketAddr, delay: Delay) -> Proxy {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        l.set_nonblocking(true).expect("non-blocking");
        let addr = l.local_addr().expect("local addr");
        let bg = Background::spawn("bench-proxy-tcp", move || async move {
            let l = TcpListener::from_std(l).expect("tokio listener");
            tcp_loop(l, upstream, delay).await;
        });
        Proxy { addr, _bg: bg }
    }

    /// UDP and TCP on one port, in front of a DNS server listening on both at `upstream`.
    pub fn dns(upstream: SocketAddr, delay: Delay) -> Proxy {
        let (udp, tcp) = (0..20)
            .find_map(|_| {
                let udp = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
                let tcp = std::net::TcpListener::bind(udp.local_addr().ok()?).ok()?;
                Some((udp, tcp))
            })
            .expect("bind UDP+TCP on one port");
        udp.set_nonblocking(true).expect("non-blocking");
        tcp.set_nonblocking(true).expect("non-blocking");
        let addr = udp.local_addr().expect("local addr");
        let bg = Background::spawn("bench-proxy-dns", move || async move {
            let udp = Arc::new(UdpSocket::from_std(udp).expect("tokio udp"));
            let tcp = TcpListener::from_std(tcp).expect("tokio listener");
            tokio::join!(
                udp_loop(udp, upstream, delay.clone()),
                tcp_loop(tcp, upstream, delay)
            );
        });
        Proxy { addr, _bg: bg }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

async fn tcp_loop(l: TcpListener, upstream: SocketAddr, d: Delay) {
    loop {
        if let Ok((c, _)) = l.accept().await {
            let _ = c.set_nodelay(true);
            tokio::spawn(tcp_conn(c, upstream, d.get()));
        }
    }
}

/// One chunk to write at `at`; `None` = half-close (FIN) the writing side.
type Timed = (Instant, Option<Vec<u8>>);

async fn tcp_conn(client: TcpStream, upstream: SocketAddr, d: Duration) {
    let t0 = Instant::now();
    let (cr, cw) = client.into_split();
    let (up_tx, up_rx) = mpsc::unbounded_channel::<Timed>();
    // Client bytes: sent no earlier than its connect would have returned (1 RTT), then 1 way.
    let to_up = tokio::spawn(pump(cr, up_tx, d, Some(t0 + 2 * d)));
    tokio::time::sleep_until(t0 + 3 * d).await;
    let Ok(server) = TcpStream::connect(upstream).await else {
        to_up.abort();
        return; // dropping the client half closes the client connection: "refused"
    };
    let _ = server.set_nodelay(true);
    let (sr, sw) = server.into_split();
    let (down_tx, down_rx) = mpsc::unbounded_channel::<Timed>();
    let to_down = tokio::spawn(pump(sr, down_tx, d, None));
    tokio::join!(drain(sw, up_rx), drain(cw, down_rx));
    to_up.abort();
    to_down.abort();
}

/// Read chunks and stamp each with its delivery time (arrival + d, not before `not_before`).
async fn pump<R: AsyncReadExt + Unpin>(
    mut r: R,
    tx: mpsc::UnboundedSender<Timed>,
    d: Duration,
    not_before: Option<Instant>,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = r.read(&mut buf).await.unwrap_or(0);
        let mut at = Instant::now();
        if let Some(nb) = not_before {
            at = at.max(nb);
        }
        let msg = (n > 0).then(|| buf[..n].to_vec());
        if tx.send((at + d, msg)).is_err() || n == 0 {
            return;
        }
    }
}

/// Write each chunk at its time, in order; shut down on `None` or when the channel closes.
async fn drain<W: AsyncWriteExt + Unpin>(mut w: W, mut rx: mpsc::UnboundedReceiver<Timed>) {
    while let Some((at, msg)) = rx.recv().await {
        tokio::time::sleep_until(at).await;
        match msg {
            Some(bytes) => {
                if w.write_all(&bytes).await.is_err() {
                    break;
                }
            }
            None => break,
        }
    }
    let _ = w.shutdown().await;
}

async fn udp_loop(sock: Arc<UdpSocket>, upstream: SocketAddr, d: Delay) {
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, client)) = sock.recv_from(&mut buf).await else {
            continue;
        };
        let data = buf[..n].to_vec();
        tokio::spawn(udp_exchange(sock.clone(), client, upstream, data, d.get()));
    }
}

/// One query: forwarded `d` later from a fresh socket, each answer sent back `d` later. The
/// socket lives at most [`UDP_IDLE`] (a resolver uses a new source port per query anyway), so
/// thousands of lookups never pile up open sockets.
async fn udp_exchange(
    sock: Arc<UdpSocket>,
    client: SocketAddr,
    upstream: SocketAddr,
    data: Vec<u8>,
    d: Duration,
) {
    tokio::time::sleep(d).await;
    let Ok(up) = UdpSocket::bind("127.0.0.1:0").await else {
        return;
    };
    if up.connect(upstream).await.is_err() || up.send(&data).await.is_err() {
        return;
    }
    let mut buf = vec![0u8; 65536];
    let end = Instant::now() + UDP_IDLE;
    while let Ok(Ok(n)) = tokio::time::timeout_at(end, up.recv(&mut buf)).await {
        let answer = buf[..n].to_vec();
        let sock = sock.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            let _ = sock.send_to(&answer, client).await;
        });
    }
}

/// How long a forwarded query waits for answers.
const UDP_IDLE: Duration = Duration::from_secs(5);

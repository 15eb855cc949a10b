//! Scripted TCP (and TLS) servers on 127.0.0.1:0 for the failure cases real servers will not
//! produce: wrong greetings, stalls, drips, early closes, bad certificates, TLS 1.0-only peers.
//!
//! Every accepted connection runs the same [`Step`] script on its own task; when the script ends
//! the connection is closed. The server counts connections (total and peak concurrent), records
//! every line the client sent, and notes script failures (e.g. an `ExpectLine` mismatch).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::rt::{Background, bind_tcp};

/// Longest line a script reads before failing the connection.
const MAX_LINE: usize = 64 * 1024;

/// One step of a server script.
#[derive(Clone)]
pub enum Step {
    /// Send these bytes as they are (`"220 hi\r\n".into()` works).
    Send(Vec<u8>),
    /// Read a line (LF-terminated); fail and close the connection unless it starts with this
    /// prefix (ASCII case-insensitive, so `"ehlo"` matches `EHLO x`).
    ExpectLine(String),
    /// Read and record one line, whatever it is.
    ReadLine,
    /// Read lines until one equals this text (without CRLF), e.g. `"."` after SMTP DATA.
    ReadUntil(String),
    /// Read one TLS record (5-byte header + body), e.g. a ClientHello.
    ReadTlsRecord,
    Sleep(Duration),
    /// Hold the connection this long, reading and discarding, but end as soon as the client
    /// closes (so that the live-connection count sees a client's close at once).
    Linger(Duration),
    /// Close the connection now.
    Close,
    /// Never send anything again; read and discard until the client closes.
    Hang,
    /// Never read or write again; hold the socket until the server drops.
    Stall,
    /// Send `bytes` one byte at a time, one every `every`.
    Drip {
        bytes: Vec<u8>,
        every: Duration,
    },
    /// Upgrade the connection to TLS as the server (after the STARTTLS reply was sent).
    StartTls(Arc<ServerConfig>),
    /// Send these bytes unchanged (same as `Send`; reads better for binary data).
    SendRaw(Vec<u8>),
    /// Read and record one line, then send `before` + that line + `after` + CRLF: a server
    /// that quotes the client's line in its reply.
    Echo {
        before: String,
        after: String,
    },
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Send(b) | Step::SendRaw(b) => write!(f, "Send({:?})", String::from_utf8_lossy(b)),
            Step::ExpectLine(p) => write!(f, "ExpectLine({p:?})"),
            Step::ReadLine => write!(f, "ReadLine"),
            Step::ReadUntil(t) => write!(f, "ReadUntil({t:?})"),
            Step::ReadTlsRecord => write!(f, "ReadTlsRecord"),
            Step::Sleep(d) => write!(f, "Sleep({d:?})"),
            Step::Linger(d) => write!(f, "Linger({d:?})"),
            Step::Close => write!(f, "Close"),
            Step::Hang => write!(f, "Hang"),
            Step::Stall => write!(f, "Stall"),
            Step::Drip { bytes, every } => write!(f, "Drip({} bytes every {every:?})", bytes.len()),
            Step::StartTls(_) => write!(f, "StartTls"),
            Step::Echo { before, after } => write!(f, "Echo({before:?}, {after:?})"),
        }
    }
}

impl Step {
    /// `Send` of `text` + CRLF.
    pub fn line(text: &str) -> Step {
        Step::Send(format!("{text}\r\n").into_bytes())
    }

    /// `ExpectLine(prefix)`.
    pub fn expect(prefix: &str) -> Step {
        Step::ExpectLine(prefix.to_string())
    }

    /// `Echo`: the client's next line sent back between `before` and `after`.
    pub fn echo(before: &str, after: &str) -> Step {
        Step::Echo {
            before: before.to_string(),
            after: after.to_string(),
        }
    }
}

/// What a TLS 1.0/1.1-only server answers to a modern ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyTls {
    /// Fatal alert protocol_version (70) in a TLS 1.0 record: `15 03 01 00 02 02 46`.
    ProtocolVersionAlert,
    /// A ServerHello choosing TLS 1.0 (`(3, 1)`) or 1.1 (`(3, 2)`) with
    /// TLS_RSA_WITH_AES_128_CBC_SHA, then silence.
    ServerHello(u8, u8),
}

impl LegacyTls {
    /// The bytes the server sends (RFC 2246 §7.4.1.3 / §7.2).
    pub fn bytes(self) -> Vec<u8> {
        match self {
            LegacyTls::ProtocolVersionAlert => vec![0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46],
            LegacyTls::ServerHello(major, minor) => {
                let mut body = vec![major, minor];
                body.extend((0u8..32).map(|i| i.wrapping_mul(7).wrapping_add(1))); // random
                body.push(0); // session id length
                body.extend([0x00, 0x2f]); // TLS_RSA_WITH_AES_128_CBC_SHA
                body.push(0); // compression: null
                let mut hs = vec![0x02, 0, 0, body.len() as u8];
                hs.extend(body);
                let mut rec = vec![0x16, major, minor, 0, hs.len() as u8];
                rec.extend(hs);
                rec
            }
        }
    }
}

#[derive(Default)]
struct Stats {
    total: AtomicUsize,
    current: AtomicUsize,
    peak: AtomicUsize,
    lines: Mutex<Vec<String>>,
    failures: Mutex<Vec<String>>,
}

/// Decrements the live-connection count when a connection task ends (or is cancelled).
struct Live(Arc<Stats>);

impl Live {
    fn new(st: &Arc<Stats>) -> Live {
        st.total.fetch_add(1, Ordering::SeqCst);
        let now = st.current.fetch_add(1, Ordering::SeqCst) + 1;
        st.peak.fetch_max(now, Ordering::SeqCst);
        Live(st.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running scripted server. Stops (closing every connection) on drop.
pub struct ScriptedServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    _bg: Background,
}

impl std::fmt::Debug for ScriptedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl ScriptedServer {
    /// Plain TCP; every connection runs `script`.
    pub fn start(script: Vec<Step>) -> ScriptedServer {
        Self::spawn(None, script, true)
    }

    /// TLS from the first byte (implicit TLS) with `cfg`, then `script` inside TLS.
    pub fn start_tls(cfg: Arc<ServerConfig>, script: Vec<Step>) -> ScriptedServer {
        Self::spawn(Some(cfg), script, true)
    }

    /// Accepts connections, reads and discards, never sends a byte.
    pub fn blackhole() -> ScriptedServer {
        Self::start(vec![Step::Hang])
    }

    /// Accepts connections and then neither reads nor writes (the client's writes fill the
    /// socket buffers); connections stay open until the server drops.
    pub fn accept_only() -> ScriptedServer {
        Self::start(vec![Step::Stall])
    }

    /// Listens but never calls accept(): the kernel completes the TCP handshake (backlog), then
    /// nothing ever happens. `connections()` stays 0.
    pub fn never_accept() -> ScriptedServer {
        Self::spawn(None, Vec::new(), false)
    }

    /// A server that only speaks TLS 1.0/1.1: reads the ClientHello, answers `reply`, then
    /// waits for the client to give up.
    pub fn legacy_tls(reply: LegacyTls) -> ScriptedServer {
        Self::start(vec![
            Step::ReadTlsRecord,
            Step::SendRaw(reply.bytes()),
            Step::Hang,
        ])
    }

    fn spawn(tls: Option<Arc<ServerConfig>>, script: Vec<Step>, accept: bool) -> ScriptedServer {
        let std_listener = bind_tcp();
        let addr = std_listener.local_addr().expect("local addr");
        let stats = Arc::new(Stats::default());
        let st = stats.clone();
        let script = Arc::new(script);
        let bg = Background::spawn("test-scripted", move || async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("tokio listener");
            if !accept {
                std::future::pending::<()>().await;
            }
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                // Let connections the client closed just before this one notice their end first
                // (a yielded task resumes after the I/O driver ran), so that the live count does
                // not hold a connection the client already left.
                tokio::task::yield_now().await;
                let live = Live::new(&st);
                let (st, script, tls) = (st.clone(), script.clone(), tls.clone());
                tokio::spawn(async move {
                    let _live = live;
                    let mut conn = Conn::new(Stream::Plain(tcp), st.clone());
                    if let Some(cfg) = tls
                        && let Err(e) = conn.start_tls(cfg).await
                    {
                        st.failures.lock().unwrap().push(format!("TLS accept: {e}"));
                        return;
                    }
                    if let Err(e) = conn.run(&script).await {
                        st.failures.lock().unwrap().push(e);
                    }
                    conn.shutdown().await;
                });
            }
        });
        ScriptedServer {
            addr,
            stats,
            _bg: bg,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.stats.total.load(Ordering::SeqCst)
    }

    /// Connections open right now.
    pub fn current(&self) -> usize {
        self.stats.current.load(Ordering::SeqCst)
    }

    /// Most connections open at the same time.
    pub fn max_concurrent(&self) -> usize {
        self.stats.peak.load(Ordering::SeqCst)
    }

    /// Every line clients sent (read by ExpectLine/ReadLine/ReadUntil), without CRLF.
    pub fn lines(&self) -> Vec<String> {
        self.stats.lines.lock().unwrap().clone()
    }

    /// Script failures (ExpectLine mismatch, TLS accept error, ...).
    pub fn failures(&self) -> Vec<String> {
        self.stats.failures.lock().unwrap().clone()
    }
}

/// A 127.0.0.1 port with nothing listening (connection refused), at least right now.
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("local addr")
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    Closed,
}

struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    stats: Arc<Stats>,
}

impl Conn {
    fn new(stream: Stream, stats: Arc<Stats>) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            stats,
        }
    }

    async fn read_some(&mut self) -> Result<usize, String> {
        let mut tmp = [0u8; 4096];
        let n = match &mut self.stream {
            Stream::Plain(s) => s.read(&mut tmp).await,
            Stream::Tls(s) => s.read(&mut tmp).await,
            Stream::Closed => Ok(0),
        }
        .map_err(|e| format!("read: {e}"))?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    async fn write(&mut self, data: &[u8]) -> Result<(), String> {
        let r = match &mut self.stream {
            Stream::Plain(s) => s.write_all(data).await,
            Stream::Tls(s) => match s.write_all(data).await {
                Ok(()) => s.flush().await,
                Err(e) => Err(e),
            },
            Stream::Closed => Ok(()),
        };
        r.map_err(|e| format!("write: {e}"))
    }

    /// One line without CRLF; Err on EOF or an over-long line.
    async fn read_line(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = self.buf.drain(..=i).collect();
                let line = String::from_utf8_lossy(&raw)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                self.stats.lines.lock().unwrap().push(line.clone());
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err("client line too long".into());
            }
            if self.read_some().await? == 0 {
                return Err("client closed the connection".into());
            }
        }
    }

    async fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, String> {
        while self.buf.len() < n {
            if self.read_some().await? == 0 {
                return Err("client closed the connection".into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn start_tls(&mut self, cfg: Arc<ServerConfig>) -> Result<(), String> {
        // Bytes the client pipelined before the handshake are dropped (RFC 3207 §4.2 forbids
        // relying on them anyway).
        self.buf.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            return Err("StartTls on a connection that is not plain TCP".into());
        };
        let accept = tokio_rustls::TlsAcceptor::from(cfg).accept(tcp);
        let tls = tokio::time::timeout(Duration::from_secs(10), accept)
            .await
            .map_err(|_| "TLS handshake timed out".to_string())?
            .map_err(|e| e.to_string())?;
        self.stream = Stream::Tls(Box::new(tls));
        Ok(())
    }

    /// FIN (plain) or close_notify + FIN (TLS).
    async fn shutdown(&mut self) {
        let _ = match &mut self.stream {
            Stream::Plain(s) => s.shutdown().await,
            Stream::Tls(s) => s.shutdown().await,
            Stream::Closed => Ok(()),
        };
    }

    async fn run(&mut self, script: &[Step]) -> Result<(), String> {
        for step in script {
            match step {
                Step::Send(b) | Step::SendRaw(b) => self.write(b).await?,
                Step::ExpectLine(prefix) => {
                    let line = self.read_line().await?;
                    let ok = line.len() >= prefix.len()
                        && line.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes());
                    if !ok {
                        return Err(format!("expected a line starting {prefix:?}, got {line:?}"));
                    }
                }
                Step::ReadLine => {
                    self.read_line().await?;
                }
                Step::ReadUntil(end) => while self.read_line().await? != *end {},
                Step::ReadTlsRecord => {
                    let head = self.read_exact(5).await?;
                    let len = u16::from_be_bytes([head[3], head[4]]) as usize;
                    self.read_exact(len).await?;
                }
                Step::Sleep(d) => tokio::time::sleep(*d).await,
                Step::Linger(d) => {
                    let until_eof = async {
                        while self.read_some().await.unwrap_or(0) > 0 {
                            self.buf.clear();
                        }
                    };
                    tokio::select! {
                        _ = tokio::time::sleep(*d) => {}
                        _ = until_eof => return Ok(()),
                    }
                }
                Step::Close => return Ok(()),
                Step::Hang => {
                    self.buf.clear();
                    while self.read_some().await.unwrap_or(0) > 0 {
                        self.buf.clear();
                    }
                    return Ok(());
                }
                Step::Stall => std::future::pending::<()>().await,
                Step::Drip { bytes, every } => {
                    for b in bytes {
                        self.write(&[*b]).await?;
                        tokio::time::sleep(*every).await;
                    }
                }
                Step::StartTls(cfg) => self.start_tls(cfg.clone()).await?,
                Step::Echo { before, after } => {
                    let line = self.read_line().await?;
                    self.write(format!("{before}{line}{after}\r\n").as_bytes())
                        .await?;
                }
            }
        }
        Ok(())
    }
}

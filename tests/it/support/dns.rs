//! In-process authoritative DNS (hickory-server) on 127.0.0.1, UDP and TCP on the same port.
//!
//! Zones come as RFC 1035 master-file text (one or several zones in one text, each starting with
//! its SOA; `$ORIGIN`/`$TTL` work), or from the [`Zone`] builder, which writes such text. Every
//! query is recorded ([`DnsServer::queries`]), so tests can assert what was (not) asked, and
//! single names can be made to fail ([`DnsServer::misbehave`]: SERVFAIL, REFUSED, no answer).
//! [`BlackholeDns`] receives queries and never answers (a hanging DNS source).
//! A [`Zone`] can be DNSSEC-signed (`.signed()`, see [`super::dnssec`]); a DS query for the apex
//! of a zone whose parent is served too is answered from the parent (RFC 4035 §3.1.4.1).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::future::Future;
use std::net::{SocketAddr, UdpSocket};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::proto::rr::{LowerName, Name, RecordType, RrKey};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{
    AxfrPolicy, Catalog, MessageResponseBuilder, ZoneHandler, ZoneType,
};

use super::dnssec::{Signing, zone_handler};
use super::rt::Background;

/// One query the server received: (name without trailing dot, lowercase; record type).
pub type Query = (String, String);

/// What the server does for a name instead of answering from its zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehave {
    /// RCODE 2: the server failed (a broken authoritative server).
    ServFail,
    /// RCODE 5: the server refuses (e.g. a lame delegation).
    Refused,
    /// No answer at all (the client times out), while other names still answer.
    Drop,
}

type Rules = Arc<Mutex<Vec<(String, Misbehave)>>>;

/// A running authoritative DNS server. Stops on drop.
#[derive(Debug)]
pub struct DnsServer {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Query>>>,
    rules: Rules,
    _bg: Background,
}

impl DnsServer {
    /// Serve the zones in `zones` (master-file text). Panics on a parse error or a record that
    /// lies outside every zone (an SOA record starts a zone).
    pub fn start(zones: &str) -> DnsServer {
        Self::serve(catalog(zones), Catalog::new(), HashSet::new())
    }

    /// Serve `catalog`; DS queries for the names in `cuts` go to `parents` (the parent zones).
    fn serve(catalog: Catalog, parents: Catalog, cuts: HashSet<LowerName>) -> DnsServer {
        let log = Arc::new(Mutex::new(Vec::new()));
        let rules: Rules = Arc::default();
        let handler = Recording {
            catalog,
            parents,
            cuts,
            log: log.clone(),
            rules: rules.clone(),
        };
        // UDP first, then TCP on the same port (retry if that TCP port is taken).
        let (udp, tcp) = (0..20)
            .find_map(|_| {
                let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
                let tcp = std::net::TcpListener::bind(udp.local_addr().ok()?).ok()?;
                Some((udp, tcp))
            })
            .expect("bind DNS UDP+TCP on one 127.0.0.1 port");
        let addr = udp.local_addr().expect("local addr");
        udp.set_nonblocking(true).expect("non-blocking");
        tcp.set_nonblocking(true).expect("non-blocking");
        let bg = Background::spawn("test-dns", move || async move {
            let mut server = Server::new(handler);
            server.register_socket(tokio::net::UdpSocket::from_std(udp).expect("tokio udp"));
            server.register_listener(
                tokio::net::TcpListener::from_std(tcp).expect("tokio tcp"),
                Duration::from_secs(5),
                4096,
            );
            let _ = server.block_until_done().await;
        });
        DnsServer {
            addr,
            log,
            rules,
            _bg: bg,
        }
    }

    /// Serve the zones built with [`Zone`]. When one of them is signed, each [`Zone`] is a zone
    /// of its own (records are not regrouped by SOA) and signed zones are signed at start.
    pub fn start_zones(zones: &[Zone]) -> DnsServer {
        if zones.iter().all(|z| z.signing.is_none()) {
            let text: String = zones.iter().map(Zone::text).collect();
            return Self::start(&text);
        }
        let mut handlers: Vec<(LowerName, Arc<dyn ZoneHandler>)> = Vec::new();
        for z in zones {
            let origin = LowerName::from(Name::from_ascii(format!("{}.", z.origin)).unwrap());
            handlers.push((origin, Arc::new(zone_handler(z))));
        }
        let mut catalog = Catalog::new();
        let mut parents = Catalog::new();
        let mut cuts = HashSet::new();
        for (origin, h) in &handlers {
            catalog.upsert(origin.clone(), vec![h.clone()]);
            let parent = handlers
                .iter()
                .filter(|(o, _)| o != origin && o.zone_of(origin))
                .max_by_key(|(o, _)| o.num_labels());
            if let Some((_, ph)) = parent {
                parents.upsert(origin.clone(), vec![ph.clone()]);
                cuts.insert(origin.clone());
            }
        }
        Self::serve(catalog, parents, cuts)
    }

    /// UDP and TCP address (same port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `--dns` argument for the CLI: `127.0.0.1:PORT`.
    pub fn arg(&self) -> String {
        self.addr.to_string()
    }

    /// From now on, answer queries for `name` (any type; exact name, case-insensitive) this way.
    pub fn misbehave(&self, name: &str, how: Misbehave) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let mut rules = self.rules.lock().unwrap();
        rules.retain(|(n, _)| *n != name);
        rules.push((name, how));
    }

    /// Every query received so far, in order.
    pub fn queries(&self) -> Vec<Query> {
        self.log.lock().unwrap().clone()
    }
}

/// Parse master-file text and split its records into zones by their SOA records.
fn catalog(text: &str) -> Catalog {
    let (_, records) = Parser::new(text, None, None)
        .parse()
        .unwrap_or_else(|e| panic!("zone text does not parse: {e}\n{text}"));
    let origins: Vec<LowerName> = records
        .keys()
        .filter(|k| k.record_type == RecordType::SOA)
        .map(|k| k.name().clone())
        .collect();
    assert!(!origins.is_empty(), "zone text has no SOA record:\n{text}");
    let mut per_zone: BTreeMap<LowerName, BTreeMap<RrKey, _>> = BTreeMap::new();
    for (key, rrset) in records {
        // the longest (most specific) zone that contains the name
        let origin = origins
            .iter()
            .filter(|o| o.zone_of(key.name()))
            .max_by_key(|o| o.num_labels())
            .unwrap_or_else(|| panic!("{} lies outside every zone (no SOA above it)", key.name()))
            .clone();
        per_zone.entry(origin).or_default().insert(key, rrset);
    }
    let mut catalog = Catalog::new();
    for (origin, recs) in per_zone {
        let handler: InMemoryZoneHandler = InMemoryZoneHandler::new(
            origin.clone().into(),
            recs,
            ZoneType::Primary,
            AxfrPolicy::Deny,
            None,
        )
        .unwrap_or_else(|e| panic!("zone {origin}: {e}"));
        let handler: Arc<dyn ZoneHandler> = Arc::new(handler);
        catalog.upsert(origin, vec![handler]);
    }
    catalog
}

/// The catalog plus a query log and per-name misbehaviour.
struct Recording {
    catalog: Catalog,
    /// For a DS query at a zone cut: the parent zone, which holds the DS (RFC 4035 §3.1.4.1).
    parents: Catalog,
    cuts: HashSet<LowerName>,
    log: Arc<Mutex<Vec<Query>>>,
    rules: Rules,
}

// The trait is declared with `#[async_trait]`; this is its expansion, written out so the tests
// need no async-trait dependency.
impl RequestHandler for Recording {
    fn handle_request<'a, 'b, 'f, R, T>(
        &'a self,
        request: &'b Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'f>>
    where
        R: ResponseHandler + 'f,
        T: Time + 'f,
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            let mut rule = None;
            let mut at_cut = false;
            if let Ok(info) = request.request_info() {
                at_cut = info.query.query_type() == RecordType::DS
                    && self.cuts.contains(info.query.name());
                let name = info.query.name().to_string();
                let name = name.trim_end_matches('.').to_string();
                let rules = self.rules.lock().unwrap();
                rule = rules.iter().find(|(n, _)| *n == name).map(|(_, how)| *how);
                let entry = (name, info.query.query_type().to_string());
                self.log.lock().unwrap().push(entry);
            }
            let code = match rule {
                None if at_cut => {
                    return self
                        .parents
                        .handle_request::<R, T>(request, response_handle)
                        .await;
                }
                None => {
                    return self
                        .catalog
                        .handle_request::<R, T>(request, response_handle)
                        .await;
                }
                Some(Misbehave::Drop) => {
                    // Nothing is sent; the returned info only feeds the server's bookkeeping.
                    let mut meta = Metadata::response_from_request(&request.metadata);
                    meta.response_code = ResponseCode::ServFail;
                    return ResponseInfo::from(Header {
                        metadata: meta,
                        counts: HeaderCounts::default(),
                    });
                }
                Some(Misbehave::ServFail) => ResponseCode::ServFail,
                Some(Misbehave::Refused) => ResponseCode::Refused,
            };
            let mut handle = response_handle;
            let response = MessageResponseBuilder::from_message_request(request)
                .error_msg(&request.metadata, code);
            match handle.send_response(response).await {
                Ok(info) => info,
                Err(_) => {
                    let mut meta = Metadata::response_from_request(&request.metadata);
                    meta.response_code = ResponseCode::ServFail;
                    ResponseInfo::from(Header {
                        metadata: meta,
                        counts: HeaderCounts::default(),
                    })
                }
            }
        })
    }
}

/// Builder for one zone's master-file text. Owner names are relative to the zone (`"_imaps._tcp"`,
/// `"@"`) or absolute within it (`"imap.example.test"`); targets (MX, CNAME, SRV) are always
/// absolute host names (`"."` stays the root: RFC 2782 "no service", RFC 7505 null MX).
#[derive(Debug, Clone)]
pub struct Zone {
    pub(super) origin: String,
    lines: String,
    pub(super) signing: Option<Signing>,
}

impl Zone {
    /// A zone with SOA and NS (`ns1.<origin>` at 127.0.0.1), TTL 300.
    pub fn new(origin: &str) -> Zone {
        let origin = origin.trim_end_matches('.').to_ascii_lowercase();
        let mut lines = String::new();
        let _ = writeln!(lines, "$ORIGIN {origin}.\n$TTL 300");
        let _ = writeln!(
            lines,
            "@ SOA ns1.{origin}. hostmaster.{origin}. ( 2024010101 3600 600 86400 300 )"
        );
        let _ = writeln!(lines, "@ NS ns1.{origin}.\nns1 A 127.0.0.1");
        Zone {
            origin,
            lines,
            signing: None,
        }
    }

    /// The zone's name, lowercase, without the root dot.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// A TLSA record (RFC 6698 §2.2) at `name`, e.g. `tlsa("_25._tcp.mx", 3, 1, 1, HEX)`.
    pub fn tlsa(self, name: &str, usage: u8, selector: u8, matching: u8, hex: &str) -> Zone {
        let o = self.owner(name);
        self.raw(&format!("{o} TLSA {usage} {selector} {matching} {hex}"))
    }

    pub(super) fn owner(&self, name: &str) -> String {
        let n = name.to_ascii_lowercase();
        if n == "@" || n.ends_with('.') {
            n
        } else if n == self.origin || n.ends_with(&format!(".{}", self.origin)) {
            format!("{n}.")
        } else {
            n
        }
    }

    fn target(t: &str) -> String {
        if t.ends_with('.') {
            t.to_string()
        } else {
            format!("{t}.")
        }
    }

    /// Every name with an address (A, AAAA or CNAME) in this zone, absolute, without the dot:
    /// the names a world must fence (see [`super::fence`]).
    pub fn hosts(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .lines
            .lines()
            .filter_map(|l| {
                let mut t = l.split_whitespace();
                let owner = t.next()?;
                let kind = t.next()?;
                matches!(kind, "A" | "AAAA" | "CNAME").then_some(owner)
            })
            .map(|o| match o {
                "@" => self.origin.clone(),
                o if o.ends_with('.') => o.trim_end_matches('.').to_string(),
                o => format!("{o}.{}", self.origin),
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Append one raw master-file line (relative to this zone's origin).
    pub fn raw(mut self, line: &str) -> Zone {
        let _ = writeln!(self.lines, "{line}");
        self
    }

    pub fn a(self, name: &str, ip: &str) -> Zone {
        let o = self.owner(name);
        self.raw(&format!("{o} A {ip}"))
    }

    pub fn aaaa(self, name: &str, ip: &str) -> Zone {
        let o = self.owner(name);
        self.raw(&format!("{o} AAAA {ip}"))
    }

    /// MX at the zone apex.
    pub fn mx(self, preference: u16, host: &str) -> Zone {
        self.mx_at("@", preference, host)
    }

    pub fn mx_at(self, name: &str, preference: u16, host: &str) -> Zone {
        let o = self.owner(name);
        self.raw(&format!("{o} MX {preference} {}", Self::target(host)))
    }

    /// SRV record, e.g. `srv("_imaps._tcp", 0, 1, 993, "imap.example.test")`.
    pub fn srv(self, name: &str, priority: u16, weight: u16, port: u16, target: &str) -> Zone {
        let o = self.owner(name);
        self.raw(&format!(
            "{o} SRV {priority} {weight} {port} {}",
            Self::target(target)
        ))
    }

    pub fn cname(self, name: &str, target: &str) -> Zone {
        let o = self.owner(name);
        self.raw(&format!("{o} CNAME {}", Self::target(target)))
    }

    /// TXT record; long text is split into 255-byte strings (RFC 1035 §3.3.14).
    pub fn txt(self, name: &str, text: &str) -> Zone {
        let o = self.owner(name);
        let escaped: Vec<String> = text
            .as_bytes()
            .chunks(255)
            .map(|c| {
                let s = String::from_utf8_lossy(c);
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
            })
            .collect();
        let strings = if escaped.is_empty() {
            "\"\"".to_string()
        } else {
            escaped.join(" ")
        };
        self.raw(&format!("{o} TXT {strings}"))
    }

    /// The zone as master-file text.
    pub fn text(&self) -> String {
        self.lines.clone()
    }
}

/// The name used in the harness brief.
pub type BlackholeUdp = BlackholeDns;

/// A UDP (and TCP) endpoint on 127.0.0.1 that reads DNS queries and never answers.
#[derive(Debug)]
pub struct BlackholeDns {
    addr: SocketAddr,
    received: Arc<AtomicUsize>,
    _bg: Background,
}

impl BlackholeDns {
    pub fn start() -> BlackholeDns {
        let (udp, tcp) = (0..20)
            .find_map(|_| {
                let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
                let tcp = std::net::TcpListener::bind(udp.local_addr().ok()?).ok()?;
                Some((udp, tcp))
            })
            .expect("bind UDP+TCP on one 127.0.0.1 port");
        let addr = udp.local_addr().expect("local addr");
        udp.set_nonblocking(true).expect("non-blocking");
        tcp.set_nonblocking(true).expect("non-blocking");
        let received = Arc::new(AtomicUsize::new(0));
        let count = received.clone();
        let bg = Background::spawn("test-dns-blackhole", move || async move {
            let udp = tokio::net::UdpSocket::from_std(udp).expect("tokio udp");
            let tcp = tokio::net::TcpListener::from_std(tcp).expect("tokio tcp");
            let mut held = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                tokio::select! {
                    r = udp.recv_from(&mut buf) => if r.is_ok() { count.fetch_add(1, Ordering::SeqCst); },
                    r = tcp.accept() => if let Ok((s, _)) = r { count.fetch_add(1, Ordering::SeqCst); held.push(s); },
                }
            }
        });
        BlackholeDns {
            addr,
            received,
            _bg: bg,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// UDP datagrams plus TCP connections received so far.
    pub fn received(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }
}

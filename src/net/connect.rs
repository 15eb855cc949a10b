//! TCP connection with happy eyeballs (RFC 8305), recording each address's result (README,
//! `check`: every address tried is in the report).
//!
//! AAAA and A are asked concurrently; connecting starts when AAAA answers, or 50 ms after A
//! answered first (§3 Resolution Delay). Attempts alternate the families starting with IPv6
//! (§4), a new one starts every 250 ms or as soon as one fails (§5 Connection Attempt Delay),
//! the first success wins and the others are cancelled. Every address's fate is kept: a broken
//! IPv6 path is a finding for the report, not something to hide behind a silent fallback.
//! `--connect-to` / `--resolve` (curl semantics) decide where the connection goes.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::FutureExt;
use futures::future::Fuse;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::Net;
use crate::dns::DnsError;
use crate::model::AddressResult;

mod race;
use race::{Lookup, race};

/// RFC 8305 §3: how long to wait for AAAA once A has answered.
pub(crate) const RESOLUTION_DELAY: Duration = Duration::from_millis(50);
/// RFC 8305 §5: the recommended delay between two connection attempts.
pub(crate) const CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// An established connection and how it came about.
#[derive(Debug)]
pub struct Connected {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// Every address (IP only; the port is the probe's, or `redirected_to`'s), in the order
    /// tried, then the untried ones (`not_tried`).
    pub addresses: Vec<AddressResult>,
    pub resolve_ms: u64,
    /// From the first attempt to the winning connection.
    pub connect_ms: u64,
    /// The peer (`127.0.0.1:10993`) when `--connect-to`/`--resolve` changed the target.
    pub redirected_to: Option<String>,
    /// A lookup that failed for another reason than "no such record" while the other family
    /// answered, e.g. `AAAA lookup: mail.example.com: DNS timeout`.
    pub lookup_errors: Vec<String>,
}

/// Why no connection was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectErrorKind {
    /// The lookup failed (timeout, SERVFAIL, `--offline`).
    Dns,
    /// The name has no address (NXDOMAIN, or neither A nor AAAA).
    NotFound,
    Refused,
    Timeout,
    Unreachable,
    Other,
}

/// A failed connection: data for the report, not an `Err` of the run.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct ConnectFailure {
    pub kind: ConnectErrorKind,
    pub error: String,
    pub hint: Option<String>,
    pub addresses: Vec<AddressResult>,
}

/// `refused`, `timeout`, `unreachable`, or the error text.
pub(crate) fn result_word(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "refused".into(),
        io::ErrorKind::TimedOut => "timeout".into(),
        io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::AddrNotAvailable => "unreachable".into(),
        _ => e.to_string(),
    }
}

fn family(a: &SocketAddr) -> &'static str {
    if a.is_ipv6() { "ipv6" } else { "ipv4" }
}

/// `10 s`, `0.4 s`.
fn secs(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn record(addr: SocketAddr, result: &str, elapsed: Option<Duration>) -> AddressResult {
    AddressResult {
        address: addr.ip().to_string(),
        family: family(&addr).into(),
        result: result.into(),
        elapsed_ms: elapsed.map(ms),
    }
}

/// Connect to `host:port` after `--connect-to`/`--resolve`, with happy eyeballs, within
/// `net.step_timeout()`.
pub async fn connect(net: &Net, host: &str, port: u16) -> Result<Connected, ConnectFailure> {
    let start = Instant::now();
    let limit = net.step_timeout();
    let (thost, tport) = net.cfg.connect_target(host, port);
    let bare = thost
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let pinned = net.cfg.pinned(&thost, tport);
    let redirected = pinned.is_some() || !thost.eq_ignore_ascii_case(host) || tport != port;
    let target = format!("{thost}:{tport}");

    let (fixed, v6, v4): (Vec<IpAddr>, Lookup, Lookup) = if let Some(ips) = pinned {
        (ips, Fuse::terminated(), Fuse::terminated())
    } else if let Ok(ip) = bare.parse::<IpAddr>() {
        (vec![ip], Fuse::terminated(), Fuse::terminated())
    } else {
        let resolver = net.resolver().map_err(|e| dns_failure(&e))?.clone();
        let (r6, r4) = (resolver.clone(), resolver);
        let (n6, n4) = (bare.clone(), bare);
        (
            Vec::new(),
            async move { r6.ipv6(&n6).await }.boxed().fuse(),
            async move { r4.ipv4(&n4).await }.boxed().fuse(),
        )
    };
    let r = race(fixed, v6, v4, tport, start + limit).await;
    let addresses = r.addresses;
    match r.winner {
        Some((peer, stream)) => {
            // Mail protocols are line-by-line request/response: no Nagle delay.
            let _ = stream.set_nodelay(true);
            Ok(Connected {
                stream,
                peer,
                addresses,
                resolve_ms: r.resolve_ms,
                connect_ms: r.connect_ms,
                redirected_to: redirected.then(|| peer.to_string()),
                lookup_errors: r
                    .dns_errors
                    .iter()
                    .filter(|e| !e.is_not_found())
                    .map(|e| e.to_string())
                    .collect(),
            })
        }
        None if r.nothing_tried && r.timed_out => Err(ConnectFailure {
            kind: ConnectErrorKind::Dns,
            error: format!("{thost}: no DNS answer within {}", secs(limit)),
            hint: None,
            addresses,
        }),
        None if r.nothing_tried && !r.dns_errors.is_empty() => {
            let mut f = dns_failure(&pick_dns_error(r.dns_errors));
            f.addresses = addresses;
            Err(f)
        }
        None => Err(failure(
            &target,
            tport,
            addresses,
            r.timed_out,
            r.nothing_tried,
            limit,
        )),
    }
}

/// A finding when IPv4 connected but every IPv6 address tried failed (refused, unreachable,
/// timed out, or still pending when IPv4 won — slower than the 250 ms RFC 8305 allows): the
/// sentence names each IPv6 address and its result. `None` when IPv6 worked or was not tried.
/// When every IPv6 attempt was `unreachable`, the sentence says that this machine has no IPv6
/// route instead (the server's IPv6 is then untested, not broken).
pub(crate) fn broken_ipv6(addresses: &[AddressResult]) -> Option<String> {
    let v4_ok = addresses
        .iter()
        .any(|a| a.family == "ipv4" && a.result == "connected");
    let v6: Vec<&AddressResult> = addresses
        .iter()
        .filter(|a| a.family == "ipv6" && a.result != "not_tried")
        .collect();
    if !v4_ok || v6.is_empty() || v6.iter().any(|a| a.result == "connected") {
        return None;
    }
    if v6.iter().all(|a| a.result == "unreachable") {
        // ENETUNREACH at once: this machine has no IPv6 route, the server is not to blame.
        return Some(
            "no IPv6 route from this machine: the server's IPv6 addresses could not be tested"
                .into(),
        );
    }
    let each: Vec<String> = v6
        .iter()
        .map(|a| match (a.result.as_str(), a.elapsed_ms) {
            ("cancelled", Some(ms)) => format!("{} no answer after {ms} ms", a.address),
            (r, _) => format!("{} {r}", a.address),
        })
        .collect();
    Some(format!(
        "IPv6 does not work ({}); IPv4 was used",
        each.join(", ")
    ))
}

/// Of the AAAA and A errors, the one that says most (a failure beats "no record").
fn pick_dns_error(mut errs: Vec<DnsError>) -> DnsError {
    errs.sort_by_key(|e| e.is_not_found());
    errs.into_iter()
        .next()
        .unwrap_or_else(|| DnsError::Setup("no lookup".into()))
}

fn dns_failure(e: &DnsError) -> ConnectFailure {
    let (kind, hint) = if e.is_not_found() {
        (
            ConnectErrorKind::NotFound,
            Some("the host name has no A or AAAA record".to_string()),
        )
    } else {
        (ConnectErrorKind::Dns, None)
    };
    ConnectFailure {
        kind,
        error: e.to_string(),
        hint,
        addresses: Vec::new(),
    }
}

/// Kind, message and hint from the per-address results (pure).
pub(crate) fn failure(
    target: &str,
    port: u16,
    addresses: Vec<AddressResult>,
    timed_out: bool,
    nothing_tried: bool,
    limit: Duration,
) -> ConnectFailure {
    let any = |w: &str| addresses.iter().any(|a| a.result == w);
    let secs = secs(limit);
    let (kind, error, hint) = if nothing_tried && timed_out {
        (
            ConnectErrorKind::Dns,
            format!("{target}: no address within {secs}"),
            None,
        )
    } else if nothing_tried {
        (
            ConnectErrorKind::NotFound,
            format!("{target}: no address to connect to"),
            Some("the host name has no A or AAAA record".to_string()),
        )
    } else if any("refused") {
        (
            ConnectErrorKind::Refused,
            format!("{target}: connection refused"),
            Some(format!(
                "nothing listens on port {port}: the service is down, runs on another port, or a firewall rejects it"
            )),
        )
    } else if timed_out || any("timeout") {
        let hint = if port == 25 {
            "many ISPs and cloud providers block outgoing port 25; use 587 or 465 for sending mail"
                .to_string()
        } else {
            "a firewall may be dropping the packets, or the server is down".to_string()
        };
        (
            ConnectErrorKind::Timeout,
            format!("{target}: no answer within {secs}"),
            Some(hint),
        )
    } else if any("unreachable") {
        (
            ConnectErrorKind::Unreachable,
            format!("{target}: network unreachable"),
            Some("no route to the server; for IPv6 addresses, check that this machine has IPv6 connectivity".to_string()),
        )
    } else {
        let first = addresses
            .first()
            .map(|a| a.result.clone())
            .unwrap_or_default();
        (ConnectErrorKind::Other, format!("{target}: {first}"), None)
    };
    ConnectFailure {
        kind,
        error,
        hint,
        addresses,
    }
}

#[cfg(test)]
mod tests;

//! The happy-eyeballs race (RFC 8305): addresses interleaved by family (§4), connecting after
//! the AAAA answer or the resolution delay (§3), a new attempt every 250 ms or as soon as one
//! fails (§5), the first connection winning; every address's fate recorded.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::future::{BoxFuture, Fuse, FusedFuture};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until};

use super::{CONNECTION_ATTEMPT_DELAY, RESOLUTION_DELAY, ms, record, result_word};
use crate::dns::DnsError;
use crate::model::AddressResult;

pub(crate) type Lookup = Fuse<BoxFuture<'static, Result<Vec<IpAddr>, DnsError>>>;
type Attempt = BoxFuture<'static, (usize, io::Result<TcpStream>)>;
/// An attempt: address, start, and result word with elapsed time once known.
type Tried = (SocketAddr, Instant, Option<(String, Duration)>);

/// Addresses in RFC 8305 §4 order: the families alternate, IPv6 first; addresses that arrive
/// later join their family's queue.
#[derive(Debug, Default)]
pub(crate) struct Interleave {
    v6: VecDeque<SocketAddr>,
    v4: VecDeque<SocketAddr>,
    last_v6: Option<bool>,
}

impl Interleave {
    pub(crate) fn add(&mut self, addrs: impl IntoIterator<Item = SocketAddr>) {
        for a in addrs {
            let q = if a.is_ipv6() {
                &mut self.v6
            } else {
                &mut self.v4
            };
            if !q.contains(&a) {
                q.push_back(a);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.v6.is_empty() && self.v4.is_empty()
    }

    /// What is left, in the order it would be tried.
    pub(crate) fn drain(&mut self) -> Vec<SocketAddr> {
        std::iter::from_fn(|| self.next()).collect()
    }
}

impl Iterator for Interleave {
    type Item = SocketAddr;

    fn next(&mut self) -> Option<SocketAddr> {
        let want_v6 = self.last_v6 != Some(true);
        let a = if want_v6 {
            self.v6.pop_front().or_else(|| self.v4.pop_front())
        } else {
            self.v4.pop_front().or_else(|| self.v6.pop_front())
        }?;
        self.last_v6 = Some(a.is_ipv6());
        Some(a)
    }
}

/// What the race produced.
pub(crate) struct Race {
    pub winner: Option<(SocketAddr, TcpStream)>,
    pub addresses: Vec<AddressResult>,
    pub resolve_ms: u64,
    pub connect_ms: u64,
    pub timed_out: bool,
    pub nothing_tried: bool,
    pub dns_errors: Vec<DnsError>,
}

/// The happy-eyeballs race over `fixed` addresses and the AAAA (`v6`) and A (`v4`) lookups,
/// all on `port`, until `deadline`.
pub(crate) async fn race(
    fixed: Vec<IpAddr>,
    mut v6: Lookup,
    mut v4: Lookup,
    port: u16,
    deadline: Instant,
) -> Race {
    let mut r = Racer::new(fixed, port);
    let outcome: Result<(usize, TcpStream), bool> = loop {
        let now = Instant::now();
        let held = r.hold_until.is_some_and(|t| now < t) && !v6.is_terminated();
        if !held && r.start_next(now) {
            continue;
        }
        if r.queue.is_empty() && r.attempts.is_empty() && v6.is_terminated() && v4.is_terminated() {
            break Err(false);
        }
        let wake = match r.hold_until {
            Some(t) if held => t,
            _ => r.next_at,
        };
        let pending = !r.attempts.is_empty();
        tokio::select! {
            Some((idx, res)) = r.attempts.next(), if pending => {
                settle(&mut r.tried, idx, &res);
                match res {
                    Ok(s) => break Ok((idx, s)),
                    // §5: a failed attempt lets the next one start at once.
                    Err(_) => r.next_at = Instant::now(),
                }
            }
            a = &mut v6 => r.answered(a),
            a = &mut v4 => {
                r.answered(a);
                if !v6.is_terminated() && r.tried.is_empty() {
                    r.hold_until = Some(Instant::now() + RESOLUTION_DELAY);
                }
            },
            _ = sleep_until(wake), if held || (pending && !r.queue.is_empty()) => {}
            _ = sleep_until(deadline) => break Err(true),
        }
    };
    r.finish(outcome)
}

/// The state of one race: the addresses still to try, the attempts running and tried, and the
/// timings the report shows.
struct Racer {
    start: Instant,
    port: u16,
    queue: Interleave,
    dns_errors: Vec<DnsError>,
    /// §3: A answered first; wait this long for AAAA before connecting.
    hold_until: Option<Instant>,
    resolve_ms: Option<u64>,
    first_attempt: Option<Instant>,
    next_at: Instant,
    /// Attempt order, with start time and result once known.
    tried: Vec<Tried>,
    attempts: FuturesUnordered<Attempt>,
}

impl Racer {
    fn new(fixed: Vec<IpAddr>, port: u16) -> Self {
        let start = Instant::now();
        let mut queue = Interleave::default();
        queue.add(fixed.into_iter().map(|ip| SocketAddr::new(ip, port)));
        Racer {
            start,
            port,
            resolve_ms: (!queue.is_empty()).then_some(0),
            queue,
            dns_errors: Vec::new(),
            hold_until: None,
            first_attempt: None,
            next_at: start,
            tried: Vec::new(),
            attempts: FuturesUnordered::new(),
        }
    }

    /// §5: starts an attempt on the next address when none is running or the attempt delay has
    /// passed; false when none was started.
    fn start_next(&mut self, now: Instant) -> bool {
        if !(self.attempts.is_empty() || now >= self.next_at) {
            return false;
        }
        let Some(addr) = self.queue.next() else {
            return false;
        };
        self.resolve_ms.get_or_insert_with(|| ms(now - self.start));
        self.first_attempt.get_or_insert(now);
        let idx = self.tried.len();
        self.tried.push((addr, now, None));
        self.attempts
            .push(async move { (idx, TcpStream::connect(addr).await) }.boxed());
        self.next_at = now + CONNECTION_ATTEMPT_DELAY;
        true
    }

    /// A lookup answered: its addresses join the queue, or its error is kept.
    fn answered(&mut self, answer: Result<Vec<IpAddr>, DnsError>) {
        let port = self.port;
        match answer {
            Ok(ips) => self
                .queue
                .add(ips.into_iter().map(|ip| SocketAddr::new(ip, port))),
            Err(e) => self.dns_errors.push(e),
        }
    }

    /// The race's result: the winner (the attempt that connected), or whether the deadline
    /// passed (`Err(true)`) or every address failed (`Err(false)`).
    fn finish(mut self, outcome: Result<(usize, TcpStream), bool>) -> Race {
        drop(std::mem::take(&mut self.attempts));
        let addresses = fates(&self.tried, &mut self.queue, outcome.is_ok());
        let nothing_tried = self.tried.is_empty();
        let (winner, timed_out) = match outcome {
            Ok((idx, s)) => (self.tried.get(idx).map(|t| (t.0, s)), false),
            Err(t) => (None, t),
        };
        Race {
            winner,
            addresses,
            resolve_ms: self.resolve_ms.unwrap_or_else(|| ms(self.start.elapsed())),
            connect_ms: self.first_attempt.map(|t| ms(t.elapsed())).unwrap_or(0),
            timed_out,
            nothing_tried,
            dns_errors: self.dns_errors,
        }
    }
}

/// Records the result of attempt `idx` (its word and how long it took).
fn settle(tried: &mut [Tried], idx: usize, res: &io::Result<TcpStream>) {
    let elapsed = tried.get(idx).map(|t| t.1.elapsed()).unwrap_or_default();
    let word = match res {
        Ok(_) => "connected".to_string(),
        Err(e) => result_word(e),
    };
    if let Some(t) = tried.get_mut(idx) {
        t.2 = Some((word, elapsed));
    }
}

/// Every address with its fate, in the order tried, then the ones never tried. An attempt
/// still pending was `cancelled` when another `won`, else it hit the deadline (`timeout`).
fn fates(tried: &[Tried], queue: &mut Interleave, won: bool) -> Vec<AddressResult> {
    let late = if won { "cancelled" } else { "timeout" };
    let mut addresses: Vec<AddressResult> = tried
        .iter()
        .map(|(addr, at, res)| match res {
            Some((word, d)) => record(*addr, word, Some(*d)),
            None => record(*addr, late, Some(at.elapsed())),
        })
        .collect();
    addresses.extend(
        queue
            .drain()
            .into_iter()
            .map(|a| record(a, "not_tried", None)),
    );
    addresses
}

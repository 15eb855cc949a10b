//! Discovery: from an address to ranked candidate settings.
//!
//! All sources start at once; each bounds its own network steps with the per-step timeout and
//! the whole stage stops at the run's deadline, keeping whatever the finished sources found.
//! Output: merged, ranked candidates ([`candidate`]), every attempt with its provenance, and
//! findings. Nothing here connects to a mail server. [`discover_with`] also hands out each
//! source's candidates the moment it answers, for probing to start while slower sources run.

pub mod autoconfig;
pub mod autodiscover;
pub mod candidate;
pub mod cap;
pub mod domain;
pub mod sources;

use std::time::Instant;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;

use crate::address::Address;
use crate::model::{
    Attempt, AttemptOutcome, Candidate, Discovery, Finding, FindingCode, Protocol, Severity, Source,
};
use crate::net::Net;
use sources::SourceResult;

/// The discovery stage's result.
#[derive(Debug, Default, Clone)]
pub struct Discovered {
    pub discovery: Discovery,
    pub findings: Vec<Finding>,
}

/// Run every source concurrently under the run's deadline.
pub async fn discover(net: &Net, addr: &Address) -> Discovered {
    discover_with(net, addr, &|_| {}).await
}

/// [`discover`], handing each source's candidates (merged and ranked within the source) to
/// `found` as soon as that source answers, so probing can start before the slowest source is
/// done (the app pipes them into the probe stage's `probe_feed`).
pub(crate) async fn discover_with(
    net: &Net,
    addr: &Address,
    found: &(dyn Fn(Vec<Candidate>) + Sync),
) -> Discovered {
    let mut all = sources::provider::lookup(addr);
    if all.has_candidates() {
        found(cap::best_first(all.ranked()));
    }
    if net.cfg.offline {
        for (src, what) in [
            (Source::Autoconfig, "autoconfig"),
            (Source::Ispdb, "ispdb"),
            (Source::MxProvider, "mx"),
            (Source::Srv, "srv"),
            (Source::Autodiscover, "autodiscover"),
            (Source::Guess, "guess"),
        ] {
            all.attempts.push(Attempt {
                source: src,
                target: what.to_string(),
                outcome: AttemptOutcome::Skipped,
                reason: Some("--offline".into()),
                elapsed_ms: 0,
            });
        }
        return finish(all, addr, true, &domain::DomainDns::Exists);
    }
    // The domain's own existence is asked alongside the sources: no added wait.
    let (r, dns) = tokio::join!(
        run_network_sources(net, addr, found),
        domain::check(net, addr)
    );
    all.extend(r);
    finish(all, addr, false, &dns)
}

async fn run_network_sources(
    net: &Net,
    addr: &Address,
    found: &(dyn Fn(Vec<Candidate>) + Sync),
) -> SourceResult {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + net.remaining();
    let mut pending: Vec<(Source, &'static str)> = Vec::new();
    let mut set: FuturesUnordered<BoxFuture<'_, (usize, SourceResult)>> = FuturesUnordered::new();
    let jobs: Vec<(Source, &'static str, BoxFuture<'_, SourceResult>)> = vec![
        (
            Source::Autoconfig,
            "autoconfig",
            Box::pin(sources::autoconfig::run(net, addr)),
        ),
        (
            Source::MxProvider,
            "mx",
            Box::pin(sources::mx::run(net, addr)),
        ),
        (Source::Srv, "srv", Box::pin(sources::srv::run(net, addr))),
        (
            Source::Autodiscover,
            "autodiscover",
            Box::pin(sources::autodiscover::run(net, addr)),
        ),
        (
            Source::Guess,
            "guess",
            Box::pin(sources::guess::run(net, addr)),
        ),
    ];
    // At most --concurrency sources at once (all five normally; one by one with 1).
    let mut queue = Vec::new();
    for (i, (src, name, fut)) in jobs.into_iter().enumerate() {
        pending.push((src, name));
        queue.push(Box::pin(async move { (i, fut.await) }) as BoxFuture<'_, (usize, SourceResult)>);
    }
    queue.reverse();
    for _ in 0..net.cfg.concurrency.max(1) {
        if let Some(f) = queue.pop() {
            set.push(f);
        }
    }
    let mut done = vec![false; pending.len()];
    let mut out = SourceResult::default();
    loop {
        match tokio::time::timeout_at(deadline, set.next()).await {
            Ok(Some((i, r))) => {
                done[i] = true;
                out.extend(answered(r, pending[i].1, found));
                if let Some(f) = queue.pop() {
                    set.push(f);
                }
            }
            Ok(None) => break,
            Err(_) => {
                let late = pending.iter().zip(&done).filter(|(_, d)| !**d);
                for ((src, name), _) in late {
                    out.attempts.push(Attempt {
                        source: *src,
                        target: addr.domain.clone(),
                        outcome: AttemptOutcome::Error,
                        reason: Some(format!(
                            "{name} lookups stopped at the deadline (--deadline)"
                        )),
                        elapsed_ms: started.elapsed().as_millis() as u64,
                    });
                }
                break;
            }
        }
    }
    out
}

/// A source's answer: logged, capped per source ([`cap::per_source`]) and, when it has
/// candidates, handed to `found` best first.
fn answered(
    mut r: SourceResult,
    name: &str,
    found: &(dyn Fn(Vec<Candidate>) + Sync),
) -> SourceResult {
    for a in &r.attempts {
        tracing::debug!(source = ?a.source, target = ?a.target, outcome = ?a.outcome, reason = ?a.reason, ms = a.elapsed_ms, "discovery attempt");
    }
    tracing::info!(
        source = name,
        candidates = r.candidates.len(),
        "discovery source answered"
    );
    let (kept, capped) = cap::per_source(std::mem::take(&mut r.candidates));
    r.candidates = kept;
    r.findings.extend(capped);
    if r.has_candidates() {
        found(cap::best_first(r.ranked()));
    }
    r
}

fn finish(all: SourceResult, addr: &Address, offline: bool, dns: &domain::DomainDns) -> Discovered {
    let candidates = candidate::merge_weighed(all.candidates, all.unverified);
    let mut findings = dedup_findings(all.findings);
    findings.extend(candidate::findings(&candidates));
    let has = |p: fn(Protocol) -> bool| candidates.iter().any(|c| p(c.protocol));
    // A domain that does not exist, or a resolver that failed, says so first and replaces the
    // generic "nothing found": nobody should hunt for a typo that is not there, or miss one.
    let about_domain = domain::finding(dns, addr, !candidates.is_empty());
    if candidates.is_empty() && about_domain.is_none() {
        findings.push(nothing_found(&all.attempts, &addr.domain, offline));
    } else if !candidates.is_empty() {
        if !has(Protocol::is_incoming) {
            findings.push(Finding::new(
                Severity::Critical,
                FindingCode::NoIncomingFound,
                "no IMAP or POP3 server found",
            ));
        }
        if !has(|p| p == Protocol::Smtp) {
            findings.push(Finding::new(
                Severity::Critical,
                FindingCode::NoOutgoingFound,
                "no SMTP submission server found",
            ));
        }
    }
    if let Some(f) = about_domain {
        findings.insert(0, f);
    }
    let mut attempts = all.attempts;
    attempts.sort_by_key(|a| a.source);
    Discovered {
        discovery: Discovery {
            candidates,
            attempts,
            provider: all.provider,
        },
        findings,
    }
}

/// The `no-settings-found` finding, worded after what was actually asked: with `--offline` only
/// the built-in database was; otherwise it says how many lookups failed rather than answered.
fn nothing_found(attempts: &[Attempt], domain: &str, offline: bool) -> Finding {
    if offline {
        return Finding::new(
            Severity::Critical,
            FindingCode::NoSettingsFound,
            format!(
                "the built-in provider database does not know {domain}, and the network sources \
                 were skipped (--offline)"
            ),
        )
        .hint("Run without --offline to ask autoconfig, the ISPDB, DNS (MX, SRV), Autodiscover and guesses.");
    }
    let errors = attempts
        .iter()
        .filter(|a| a.outcome == AttemptOutcome::Error)
        .count();
    let message = match errors {
        0 => format!("no source knows the mail servers of {domain}"),
        n => format!(
            "no source knows the mail servers of {domain} ({n} of {} lookups failed with an error)",
            attempts.len()
        ),
    };
    let hint = if errors > 0 {
        "The failed attempts above say why: the network or a DNS server may be down."
    } else {
        "Check the spelling of the domain, or ask the provider for its IMAP and SMTP settings."
    };
    Finding::new(Severity::Critical, FindingCode::NoSettingsFound, message).hint(hint)
}

/// Same code and message from several sources (e.g. provider hints via domain and MX) once.
fn dedup_findings(v: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in v {
        if !out
            .iter()
            .any(|o| o.code == f.code && o.message == f.message)
        {
            out.push(f);
        }
    }
    out
}

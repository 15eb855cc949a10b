//! Merging candidates from all sources into one ranked list, and the findings that come from
//! comparing sources (disagreement, plain text only, untrusted only).
//!
//! Ranking, per protocol (IMAP, POP3, SMTP), lower first:
//! 1. trusted sources before untrusted ones (a candidate known only from plain-http autoconfig or
//!    a guess is never ranked above one a trusted source names);
//! 2. confirmed before unconfirmed: a candidate named only by a provider-database entry that no
//!    published source backs (`verified = false`) ranks below every candidate a fetched source
//!    (autoconfig, ISPDB, SRV, Autodiscover) or a verified entry names;
//! 3. implicit TLS before STARTTLS before plain (RFC 8314 §3);
//! 4. SMTP port 465 before 587 before 25 (RFC 8314 §3.3: 25 is for relay, not submission);
//! 5. the number of sources that agree;
//! 6. the most trusted source, then the position that source gave the candidate: SRV priority,
//!    then weight (RFC 2782, RFC 6186 §4), the order of `incomingServer` / `outgoingServer` in
//!    an autoconfig document (the first of a type is the preferred one), the order of
//!    `<Protocol>` in an Autodiscover response, the order of the provider file;
//! 7. the host name, only so that the order is stable.

use std::collections::BTreeMap;

use crate::model::{Candidate, Finding, FindingCode, Protocol, Security, Severity, Source};

/// Where a source put a candidate: the source (most trusted of those that named it) and the
/// 0-based position in that source's own order for the protocol.
pub(crate) type Position = (Source, u32);

/// [`Candidate::key`]: what makes two sources' candidates the same server.
type CandidateKey = (Protocol, String, u16, Security);

/// Merge candidates naming the same (protocol, host, port, security): union of sources and auth
/// methods; the username of the most trusted source that gave one. The input is each source's
/// candidates in that source's own order (sources may be interleaved); the position a candidate
/// had among its source's candidates of the same protocol is kept for the ranking.
pub fn merge(all: Vec<Candidate>) -> Vec<Candidate> {
    merge_weighed(all, Vec::new())
}

/// [`merge`] where `unverified` holds the candidates of provider-database entries no source
/// confirmed: one named only there ranks below every candidate of `all` (rank key 2).
pub(crate) fn merge_weighed(all: Vec<Candidate>, unverified: Vec<Candidate>) -> Vec<Candidate> {
    // Per key: the merged candidate, its best position, and whether a confirmed source named it.
    let mut by_key: BTreeMap<CandidateKey, (Candidate, Position, bool)> = BTreeMap::new();
    let mut counters: BTreeMap<(Source, Protocol), u32> = BTreeMap::new();
    let tagged = all
        .into_iter()
        .map(|c| (c, true))
        .chain(unverified.into_iter().map(|c| (c, false)));
    for (mut c, confirmed) in tagged {
        let src = best_source(&c);
        let n = counters.entry((src, c.protocol)).or_default();
        let pos = (src, *n);
        *n += 1;
        let key = c.key();
        c.host = key.1.clone();
        match by_key.get_mut(&key) {
            None => {
                c.sources.sort();
                c.sources.dedup();
                by_key.insert(key, (c, pos, confirmed));
            }
            Some((m, mpos, mconfirmed)) => {
                *mconfirmed |= confirmed;
                let incoming_best = c.sources.iter().min() < m.sources.iter().min();
                if c.username.is_some() && (m.username.is_none() || incoming_best) {
                    m.username = c.username.clone();
                }
                *mpos = (*mpos).min(pos);
                m.sources.extend(c.sources);
                m.sources.sort();
                m.sources.dedup();
                m.auth.extend(c.auth);
                m.auth.sort();
                m.auth.dedup();
            }
        }
    }
    let mut v: Vec<(Candidate, Position, bool)> = by_key.into_values().collect();
    v.sort_by_cached_key(|(c, pos, confirmed)| rank_key(c, *pos, *confirmed));
    v.into_iter().map(|(c, _, _)| c).collect()
}

fn best_source(c: &Candidate) -> Source {
    c.sources.iter().min().copied().unwrap_or(Source::Guess)
}

fn port_rank(c: &Candidate) -> u8 {
    match (c.protocol, c.port) {
        (Protocol::Smtp, 465) => 0,
        (Protocol::Smtp, 587) => 1,
        (Protocol::Smtp, 25) => 3,
        (Protocol::Imap, 993 | 143) | (Protocol::Pop3, 995 | 110) => 0,
        _ => 2,
    }
}

/// Sort key of a candidate at `pos` (see the module docs): lower is better. `confirmed` is
/// false when only an unverified provider-database entry names the candidate.
pub(crate) fn rank_key(
    c: &Candidate,
    pos: Position,
    confirmed: bool,
) -> (Protocol, bool, bool, Security, u8, usize, Position, String) {
    let trusted = c.sources.iter().any(|s| s.is_trusted());
    (
        c.protocol,
        !trusted,
        !confirmed,
        c.security,
        port_rank(c),
        usize::MAX - c.sources.len(),
        pos,
        c.host.clone(),
    )
}

fn describe(c: &Candidate) -> String {
    format!(
        "{} {}:{} {}",
        c.protocol.as_str(),
        c.host,
        c.port,
        c.security.client_label()
    )
}

/// Findings from comparing what the sources said.
pub fn findings(cands: &[Candidate]) -> Vec<Finding> {
    let mut out = Vec::new();
    for proto in [Protocol::Imap, Protocol::Pop3, Protocol::Smtp] {
        let of: Vec<&Candidate> = cands.iter().filter(|c| c.protocol == proto).collect();
        out.extend(disagreement(&of));
        out.extend(published_badly(proto, &of));
    }
    out
}

/// Two sources disagree when one's servers for a protocol share nothing with the other's; the
/// first such pair, each named by what it proposed first.
fn disagreement(of: &[&Candidate]) -> Option<Finding> {
    // What each non-guess source proposed first for this protocol.
    let mut first: BTreeMap<Source, &Candidate> = BTreeMap::new();
    for c in of {
        for s in &c.sources {
            if *s != Source::Guess {
                first.entry(*s).or_insert(c);
            }
        }
    }
    // Sources disagree when one source's servers share nothing with another's.
    let sets: BTreeMap<Source, Vec<&Candidate>> = first
        .keys()
        .map(|s| {
            (
                *s,
                of.iter()
                    .copied()
                    .filter(|c| c.sources.contains(s))
                    .collect(),
            )
        })
        .collect();
    let srcs: Vec<Source> = sets.keys().copied().collect();
    for (i, a) in srcs.iter().enumerate() {
        for b in &srcs[i + 1..] {
            let overlap = sets[a].iter().any(|c| c.sources.contains(b));
            if !overlap {
                return Some(
                    Finding::new(
                        Severity::Warning,
                        FindingCode::SourcesDisagree,
                        format!(
                            "{} says {}, {} says {}",
                            a.as_str(),
                            describe(first[a]),
                            b.as_str(),
                            describe(first[b])
                        ),
                    )
                    .hint("Probe both (`mailprobe check`) to see which is right, then fix the other source."),
                );
            }
        }
    }
    None
}

/// The published (non-guess) settings of `proto` are all unencrypted, or all from sources
/// that are not trusted (plain-http autoconfig).
fn published_badly(proto: Protocol, of: &[&Candidate]) -> Vec<Finding> {
    let mut out = Vec::new();
    let informed: Vec<&&Candidate> = of
        .iter()
        .filter(|c| c.sources.iter().any(|s| *s != Source::Guess))
        .collect();
    if !informed.is_empty() && informed.iter().all(|c| c.security == Security::Plain) {
        out.push(
            Finding::new(
                Severity::Warning,
                FindingCode::PlaintextOnly,
                format!(
                    "only unencrypted {} settings are published",
                    proto.as_str().to_uppercase()
                ),
            )
            .hint("Passwords would travel in clear text; ask the provider for TLS (RFC 8314)."),
        );
    }
    if !informed.is_empty()
        && informed
            .iter()
            .all(|c| c.sources.iter().all(|s| !s.is_trusted()))
    {
        out.push(
            Finding::new(
                Severity::Warning,
                FindingCode::UntrustedSourceOnly,
                format!("{} settings come only from plain-http autoconfig", proto.as_str().to_uppercase()),
            )
            .hint("Anyone on the network path could have changed them; publish autoconfig over https."),
        );
    }
    out
}

#[cfg(test)]
mod tests;

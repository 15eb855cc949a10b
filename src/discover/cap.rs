//! Caps on what one source may contribute, so that a hostile or broken answer (a thousand SRV
//! targets that never answer, an autoconfig document listing hundreds of servers) cannot fill
//! the probe queue and starve the servers that work.
//!
//! - [`MAX_SRV_TARGETS`] targets per SRV name, the first in RFC 2782 order (priority, then
//!   weight): applied by the SRV source.
//! - [`MAX_PER_SOURCE`] distinct servers per network source (every source but the provider
//!   database, the guesses and the user's URLs, whose number mailprobe itself fixes), chosen
//!   round-robin over (protocol, security) in the source's own order, so that the best of each
//!   protocol and security survives however many of one kind the source sends.
//!
//! Every cap that cuts something is a `source-capped` warning naming how much was dropped.
//!
//! And so that what remains cannot starve the rest either, each source's answer is handed to the
//! prober [`best_first`]: the first candidate of every (protocol, security), then the second, …
//! Probes take connection slots in the order they are handed over, so the best candidate of
//! every protocol starts among the first, however many of another kind come before it in rank.

use std::collections::BTreeMap;

use crate::model::{Candidate, Finding, FindingCode, Protocol, Security, Severity, Source};

/// Targets tried per SRV name (`_imaps._tcp.<domain>`, …).
pub(crate) const MAX_SRV_TARGETS: usize = 10;

/// Distinct servers (protocol, host, port, security) taken from one network source.
pub(crate) const MAX_PER_SOURCE: usize = 20;

const HINT: &str = "A source naming this many servers is broken or hostile; mailprobe tries at most \
     10 targets per SRV name and 20 servers per source, the first of each protocol first.";

/// The finding for a source (or SRV name) that offered `offered` and was cut to `kept`.
pub fn finding(what: &str, offered: usize, kept: usize) -> Finding {
    Finding::new(
        Severity::Warning,
        FindingCode::SourceCapped,
        format!("{what} offered {offered} servers; only the first {kept} are tried"),
    )
    .hint(HINT)
}

fn capped(s: Source) -> bool {
    !matches!(s, Source::ProviderDb | Source::Guess | Source::User)
}

/// Keep at most [`MAX_PER_SOURCE`] distinct servers of each capped source among `cands` (each
/// tagged with the one source that found it, in that source's order); a finding per source cut.
pub(crate) fn per_source(cands: Vec<Candidate>) -> (Vec<Candidate>, Vec<Finding>) {
    type Key = (Protocol, String, u16, Security);
    // Per source: its distinct keys in order.
    let mut keys: BTreeMap<Source, Vec<Key>> = BTreeMap::new();
    for c in &cands {
        if let Some(&s) = c.sources.first().filter(|s| capped(**s)) {
            let list = keys.entry(s).or_default();
            let k = c.key();
            if !list.contains(&k) {
                list.push(k);
            }
        }
    }
    let mut findings = Vec::new();
    let mut kept: BTreeMap<Source, Vec<Key>> = BTreeMap::new();
    for (s, list) in keys {
        if list.len() > MAX_PER_SOURCE {
            findings.push(finding(s.as_str(), list.len(), MAX_PER_SOURCE));
            kept.insert(s, round_robin(&list, MAX_PER_SOURCE));
        }
    }
    let out = cands
        .into_iter()
        .filter(|c| match c.sources.first().and_then(|s| kept.get(s)) {
            Some(k) => k.contains(&c.key()),
            None => true,
        })
        .collect();
    (out, findings)
}

/// `ranked` (one source's answer, merged and ranked) reordered for starting: the first of each
/// (protocol, security), then the second of each, … (each kind keeps its own order).
pub(crate) fn best_first(ranked: Vec<Candidate>) -> Vec<Candidate> {
    let kinds: Vec<(Protocol, Security)> =
        ranked.iter().map(|c| (c.protocol, c.security)).collect();
    let order = rounds(&kinds, ranked.len());
    let mut slots: Vec<Option<Candidate>> = ranked.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Up to `max` of `keys`, the first of each (protocol, security) first, in the keys' order.
fn round_robin<K: Clone>(
    keys: &[(Protocol, K, u16, Security)],
    max: usize,
) -> Vec<(Protocol, K, u16, Security)> {
    let kinds: Vec<(Protocol, Security)> = keys.iter().map(|k| (k.0, k.3)).collect();
    let mut chosen = rounds(&kinds, max);
    chosen.sort_unstable();
    chosen.into_iter().map(|i| keys[i].clone()).collect()
}

/// Indices into `kinds`, round by round: the first index of every kind (in order of first
/// appearance), then the second, …; at most `max`.
fn rounds(kinds: &[(Protocol, Security)], max: usize) -> Vec<usize> {
    let mut groups: Vec<((Protocol, Security), Vec<usize>)> = Vec::new();
    for (i, g) in kinds.iter().enumerate() {
        match groups.iter_mut().find(|(gk, _)| gk == g) {
            Some((_, v)) => v.push(i),
            None => groups.push((*g, vec![i])),
        }
    }
    let mut chosen: Vec<usize> = Vec::new();
    let mut round = 0;
    while chosen.len() < max && groups.iter().any(|(_, v)| v.len() > round) {
        for (_, v) in &groups {
            if let Some(&i) = v.get(round)
                && chosen.len() < max
            {
                chosen.push(i);
            }
        }
        round += 1;
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuthMethod;

    fn c(src: Source, p: Protocol, host: &str, port: u16, sec: Security) -> Candidate {
        Candidate {
            protocol: p,
            host: host.into(),
            port,
            security: sec,
            username: None,
            auth: vec![AuthMethod::PasswordCleartext],
            sources: vec![src],
        }
    }

    #[test]
    fn a_flood_of_one_kind_leaves_room_for_every_other_kind() {
        let mut v: Vec<Candidate> = (0..100)
            .map(|i| {
                c(
                    Source::Autodiscover,
                    Protocol::Imap,
                    &format!("t{i}"),
                    993,
                    Security::Tls,
                )
            })
            .collect();
        v.push(c(
            Source::Autodiscover,
            Protocol::Imap,
            "mail",
            143,
            Security::Starttls,
        ));
        v.push(c(
            Source::Autodiscover,
            Protocol::Smtp,
            "mail",
            587,
            Security::Starttls,
        ));
        v.push(c(Source::Srv, Protocol::Imap, "other", 993, Security::Tls));
        let (out, f) = per_source(v);
        let ad: Vec<&Candidate> = out
            .iter()
            .filter(|c| c.sources == [Source::Autodiscover])
            .collect();
        assert_eq!(ad.len(), MAX_PER_SOURCE);
        assert!(ad.iter().any(|c| c.port == 143) && ad.iter().any(|c| c.port == 587));
        // The TLS ones kept are the first 18, in the source's order.
        let tls: Vec<&str> = ad
            .iter()
            .filter(|c| c.port == 993)
            .map(|c| c.host.as_str())
            .collect();
        assert_eq!(tls, (0..18).map(|i| format!("t{i}")).collect::<Vec<_>>());
        assert!(out.iter().any(|c| c.host == "other"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, FindingCode::SourceCapped);
        assert_eq!(
            f[0].message,
            "autodiscover offered 102 servers; only the first 20 are tried"
        );
    }

    #[test]
    fn best_first_starts_every_kind_early() {
        let mut v: Vec<Candidate> = (0..5)
            .map(|i| {
                c(
                    Source::Srv,
                    Protocol::Imap,
                    &format!("t{i}"),
                    993,
                    Security::Tls,
                )
            })
            .collect();
        v.push(c(Source::Srv, Protocol::Imap, "m", 143, Security::Starttls));
        v.push(c(Source::Srv, Protocol::Smtp, "m", 587, Security::Starttls));
        let order: Vec<String> = best_first(v)
            .iter()
            .map(|c| format!("{}:{}", c.host, c.port))
            .collect();
        assert_eq!(
            order,
            [
                "t0:993", "m:143", "m:587", "t1:993", "t2:993", "t3:993", "t4:993"
            ]
        );
    }

    #[test]
    fn duplicates_count_once_and_uncapped_sources_pass() {
        let mut v: Vec<Candidate> = (0..20)
            .map(|i| {
                c(
                    Source::Autoconfig,
                    Protocol::Imap,
                    &format!("t{i}"),
                    993,
                    Security::Tls,
                )
            })
            .collect();
        v.push(c(
            Source::Autoconfig,
            Protocol::Imap,
            "T0.",
            993,
            Security::Tls,
        ));
        v.extend((0..30).map(|i| {
            c(
                Source::Guess,
                Protocol::Smtp,
                &format!("g{i}"),
                25,
                Security::Starttls,
            )
        }));
        let (out, f) = per_source(v);
        assert_eq!(out.len(), 51);
        assert!(f.is_empty());
    }
}

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
pub type Position = (Source, u32);

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
pub fn merge_weighed(all: Vec<Candidate>, unverified: Vec<Candidate>) -> Vec<Candidate> {
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
pub fn rank_key(
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
mod tests {
    use super::*;

    fn c(p: Protocol, host: &str, port: u16, sec: Security, src: &[Source]) -> Candidate {
        Candidate {
            protocol: p,
            host: host.into(),
            port,
            security: sec,
            username: None,
            auth: vec![],
            sources: src.to_vec(),
        }
    }

    #[test]
    fn merges_and_ranks() {
        let v = merge(vec![
            c(
                Protocol::Smtp,
                "mail.example.com",
                25,
                Security::Starttls,
                &[Source::Guess],
            ),
            c(
                Protocol::Imap,
                "imap.example.com",
                143,
                Security::Starttls,
                &[Source::Autoconfig],
            ),
            c(
                Protocol::Imap,
                "IMAP.example.com.",
                993,
                Security::Tls,
                &[Source::Srv],
            ),
            c(
                Protocol::Imap,
                "imap.example.com",
                993,
                Security::Tls,
                &[Source::Autoconfig],
            ),
            c(
                Protocol::Smtp,
                "smtp.example.com",
                587,
                Security::Starttls,
                &[Source::Autoconfig],
            ),
            c(
                Protocol::Smtp,
                "smtp.example.com",
                465,
                Security::Tls,
                &[Source::AutoconfigHttp],
            ),
        ]);
        let keys: Vec<String> = v.iter().map(|c| format!("{}:{}", c.host, c.port)).collect();
        assert_eq!(
            keys,
            [
                "imap.example.com:993",
                "imap.example.com:143",
                "smtp.example.com:587",
                "smtp.example.com:465",
                "mail.example.com:25"
            ]
        );
        assert_eq!(v[0].sources, vec![Source::Autoconfig, Source::Srv]);
    }

    #[test]
    fn disagreement_and_plaintext() {
        let v = merge(vec![
            c(
                Protocol::Imap,
                "mail.example.com",
                143,
                Security::Plain,
                &[Source::Autoconfig],
            ),
            c(
                Protocol::Imap,
                "imap.example.com",
                993,
                Security::Tls,
                &[Source::Srv],
            ),
            c(
                Protocol::Pop3,
                "pop.example.com",
                110,
                Security::Plain,
                &[Source::Autoconfig],
            ),
        ]);
        let f = findings(&v);
        let codes: Vec<&str> = f.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["sources-disagree", "plaintext-only"]);
        assert!(
            f[0].message
                .contains("autoconfig says imap mail.example.com:143"),
            "{}",
            f[0].message
        );
    }

    fn hosts(v: &[Candidate]) -> Vec<String> {
        v.iter().map(|c| format!("{}:{}", c.host, c.port)).collect()
    }

    /// (input, in each source's own order) → expected ranking.
    #[test]
    fn each_source_keeps_its_own_order() {
        use Protocol::{Imap, Smtp};
        use Security::{Starttls, Tls};
        use Source::{Autoconfig, AutoconfigHttp, Guess, ProviderDb, Srv};
        let table: Vec<(&str, Vec<Candidate>, Vec<&str>)> = vec![
            (
                "SRV: priority 0 before priority 10, whatever the names",
                vec![
                    c(Imap, "store.example", 993, Tls, &[Srv]),
                    c(Imap, "backup.example", 993, Tls, &[Srv]),
                ],
                vec!["store.example:993", "backup.example:993"],
            ),
            (
                "provider file: its first server first",
                vec![
                    c(Imap, "imap.mail.yahoo.com", 993, Tls, &[ProviderDb]),
                    c(Imap, "export.imap.mail.yahoo.com", 993, Tls, &[ProviderDb]),
                    c(Smtp, "smtp.mail.yahoo.com", 465, Tls, &[ProviderDb]),
                ],
                vec![
                    "imap.mail.yahoo.com:993",
                    "export.imap.mail.yahoo.com:993",
                    "smtp.mail.yahoo.com:465",
                ],
            ),
            (
                "autoconfig: document order; positions count per protocol",
                vec![
                    c(Smtp, "z-out.example", 465, Tls, &[Autoconfig]),
                    c(Imap, "z-in.example", 993, Tls, &[Autoconfig]),
                    c(Imap, "a-in.example", 993, Tls, &[Autoconfig]),
                ],
                vec!["z-in.example:993", "a-in.example:993", "z-out.example:465"],
            ),
            (
                "sources that agree beat a source's first position",
                vec![
                    c(Imap, "first.example", 993, Tls, &[Autoconfig]),
                    c(Imap, "second.example", 993, Tls, &[Autoconfig]),
                    c(Imap, "second.example", 993, Tls, &[Srv]),
                ],
                vec!["second.example:993", "first.example:993"],
            ),
            (
                "the most trusted source's position counts, not a later source's",
                vec![
                    c(Imap, "b.example", 993, Tls, &[Srv]),
                    c(Imap, "a.example", 993, Tls, &[Srv]),
                    c(Imap, "a.example", 993, Tls, &[ProviderDb]),
                    c(Imap, "b.example", 993, Tls, &[ProviderDb]),
                ],
                vec!["a.example:993", "b.example:993"],
            ),
            (
                "trusted STARTTLS before untrusted TLS; security before position",
                vec![
                    c(Imap, "evil.example", 993, Tls, &[AutoconfigHttp]),
                    c(Imap, "plainer.example", 143, Starttls, &[Srv]),
                    c(Imap, "tls.example", 993, Tls, &[Srv]),
                    c(Imap, "guess.example", 993, Tls, &[Guess]),
                ],
                vec![
                    "tls.example:993",
                    "plainer.example:143",
                    "evil.example:993",
                    "guess.example:993",
                ],
            ),
            (
                "the host name only breaks a tie between equal positions",
                vec![
                    c(Imap, "b.example", 993, Tls, &[Guess]),
                    c(Imap, "a.example", 993, Tls, &[Guess]),
                ],
                vec!["b.example:993", "a.example:993"],
            ),
        ];
        for (what, input, want) in table {
            assert_eq!(hosts(&merge(input)), want, "{what}");
        }
    }

    #[test]
    fn unverified_provider_entries_rank_below_confirmed_sources() {
        let unverified = vec![
            c(
                Protocol::Imap,
                "imap.db.test",
                993,
                Security::Tls,
                &[Source::ProviderDb],
            ),
            c(
                Protocol::Imap,
                "imap.both.test",
                993,
                Security::Tls,
                &[Source::ProviderDb],
            ),
        ];
        let all = vec![
            c(
                Protocol::Imap,
                "imap.srv.test",
                143,
                Security::Starttls,
                &[Source::Srv],
            ),
            c(
                Protocol::Imap,
                "imap.guess.test",
                993,
                Security::Tls,
                &[Source::Guess],
            ),
            c(
                Protocol::Imap,
                "imap.both.test",
                993,
                Security::Tls,
                &[Source::Ispdb],
            ),
        ];
        let v = merge_weighed(all.clone(), unverified.clone());
        // A fetched source confirms imap.both.test; STARTTLS from SRV still beats the
        // unconfirmed implicit-TLS entry, which beats a guess (untrusted).
        assert_eq!(
            hosts(&v),
            [
                "imap.both.test:993",
                "imap.srv.test:143",
                "imap.db.test:993",
                "imap.guess.test:993"
            ]
        );
        // The same entry, verified, ranks by security as usual.
        let mut verified = all;
        verified.extend(unverified);
        assert_eq!(
            hosts(&merge(verified)),
            [
                "imap.both.test:993",
                "imap.db.test:993",
                "imap.srv.test:143",
                "imap.guess.test:993"
            ]
        );
    }

    #[test]
    fn merging_a_merged_list_keeps_its_order() {
        let v = merge(vec![
            c(
                Protocol::Imap,
                "store.example",
                993,
                Security::Tls,
                &[Source::Srv],
            ),
            c(
                Protocol::Imap,
                "backup.example",
                993,
                Security::Tls,
                &[Source::Srv],
            ),
        ]);
        assert_eq!(merge(v.clone()), v);
    }
}

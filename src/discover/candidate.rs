//! Merging candidates from all sources into one ranked list, and the findings that come from
//! comparing sources (disagreement, plain text only, untrusted only).
//!
//! Ranking, per protocol (IMAP, POP3, SMTP): trusted sources before untrusted ones; then implicit
//! TLS before STARTTLS before plain (RFC 8314 §3); then SMTP port 465 before 587 before 25
//! (RFC 8314 §3.3: 25 is for relay, not submission); then the number of sources that agree; then
//! the most trusted source; then the host name, for a stable order.

use std::collections::BTreeMap;

use crate::report::{Candidate, Finding, Protocol, Security, Severity, Source};

/// Merge candidates naming the same (protocol, host, port, security): union of sources and auth
/// methods; the username of the most trusted source that gave one.
pub fn merge(all: Vec<Candidate>) -> Vec<Candidate> {
    let mut by_key: BTreeMap<(Protocol, String, u16, Security), Candidate> = BTreeMap::new();
    for mut c in all {
        let key = c.key();
        c.host = key.1.clone();
        match by_key.get_mut(&key) {
            None => {
                c.sources.sort();
                c.sources.dedup();
                by_key.insert(key, c);
            }
            Some(m) => {
                let incoming_best = c.sources.iter().min() < m.sources.iter().min();
                if c.username.is_some() && (m.username.is_none() || incoming_best) {
                    m.username = c.username.clone();
                }
                m.sources.extend(c.sources);
                m.sources.sort();
                m.sources.dedup();
                m.auth.extend(c.auth);
                m.auth.sort();
                m.auth.dedup();
            }
        }
    }
    let mut v: Vec<Candidate> = by_key.into_values().collect();
    v.sort_by_key(rank_key);
    v
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

/// Sort key: lower is better.
pub fn rank_key(c: &Candidate) -> (Protocol, bool, Security, u8, usize, Source, String) {
    let trusted = c.sources.iter().any(|s| s.is_trusted());
    let best = c.sources.iter().min().copied().unwrap_or(Source::Guess);
    (
        c.protocol,
        !trusted,
        c.security,
        port_rank(c),
        usize::MAX - c.sources.len(),
        best,
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
        // What each non-guess source proposed first for this protocol.
        let mut first: BTreeMap<Source, &Candidate> = BTreeMap::new();
        for c in &of {
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
        'outer: for (i, a) in srcs.iter().enumerate() {
            for b in &srcs[i + 1..] {
                let overlap = sets[a].iter().any(|c| c.sources.contains(b));
                if !overlap {
                    out.push(
                        Finding::new(
                            Severity::Warning,
                            "sources-disagree",
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
                    break 'outer;
                }
            }
        }
        let informed: Vec<&&Candidate> = of
            .iter()
            .filter(|c| c.sources.iter().any(|s| *s != Source::Guess))
            .collect();
        if !informed.is_empty() && informed.iter().all(|c| c.security == Security::Plain) {
            out.push(
                Finding::new(
                    Severity::Warning,
                    "plaintext-only",
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
                    "untrusted-source-only",
                    format!("{} settings come only from plain-http autoconfig", proto.as_str().to_uppercase()),
                )
                .hint("Anyone on the network path could have changed them; publish autoconfig over https."),
            );
        }
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
}

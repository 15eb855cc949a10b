//! Source 6: guessing, as Thunderbird does (its `guessConfig`): `imap.`, `mail.`, `pop.`,
//! `pop3.`, `smtp.` and the bare domain × the standard ports, kept only where the host resolves.
//! Every guess is marked `guess`; the probe stage decides whether it works.

use std::time::Instant;

use super::{SourceResult, attempt};
use crate::address::Address;
use crate::model::{AttemptOutcome, AuthMethod, Candidate, Protocol, Security, Source};
use crate::net::Net;

/// (prefix, what to try there). Empty prefix = the bare domain.
type Try = (Protocol, u16, Security);

const HOSTS: [(&str, &[Try]); 6] = [
    (
        "imap.",
        &[
            (Protocol::Imap, 993, Security::Tls),
            (Protocol::Imap, 143, Security::Starttls),
        ],
    ),
    (
        "pop.",
        &[
            (Protocol::Pop3, 995, Security::Tls),
            (Protocol::Pop3, 110, Security::Starttls),
        ],
    ),
    (
        "pop3.",
        &[
            (Protocol::Pop3, 995, Security::Tls),
            (Protocol::Pop3, 110, Security::Starttls),
        ],
    ),
    ("smtp.", SMTP),
    ("mail.", ALL),
    ("", ALL),
];
const SMTP: &[Try] = &[
    (Protocol::Smtp, 465, Security::Tls),
    (Protocol::Smtp, 587, Security::Starttls),
    (Protocol::Smtp, 25, Security::Starttls),
];
const ALL: &[Try] = &[
    (Protocol::Imap, 993, Security::Tls),
    (Protocol::Imap, 143, Security::Starttls),
    (Protocol::Pop3, 995, Security::Tls),
    (Protocol::Pop3, 110, Security::Starttls),
    (Protocol::Smtp, 465, Security::Tls),
    (Protocol::Smtp, 587, Security::Starttls),
    (Protocol::Smtp, 25, Security::Starttls),
];

pub async fn run(net: &Net, addr: &Address) -> SourceResult {
    let jobs: Vec<_> = HOSTS
        .iter()
        .map(|(prefix, ports)| one(net, addr, prefix, ports))
        .collect();
    let mut out = SourceResult::default();
    for r in net.join_bounded(jobs).await {
        out.extend(r);
    }
    out
}

/// One guessed host: kept, with all its ports, when it resolves.
async fn one(net: &Net, addr: &Address, prefix: &str, ports: &[Try]) -> SourceResult {
    let started = Instant::now();
    let host = format!("{prefix}{}", addr.domain);
    let mut out = SourceResult::default();
    // Any port will do for the lookup; --resolve pins are per port, so try the first one.
    // A clean NXDOMAIN/NODATA is "not there"; a lookup that failed (timeout, SERVFAIL) is an
    // error, not a host that does not exist.
    let (resolves, outcome, reason) = match net.socket_addrs(&host, ports[0].1).await {
        Ok(v) if !v.is_empty() => (true, AttemptOutcome::Found, "resolves".to_string()),
        Ok(_) => (false, AttemptOutcome::NotFound, "does not resolve".into()),
        Err(e) if e.is_not_found() => (false, AttemptOutcome::NotFound, "does not resolve".into()),
        Err(e) => (false, AttemptOutcome::Error, e.to_string()),
    };
    if resolves {
        for (proto, port, sec) in ports {
            out.candidates.push(Candidate {
                protocol: *proto,
                host: host.clone(),
                port: *port,
                security: *sec,
                username: Some(addr.ascii()),
                auth: vec![AuthMethod::PasswordCleartext],
                sources: vec![Source::Guess],
            });
        }
    }
    out.attempts
        .push(attempt(Source::Guess, host, outcome, Some(reason), started));
    out
}

//! Source 4: SRV records, RFC 6186 (`_imap`, `_imaps`, `_pop3`, `_pop3s`, `_submission`) and
//! RFC 8314 §5.1 (`_submissions`). A target of `.` means the service is decidedly not offered
//! (RFC 2782, RFC 6186 §4); a target outside the queried domain is flagged, since anyone who can
//! change the DNS answer can send the client elsewhere (RFC 6186 §6). At most
//! [`cap::MAX_SRV_TARGETS`] targets of one name are kept, the first in priority and weight order.

use std::time::Instant;

use super::{SourceResult, attempt, failed};
use crate::address::Address;
use crate::discover::cap;
use crate::model::{
    AttemptOutcome, AuthMethod, Candidate, Finding, FindingCode, Protocol, Security, Severity,
    Source,
};
use crate::net::Net;

/// The SRV services asked, with what they mean.
pub(crate) const SERVICES: [(&str, Protocol, Security); 6] = [
    ("_imaps._tcp", Protocol::Imap, Security::Tls),
    ("_imap._tcp", Protocol::Imap, Security::Starttls),
    ("_pop3s._tcp", Protocol::Pop3, Security::Tls),
    ("_pop3._tcp", Protocol::Pop3, Security::Starttls),
    ("_submissions._tcp", Protocol::Smtp, Security::Tls),
    ("_submission._tcp", Protocol::Smtp, Security::Starttls),
];

/// Is `host` the domain itself or below it?
pub fn within(host: &str, domain: &str) -> bool {
    host == domain || host.ends_with(&format!(".{domain}"))
}

pub async fn run(net: &Net, addr: &Address) -> SourceResult {
    let jobs = SERVICES
        .iter()
        .map(|(svc, proto, sec)| one(net, addr, svc, *proto, *sec))
        .collect::<Vec<_>>();
    let mut out = SourceResult::default();
    for r in net.join_bounded(jobs).await {
        out.extend(r);
    }
    out
}

async fn one(net: &Net, addr: &Address, svc: &str, proto: Protocol, sec: Security) -> SourceResult {
    let started = Instant::now();
    let name = format!("{svc}.{}", addr.domain);
    let mut out = SourceResult::default();
    let resolver = match net.resolver() {
        Ok(r) => r,
        Err(e) => {
            out.attempts.push(attempt(
                Source::Srv,
                name,
                AttemptOutcome::Skipped,
                Some(e.to_string()),
                started,
            ));
            return out;
        }
    };
    let records = match resolver.srv(&name).await {
        Ok(v) => v,
        Err(e) => {
            out.attempts.push(failed(Source::Srv, name, &e, started));
            return out;
        }
    };
    out.extend(answer(&name, addr, proto, sec, &records, started));
    out
}

/// What the SRV answer for `name` means: candidates (at most [`cap::MAX_SRV_TARGETS`]), one
/// attempt and the findings. Pure, apart from the clock.
fn answer(
    name: &str,
    addr: &Address,
    proto: Protocol,
    sec: Security,
    records: &[crate::dns::Srv],
    started: Instant,
) -> SourceResult {
    let mut out = SourceResult::default();
    if records.len() == 1 && records[0].target == "." {
        out.attempts.push(attempt(
            Source::Srv,
            name,
            AttemptOutcome::NotFound,
            Some("not offered (target \".\")".into()),
            started,
        ));
        out.findings.push(Finding::new(
            Severity::Info,
            FindingCode::SrvNotOffered,
            format!("{name} says the service is not offered (target \".\", RFC 6186 §4)"),
        ));
        return out;
    }
    let mut found = Vec::new();
    let usable: Vec<&crate::dns::Srv> = records
        .iter()
        .filter(|r| r.target != "." && r.port != 0)
        .collect();
    if usable.len() > cap::MAX_SRV_TARGETS {
        out.findings
            .push(cap::finding(name, usable.len(), cap::MAX_SRV_TARGETS));
    }
    for r in usable.iter().take(cap::MAX_SRV_TARGETS) {
        if !within(&r.target, &addr.domain) {
            out.findings.push(
                Finding::new(
                    Severity::Info,
                    FindingCode::SrvTargetOutsideDomain,
                    format!("{name} points outside {}: {}:{}", addr.domain, r.target, r.port),
                )
                .hint("Normal for hosted mail; without DNSSEC the name is only as trustworthy as the DNS answer (RFC 6186 §6)."),
            );
        }
        found.push(format!("{}:{}", r.target, r.port));
        out.candidates.push(Candidate {
            protocol: proto,
            host: r.target.clone(),
            port: r.port,
            security: sec,
            // RFC 6186 §4: try the full email address first.
            username: Some(addr.ascii()),
            auth: vec![AuthMethod::PasswordCleartext],
            sources: vec![Source::Srv],
        });
    }
    if usable.len() > found.len() {
        found.push(format!(
            "and {} more, not tried",
            usable.len() - found.len()
        ));
    }
    out.attempts.push(attempt(
        Source::Srv,
        name,
        AttemptOutcome::Found,
        Some(found.join(", ")),
        started,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::Srv;
    use proptest::prelude::*;

    proptest! {
        /// Any answer (dozens of targets, `.` among others, port 0, names of any text): one
        /// attempt, at most ten candidates, a finding per kept target plus the cap, a reason
        /// of bounded length.
        #[test]
        fn any_answer_gives_bounded_output(
            recs in prop::collection::vec(
                (any::<u16>(), any::<u16>(), 0u16..4, "\\.|[a-z.]{0,30}(\\.example\\.test)?|.{0,255}"),
                0..64,
            )
        ) {
            let addr = crate::address::parse("a@example.test").unwrap();
            let records: Vec<Srv> = recs
                .into_iter()
                .map(|(priority, weight, port, target)| Srv { priority, weight, port, target })
                .collect();
            let name = "_imaps._tcp.example.test";
            let r = answer(name, &addr, Protocol::Imap, Security::Tls, &records, Instant::now());
            prop_assert!(r.candidates.len() <= cap::MAX_SRV_TARGETS);
            prop_assert!(r.findings.len() <= cap::MAX_SRV_TARGETS + 1);
            prop_assert_eq!(r.attempts.len(), 1);
            let reason = r.attempts[0].reason.as_deref().unwrap_or("");
            let longest = records.iter().map(|s| s.target.len()).max().unwrap_or(0);
            prop_assert!(reason.len() <= cap::MAX_SRV_TARGETS * (longest + 8) + 40);
        }
    }
}

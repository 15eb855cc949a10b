//! Findings that compare probes: certificates across ports, port 25, IPv6, and sources whose
//! servers fail while another source's work.

use super::{failed_phase, is_cancelled, label, works};
use crate::model::{
    Finding, FindingCode, Outcome, Phase, Probe, Protocol, Security, Severity, Source,
};

/// Findings that compare probes: certificates across ports, port 25, IPv6.
pub(super) fn cross_findings(probes: &[Probe]) -> Vec<Finding> {
    let live: Vec<&Probe> = probes.iter().filter(|p| !is_cancelled(p)).collect();
    let mut out = certificates_differ(&live);
    out.extend(port25_blocked(&live));
    out.extend(ipv6_broken(&live));
    out
}

/// Same host, implicit TLS vs STARTTLS, different leaf certificate.
fn certificates_differ(live: &[&Probe]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for a in live {
        for b in live {
            let (Some(ta), Some(tb)) = (&a.tls, &b.tls) else {
                continue;
            };
            if a.host != b.host
                || a.security != Security::Tls
                || b.security != Security::Starttls
                || a.protocol != b.protocol
            {
                continue;
            }
            let (Some(ca), Some(cb)) = (ta.chain.first(), tb.chain.first()) else {
                continue;
            };
            if ca.sha256 != cb.sha256 && seen.insert((label(a), label(b))) {
                let sev = if ta.verified && tb.verified {
                    Severity::Info
                } else {
                    Severity::Warning
                };
                out.push(
                    Finding::new(
                        sev,
                        FindingCode::CertificateDiffers,
                        format!(
                            "{} and {} present different certificates",
                            label(a),
                            label(b)
                        ),
                    )
                    .hint("one of them was probably not updated at the last renewal"),
                );
            }
        }
    }
    out
}

/// Port 25 unreachable while submission works: an ISP blocking outbound port 25.
fn port25_blocked(live: &[&Probe]) -> Option<Finding> {
    let p25_dead: Vec<&&Probe> = live
        .iter()
        .filter(|p| {
            p.protocol == Protocol::Smtp
                && p.port == 25
                && matches!(failed_phase(p), Some(Phase::Connect))
        })
        .collect();
    let sub_ok = live
        .iter()
        .any(|p| p.protocol == Protocol::Smtp && p.port != 25 && works(p));
    if p25_dead.is_empty() || !sub_ok {
        return None;
    }
    let what: Vec<String> = p25_dead
        .iter()
        .map(|p| match &p.outcome {
            Outcome::Failed { error, .. } => format!("{}: {error}", p.host),
            Outcome::Working { .. } => p.host.clone(),
        })
        .collect();
    Some(
        Finding::new(
            Severity::Info,
            FindingCode::Port25Blocked,
            format!("port 25 is unreachable from here while 587/465 work ({})", what.join("; ")),
        )
        .hint("Usual on home Internet lines and cloud networks (AWS, Google Cloud, Azure, …), which drop outgoing port 25 against spam; mail programs send on 465 or 587, so they are not affected."),
    )
}

/// IPv6 addresses fail while IPv4 works: once per host.
fn ipv6_broken(live: &[&Probe]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut hosts_done = std::collections::BTreeSet::new();
    for p in live {
        if let Some(msg) = crate::net::connect::broken_ipv6(&p.addresses)
            && hosts_done.insert(p.host.as_str())
        {
            out.push(
                Finding::new(Severity::Warning, FindingCode::Ipv6Broken, format!("{}: {msg}", p.host))
                    .hint("clients on IPv6 networks will see delays or failures; fix the AAAA record or the IPv6 firewall"),
            );
        }
    }
    out
}

/// A source whose every candidate fails while another source's candidate works is wrong.
pub(super) fn source_findings(probes: &[Probe]) -> Vec<Finding> {
    let mut out = Vec::new();
    for incoming in [true, false] {
        let group: Vec<&Probe> = probes
            .iter()
            .filter(|p| {
                !is_cancelled(p)
                    && p.protocol.is_incoming() == incoming
                    && (incoming || p.port != 25)
            })
            .collect();
        let Some(good) = group
            .iter()
            .find(|p| matches!(p.outcome, Outcome::Working { tls_valid: true }))
        else {
            continue;
        };
        let mut sources: Vec<Source> = group
            .iter()
            .flat_map(|p| p.sources.iter().copied())
            .collect();
        sources.sort();
        sources.dedup();
        for s in sources {
            if matches!(s, Source::Guess | Source::User) {
                continue;
            }
            let mine: Vec<&&Probe> = group.iter().filter(|p| p.sources.contains(&s)).collect();
            if mine.iter().all(|p| !works(p)) {
                let bad: Vec<String> = mine.iter().map(|p| label(p)).collect();
                out.push(
                    Finding::new(
                        Severity::Warning,
                        FindingCode::SourceWrong,
                        format!(
                            "{} suggests {} which does not work, while {} (from {}) works",
                            s.as_str(),
                            bad.join(", "),
                            label(good),
                            good.sources
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .hint(format!(
                        "the {} data for this domain is wrong or outdated",
                        s.as_str()
                    )),
                );
            }
        }
    }
    out
}

//! The MX set of a domain: implicit MX (RFC 5321 §5.1), null MX (RFC 7505), aliases and IP
//! literals as MX targets (RFC 2181 §10.3, RFC 5321 §5.1), duplicates, and whether each
//! exchange resolves. Every host's addresses are looked up at once.

use std::net::IpAddr;

use super::finding;
use crate::dns::{DnsError, Resolver};
use crate::model::{Finding, FindingCode, Severity};
use crate::model::{MxAddress, MxHost};

/// The analysed MX set.
#[derive(Debug, Default)]
pub(crate) struct MxSet {
    pub hosts: Vec<MxHost>,
    pub implicit: bool,
    pub null: bool,
    pub findings: Vec<Finding>,
}

/// Look up and lint the MX set of `domain`.
pub(crate) async fn analyse(resolver: &Resolver, domain: &str) -> MxSet {
    let mut set = MxSet::default();
    let records = match resolver.mx(domain).await {
        Ok(r) => r,
        Err(DnsError::NoRecords(..)) => return implicit(resolver, domain).await,
        Err(DnsError::NxDomain(_)) => {
            set.findings.push(finding(
                Severity::Critical,
                FindingCode::DomainNotFound,
                format!("{domain} does not exist (NXDOMAIN): mail to it bounces"),
                "check the spelling of the domain, or its delegation at the registrar",
            ));
            return set;
        }
        Err(e) => {
            set.findings.push(finding(
                Severity::Critical,
                FindingCode::MxLookupFailed,
                format!("the MX lookup of {domain} failed: {e}"),
                "senders retry and then bounce; check the domain's name servers",
            ));
            return set;
        }
    };
    let nulls = records.iter().filter(|m| m.exchange.is_empty()).count();
    if nulls > 0 {
        set.null = true;
        if nulls == records.len() {
            set.findings.push(Finding::new(
                Severity::Info,
                FindingCode::MxNull,
                format!("{domain} publishes a null MX (RFC 7505): it accepts no mail"),
            ));
            return set;
        }
        set.findings.push(finding(
            Severity::Critical,
            FindingCode::MxNullMixed,
            format!("{domain} has a null MX (\".\") next to real MX records"),
            "RFC 7505 §3: a null MX must be the only MX record; remove it or the others",
        ));
    }
    let mut seen: Vec<String> = Vec::new();
    let mut hosts = Vec::new();
    for m in records.iter().filter(|m| !m.exchange.is_empty()) {
        if seen.contains(&m.exchange) {
            set.findings.push(finding(
                Severity::Warning,
                FindingCode::MxDuplicate,
                format!("{} is listed more than once in the MX set", m.exchange),
                "keep one MX record per host",
            ));
            continue;
        }
        seen.push(m.exchange.clone());
        hosts.push((m.preference, m.exchange.clone()));
    }
    let looked = futures::future::join_all(hosts.iter().map(|(p, h)| host(resolver, *p, h))).await;
    for (h, f) in looked {
        set.hosts.push(h);
        set.findings.extend(f);
    }
    summarise(domain, &mut set);
    set
}

/// No MX record: the domain's own addresses are the implicit MX (RFC 5321 §5.1).
async fn implicit(resolver: &Resolver, domain: &str) -> MxSet {
    let mut set = MxSet {
        implicit: true,
        ..MxSet::default()
    };
    match resolver.ips(domain).await {
        Ok(ips) => {
            set.findings.push(finding(
                Severity::Warning,
                FindingCode::MxImplicit,
                format!("{domain} has no MX record: senders fall back to its A/AAAA address (RFC 5321 §5.1)"),
                "publish an MX record; a domain that takes no mail publishes a null MX (RFC 7505)",
            ));
            set.hosts.push(MxHost {
                preference: 0,
                host: domain.to_string(),
                addresses: addresses(ips),
                ..MxHost::default()
            });
        }
        Err(e) => set.findings.push(finding(
            Severity::Critical,
            FindingCode::MxNone,
            format!("{domain} has neither an MX record nor an address: it receives no mail ({e})"),
            "publish an MX record; a domain that takes no mail publishes a null MX (RFC 7505)",
        )),
    }
    set
}

/// One MX host: alias check and addresses, at once.
async fn host(resolver: &Resolver, preference: u16, name: &str) -> (MxHost, Vec<Finding>) {
    let mut h = MxHost {
        preference,
        host: name.to_string(),
        ..MxHost::default()
    };
    let mut out = Vec::new();
    if is_ip_literal(name) {
        out.push(finding(
            Severity::Critical,
            FindingCode::MxIpLiteral,
            format!("the MX target {name} is an IP address, not a host name"),
            "RFC 5321 §5.1: an MX names a host; publish an A/AAAA record and point the MX at its name",
        ));
        h.error = Some("an IP literal is not a host name".into());
        return (h, out);
    }
    let (cname, ips) = tokio::join!(resolver.cname(name), resolver.ips(name));
    if let Ok(Some(target)) = cname {
        out.push(finding(
            Severity::Warning,
            FindingCode::MxCname,
            format!("the MX target {name} is an alias (CNAME) of {target}"),
            "RFC 2181 §10.3 and RFC 5321 §5.1: point the MX at the canonical name",
        ));
        h.cname = Some(target);
    }
    match ips {
        Ok(ips) => h.addresses = addresses(ips),
        Err(e) => h.error = Some(e.to_string()),
    }
    (h, out)
}

fn addresses(ips: Vec<IpAddr>) -> Vec<MxAddress> {
    ips.into_iter()
        .map(|ip| MxAddress {
            ip: ip.to_string(),
            probe: None,
        })
        .collect()
}

/// An MX target written as an address: all-numeric labels or an IPv6 form (RFC 5321 §5.1).
pub(crate) fn is_ip_literal(name: &str) -> bool {
    let n = name.trim_start_matches('[').trim_end_matches(']');
    n.parse::<IpAddr>().is_ok()
        || (!n.is_empty()
            && n.split('.')
                .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit())))
}

/// Set-wide findings: unresolvable hosts, a single MX, no IPv6.
fn summarise(domain: &str, set: &mut MxSet) {
    let dead: Vec<&MxHost> = set
        .hosts
        .iter()
        .filter(|h| h.addresses.is_empty())
        .collect();
    if !dead.is_empty() {
        let all = dead.len() == set.hosts.len();
        let names: Vec<String> = dead
            .iter()
            .map(|h| {
                format!(
                    "{} ({})",
                    h.host,
                    h.error.as_deref().unwrap_or("no address")
                )
            })
            .collect();
        set.findings.push(finding(
            if all { Severity::Critical } else { Severity::Warning },
            FindingCode::MxUnresolvable,
            format!("MX host without an address: {}", names.join(", ")),
            if all {
                "no MX host resolves: mail to this domain bounces; fix the MX or the hosts' A/AAAA records"
            } else {
                "senders waste time on this MX before trying the next; fix or remove it"
            },
        ));
    }
    let live: Vec<&MxHost> = set
        .hosts
        .iter()
        .filter(|h| !h.addresses.is_empty())
        .collect();
    if live.len() == 1 {
        set.findings.push(Finding::new(
            Severity::Info,
            FindingCode::MxSingle,
            format!("{domain} has one MX host: senders queue mail while it is down"),
        ));
    }
    let v6 = live
        .iter()
        .any(|h| h.addresses.iter().any(|a| a.ip.contains(':')));
    if !live.is_empty() && !v6 {
        set.findings.push(Finding::new(
            Severity::Info,
            FindingCode::MxNoIpv6,
            format!("no MX host of {domain} has an IPv6 address"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals() {
        for s in ["192.0.2.1", "[192.0.2.1]", "2001:db8::1", "10.1"] {
            assert!(is_ip_literal(s), "{s}");
        }
        for s in ["mx.example.com", "1.example", "", "mx1"] {
            assert!(!is_ip_literal(s), "{s}");
        }
    }
}

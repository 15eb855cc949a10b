//! Does the address's domain exist? One MX query for the domain itself, asked alongside the
//! sources, tells a domain that does not exist (NXDOMAIN, RFC 8020: nothing exists below it
//! either, so no source can find anything) apart from a resolver that failed (SERVFAIL,
//! REFUSED, no answer): the first is most often a typo in the address, the second is not.

use crate::address::Address;
use crate::dns::DnsError;
use crate::model::{Finding, FindingCode, Severity};
use crate::net::Net;

/// What DNS says about the domain itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainDns {
    /// The domain exists (with or without an MX record).
    Exists,
    /// NXDOMAIN: the domain does not exist.
    NotFound,
    /// The resolver failed: which resolver, and the error.
    Failed { resolver: String, error: String },
}

/// Ask the resolver about `addr`'s domain.
pub async fn check(net: &Net, addr: &Address) -> DomainDns {
    let resolver = match net.resolver() {
        Ok(r) => r,
        Err(e) => {
            return DomainDns::Failed {
                resolver: "the resolver".into(),
                error: e.to_string(),
            };
        }
    };
    match resolver.mx(&addr.domain).await {
        Ok(_) | Err(DnsError::NoRecords(..)) => DomainDns::Exists,
        Err(DnsError::NxDomain(_)) => DomainDns::NotFound,
        Err(e) => DomainDns::Failed {
            resolver: resolver.servers().to_string(),
            error: e.to_string(),
        },
    }
}

/// The finding for a domain that does not exist or could not be looked up; `None` when it
/// exists. `found_any`: some source (the provider database) named servers all the same.
pub fn finding(dns: &DomainDns, addr: &Address, found_any: bool) -> Option<Finding> {
    let domain = addr.domain_unicode.as_deref().unwrap_or(&addr.domain);
    match dns {
        DomainDns::Exists => None,
        DomainDns::NotFound => Some(
            Finding::new(
                Severity::Critical,
                FindingCode::DomainNotFound,
                format!("the domain {domain} does not exist (DNS answers NXDOMAIN)"),
            )
            .hint(format!(
                "Check the spelling of the part after the @ in {}: no mail can reach a domain that does not exist.",
                addr.ascii()
            )),
        ),
        // Only when it left discovery empty-handed: a resolver hiccup on one query while the
        // sources answered is not the story.
        DomainDns::Failed { .. } if found_any => None,
        DomainDns::Failed { resolver, error } => Some(
            Finding::new(
                Severity::Critical,
                FindingCode::DnsFailure,
                format!("DNS lookups for {domain} failed at {resolver}: {error}"),
            )
            .hint("The domain may well be right: the resolver (or the network to it) is the problem. Try again, or another resolver with --dns."),
        ),
    }
}

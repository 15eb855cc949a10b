//! Source 3: MX-based provider detection — how a custom domain hosted at Google Workspace,
//! Microsoft 365 and the like is recognised.
//!
//! The lowest-preference MX host's registrable domain (public suffix list) and the MX host minus
//! its first label are each looked up in the provider database, via autoconfig at
//! `autoconfig.<that domain>` (https only) and in the ISPDB. Nothing above the registrable domain
//! is ever asked (it would be a public suffix such as `co.uk`).

use std::time::Instant;

use futures::FutureExt;

use super::{SourceResult, attempt, failed};
use crate::address::Address;
use crate::dns::Mx;
use crate::model::{AttemptOutcome, Finding, FindingCode, Severity, Source};
use crate::net::Net;
use crate::provider_db;

/// Domains to ask about, given the MX host: its registrable domain and its parent, never above
/// the registrable domain, never the address's own domain (the other sources cover it).
pub(crate) fn lookup_domains(mx_host: &str, own_domain: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(reg) = psl::domain_str(mx_host) else {
        return out;
    };
    if let Some((_, parent)) = mx_host.split_once('.')
        && parent.len() > reg.len()
        && parent.ends_with(&format!(".{reg}"))
    {
        out.push(parent.to_string());
    }
    out.push(reg.to_string());
    out.retain(|d| d != own_domain);
    out.dedup();
    out
}

pub async fn run(net: &Net, addr: &Address) -> SourceResult {
    let mut out = SourceResult::default();
    if let Some(mx_host) = lowest_mx(net, addr, &mut out).await {
        by_mx_host(net, addr, &mx_host, &mut out).await;
    }
    out
}

/// The domain's first MX host, recorded as an attempt; `None` (with the attempt, and a finding
/// for a null MX) when there is none to look up.
async fn lowest_mx(net: &Net, addr: &Address, out: &mut SourceResult) -> Option<String> {
    let started = Instant::now();
    let target = format!("MX {}", addr.domain);
    let resolver = match net.resolver() {
        Ok(r) => r,
        Err(e) => {
            out.attempts.push(attempt(
                Source::MxProvider,
                target,
                AttemptOutcome::Skipped,
                Some(e.to_string()),
                started,
            ));
            return None;
        }
    };
    let mxs: Vec<Mx> = match resolver.mx(&addr.domain).await {
        Ok(v) => v,
        Err(e) => {
            out.attempts
                .push(failed(Source::MxProvider, target, &e, started));
            return None;
        }
    };
    let first = &mxs[0];
    // RFC 7505: a single MX with an empty exchange ("." ) means the domain accepts no mail.
    if first.exchange.is_empty() || first.exchange == "." {
        out.attempts.push(attempt(
            Source::MxProvider,
            target,
            AttemptOutcome::Found,
            Some("null MX".into()),
            started,
        ));
        out.findings.push(
            Finding::new(
                Severity::Warning,
                FindingCode::MxNull,
                format!(
                    "{} publishes a null MX (RFC 7505): it receives no mail",
                    addr.domain
                ),
            )
            .hint("Check the address: this domain does not accept email."),
        );
        return None;
    }
    let mx_host = first.exchange.clone();
    out.attempts.push(attempt(
        Source::MxProvider,
        target,
        AttemptOutcome::Found,
        Some(format!("{} (preference {})", mx_host, first.preference)),
        started,
    ));
    Some(mx_host)
}

/// The provider behind `mx_host`: the provider database by MX pattern, then by the MX host's
/// parent and registrable domains, and autoconfig and the ISPDB for those domains.
async fn by_mx_host(net: &Net, addr: &Address, mx_host: &str, out: &mut SourceResult) {
    let matched_by = format!("mx {mx_host}");
    let found = provider_db::by_mx(mx_host);
    let target = format!("provider-db:mx:{mx_host}");
    super::provider::record(
        out,
        found,
        addr,
        Source::MxProvider,
        &matched_by,
        target,
        Instant::now(),
    );

    let domains = lookup_domains(mx_host, &addr.domain);
    let mut jobs = Vec::new();
    for d in &domains {
        if out.provider.is_none()
            && let Some(p) = provider_db::by_domain(d)
        {
            let target = format!("provider-db:{d}");
            super::provider::record(
                out,
                Some(p),
                addr,
                Source::MxProvider,
                &matched_by,
                target,
                Instant::now(),
            );
        }
        let url = format!(
            "https://autoconfig.{d}/mail/config-v1.1.xml?emailaddress={}",
            addr.ascii()
        );
        jobs.push(
            super::autoconfig::fetch_one(net, addr, Source::MxProvider, url, Source::MxProvider)
                .boxed(),
        );
        let url = super::autoconfig::ispdb_url(&net.cfg.ispdb_url, d);
        jobs.push(
            super::autoconfig::fetch_ispdb(net, addr, Source::MxProvider, url, Source::MxProvider)
                .boxed(),
        );
    }
    for r in net.join_bounded(jobs).await {
        out.extend(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_never_above_registrable() {
        assert_eq!(
            lookup_domains("aspmx.l.google.com", "example.com"),
            ["l.google.com", "google.com"]
        );
        assert_eq!(
            lookup_domains("mx1.mail.example.co.uk", "x.org"),
            ["mail.example.co.uk", "example.co.uk"]
        );
        assert_eq!(lookup_domains("example.co.uk", "x.org"), ["example.co.uk"]);
        assert_eq!(lookup_domains("mx.example.com", "x.org"), ["example.com"]);
        assert!(lookup_domains("mx.example.com", "example.com").is_empty());
        assert_eq!(
            lookup_domains("example-com.mail.protection.outlook.com", "example.com"),
            ["mail.protection.outlook.com", "outlook.com"]
        );
    }
}

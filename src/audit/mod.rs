//! `mailprobe audit`: the receiving side of a domain. The MX set (RFC 5321 §5.1, RFC 7505) and
//! the policies a sender applies to it — MTA-STS (RFC 8461), TLS-RPT (RFC 8460), DANE (RFC
//! 7672), SPF (RFC 7208), DMARC (RFC 7489), DKIM keys (RFC 6376) — each checked concurrently, compared with what the
//! DNS and the servers actually say, every problem a finding with the evidence in
//! [`Inbound`]. `check`'s Receiving section is the MX part alone ([`receiving`]).

pub mod dane;
pub mod dkim;
pub mod dmarc;
pub mod mta_sts;
pub mod mx;
pub mod port25;
pub mod receiving;
pub mod spf;
pub mod tags;
pub mod tlsrpt;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::dns::{DnsError, Resolver};
use crate::model::{Dane, DnssecStatus, Inbound, MxHost, Policies};
use crate::model::{Finding, FindingCode, Severity};
use crate::net::Net;
use tokio::sync::Semaphore;

/// Selectors tried when none is given: the common defaults of large providers and MTAs.
pub(crate) const COMMON_DKIM_SELECTORS: [&str; 9] = [
    "default",
    "google",
    "selector1",
    "selector2",
    "k1",
    "s1",
    "s2",
    "dkim",
    "mail",
];

/// What the audit looks at besides the domain.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Selectors named with `--dkim-selector`, tried before the common ones.
    pub dkim_selectors: Vec<String>,
    /// The port-25 probe's relay-test recipient and EHLO name.
    pub probe: port25::ProbeOptions,
    /// Connections to one MX host at once (`--per-host`).
    pub per_host: usize,
    pub warn_cert_days: i64,
    pub crit_cert_days: i64,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            dkim_selectors: Vec::new(),
            probe: port25::ProbeOptions::default(),
            per_host: 4,
            warn_cert_days: 30,
            crit_cert_days: 7,
        }
    }
}

/// One finished part of the audit.
enum Part {
    Mx(mx::MxSet, Option<Dane>),
    Policy(PolicyPart, Vec<Finding>),
}

enum PolicyPart {
    MtaSts(Option<mta_sts::Fetched>),
    TlsRpt(Option<crate::model::TlsRpt>),
    Spf(Option<crate::model::Spf>),
    Dmarc(Option<crate::model::Dmarc>),
    Dkim(dkim::DkimSet),
}

type Job<'a> = Pin<Box<dyn Future<Output = Part> + Send + 'a>>;

/// Audit `domain` (ASCII): every part at once (bounded by `--concurrency`), findings in the
/// order MX, MTA-STS, TLS-RPT, SPF, DMARC, DKIM.
pub async fn audit(net: &Arc<Net>, domain: &str, opts: &AuditOptions) -> (Inbound, Vec<Finding>) {
    let mut inbound = Inbound::default();
    let resolver = match net.resolver() {
        Ok(r) => r.clone(),
        Err(e) => {
            let f = Finding::new(
                Severity::Critical,
                FindingCode::DnsUnavailable,
                e.to_string(),
            );
            return (inbound, vec![f]);
        }
    };
    let parts = net.join_bounded(jobs(net, &resolver, domain, opts)).await;
    let mut findings = Vec::new();
    let Gathered {
        sts,
        mut policies,
        dkim_none,
        sends_no_mail,
    } = gather(parts, &mut inbound, &mut findings);
    let dane = policies.dane.take();
    if let Some(fetched) = sts {
        let (report, f) = mta_sts::compare(fetched, &inbound.mx);
        findings.extend(f);
        policies.mta_sts = Some(report);
    }
    let ctx = port25::judge::Context {
        sts_mode: policies
            .mta_sts
            .as_ref()
            .filter(|m| m.in_effect())
            .and_then(|m| m.policy.as_ref())
            .map(|p| p.mode.as_str()),
        warn_cert_days: opts.warn_cert_days,
        crit_cert_days: opts.crit_cert_days,
        dane: dane.as_ref(),
    };
    findings.extend(port25::judge::judge(&inbound.mx, ctx));
    if let Some(d) = &dane {
        findings.extend(dane::judge::judge(domain, d));
    }
    policies.dane = dane;
    // A domain that sends no mail (`v=spf1 -all`) needs no DKIM key (RFC 7208 §10.1.2).
    if dkim_none && sends_no_mail {
        for f in findings
            .iter_mut()
            .filter(|f| f.code == FindingCode::DkimNone)
        {
            f.severity = Severity::Info;
        }
    }
    inbound.policies = policies;
    (inbound, findings)
}

/// The six parts of the audit, each a job that yields its [`Part`].
fn jobs<'a>(
    net: &'a Arc<Net>,
    resolver: &'a Resolver,
    domain: &'a str,
    opts: &'a AuditOptions,
) -> Vec<Job<'a>> {
    vec![
        Box::pin(mx_and_dane(net, resolver, domain, opts)),
        Box::pin(async move {
            let (p, f) = mta_sts::fetch(net, resolver, domain).await;
            Part::Policy(PolicyPart::MtaSts(p), f)
        }),
        Box::pin(async move {
            let (p, f) = tlsrpt::check(resolver, domain).await;
            Part::Policy(PolicyPart::TlsRpt(p), f)
        }),
        Box::pin(async move {
            let (p, f) = spf::check(net, resolver, domain).await;
            Part::Policy(PolicyPart::Spf(p), f)
        }),
        Box::pin(async move {
            let (p, f) = dmarc::check(net, resolver, domain).await;
            Part::Policy(PolicyPart::Dmarc(p), f)
        }),
        Box::pin(async move {
            let (p, f) = dkim::check(net, resolver, domain, &opts.dkim_selectors).await;
            Part::Policy(PolicyPart::Dkim(p), f)
        }),
    ]
}

/// The MX set probed on port 25, and DANE: the validated MX answer is asked beside the plain
/// one, the TLSA records of every host while its addresses are probed (RFC 7672 §2.2).
async fn mx_and_dane(
    net: &Arc<Net>,
    resolver: &Resolver,
    domain: &str,
    opts: &AuditOptions,
) -> Part {
    let validating = net.validating().ok();
    // The probes start as soon as the plain MX set is known; the DANE side waits for the
    // validated MX answer and the host names, and runs beside the probes.
    let (names_tx, names_rx) = tokio::sync::oneshot::channel::<Vec<(String, Option<String>)>>();
    let mx_and_probes = async {
        let mut set = mx::analyse(resolver, domain).await;
        let named = set
            .hosts
            .iter()
            .filter(|h| !mx::is_ip_literal(&h.host))
            .map(|h| (h.host.clone(), h.cname.clone()))
            .collect();
        let _ = names_tx.send(named);
        let never = std::future::pending::<()>();
        let chains = probe_all(
            net,
            resolver,
            &mut set.hosts,
            &opts.probe,
            opts.per_host,
            never,
        )
        .await;
        (set, chains)
    };
    let dane_side = async {
        let v = validating?;
        let status = dane::lookup::mx_status(v, domain).await;
        let named = names_rx.await.unwrap_or_default();
        // RFC 7672 §2.2.1: TLSA records count only below a secure MX answer.
        if status.0 != Some(DnssecStatus::Secure) {
            return Some((status, Vec::new()));
        }
        let lookups = named
            .iter()
            .map(|(h, c)| dane::lookup::tlsa(v, h, c.as_deref()));
        Some((status, futures::future::join_all(lookups).await))
    };
    let ((set, chains), dane_side) = tokio::join!(mx_and_probes, dane_side);
    let dane = match dane_side {
        Some((status, tlsa)) if !set.hosts.is_empty() => {
            Some(dane::lookup::assess(status, tlsa, &set.hosts, &chains))
        }
        _ => None,
    };
    Part::Mx(set, dane)
}

/// What the parts found, before the MTA-STS policy is compared with the MX set.
struct Gathered {
    sts: Option<mta_sts::Fetched>,
    policies: Policies,
    /// `_domainkey` does not exist.
    dkim_none: bool,
    /// SPF says the domain sends no mail (`v=spf1 -all`).
    sends_no_mail: bool,
}

/// The finished parts into `inbound` and `findings`, in the parts' order.
fn gather(parts: Vec<Part>, inbound: &mut Inbound, findings: &mut Vec<Finding>) -> Gathered {
    let mut sts = None;
    let mut policies = Policies::default();
    let mut dkim_none = false;
    let mut sends_no_mail = false;
    for part in parts {
        match part {
            Part::Mx(set, dane) => {
                policies.dane = dane;
                inbound.mx = set.hosts;
                inbound.implicit_mx = set.implicit;
                inbound.null_mx = set.null;
                findings.extend(set.findings);
            }
            Part::Policy(p, f) => {
                findings.extend(f);
                match p {
                    PolicyPart::MtaSts(p) => sts = p,
                    PolicyPart::TlsRpt(p) => policies.tls_rpt = p,
                    PolicyPart::Spf(p) => {
                        sends_no_mail = p.as_ref().is_some_and(spf::sends_no_mail);
                        policies.spf = p;
                    }
                    PolicyPart::Dmarc(p) => policies.dmarc = p,
                    PolicyPart::Dkim(set) => {
                        dkim_none = set.domainkey.as_deref() == Some("nxdomain");
                        policies.dkim = set.keys;
                        policies.dkim_domainkey = set.domainkey;
                    }
                }
            }
        }
    }
    Gathered {
        sts,
        policies,
        dkim_none,
        sends_no_mail,
    }
}

/// Probe every address of every MX host on port 25 at once: at most `per_host` per host,
/// `--concurrency` in all, each until `stop` completes ([`port25::probe_until`]; the audit
/// passes a `stop` that never does). The IP literal of a bad MX is never contacted. Returns
/// the chain each address presented, per host and address (empty without TLS), for DANE.
async fn probe_all<S>(
    net: &Net,
    resolver: &Resolver,
    hosts: &mut [MxHost],
    opts: &port25::ProbeOptions,
    per_host: usize,
    stop: S,
) -> Vec<Vec<Vec<Vec<u8>>>>
where
    S: Future<Output = ()> + Clone,
{
    let mut chains: Vec<Vec<Vec<Vec<u8>>>> = hosts
        .iter()
        .map(|h| vec![Vec::new(); h.addresses.len()])
        .collect();
    let gates: Vec<Semaphore> = hosts
        .iter()
        .map(|_| Semaphore::new(per_host.max(1)))
        .collect();
    let mut jobs = Vec::new();
    for (hi, h) in hosts.iter().enumerate() {
        if mx::is_ip_literal(&h.host) {
            continue;
        }
        for (ai, a) in h.addresses.iter().enumerate() {
            let Ok(ip) = a.ip.parse() else { continue };
            let (gate, host, stop) = (&gates[hi], h.host.clone(), stop.clone());
            jobs.push(async move {
                let _permit = gate.acquire().await;
                let (p, chain) = port25::probe_until(net, resolver, &host, ip, opts, stop).await;
                (hi, ai, p, chain)
            });
        }
    }
    for (hi, ai, p, chain) in net.join_bounded(jobs).await {
        hosts[hi].addresses[ai].probe = Some(p);
        chains[hi][ai] = chain;
    }
    chains
}

/// TXT records of `name` that start with `v=<version>`; `Ok(vec![])` when there are none.
pub(crate) async fn versioned_txt(
    resolver: &Resolver,
    name: &str,
    version: &str,
) -> Result<Vec<String>, DnsError> {
    match resolver.txt(name).await {
        Ok(v) => Ok(v
            .into_iter()
            .filter(|r| tags::has_version(r, version))
            .collect()),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// A finding with its hint.
pub(crate) fn finding(sev: Severity, code: FindingCode, message: String, hint: &str) -> Finding {
    let f = Finding::new(sev, code, message);
    if hint.is_empty() { f } else { f.hint(hint) }
}

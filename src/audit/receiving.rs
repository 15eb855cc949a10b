//! `check`'s Receiving section: the other half of a helpdesk's mail tickets in one glance — the
//! domain's MX hosts (RFC 5321 §5.1) and what each address says on port 25 (greeting, EHLO,
//! STARTTLS per RFC 3207, the certificate for the MX name), with the audit's own probe
//! ([`super::port25`]) and judgement ([`super::port25::judge`]). No relay test, no reverse DNS,
//! no policy lookup: that is `audit`'s job.
//!
//! In `check` the mailbox settings are the verdict and port 25 is information: the caller's
//! `stop` cuts whatever is still running (the MX lookup, or each probe, which keeps what it saw
//! and says how far it got), and [`for_check`] weighs the findings so that a receiving problem
//! never outweighs the mailbox settings: at most a warning, and nothing for what may be this
//! network's doing (port 25 is blocked on most home and cloud networks, and a home address is
//! refused by many MXs).

use std::future::Future;
use std::time::Instant;

use super::{mx, port25, probe_all};
use crate::model::{Finding, FindingCode, Inbound, Severity};
use crate::net::Net;

/// What the Receiving section needs from `check`'s settings.
#[derive(Debug, Clone)]
pub struct ReceivingOptions {
    /// Connections to one MX host at once (`--per-host`).
    pub per_host: usize,
    pub warn_cert_days: i64,
    pub crit_cert_days: i64,
}

/// The MX set of `domain` and a port-25 probe of each address (at most `--per-host` per host
/// at once), everything cut when `stop` completes; the findings as [`for_check`] weighs them.
/// Without DNS (`--offline`) there is nothing to look at: an empty section.
pub async fn receiving<S>(
    net: &Net,
    domain: &str,
    o: &ReceivingOptions,
    stop: S,
) -> (Inbound, Vec<Finding>)
where
    S: Future<Output = ()> + Clone,
{
    let started = Instant::now();
    let mut inbound = Inbound::default();
    let Ok(resolver) = net.resolver() else {
        return (inbound, Vec::new());
    };
    let set = tokio::select! {
        biased;
        set = mx::analyse(resolver, domain) => set,
        () = stop.clone() => {
            inbound.incomplete = Some(format!(
                "the MX lookup had no answer within {} ms",
                started.elapsed().as_millis()
            ));
            return (inbound, Vec::new());
        }
    };
    let opts = port25::ProbeOptions {
        relay_test: false,
        reverse_dns: false,
        ..port25::ProbeOptions::default()
    };
    let mut hosts = set.hosts;
    probe_all(net, resolver, &mut hosts, &opts, o.per_host, stop).await;
    let mut findings = set.findings;
    // No MTA-STS lookup in check: certificates weigh as without a policy.
    let ctx = port25::judge::Context {
        sts_mode: None,
        warn_cert_days: o.warn_cert_days,
        crit_cert_days: o.crit_cert_days,
        dane: None,
    };
    findings.extend(port25::judge::judge(&hosts, ctx));
    inbound.mx = hosts;
    inbound.implicit_mx = set.implicit;
    inbound.null_mx = set.null;
    (inbound, for_check(findings))
}

/// How `check` weighs the receiving findings (the audit is the strict one):
/// - dropped: what discovery already says about the domain's DNS (`domain-not-found`,
///   `mx-lookup-failed`), what check does not look up (reverse DNS: `mx-ptr-missing`,
///   `mx-fcrdns-failed`, `mx-banner-name-mismatch`), the MX set's informational notes
///   (`mx-single`, `mx-no-ipv6`), and whatever may be this network's doing rather than the
///   server's — no TCP answer, no greeting, a 421/554 greeting, EHLO refused, and so
///   `mx-unreachable` (the Receiving section shows each address's answer);
/// - at most a warning: everything else — an MX without STARTTLS or with STARTTLS broken, an
///   expiring certificate, a broken MX set (null MX mixed with real ones, IP literals, no MX).
pub(crate) fn for_check(findings: Vec<Finding>) -> Vec<Finding> {
    use FindingCode as C;
    findings
        .into_iter()
        .filter(|f| {
            !matches!(
                f.code,
                C::DomainNotFound
                    | C::MxLookupFailed
                    | C::MxPtrMissing
                    | C::MxFcrdnsFailed
                    | C::MxBannerNameMismatch
                    | C::MxSingle
                    | C::MxNoIpv6
                    | C::MxConnectFailed
                    | C::MxBannerTimeout
                    | C::MxBannerRefused
                    | C::MxEhloFailed
                    | C::MxUnreachable
            )
        })
        .map(|mut f| {
            f.severity = f.severity.min(Severity::Warning);
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(sev: Severity, code: FindingCode) -> Finding {
        Finding::new(sev, code, "x")
    }

    #[test]
    fn check_weighs_receiving_findings_at_most_a_warning() {
        let got: Vec<(Severity, FindingCode)> = for_check(vec![
            f(Severity::Warning, FindingCode::MxStarttlsMissing),
            f(Severity::Critical, FindingCode::MxStarttlsFailed),
            f(Severity::Critical, FindingCode::MxCertificateExpiring),
            f(Severity::Info, FindingCode::CertificateHostMismatch),
            f(Severity::Critical, FindingCode::MxNullMixed),
            f(Severity::Critical, FindingCode::MxUnreachable),
            f(Severity::Warning, FindingCode::MxConnectFailed),
            f(Severity::Warning, FindingCode::MxBannerRefused),
            f(Severity::Info, FindingCode::MxPtrMissing),
            f(Severity::Info, FindingCode::MxSingle),
            f(Severity::Critical, FindingCode::DomainNotFound),
        ])
        .into_iter()
        .map(|f| (f.severity, f.code))
        .collect();
        assert_eq!(
            got,
            [
                (Severity::Warning, FindingCode::MxStarttlsMissing),
                (Severity::Warning, FindingCode::MxStarttlsFailed),
                (Severity::Warning, FindingCode::MxCertificateExpiring),
                (Severity::Info, FindingCode::CertificateHostMismatch),
                (Severity::Warning, FindingCode::MxNullMixed),
            ]
        );
    }
}

//! Findings from the port-25 probes: per address (one broken address of three is named), then
//! for the whole MX set. Certificate problems weigh by the MTA-STS mode (RFC 8461 §4.2: with
//! `enforce` a sender refuses an MX whose certificate does not validate for its name) and are
//! named with RFC 8460's result types. An address DANE authenticates (RFC 7672 §3.1) needs no
//! WebPKI: without an MTA-STS policy its name and trust problems are not reported, and with
//! DANE-EE neither is its expiry (§3.1.1).

use crate::audit::finding;
use crate::model::{Dane, DaneOutcome, Finding, FindingCode, MxHost, Port25, Severity};

/// A greeting later than this is reported (greet pause / tarpit, RFC 5321 §4.5.3.2 lets
/// clients wait 5 minutes, but many give up sooner).
pub(crate) const SLOW_BANNER_MS: u64 = 3000;

/// What the judgement needs besides the probes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Context<'a> {
    /// `enforce`, `testing` or `none` when an MTA-STS policy was fetched.
    pub sts_mode: Option<&'a str>,
    pub warn_cert_days: i64,
    pub crit_cert_days: i64,
    /// The DANE verdicts, when the MX answer was validated.
    pub dane: Option<&'a Dane>,
}

/// Findings for every probed address, then `mx-unreachable` when no address takes mail.
pub(crate) fn judge(hosts: &[MxHost], ctx: Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut probed = 0;
    let mut usable = 0;
    for h in hosts {
        for a in &h.addresses {
            let Some(p) = &a.probe else { continue };
            // A probe cut before its end (`check`'s Receiving section) proves nothing either
            // way: the section shows how far it got.
            if p.cut.is_some() {
                continue;
            }
            probed += 1;
            let who = format!("{} ({})", h.host, a.ip);
            if address(&who, (&h.host, &a.ip), p, ctx, &mut out) {
                usable += 1;
            }
        }
    }
    if probed > 0 && usable == 0 {
        out.push(finding(
            Severity::Critical,
            FindingCode::MxUnreachable,
            "no MX address accepts mail on port 25: senders queue and then bounce".into(),
            "check that the MX hosts run an SMTP server reachable on port 25 from the Internet",
        ));
    }
    out
}

/// Findings of one address; true when it accepts a mail session.
fn address(
    who: &str,
    (host, ip): (&str, &str),
    p: &Port25,
    ctx: Context<'_>,
    out: &mut Vec<Finding>,
) -> bool {
    if let Some(e) = &p.error {
        let (code, hint) = if e.starts_with("connect") {
            (
                FindingCode::MxConnectFailed,
                "senders try the next address or MX; check the firewall and that the server listens on port 25",
            )
        } else if e.starts_with("banner") && e.contains("closed the connection") {
            (
                FindingCode::MxConnectFailed,
                "the address took the TCP connection and dropped it before any greeting (a firewall, a connection limit, a server refusing this client); senders try the next address",
            )
        } else if e.starts_with("banner") {
            (
                FindingCode::MxBannerTimeout,
                "no greeting: an overloaded server or a tarpit; senders give up and retry later",
            )
        } else {
            (
                FindingCode::MxEhloFailed,
                "RFC 5321 §4.1.1.1: the server must answer EHLO with 250",
            )
        };
        out.push(finding(
            Severity::Warning,
            code,
            format!("{who}: {e}"),
            hint,
        ));
        return false;
    }
    let Some(b) = &p.banner else { return false };
    if b.code != 220 {
        out.push(finding(
            Severity::Warning,
            FindingCode::MxBannerRefused,
            format!("{who} refuses the session: {} {}", b.code, b.text),
            if b.code == 421 {
                "421: the service is unavailable for now (overload, or the prober's address is refused); senders retry"
            } else {
                "554 at the greeting: no SMTP service for this client (RFC 5321 §3.1); check any blocklist or policy"
            },
        ));
        return false;
    }
    if b.delay_ms >= SLOW_BANNER_MS {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::MxBannerSlow,
            format!(
                "{who} greets after {:.1} s (a greet pause or tarpit)",
                b.delay_ms as f64 / 1000.0
            ),
        ));
    }
    tls(who, (host, ip), p, ctx, out);
    if let Some(r) = &p.relay_test
        && r.accepted
    {
        out.push(finding(
            Severity::Critical,
            FindingCode::MxOpenRelay,
            format!("{who} accepts mail for {} from anyone: it may be an open relay ({})", r.rcpt, r.reply),
            "RFC 5321 §3.9, RFC 2505: accept RCPT only for the domains the server hosts (some servers accept and discard: check)",
        ));
    }
    reverse(who, host, p, out);
    true
}

/// STARTTLS and the certificate.
fn tls(who: &str, (host, ip): (&str, &str), p: &Port25, ctx: Context<'_>, out: &mut Vec<Finding>) {
    let weigh = |default: Severity| match ctx.sts_mode {
        Some("enforce") => Severity::Critical,
        Some("testing") => Severity::Warning,
        _ => default,
    };
    if !p.starttls_offered {
        out.push(finding(
            weigh(Severity::Warning),
            FindingCode::MxStarttlsMissing,
            format!("{who} does not offer STARTTLS: mail to it travels in clear text"),
            "enable STARTTLS (RFC 3207) with a certificate for the MX name",
        ));
        return;
    }
    let Some(t) = p.tls.as_ref().filter(|_| p.starttls_ok) else {
        out.push(finding(
            weigh(Severity::Warning),
            FindingCode::MxStarttlsFailed,
            format!("{who}: STARTTLS is offered but fails: {}", p.starttls_error.as_deref().unwrap_or("?")),
            "senders fall back to clear text or, with MTA-STS or DANE, do not deliver; fix the TLS setup",
        ));
        return;
    };
    let sts = matches!(ctx.sts_mode, Some("enforce" | "testing"));
    let dane = ctx
        .dane
        .and_then(|d| d.address(host, ip))
        .filter(|a| a.outcome == DaneOutcome::Valid);
    let dane_ee = dane.is_some_and(|a| a.matched.as_deref().is_some_and(|m| m.starts_with("3 ")));
    if !t.verified && (dane.is_none() || sts) {
        let err = t.verify_error.as_deref().unwrap_or("not verified");
        let code = match err {
            e if e.contains("hostname") => FindingCode::CertificateHostMismatch,
            e if e.contains("expired") => FindingCode::CertificateExpired,
            e if e.contains("issuer") || e.contains("self-signed") || e.contains("incomplete") => {
                FindingCode::CertificateNotTrusted
            }
            _ => FindingCode::ValidationFailure,
        };
        let consequence = match ctx.sts_mode {
            Some("enforce") => ": MTA-STS senders do not deliver to it",
            Some("testing") => ": MTA-STS senders report it",
            _ => "",
        };
        out.push(finding(
            weigh(Severity::Info),
            code,
            format!("{who}: the certificate does not validate for {host} ({err}){consequence}"),
            "RFC 8461 §4.2: a certificate from a public CA naming the MX host",
        ));
    }
    // The thresholds of `check`: fewer than N days left (a certificate with exactly
    // --warn-cert-days left is fine, as it is for `check`).
    let sev = match t.days_left {
        Some(d) if (0..ctx.crit_cert_days).contains(&d) => Some((d, Severity::Critical)),
        Some(d) if (0..ctx.warn_cert_days).contains(&d) => Some((d, Severity::Warning)),
        _ => None,
    };
    if let Some((d, sev)) = sev.filter(|_| !dane_ee || sts) {
        out.push(finding(
            sev,
            FindingCode::MxCertificateExpiring,
            format!("{who}: the certificate expires in {d} days"),
            "renew it (and automate renewal)",
        ));
    }
}

/// PTR, forward confirmation and the greeting's name.
fn reverse(who: &str, host: &str, p: &Port25, out: &mut Vec<Finding>) {
    if p.ptr.is_empty() {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::MxPtrMissing,
            format!("{who} has no reverse DNS (PTR)"),
        ));
    } else if !p.fcrdns {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::MxFcrdnsFailed,
            format!(
                "{who}: no PTR name ({}) resolves back to the address",
                p.ptr.join(", ")
            ),
        ));
    }
    if let Some(name) = p.banner.as_ref().and_then(|b| b.name.as_deref())
        && name != host
        && !p.ptr.iter().any(|n| n == name)
    {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::MxBannerNameMismatch,
            format!("{who} greets as {name}, neither the MX name nor its PTR"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Banner, MxAddress, RelayTest, TlsInfo};

    fn host(p: Port25) -> Vec<MxHost> {
        vec![MxHost {
            preference: 10,
            host: "mx.example.test".into(),
            addresses: vec![MxAddress {
                ip: "192.0.2.1".into(),
                probe: Some(p),
            }],
            ..MxHost::default()
        }]
    }

    fn good() -> Port25 {
        Port25 {
            banner: Some(Banner {
                code: 220,
                text: "mx.example.test ESMTP".into(),
                name: Some("mx.example.test".into()),
                delay_ms: 10,
            }),
            starttls_offered: true,
            starttls_ok: true,
            tls: Some(TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "X".into(),
                kx_group: None,
                verified: true,
                verify_error: None,
                names: vec!["mx.example.test".into()],
                not_after: None,
                days_left: Some(90),
                chain_days_left: None,
                chain: vec![],
            }),
            relay_test: Some(RelayTest::default()),
            ptr: vec!["mx.example.test".into()],
            fcrdns: true,
            ..Port25::default()
        }
    }

    fn codes(p: Port25, mode: Option<&str>) -> Vec<(Severity, String)> {
        let ctx = Context {
            sts_mode: mode,
            warn_cert_days: 30,
            crit_cert_days: 7,
            dane: None,
        };
        judge(&host(p), ctx)
            .into_iter()
            .map(|f| (f.severity, f.code.as_str().to_string()))
            .collect()
    }

    #[test]
    fn a_good_mx_has_no_finding() {
        assert!(codes(good(), Some("enforce")).is_empty());
    }

    /// The thresholds of `check`: fewer than 30 (7) days left warns (is critical); exactly 30
    /// (7) days does not (warns); the PTR, forward-confirmed DNS and banner name are checked.
    #[test]
    fn expiry_thresholds_match_check_and_ptr_findings() {
        for (days, want) in [
            (30, None),
            (29, Some(Severity::Warning)),
            (7, Some(Severity::Warning)),
            (6, Some(Severity::Critical)),
            (0, Some(Severity::Critical)),
            (-1, None),
        ] {
            let mut p = good();
            p.tls.as_mut().unwrap().days_left = Some(days);
            let got: Vec<_> = codes(p, None)
                .into_iter()
                .filter(|(_, c)| c == "mx-certificate-expiring")
                .map(|(s, _)| s)
                .collect();
            assert_eq!(got, want.into_iter().collect::<Vec<_>>(), "{days} days");
        }
        let mut p = good();
        p.ptr = vec![];
        p.fcrdns = false;
        assert!(
            codes(p, None).iter().any(|(_, c)| c == "mx-ptr-missing"),
            "no PTR"
        );
        let mut p = good();
        p.ptr = vec!["other.example.net".into()];
        p.fcrdns = false;
        p.banner.as_mut().unwrap().name = Some("smtp.elsewhere.test".into());
        let got = codes(p, None);
        for code in ["mx-fcrdns-failed", "mx-banner-name-mismatch"] {
            assert!(got.iter().any(|(_, c)| c == code), "{code}: {got:?}");
        }
    }

    /// A slow greeting is noted; each certificate failure gets its RFC 8460 result type.
    #[test]
    fn slow_banner_and_the_rfc_8460_result_types() {
        let mut p = good();
        p.banner.as_mut().unwrap().delay_ms = SLOW_BANNER_MS;
        assert_eq!(
            codes(p, None),
            [(Severity::Info, "mx-banner-slow".to_string())]
        );
        for (err, code) in [
            ("hostname-mismatch", "certificate-host-mismatch"),
            ("expired", "certificate-expired"),
            ("unknown-issuer", "certificate-not-trusted"),
            ("self-signed", "certificate-not-trusted"),
            ("incomplete-chain", "certificate-not-trusted"),
            ("bad-signature", "validation-failure"),
        ] {
            let mut p = good();
            let t = p.tls.as_mut().unwrap();
            t.verified = false;
            t.verify_error = Some(err.into());
            assert_eq!(
                codes(p, Some("enforce")),
                [(Severity::Critical, code.to_string())],
                "{err}"
            );
        }
    }

    #[test]
    fn certificate_problems_weigh_by_the_mta_sts_mode() {
        let mut p = good();
        let t = p.tls.as_mut().unwrap();
        t.verified = false;
        t.verify_error = Some("hostname-mismatch".into());
        for (mode, sev) in [
            (None, Severity::Info),
            (Some("testing"), Severity::Warning),
            (Some("enforce"), Severity::Critical),
        ] {
            assert_eq!(
                codes(p.clone(), mode),
                [(sev, "certificate-host-mismatch".to_string())]
            );
        }
    }

    #[test]
    fn valid_dane_ee_silences_name_trust_and_expiry_without_mta_sts() {
        use crate::model::{DaneAddress, DaneHost, DnssecStatus};
        let mut p = good();
        let t = p.tls.as_mut().unwrap();
        t.verified = false;
        t.verify_error = Some("hostname-mismatch".into());
        t.days_left = Some(3);
        let dane = |matched: &str| Dane {
            mx_dnssec: Some(DnssecStatus::Secure),
            mx_error: None,
            hosts: vec![DaneHost {
                host: "mx.example.test".into(),
                mx_dnssec: DnssecStatus::Secure,
                tlsa_dnssec: DnssecStatus::Secure,
                tlsa_name: "_25._tcp.mx.example.test".into(),
                tlsa: vec![],
                error: None,
                addresses: vec![DaneAddress {
                    ip: "192.0.2.1".into(),
                    outcome: DaneOutcome::Valid,
                    matched: Some(matched.into()),
                    ..DaneAddress::default()
                }],
            }],
        };
        let run = |d: &Dane, mode| {
            let ctx = Context {
                sts_mode: mode,
                warn_cert_days: 30,
                crit_cert_days: 7,
                dane: Some(d),
            };
            judge(&host(p.clone()), ctx)
                .into_iter()
                .map(|f| f.code.as_str())
                .collect::<Vec<_>>()
        };
        assert!(run(&dane("3 1 1 ab"), None).is_empty());
        assert_eq!(run(&dane("2 0 1 ab"), None), ["mx-certificate-expiring"]);
        assert_eq!(
            run(&dane("3 1 1 ab"), Some("enforce")),
            ["certificate-host-mismatch", "mx-certificate-expiring"]
        );
    }

    #[test]
    fn refusals_relays_and_expiry() {
        let mut p = good();
        p.banner.as_mut().unwrap().code = 421;
        let c = codes(p, None);
        assert_eq!(c[0].1, "mx-banner-refused");
        assert_eq!(c[1], (Severity::Critical, "mx-unreachable".to_string()));
        let mut p = good();
        p.relay_test.as_mut().unwrap().accepted = true;
        p.tls.as_mut().unwrap().days_left = Some(5);
        let c = codes(p, None);
        assert!(c.contains(&(Severity::Critical, "mx-open-relay".into())));
        assert!(c.contains(&(Severity::Critical, "mx-certificate-expiring".into())));
        let mut p = good();
        p.starttls_offered = false;
        p.tls = None;
        assert_eq!(
            codes(p, Some("enforce")),
            [(Severity::Critical, "mx-starttls-missing".to_string())]
        );
    }
}

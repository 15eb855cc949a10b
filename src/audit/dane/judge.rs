//! DANE findings (RFC 7672): first the MX answer's DNSSEC status (DANE applies only below a
//! secure MX answer, §2.2.1), then per MX host the TLSA answer (bogus, failed, unsigned, absent,
//! unusable) and per address the match of the presented chain. A host whose every address
//! matches is `dane-valid`.

use crate::audit::finding;
use crate::model::{Dane, DaneHost, DaneOutcome, DnssecStatus, Finding, FindingCode, Severity};

/// Every DANE finding of the audit of `domain`.
pub fn judge(domain: &str, dane: &Dane) -> Vec<Finding> {
    let mut out = Vec::new();
    let why = |e: &Option<String>| e.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
    match dane.mx_dnssec {
        None => {
            if let Some(e) = &dane.mx_error {
                out.push(finding(
                    Severity::Info,
                    FindingCode::DaneNotChecked,
                    format!("DANE not checked: {e}"),
                    "give the trust anchor of a private or test zone with --trust-anchor FILE, or use a resolver that passes DNSSEC records through",
                ));
            }
            return out;
        }
        Some(DnssecStatus::Secure) => {}
        Some(DnssecStatus::Insecure) => {
            out.push(finding(
                Severity::Info,
                FindingCode::DaneNotPossible,
                format!("the MX answer of {domain} is not DNSSEC-signed: senders cannot use DANE"),
                "RFC 7672 §2.2: DANE needs DNSSEC; sign the zone to let senders authenticate the MX by TLSA records",
            ));
            return out;
        }
        Some(DnssecStatus::Bogus) => {
            out.push(finding(
                Severity::Critical,
                FindingCode::DaneBogus,
                format!("the MX answer of {domain} fails DNSSEC validation{}: validating resolvers return SERVFAIL and mail is not delivered", why(&dane.mx_error)),
                "fix the zone's signatures (expired RRSIG, a DS that matches no DNSKEY, a broken re-signing)",
            ));
            return out;
        }
        Some(DnssecStatus::Indeterminate) => {
            out.push(finding(
                Severity::Warning,
                FindingCode::DaneLookupFailed,
                format!("the MX answer of {domain} could not be DNSSEC-validated{}: DANE not checked", why(&dane.mx_error)),
                "check that the resolver (--dns) passes DNSSEC records through, and the trust anchor (--trust-anchor)",
            ));
            return out;
        }
    }
    for h in &dane.hosts {
        host(h, &mut out);
    }
    out
}

/// Findings of one MX host below a secure MX answer.
fn host(h: &DaneHost, out: &mut Vec<Finding>) {
    let why = h
        .error
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    match h.tlsa_dnssec {
        DnssecStatus::Secure => {}
        DnssecStatus::Insecure => {
            out.push(finding(
                Severity::Info,
                FindingCode::DaneNotPossible,
                format!("{}: the zone of the MX host is not DNSSEC-signed: senders cannot use DANE for it", h.host),
                "RFC 7672 §2.2: TLSA records count only in a signed zone",
            ));
            return;
        }
        DnssecStatus::Bogus => {
            out.push(finding(
                Severity::Critical,
                FindingCode::DaneBogus,
                format!("{}: the TLSA answer fails DNSSEC validation{why}: DANE senders do not deliver to {}", h.tlsa_name, h.host),
                "fix the signatures of the TLSA records (RFC 7672 §2.2: a bogus TLSA answer makes the MX unusable)",
            ));
            return;
        }
        DnssecStatus::Indeterminate => {
            out.push(finding(
                Severity::Critical,
                FindingCode::DaneLookupFailed,
                format!("{}: the TLSA lookup failed{why}: DANE senders defer mail to {}", h.tlsa_name, h.host),
                "RFC 7672 §2.2: a TLSA lookup that fails (SERVFAIL, timeout) below a signed MX defers delivery; check the name servers of the MX host's zone",
            ));
            return;
        }
    }
    if h.tlsa.is_empty() {
        out.push(finding(
            Severity::Info,
            FindingCode::DaneNoTlsa,
            format!("{}: the zone is signed but publishes no TLSA record at {}", h.host, h.tlsa_name),
            "publish a DANE-EE record (3 1 1 and the SHA-256 of the server's public key) to let senders authenticate the MX (RFC 7672 §3.1.1)",
        ));
        return;
    }
    if !h.tlsa.iter().any(|r| r.usable) {
        let list: Vec<String> = h.tlsa.iter().map(short).collect();
        out.push(finding(
            Severity::Warning,
            FindingCode::DaneTlsaUnusable,
            format!("{}: no TLSA record is usable for SMTP ({}): senders treat the host as without DANE", h.tlsa_name, list.join(", ")),
            "RFC 7672 §3.1: publish usage 3 (DANE-EE) or 2 (DANE-TA), selector 0 or 1, matching type 1 or 2",
        ));
        return;
    }
    addresses(h, out);
}

/// Per address: mismatches, name mismatches, missing STARTTLS; `dane-valid` when all match.
fn addresses(h: &DaneHost, out: &mut Vec<Finding>) {
    let mut valid = 0;
    for a in &h.addresses {
        let who = format!("{} ({})", h.host, a.ip);
        let detail = a.detail.as_deref().unwrap_or("");
        match a.outcome {
            DaneOutcome::Valid => valid += 1,
            DaneOutcome::NotChecked => {}
            DaneOutcome::Mismatch => out.push(finding(
                Severity::Critical,
                FindingCode::DaneTlsaMismatch,
                format!("{who}: no usable TLSA record of {} matches its certificate ({detail}): DANE senders do not deliver to it", h.tlsa_name),
                "publish the TLSA record of the certificate the server presents before deploying a new key (RFC 7671 §8.1: both during a rollover)",
            )),
            DaneOutcome::NameMismatch => out.push(finding(
                Severity::Critical,
                FindingCode::DaneNameMismatch,
                format!("{who}: the DANE-TA record matches but {detail}: DANE senders do not deliver to it"),
                "RFC 7672 §3.2.2: with DANE-TA the certificate must name the MX host (or the TLSA base domain)",
            )),
            DaneOutcome::NoTls => out.push(finding(
                Severity::Critical,
                FindingCode::DaneStarttlsMissing,
                format!("{who}: TLSA records are published but the address offers no working STARTTLS ({detail}): DANE senders do not deliver to it"),
                "RFC 7672 §2.2: with TLSA records TLS is mandatory; enable STARTTLS or withdraw the records",
            )),
        }
    }
    if valid > 0 && valid == h.addresses.len() {
        let matched: Vec<&str> = h
            .addresses
            .iter()
            .filter_map(|a| a.matched.as_deref())
            .collect();
        let first = matched.first().map(|m| abbreviate(m)).unwrap_or_default();
        out.push(finding(
            Severity::Info,
            FindingCode::DaneValid,
            format!("{}: DANE valid on every address ({first})", h.host),
            "",
        ));
    }
}

/// `3 1 1 0123456789ab…`: the record with its data cut for a message.
fn short(r: &crate::model::TlsaRecord) -> String {
    abbreviate(&r.presentation())
}

fn abbreviate(p: &str) -> String {
    match p.char_indices().nth(18) {
        Some((i, _)) => format!("{}…", &p[..i]),
        None => p.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DaneAddress, TlsaRecord};

    fn host(tlsa_dnssec: DnssecStatus, tlsa: Vec<TlsaRecord>, outcomes: &[DaneOutcome]) -> Dane {
        Dane {
            mx_dnssec: Some(DnssecStatus::Secure),
            mx_error: None,
            hosts: vec![DaneHost {
                host: "mx.example.test".into(),
                mx_dnssec: DnssecStatus::Secure,
                tlsa_dnssec,
                tlsa_name: "_25._tcp.mx.example.test".into(),
                tlsa,
                error: None,
                addresses: outcomes
                    .iter()
                    .enumerate()
                    .map(|(i, o)| DaneAddress {
                        ip: format!("192.0.2.{i}"),
                        outcome: *o,
                        matched: (*o == DaneOutcome::Valid).then(|| "3 1 1 ab".into()),
                        ..DaneAddress::default()
                    })
                    .collect(),
            }],
        }
    }

    fn codes(d: &Dane) -> Vec<(Severity, &'static str)> {
        judge("example.test", d)
            .into_iter()
            .map(|f| (f.severity, f.code.as_str()))
            .collect()
    }

    #[test]
    fn statuses_records_and_outcomes_to_findings() {
        use DaneOutcome::*;
        use DnssecStatus::*;
        use Severity::*;
        let good = || vec![crate::audit::dane::record(3, 1, 1, &[7; 32])];
        let pkix = vec![crate::audit::dane::record(1, 1, 1, &[7; 32])];
        let cases: Vec<(Dane, Vec<(Severity, &str)>)> = vec![
            (
                host(Secure, good(), &[Valid, Valid]),
                vec![(Info, "dane-valid")],
            ),
            (
                host(Secure, good(), &[Valid, Mismatch]),
                vec![(Critical, "dane-tlsa-mismatch")],
            ),
            (
                host(Secure, good(), &[NameMismatch]),
                vec![(Critical, "dane-name-mismatch")],
            ),
            (
                host(Secure, good(), &[NoTls]),
                vec![(Critical, "dane-starttls-missing")],
            ),
            (host(Secure, good(), &[NotChecked]), vec![]),
            (
                host(Secure, pkix, &[]),
                vec![(Warning, "dane-tlsa-unusable")],
            ),
            (host(Secure, vec![], &[]), vec![(Info, "dane-no-tlsa")]),
            (
                host(Insecure, vec![], &[]),
                vec![(Info, "dane-not-possible")],
            ),
            (host(Bogus, good(), &[]), vec![(Critical, "dane-bogus")]),
            (
                host(Indeterminate, vec![], &[]),
                vec![(Critical, "dane-lookup-failed")],
            ),
        ];
        for (d, want) in cases {
            assert_eq!(codes(&d), want, "{:?}", d.hosts[0]);
        }
        for (mx, want) in [
            (Insecure, (Info, "dane-not-possible")),
            (Bogus, (Critical, "dane-bogus")),
            (Indeterminate, (Warning, "dane-lookup-failed")),
        ] {
            let mut d = host(Secure, good(), &[Mismatch]);
            d.mx_dnssec = Some(mx);
            assert_eq!(codes(&d), [want], "MX {mx:?}");
        }
        let mut d = host(Secure, good(), &[Mismatch]);
        d.mx_dnssec = None;
        assert!(codes(&d).is_empty());
        d.mx_error = Some("no chain of trust".into());
        assert_eq!(codes(&d), [(Info, "dane-not-checked")]);
    }
}

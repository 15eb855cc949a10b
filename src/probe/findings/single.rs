//! Findings about one probe: passwords offered before TLS, STARTTLS, certificates, legacy TLS,
//! slow greetings.

use super::{ProbeOptions, failed_phase, label};
use crate::model::{Finding, FindingCode, Phase, Probe, Protocol, Security, Severity, StepStatus};
use crate::proto::open::Facts;
use crate::proto::{Capability, CapabilitySet, Offered};
/// Mechanisms a client could use to send a password before TLS, as the plain capabilities show.
fn auth_offered_in_clear(p: &Probe) -> Vec<String> {
    let caps = &p.capabilities_plain;
    let offered = Offered::from_lines(p.protocol, caps);
    let mut v = offered.sasl().to_vec();
    match p.protocol {
        Protocol::Imap if !caps.is_empty() && !offered.has(Capability::LoginDisabled) => {
            v.push("LOGIN command".into())
        }
        Protocol::Pop3 if offered.has(Capability::User) => v.push("USER/PASS".into()),
        _ => {}
    }
    v
}

fn starttls_advertised(p: &Probe) -> bool {
    let word = if p.protocol == Protocol::Pop3 {
        "STLS"
    } else {
        "STARTTLS"
    };
    p.capabilities_plain.iter().any(|c| {
        c.split_ascii_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    })
}

fn cert_code(err: &str) -> (FindingCode, &'static str) {
    match err {
        "expired" => (
            FindingCode::CertificateExpired,
            "the certificate has expired",
        ),
        "not-yet-valid" => (
            FindingCode::CertificateNotYetValid,
            "the certificate is not valid yet (check the server clock)",
        ),
        "hostname-mismatch" => (
            FindingCode::CertificateHostnameMismatch,
            "the certificate is for another name",
        ),
        "unknown-issuer" => (
            FindingCode::CertificateUnknownIssuer,
            "the certificate is signed by an unknown authority",
        ),
        "self-signed" => (
            FindingCode::CertificateSelfSigned,
            "the certificate is self-signed",
        ),
        "incomplete-chain" => (
            FindingCode::CertificateIncompleteChain,
            "the server does not send the intermediate certificates",
        ),
        "revoked" => (
            FindingCode::CertificateRevoked,
            "the certificate has been revoked",
        ),
        _ => (
            FindingCode::CertificateInvalid,
            "the certificate does not verify",
        ),
    }
}

fn cert_hint(code: FindingCode) -> &'static str {
    match code {
        FindingCode::CertificateExpired => "renew the certificate (and check the renewal job)",
        FindingCode::CertificateHostnameMismatch => {
            "use a server name the certificate covers, or add this name to it"
        }
        FindingCode::CertificateIncompleteChain => {
            "configure the full chain (leaf + intermediates) on the server"
        }
        FindingCode::CertificateSelfSigned | FindingCode::CertificateUnknownIssuer => {
            "mail clients will warn; use a certificate from a public CA (e.g. Let's Encrypt)"
        }
        _ => "mail clients will refuse or warn about this server",
    }
}

/// Per-probe findings, before grouping and downgrading.
pub(super) fn probe_findings(p: &Probe, facts: &Facts, opts: &ProbeOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    let l = label(p);
    let starttls_probe = p.security == Security::Starttls;
    match failed_phase(p) {
        Some(Phase::Starttls | Phase::Tls) if starttls_probe && starttls_advertised(p) => out.push(
            Finding::new(
                Severity::Warning,
                FindingCode::StarttlsFailed,
                format!("{l}: STARTTLS is advertised but fails"),
            )
            .hint("TLS on this port is broken; clients configured for STARTTLS cannot connect"),
        ),
        Some(Phase::Starttls) if starttls_probe => out.push(
            Finding::new(
                Severity::Warning,
                FindingCode::StarttlsMissing,
                format!("{l}: the server does not offer STARTTLS"),
            )
            .hint("without STARTTLS passwords and mail travel in clear on this port"),
        ),
        _ => {}
    }
    if p.port == 25
        && p.steps
            .iter()
            .any(|s| s.name == "starttls" && s.status == StepStatus::Skipped)
    {
        out.push(
            Finding::new(
                Severity::Warning,
                FindingCode::StarttlsMissing,
                format!("{l}: the server does not offer STARTTLS"),
            )
            .hint("mail from other servers reaches this host in clear"),
        );
    }
    out.extend(clear_text_findings(p, &l));
    out.extend(certificate_findings(p, facts, opts, &l));
    if let Some(g) = p.steps.iter().find(|s| s.name == "greeting")
        && g.elapsed_ms > opts.slow_greeting.as_millis() as u64
    {
        out.push(
            Finding::new(
                Severity::Warning,
                FindingCode::SlowGreeting,
                format!(
                    "{l}: the greeting took {:.1} s",
                    g.elapsed_ms as f64 / 1000.0
                ),
            )
            .hint("a tarpit (deliberate delay) or an overloaded server; clients may time out"),
        );
    }
    if let Some(v) = &facts.legacy_tls {
        out.push(
            Finding::new(Severity::Warning, FindingCode::TlsLegacyOnly, format!("{l} only speaks {v}"))
                .hint("TLS 1.0 and 1.1 are deprecated (RFC 8996); current clients refuse them; enable TLS 1.2 or 1.3"),
        );
    }
    out
}

/// What a server offers before TLS: SASL mechanisms, and IMAP LOGIN without LOGINDISABLED.
fn clear_text_findings(p: &Probe, l: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if p.security == Security::Tls || p.capabilities_plain.is_empty() {
        return out;
    }
    let offered = auth_offered_in_clear(p);
    let sasl: Vec<&String> = offered
        .iter()
        .filter(|m| m.as_str() != "LOGIN command")
        .collect();
    if !sasl.is_empty() {
        let list = sasl
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        out.push(
            Finding::new(Severity::Warning, FindingCode::AuthBeforeTls, format!("{l} offers {list} before TLS: credentials could travel in clear"))
                .hint("offer authentication only after STARTTLS (Dovecot: disable_plaintext_auth; Postfix: smtpd_tls_auth_only)"),
        );
    }
    if p.protocol == Protocol::Imap
        && !Offered::from_lines(Protocol::Imap, &p.capabilities_plain)
            .has(Capability::LoginDisabled)
    {
        out.push(
            Finding::new(Severity::Warning, FindingCode::ImapNoLogindisabled, format!("{l} does not announce LOGINDISABLED before TLS: the IMAP LOGIN command is accepted in clear"))
                .hint("RFC 9051 §6.2.3: servers should refuse LOGIN before TLS"),
        );
    }
    out
}

/// The certificate's problems, one finding each in the verifier's words, or its coming expiry.
fn certificate_findings(p: &Probe, facts: &Facts, opts: &ProbeOptions, l: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(tls) = &p.tls else {
        return out;
    };
    // One finding per problem, in tlsconn's words (e.g. "valid for X, not for Y").
    let mut problems: Vec<(String, String)> = facts
        .cert_problems
        .iter()
        .map(|c| (c.code.clone(), c.detail.clone()))
        .collect();
    if problems.is_empty()
        && let Some(err) = &tls.verify_error
    {
        let mut text = cert_code(err).1.to_string();
        if err == "hostname-mismatch" && !tls.names.is_empty() {
            text.push_str(&format!(
                " (valid for {}, not {})",
                tls.names.join(", "),
                p.host
            ));
        }
        problems.push((err.clone(), text));
    }
    for (err, text) in &problems {
        let code = cert_code(err).0;
        out.push(
            Finding::new(Severity::Warning, code, format!("{l}: {text}")).hint(cert_hint(code)),
        );
    }
    if problems.is_empty()
        && let Some(days) = tls.days_left
        && (0..opts.warn_cert_days).contains(&days)
    {
        out.push(
            Finding::new(
                Severity::Warning,
                FindingCode::CertificateExpiresSoon,
                format!("{l}: the certificate expires in {days} days"),
            )
            .hint("renew it before clients start refusing the server"),
        );
    }
    out
}

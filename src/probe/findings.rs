//! Findings from the probes: what a helpdesk should know, each with a stable code. Per-probe
//! findings about a candidate that only a guess produced, and that the verdict did not choose,
//! are downgraded to `info`: a wrong guess is not the provider's fault.
//!
//! Codes: `starttls-failed`, `starttls-missing`, `auth-before-tls`, `imap-no-logindisabled`,
//! `certificate-expired`, `certificate-not-yet-valid`, `certificate-hostname-mismatch`,
//! `certificate-unknown-issuer`, `certificate-self-signed`, `certificate-incomplete-chain`,
//! `certificate-revoked`, `certificate-invalid`, `certificate-expires-soon`,
//! `certificate-differs`, `port25-blocked`, `source-wrong`, `slow-greeting`, `ipv6-broken`,
//! `tls-legacy-only`, `no-incoming`, `no-outgoing` (critical), `no-valid-certificate`
//! (critical: the chosen server's certificate does not verify), `plaintext-chosen`.

use std::collections::BTreeMap;

use super::ProbeOptions;
use super::verdict;
use crate::model::{
    Candidate, Finding, FindingCode, Outcome, Phase, Probe, Protocol, Security, Settings, Severity,
    Source, StepStatus,
};
use crate::proto::open::Facts;
use crate::proto::{Capability, CapabilitySet, Offered};

fn label(p: &Probe) -> String {
    let scheme = match (p.protocol, p.security) {
        (Protocol::Imap, Security::Tls) => "imaps",
        (Protocol::Imap, _) => "imap",
        (Protocol::Pop3, Security::Tls) => "pop3s",
        (Protocol::Pop3, _) => "pop3",
        (Protocol::Smtp, Security::Tls) => "smtps",
        (Protocol::Smtp, _) if p.port == 25 => "smtp",
        (Protocol::Smtp, _) => "submission",
    };
    format!("{scheme}://{}:{}", p.host, p.port)
}

fn is_cancelled(p: &Probe) -> bool {
    matches!(
        &p.outcome,
        Outcome::Failed {
            phase: Phase::Cancelled | Phase::Deadline,
            ..
        }
    )
}

fn failed_phase(p: &Probe) -> Option<Phase> {
    match &p.outcome {
        Outcome::Failed { phase, .. } => Some(*phase),
        Outcome::Working { .. } => None,
    }
}

fn works(p: &Probe) -> bool {
    matches!(p.outcome, Outcome::Working { .. })
}

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
fn probe_findings(p: &Probe, facts: &Facts, opts: &ProbeOptions) -> Vec<Finding> {
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

/// All findings of a run. `probes`, `facts` and `candidates` have the same order and length.
pub fn findings(
    probes: &[Probe],
    facts: &[Facts],
    candidates: &[Candidate],
    settings: &Settings,
    opts: &ProbeOptions,
) -> Vec<Finding> {
    let (inc, outg) = verdict::chosen(probes, candidates);
    let mut out: Vec<Finding> = Vec::new();
    // Per probe, grouped by (code, message) so one bad certificate on three ports is one finding.
    let mut grouped: BTreeMap<(&str, String), Finding> = BTreeMap::new();
    for (i, p) in probes.iter().enumerate() {
        if is_cancelled(p) {
            continue;
        }
        let guess_only = p.sources.iter().all(|s| *s == Source::Guess);
        let chosen = Some(i) == inc || Some(i) == outg;
        let empty = Facts::default();
        for mut f in probe_findings(p, facts.get(i).unwrap_or(&empty), opts) {
            if guess_only && !chosen {
                f.severity = Severity::Info;
            }
            grouped
                .entry((f.code.as_str(), f.message.clone()))
                .or_insert(f);
        }
    }
    out.extend(grouped.into_values());
    out.extend(cross_findings(probes));
    out.extend(source_findings(probes));
    for (idx, what) in [(inc, "incoming"), (outg, "outgoing")] {
        let Some(i) = idx else { continue };
        let p = &probes[i];
        // Ranked below every trusted server, so chosen only when none of them works.
        if candidates
            .get(i)
            .is_some_and(|c| Source::only_forgeable(&c.sources))
        {
            out.push(
                Finding::new(
                    Severity::Critical,
                    FindingCode::UntrustedSourceOnly,
                    format!(
                        "the only working {what} server, {}, is named only by plain-http autoconfig: anyone on the network path could have named it",
                        label(p)
                    ),
                )
                .hint("Do not send a password there before the provider confirms it; publish autoconfig over https or SRV records."),
            );
        }
        if p.security == Security::Plain {
            out.push(
                Finding::new(
                    Severity::Warning,
                    FindingCode::PlaintextChosen,
                    format!("the only working {what} server, {}, has no TLS", label(p)),
                )
                .hint("passwords and mail would travel in clear"),
            );
        } else if matches!(p.outcome, Outcome::Working { tls_valid: false }) {
            // Named in the settings (it is what works once the certificate is fixed), but a mail
            // client refuses it today: critical.
            let why = p.tls.as_ref().and_then(|t| t.verify_error.clone());
            out.push(
                Finding::new(
                    Severity::Critical,
                    FindingCode::NoValidCertificate,
                    format!(
                        "no {what} server has a valid certificate: mail clients will refuse {} ({})",
                        label(p),
                        why.as_deref().unwrap_or("not valid")
                    ),
                )
                .hint("These settings work once the certificate is fixed."),
            );
        }
    }
    if settings.incoming.is_none() {
        out.push(Finding::new(
            Severity::Critical,
            FindingCode::NoIncoming,
            "no working incoming (IMAP or POP3) server found",
        ));
    }
    if settings.outgoing.is_none() {
        out.push(Finding::new(
            Severity::Critical,
            FindingCode::NoOutgoing,
            "no working outgoing (submission) server found",
        ));
    }
    out
}

/// Findings that compare probes: certificates across ports, port 25, IPv6.
fn cross_findings(probes: &[Probe]) -> Vec<Finding> {
    let mut out = Vec::new();
    let live: Vec<&Probe> = probes.iter().filter(|p| !is_cancelled(p)).collect();
    // Same host, implicit TLS vs STARTTLS, different leaf certificate.
    let mut seen = std::collections::BTreeSet::new();
    for a in &live {
        for b in &live {
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
    // Port 25 unreachable while submission works: an ISP blocking outbound port 25.
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
    if !p25_dead.is_empty() && sub_ok {
        let what: Vec<String> = p25_dead
            .iter()
            .map(|p| match &p.outcome {
                Outcome::Failed { error, .. } => format!("{}: {error}", p.host),
                Outcome::Working { .. } => p.host.clone(),
            })
            .collect();
        out.push(
            Finding::new(
                Severity::Info,
                FindingCode::Port25Blocked,
                format!("port 25 is unreachable from here while 587/465 work ({})", what.join("; ")),
            )
            .hint("Usual on home Internet lines and cloud networks (AWS, Google Cloud, Azure, …), which drop outgoing port 25 against spam; mail programs send on 465 or 587, so they are not affected."),
        );
    }
    // IPv6 addresses fail while IPv4 works: once per host.
    let mut hosts_done = std::collections::BTreeSet::new();
    for p in &live {
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
fn source_findings(probes: &[Probe]) -> Vec<Finding> {
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

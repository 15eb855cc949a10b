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
    Source,
};
use crate::proto::open::Facts;

mod across;
mod single;

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

/// All findings of a run. `probes`, `facts` and `candidates` have the same order and length.
pub fn findings(
    probes: &[Probe],
    facts: &[Facts],
    candidates: &[Candidate],
    settings: &Settings,
    opts: &ProbeOptions,
) -> Vec<Finding> {
    let chosen = verdict::chosen(probes, candidates);
    let mut out = per_probe(probes, facts, chosen, opts);
    out.extend(across::cross_findings(probes));
    out.extend(across::source_findings(probes));
    for (idx, what) in [(chosen.0, "incoming"), (chosen.1, "outgoing")] {
        if let Some(i) = idx {
            out.extend(chosen_findings(&probes[i], candidates.get(i), what));
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

/// Every probe's own findings, grouped by (code, message) so one bad certificate on three ports
/// is one finding; those of a guess the verdict did not choose downgraded to `info`.
fn per_probe(
    probes: &[Probe],
    facts: &[Facts],
    (inc, outg): (Option<usize>, Option<usize>),
    opts: &ProbeOptions,
) -> Vec<Finding> {
    let mut grouped: BTreeMap<(&str, String), Finding> = BTreeMap::new();
    for (i, p) in probes.iter().enumerate() {
        if is_cancelled(p) {
            continue;
        }
        let guess_only = p.sources.iter().all(|s| *s == Source::Guess);
        let chosen = Some(i) == inc || Some(i) == outg;
        let empty = Facts::default();
        for mut f in single::probe_findings(p, facts.get(i).unwrap_or(&empty), opts) {
            if guess_only && !chosen {
                f.severity = Severity::Info;
            }
            grouped
                .entry((f.code.as_str(), f.message.clone()))
                .or_insert(f);
        }
    }
    grouped.into_values().collect()
}

/// What the chosen `what` (incoming, outgoing) server is if it is the only one that works: named
/// only by a forgeable source, without TLS, or without a valid certificate.
fn chosen_findings(p: &Probe, candidate: Option<&Candidate>, what: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    // Ranked below every trusted server, so chosen only when none of them works.
    if candidate.is_some_and(|c| Source::only_forgeable(&c.sources)) {
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
    out
}

//! The verdict: from all probes, the best working incoming server and the best working
//! submission server, and the run's OK / WARNING / CRITICAL status. Preference, in order: a
//! trusted source over an untrusted one (a candidate known only from plain-http autoconfig or a
//! guess is never recommended while a trusted one works: anyone on the path could have named
//! it); a valid certificate, unless none has one; IMAP over POP3; implicit TLS over STARTTLS;
//! 465 over 587 (port 25 is server-to-server and never recommended for a client, RFC 8314 §3
//! and RFC 6409 §1); then the discovery ranking (each source's own order, see
//! [`crate::discover::candidate`]).

use super::ProbeRun;
use crate::model::{
    AuthMethod, Candidate, Outcome, Probe, Protocol, Security, Setting, Settings, Severity, Status,
};

/// Preference of a candidate before knowing the certificate: lower is better. Used by the
/// verdict and by the scheduler to know which pending probes can no longer win.
pub fn preference(c: &Candidate, index: usize) -> (bool, u8, u8, u8, usize) {
    let untrusted = !c.sources.iter().any(|s| s.is_trusted());
    let proto = match c.protocol {
        Protocol::Imap | Protocol::Smtp => 0,
        Protocol::Pop3 => 1,
    };
    let sec = match c.security {
        Security::Tls => 0,
        Security::Starttls => 1,
        Security::Plain => 2,
    };
    // RFC 8314 §3.3: 465 for submission over implicit TLS, then 587; others after.
    let port = match (c.protocol, c.port) {
        (Protocol::Smtp, 465 | 587) | (Protocol::Imap, 993 | 143) | (Protocol::Pop3, 995 | 110) => {
            0
        }
        _ => 1,
    };
    (untrusted, proto, sec, port, index)
}

/// Is this SMTP candidate for clients (submission), not port 25?
pub(crate) fn is_submission(c: &Candidate) -> bool {
    c.protocol == Protocol::Smtp && c.port != 25
}

fn tls_valid(p: &Probe) -> Option<bool> {
    match p.outcome {
        Outcome::Working { tls_valid } => Some(tls_valid),
        Outcome::Failed { .. } => None,
    }
}

/// Authentication methods for the setting: what the sources said, else what the server offers.
fn auth_methods(c: &Candidate, p: &Probe) -> Vec<AuthMethod> {
    if !c.auth.is_empty() {
        return c.auth.clone();
    }
    let mut out = Vec::new();
    for m in &p.sasl {
        let a = match m.as_str() {
            "PLAIN" | "LOGIN" => AuthMethod::PasswordCleartext,
            "CRAM-MD5" | "DIGEST-MD5" => AuthMethod::PasswordEncrypted,
            s if s.starts_with("SCRAM-") => AuthMethod::PasswordEncrypted,
            "XOAUTH2" | "OAUTHBEARER" => AuthMethod::OAuth2,
            "NTLM" => AuthMethod::Ntlm,
            "GSSAPI" => AuthMethod::Gssapi,
            "EXTERNAL" => AuthMethod::TlsClientCert,
            _ => continue,
        };
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

fn setting(c: &Candidate, p: &Probe) -> Setting {
    Setting {
        protocol: c.protocol,
        host: c.host.clone(),
        port: c.port,
        security: c.security,
        username: c.username.clone(),
        auth: auth_methods(c, p),
    }
}

/// Index of the best working probe among those `eligible`.
fn best(
    probes: &[Probe],
    candidates: &[Candidate],
    eligible: impl Fn(&Candidate) -> bool,
) -> Option<usize> {
    probes
        .iter()
        .zip(candidates)
        .enumerate()
        .filter(|(_, (_, c))| eligible(c))
        .filter_map(|(i, (p, c))| tls_valid(p).map(|valid| (i, valid, c)))
        .min_by_key(|(i, valid, c)| {
            let pref = preference(c, *i);
            (pref.0, !*valid, pref)
        })
        .map(|(i, _, _)| i)
}

/// Indices (into `probes`) of the chosen incoming and outgoing servers.
pub fn chosen(probes: &[Probe], candidates: &[Candidate]) -> (Option<usize>, Option<usize>) {
    (
        best(probes, candidates, |c| c.protocol.is_incoming()),
        best(probes, candidates, is_submission),
    )
}

/// The verdict over probes made from `candidates` (same order, same length).
pub fn choose(probes: &[Probe], candidates: &[Candidate]) -> Settings {
    let (i, o) = chosen(probes, candidates);
    Settings {
        incoming: i.map(|i| setting(&candidates[i], &probes[i])),
        outgoing: o.map(|o| setting(&candidates[o], &probes[o])),
    }
}

/// OK when incoming and outgoing both work with valid TLS and no finding is a warning; WARNING
/// when they work with warnings; CRITICAL when no incoming or no outgoing server works, or a
/// finding is critical (e.g. `no-valid-certificate`: the chosen server's certificate does not
/// verify, so a mail client refuses it).
pub fn status_of(run: &ProbeRun) -> Status {
    if run.settings.incoming.is_none() || run.settings.outgoing.is_none() {
        return Status::Critical;
    }
    match run.findings.iter().map(|f| f.severity).max() {
        Some(Severity::Critical) => Status::Critical,
        Some(Severity::Warning) => Status::Warning,
        _ => Status::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FindingCode, Phase, Source};
    use crate::proto::open::blank_probe;

    fn cand(protocol: Protocol, port: u16, security: Security) -> Candidate {
        Candidate {
            protocol,
            host: "mail.example.test".into(),
            port,
            security,
            username: Some("alice@example.test".into()),
            auth: vec![],
            sources: vec![Source::Guess],
        }
    }

    fn probe(c: &Candidate, outcome: Outcome) -> Probe {
        let mut p = blank_probe(c);
        p.outcome = outcome;
        p.sasl = vec!["PLAIN".into(), "SCRAM-SHA-256".into()];
        p
    }

    const OK: Outcome = Outcome::Working { tls_valid: true };
    const BADCERT: Outcome = Outcome::Working { tls_valid: false };

    fn failed() -> Outcome {
        Outcome::Failed {
            phase: Phase::Connect,
            error: "refused".into(),
            hint: None,
        }
    }

    #[test]
    fn prefers_imap_tls_and_465() {
        let cs = vec![
            cand(Protocol::Pop3, 995, Security::Tls),
            cand(Protocol::Imap, 143, Security::Starttls),
            cand(Protocol::Imap, 993, Security::Tls),
            cand(Protocol::Smtp, 25, Security::Starttls),
            cand(Protocol::Smtp, 587, Security::Starttls),
            cand(Protocol::Smtp, 465, Security::Tls),
        ];
        let ps: Vec<Probe> = cs.iter().map(|c| probe(c, OK)).collect();
        let s = choose(&ps, &cs);
        let inc = s.incoming.unwrap();
        assert_eq!(
            (inc.protocol, inc.port, inc.security),
            (Protocol::Imap, 993, Security::Tls)
        );
        assert_eq!(
            inc.auth,
            vec![AuthMethod::PasswordCleartext, AuthMethod::PasswordEncrypted]
        );
        assert_eq!(inc.username.as_deref(), Some("alice@example.test"));
        assert_eq!(s.outgoing.unwrap().port, 465);
    }

    #[test]
    fn valid_certificate_beats_preference_and_port_25_never_chosen() {
        let cs = vec![
            cand(Protocol::Imap, 993, Security::Tls),
            cand(Protocol::Pop3, 995, Security::Tls),
            cand(Protocol::Smtp, 25, Security::Starttls),
            cand(Protocol::Smtp, 465, Security::Tls),
        ];
        let ps = vec![
            probe(&cs[0], BADCERT),
            probe(&cs[1], OK),
            probe(&cs[2], OK),
            probe(&cs[3], failed()),
        ];
        let s = choose(&ps, &cs);
        assert_eq!(s.incoming.unwrap().protocol, Protocol::Pop3);
        assert!(s.outgoing.is_none());
        // Nothing valid: the invalid one is taken (and flagged by the findings).
        let ps = vec![
            probe(&cs[0], BADCERT),
            probe(&cs[1], failed()),
            probe(&cs[2], failed()),
            probe(&cs[3], BADCERT),
        ];
        let s = choose(&ps, &cs);
        assert_eq!(s.incoming.unwrap().port, 993);
        assert_eq!(s.outgoing.unwrap().port, 465);
    }

    #[test]
    fn trusted_source_beats_untrusted_one_that_works_better() {
        let mut evil = cand(Protocol::Imap, 993, Security::Tls);
        evil.host = "imap.evil.test".into();
        evil.sources = vec![Source::AutoconfigHttp];
        let mut srv = cand(Protocol::Imap, 143, Security::Starttls);
        srv.sources = vec![Source::Srv];
        let mut pop = cand(Protocol::Pop3, 995, Security::Tls);
        pop.sources = vec![Source::Srv];
        // Untrusted IMAP over TLS, trusted IMAP STARTTLS with an invalid certificate: trusted.
        let cs = vec![evil.clone(), srv.clone()];
        let ps = vec![probe(&cs[0], OK), probe(&cs[1], BADCERT)];
        assert_eq!(choose(&ps, &cs).incoming.unwrap().port, 143);
        // Trusted POP3 over untrusted IMAP.
        let cs = vec![evil.clone(), pop];
        let ps = vec![probe(&cs[0], OK), probe(&cs[1], OK)];
        assert_eq!(choose(&ps, &cs).incoming.unwrap().protocol, Protocol::Pop3);
        // The untrusted one is chosen only when no trusted one works.
        let cs = vec![evil, srv];
        let ps = vec![probe(&cs[0], OK), probe(&cs[1], failed())];
        let inc = choose(&ps, &cs).incoming.unwrap();
        assert_eq!(inc.host, "imap.evil.test");
    }

    #[test]
    fn status() {
        let mut run = ProbeRun {
            probes: vec![],
            settings: Settings::default(),
            findings: vec![],
        };
        assert_eq!(status_of(&run), Status::Critical);
        let c = cand(Protocol::Imap, 993, Security::Tls);
        let p = probe(&c, OK);
        run.settings.incoming = Some(setting(&c, &p));
        run.settings.outgoing = Some(setting(&c, &p));
        assert_eq!(status_of(&run), Status::Ok);
        run.findings.push(crate::model::Finding::new(
            Severity::Info,
            FindingCode::SlowGreeting,
            "y",
        ));
        assert_eq!(status_of(&run), Status::Ok);
        run.findings.push(crate::model::Finding::new(
            Severity::Warning,
            FindingCode::SlowGreeting,
            "y",
        ));
        assert_eq!(status_of(&run), Status::Warning);
    }
}

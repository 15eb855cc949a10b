//! What the login attempts recorded in the probes mean for the report: decoded refusals,
//! credentials sent without TLS, a working server that refused the login, and the settings
//! verdict restricted to servers where the login succeeded.

use std::collections::HashSet;

use super::{
    ALLOW_INVALID_CERT_FLAG, ALLOW_UNTRUSTED_FLAG, NO_MECHANISM, NOT_SENT_INVALID_CERT,
    NOT_SENT_NO_TLS, NOT_SENT_UNTRUSTED, refusal,
};
use crate::model::{AuthAttempt, AuthMethod, Finding, FindingCode, Protocol, Severity};
use crate::model::{Outcome, Probe, Setting, Settings};

fn server(p: &Probe) -> String {
    format!(
        "{} {}:{}",
        p.protocol.as_str().to_uppercase(),
        p.host,
        p.port
    )
}

/// MX port: no AUTH there is normal and never a finding.
fn is_mx(p: &Probe) -> bool {
    p.protocol == Protocol::Smtp && p.port == 25
}

/// Findings from the `auth` attempts of every probe.
pub fn login_findings(probes: &[Probe]) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in probes.iter().filter(|p| !is_mx(p) && !p.auth.is_empty()) {
        let srv = server(p);
        if let Some(f) = not_sent(p, &srv) {
            out.push(f);
            continue;
        }
        let real: Vec<&AuthAttempt> = p
            .auth
            .iter()
            .filter(|a| a.mechanism != NO_MECHANISM)
            .collect();
        exposure(p, &srv, &real, &mut out);
        for a in p.auth.iter().filter(|a| a.mechanism == NO_MECHANISM) {
            out.push(Finding::new(
                Severity::Warning,
                FindingCode::AuthNoMechanism,
                format!("{srv}: {}", a.response.as_deref().unwrap_or("")),
            ));
        }
        match real.iter().find(|a| a.success) {
            Some(good) => after_success(&srv, &real, good, &mut out),
            None if !real.is_empty() || p.auth.iter().any(|a| a.mechanism == NO_MECHANISM) => {
                after_failure(p, &srv, &real, &mut out)
            }
            None => {}
        }
    }
    out
}

/// The credentials were withheld (no TLS, a server only an untrusted source named, or a
/// certificate that did not verify): the one finding for this server, which then has nothing
/// else to say about logins.
fn not_sent(p: &Probe, srv: &str) -> Option<Finding> {
    if p.auth
        .iter()
        .any(|a| a.response.as_deref() == Some(NOT_SENT_NO_TLS))
    {
        return Some(
            Finding::new(
                Severity::Warning,
                FindingCode::AuthSkippedNoTls,
                format!("{srv}: credentials not sent: the connection is not encrypted"),
            )
            .hint("Use SSL/TLS or STARTTLS. --allow-plaintext-auth sends them anyway (unsafe)."),
        );
    }
    if let Some(note) = p.auth.iter().find_map(|a| {
        a.response
            .as_deref()
            .filter(|r| a.is_note() && r.starts_with(NOT_SENT_UNTRUSTED))
    }) {
        return Some(
            Finding::new(
                Severity::Warning,
                FindingCode::AuthSkippedUntrusted,
                format!("{srv}: credentials {note}"),
            )
            .hint(format!(
                "Publish autoconfig over https or SRV records; {ALLOW_UNTRUSTED_FLAG} sends them anyway (unsafe), and `mailprobe probe URL` names a server yourself."
            )),
        );
    }
    let note = p.auth.iter().find_map(|a| {
        a.response
            .as_deref()
            .filter(|r| a.is_note() && r.starts_with(NOT_SENT_INVALID_CERT))
    })?;
    Some(
        Finding::new(
            Severity::Warning,
            FindingCode::AuthSkippedInvalidCert,
            format!("{srv}: credentials {note}"),
        )
        .hint(format!(
            "A mail client would refuse this server too: fix the certificate. \
             {ALLOW_INVALID_CERT_FLAG} sends them anyway (unsafe)."
        )),
    )
}

/// Credentials that went out without TLS, or over TLS whose certificate did not verify (only
/// with the `--allow-…` flags).
fn exposure(p: &Probe, srv: &str, real: &[&AuthAttempt], out: &mut Vec<Finding>) {
    if p.tls.is_none() && !real.is_empty() {
        out.push(
            Finding::new(Severity::Critical, FindingCode::AuthPlaintext, format!("{srv}: credentials were sent without TLS (--allow-plaintext-auth)"))
                .hint("Anyone on the network path could read them: change the password if this was a real account."),
        );
    }
    if p.tls.as_ref().is_some_and(|t| !t.verified) && !real.is_empty() {
        out.push(
            Finding::new(
                Severity::Critical,
                FindingCode::AuthInvalidCert,
                format!("{srv}: the password was exposed to an unverified server: credentials were sent over TLS whose certificate did not verify ({ALLOW_INVALID_CERT_FLAG})"),
            )
            .hint("Whoever answered could be anyone on the network path: change the password if this was a real account."),
        );
    }
}

/// A login worked: which user name form did, and which offered mechanisms failed for it.
fn after_success(srv: &str, real: &[&AuthAttempt], good: &AuthAttempt, out: &mut Vec<Finding>) {
    // The other user name form worked (RFC 6186 §4).
    if real
        .iter()
        .any(|a| !a.success && a.mechanism == good.mechanism && a.username != good.username)
    {
        out.push(
            Finding::new(
                Severity::Info,
                FindingCode::AuthUsernameForm,
                format!("{srv}: login works with user name '{}'", good.username),
            )
            .hint("Configure the mail client with this user name."),
        );
    }
    let mut seen = HashSet::new();
    for a in real
        .iter()
        .filter(|a| !a.success && a.username == good.username)
    {
        if seen.insert(a.mechanism.clone()) {
            let resp = a.response.as_deref().unwrap_or("");
            out.push(
                Finding::new(
                    Severity::Warning,
                    FindingCode::AuthMechanismFailed,
                    format!(
                        "{srv}: mechanism {} is offered but failed: {resp}",
                        a.mechanism
                    ),
                )
                .hint(refusal::decode_login(&a.mechanism, resp).hint),
            );
        }
    }
}

/// No login worked: each kind of refusal decoded once, and a working server whose login failed.
fn after_failure(p: &Probe, srv: &str, real: &[&AuthAttempt], out: &mut Vec<Finding>) {
    let mut kinds = HashSet::new();
    for a in real.iter().filter(|a| !a.success) {
        let resp = a.response.as_deref().unwrap_or("");
        let r = refusal::decode_login(&a.mechanism, resp);
        if kinds.insert(r.kind) {
            out.push(refusal::finding(&r, srv, resp));
        }
    }
    if matches!(p.outcome, Outcome::Working { .. }) {
        out.push(
            Finding::new(
                Severity::Critical,
                FindingCode::AuthLoginFailed,
                format!("{srv} works, but the login failed"),
            )
            .hint("See the decoded refusal above; the server itself is reachable and answers."),
        );
    }
}

/// How a mechanism name maps onto the settings' authentication method.
pub fn auth_method(mechanism: &str) -> AuthMethod {
    match mechanism {
        "CRAM-MD5" => AuthMethod::PasswordEncrypted,
        "XOAUTH2" | "OAUTHBEARER" => AuthMethod::OAuth2,
        _ => AuthMethod::PasswordCleartext,
    }
}

fn matches(s: &Setting, p: &Probe) -> bool {
    s.protocol == p.protocol
        && s.host.eq_ignore_ascii_case(&p.host)
        && s.port == p.port
        && s.security == p.security
}

fn from_probe(p: &Probe) -> Option<Setting> {
    let good = p
        .auth
        .iter()
        .find(|a| a.success && a.mechanism != NO_MECHANISM)?;
    Some(Setting {
        protocol: p.protocol,
        host: p.host.clone(),
        port: p.port,
        security: p.security,
        username: Some(good.username.clone()),
        auth: vec![auth_method(&good.mechanism)],
    })
}

fn rechoose(current: Option<Setting>, probes: &[Probe], incoming: bool) -> Option<Setting> {
    let current = current?;
    let probe = probes.iter().find(|p| matches(&current, p));
    match probe {
        // No login tried there (no credentials, or port 25): the verdict stands.
        Some(p) if p.auth.is_empty() || is_mx(p) => Some(current),
        None => Some(current),
        Some(p) => from_probe(p).or_else(|| {
            probes
                .iter()
                .filter(|q| q.protocol.is_incoming() == incoming && !is_mx(q))
                .filter(|q| matches!(q.outcome, Outcome::Working { .. }))
                .find_map(from_probe)
        }),
    }
}

/// Keep only servers where the login succeeded: the chosen server if its login worked (with
/// the user name and method that worked), else another working server whose login succeeded,
/// else none.
pub fn settings_with_login(probes: &[Probe], settings: Settings) -> Settings {
    Settings {
        incoming: rechoose(settings.incoming, probes, true),
        outgoing: rechoose(settings.outgoing, probes, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuthAttempt;
    use crate::model::Security;

    fn probe(proto: Protocol, host: &str, port: u16, auth: &[(&str, &str, bool, &str)]) -> Probe {
        Probe {
            protocol: proto,
            host: host.into(),
            port,
            security: Security::Tls,
            sources: vec![],
            connected_to: None,
            addresses: vec![],
            steps: vec![],
            greeting: None,
            capabilities_plain: vec![],
            capabilities: vec![],
            sasl: vec![],
            tls: Some(crate::model::TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "x".into(),
                kx_group: None,
                verified: true,
                verify_error: None,
                names: vec![],
                not_after: None,
                days_left: None,
                chain_days_left: None,
                chain: vec![],
            }),
            outcome: Outcome::Working { tls_valid: true },
            auth: auth
                .iter()
                .map(|(m, u, ok, r)| AuthAttempt {
                    mechanism: m.to_string(),
                    username: u.to_string(),
                    success: *ok,
                    elapsed_ms: 1,
                    response: Some(r.to_string()),
                })
                .collect(),
            transcript: None,
            elapsed_ms: 1,
        }
    }

    fn setting(p: &Probe) -> Setting {
        Setting {
            protocol: p.protocol,
            host: p.host.clone(),
            port: p.port,
            security: p.security,
            username: None,
            auth: vec![],
        }
    }

    #[test]
    fn settings_move_to_a_server_that_logged_in() {
        let bad = probe(
            Protocol::Imap,
            "a",
            993,
            &[("PLAIN", "u", false, "a1 NO [AUTHENTICATIONFAILED] x")],
        );
        let good = probe(
            Protocol::Imap,
            "b",
            993,
            &[("CRAM-MD5", "u@d", true, "a1 OK")],
        );
        let smtp = probe(
            Protocol::Smtp,
            "s",
            587,
            &[("PLAIN", "u@d", true, "235 ok")],
        );
        let mx = probe(Protocol::Smtp, "mx", 25, &[]);
        let probes = [bad.clone(), good, smtp.clone(), mx.clone()];
        let s = Settings {
            incoming: Some(setting(&bad)),
            outgoing: Some(setting(&smtp)),
        };
        let s = settings_with_login(&probes, s);
        let inc = s.incoming.unwrap();
        assert_eq!(
            (inc.host.as_str(), inc.username.as_deref()),
            ("b", Some("u@d"))
        );
        assert_eq!(inc.auth, [AuthMethod::PasswordEncrypted]);
        assert_eq!(s.outgoing.unwrap().auth, [AuthMethod::PasswordCleartext]);
        // Port 25 is never judged by its (absent) login.
        let s = settings_with_login(
            &probes,
            Settings {
                incoming: None,
                outgoing: Some(setting(&mx)),
            },
        );
        assert_eq!(s.outgoing.unwrap().port, 25);
        // No credentials: the verdict stands.
        let plain = probe(Protocol::Imap, "a", 993, &[]);
        let s = settings_with_login(
            std::slice::from_ref(&plain),
            Settings {
                incoming: Some(setting(&plain)),
                outgoing: None,
            },
        );
        assert!(s.incoming.is_some());
    }

    #[test]
    fn findings_table() {
        let all_mechs = probe(
            Protocol::Smtp,
            "s",
            587,
            &[
                ("PLAIN", "u", true, "235 ok"),
                ("CRAM-MD5", "u", false, "535 5.7.8 no"),
            ],
        );
        let f = login_findings(&[all_mechs]);
        assert_eq!(
            f.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
            ["auth-mechanism-failed"]
        );
        let none = probe(
            Protocol::Pop3,
            "p",
            995,
            &[(
                NO_MECHANISM,
                "u",
                false,
                "no usable login mechanism (server offers: none)",
            )],
        );
        let f = login_findings(&[none]);
        assert_eq!(
            f.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
            ["auth-no-mechanism", "auth-login-failed"]
        );
        let mx = probe(Protocol::Smtp, "mx", 25, &[("PLAIN", "u", false, "503 no")]);
        assert!(login_findings(&[mx]).is_empty());
    }
}

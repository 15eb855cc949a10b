//! Decoding a server's refusal of a login into a finding with a hint (README, "Finding
//! codes": `auth-*`). The mapping is one table, [`TABLE`], each row with its source;
//! the first matching row wins, so provider-specific texts come before the generic codes.

use crate::model::{Finding, FindingCode, Severity};
use crate::proto::login::{ResponseCodes, response_codes};

/// What a refusal means for the person at the helpdesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    WrongPassword,
    AccountLocked,
    AppPasswordRequired,
    /// IMAP or POP3 is switched off for this account.
    ProtocolDisabled,
    /// The organisation (tenant) has turned off password logins for mail clients.
    BasicAuthDisabled,
    WebLoginRequired,
    TlsRequired,
    MechanismTooWeak,
    PasswordExpired,
    NotAuthorized,
    TokenInvalid,
    /// The token lacks the scope of this protocol.
    TokenScopeMissing,
    /// An OAuth2 login refused with no word about the token (Microsoft 365: "AUTHENTICATE
    /// failed." when IMAP/POP/SMTP AUTH is off for the mailbox or the tenant has not consented
    /// to the application).
    OAuthRefused,
    Temporary,
    ServerError,
    /// The server closed the connection during the exchange.
    ConnectionDropped,
    Unknown,
}

impl RefusalKind {
    /// Stable finding code.
    pub fn code(self) -> FindingCode {
        match self {
            RefusalKind::WrongPassword => FindingCode::AuthWrongPassword,
            RefusalKind::AccountLocked => FindingCode::AuthAccountLocked,
            RefusalKind::AppPasswordRequired => FindingCode::AuthAppPasswordRequired,
            RefusalKind::ProtocolDisabled => FindingCode::AuthProtocolDisabled,
            RefusalKind::BasicAuthDisabled => FindingCode::AuthBasicDisabled,
            RefusalKind::WebLoginRequired => FindingCode::AuthWebLoginRequired,
            RefusalKind::TlsRequired => FindingCode::AuthTlsRequired,
            RefusalKind::MechanismTooWeak => FindingCode::AuthMechanismTooWeak,
            RefusalKind::PasswordExpired => FindingCode::AuthPasswordExpired,
            RefusalKind::NotAuthorized => FindingCode::AuthNotAuthorized,
            RefusalKind::TokenInvalid => FindingCode::AuthTokenInvalid,
            RefusalKind::TokenScopeMissing => FindingCode::AuthTokenScopeMissing,
            RefusalKind::OAuthRefused => FindingCode::AuthOauthRefused,
            RefusalKind::Temporary => FindingCode::AuthTemporaryFailure,
            RefusalKind::ServerError => FindingCode::AuthServerError,
            RefusalKind::ConnectionDropped => FindingCode::AuthConnectionDropped,
            RefusalKind::Unknown => FindingCode::AuthFailed,
        }
    }
    fn message(self) -> &'static str {
        match self {
            RefusalKind::WrongPassword => "the server rejected the user name or password",
            RefusalKind::AccountLocked => "the account is locked or disabled",
            RefusalKind::AppPasswordRequired => "the provider requires an app password",
            RefusalKind::ProtocolDisabled => "this protocol is disabled for the account",
            RefusalKind::BasicAuthDisabled => {
                "password login (basic authentication) is disabled for the account or organisation"
            }
            RefusalKind::WebLoginRequired => {
                "the provider wants a sign-in through its web site first"
            }
            RefusalKind::TlsRequired => "the server requires encryption before login",
            RefusalKind::MechanismTooWeak => "the server considers the login mechanism too weak",
            RefusalKind::PasswordExpired => "the password has expired",
            RefusalKind::NotAuthorized => "the credentials are valid but may not be used here",
            RefusalKind::TokenInvalid => {
                "the OAuth2 token was refused (expired, revoked or for another user)"
            }
            RefusalKind::TokenScopeMissing => "the OAuth2 token lacks the scope for this protocol",
            RefusalKind::OAuthRefused => {
                "the OAuth2 login was refused: the protocol may be disabled for this mailbox, or the organisation blocks this application"
            }
            RefusalKind::Temporary => "the login failed temporarily",
            RefusalKind::ServerError => "the server failed while checking the login",
            RefusalKind::ConnectionDropped => "the server closed the connection during login",
            RefusalKind::Unknown => "the login was refused",
        }
    }
    fn severity(self) -> Severity {
        match self {
            RefusalKind::Temporary => Severity::Warning,
            _ => Severity::Critical,
        }
    }
    /// Worth retrying with the other user name form (RFC 6186 §4).
    pub fn is_credential_error(self) -> bool {
        matches!(self, RefusalKind::WrongPassword | RefusalKind::Unknown)
    }
}

/// How a row recognises a response.
#[derive(Debug, Clone, Copy)]
pub enum Match {
    /// IMAP response code (`NO [CODE] ...`) or POP3 extended code (`-ERR [CODE] ...`).
    Code(&'static str),
    /// SMTP enhanced status code (RFC 3463) anywhere in the reply.
    Enhanced(&'static str),
    /// SMTP basic reply code.
    Smtp(u16),
    /// Case-insensitive substring of the response.
    Text(&'static str),
}

/// One row of the mapping.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub matcher: Match,
    pub kind: RefusalKind,
    pub hint: &'static str,
    pub source: &'static str,
}

const fn row(matcher: Match, kind: RefusalKind, hint: &'static str, source: &'static str) -> Row {
    Row {
        matcher,
        kind,
        hint,
        source,
    }
}

use Match::{Code, Enhanced, Smtp, Text};
use RefusalKind as K;

const GOOGLE_APPPW: &str =
    "Google: Sign in with app passwords (support.google.com/accounts/answer/185833)";
const MS_SMTP_AUTH: &str = "Microsoft Learn: Enable or disable SMTP AUTH in Exchange Online (authenticated-client-smtp-submission)";
const MS_BASIC: &str = "Microsoft Learn: Deprecation of Basic authentication in Exchange Online";
const MAILPROBE: &str = "mailprobe: observed by the client during the SASL exchange";
const RFC5530: &str = "RFC 5530 §3 (IMAP response codes)";
const RFC4954: &str = "RFC 4954 §6 (SMTP AUTH status codes)";
const RFC3206: &str = "RFC 3206 §4 (POP3 AUTH and SYS response codes)";
const RFC2449: &str = "RFC 2449 §8.1 (POP3 extended response codes)";

/// The refusal table, first match wins.
#[rustfmt::skip]
pub static TABLE: &[Row] = &[
    // What the client saw rather than what the server said (login.rs writes these texts).
    row(Text("closed the connection during authentication"), K::ConnectionDropped,
        "The server hung up mid-login: often a firewall, a crashed auth backend or a rate limit; retry and check the server log.", MAILPROBE),
    row(Text("timed out waiting for the server during authentication"), K::Temporary,
        "The authentication backend did not answer in time; retry later.", MAILPROBE),
    // Provider texts first: they refine the generic codes they come with.
    row(Text("application-specific password"), K::AppPasswordRequired,
        "Create an app password in the account's security settings and use it instead of the account password.", GOOGLE_APPPW),
    row(Text("app password"), K::AppPasswordRequired,
        "Create an app password in the account's security settings and use it instead of the account password.", GOOGLE_APPPW),
    row(Enhanced("5.7.139"), K::BasicAuthDisabled,
        "Microsoft 365 refuses SMTP AUTH: the tenant disabled it or security defaults are on; enable SMTP AUTH for the mailbox or use OAuth2.", MS_SMTP_AUTH),
    row(Text("smtpclientauthentication is disabled"), K::BasicAuthDisabled,
        "Enable authenticated SMTP for the mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false) or use OAuth2.", MS_SMTP_AUTH),
    row(Text("basic authentication is disabled"), K::BasicAuthDisabled,
        "The organisation allows only OAuth2 (modern authentication); use a client that supports it.", MS_BASIC),
    row(Enhanced("5.7.3"), K::BasicAuthDisabled,
        "Microsoft 365 says 535 5.7.3 for a wrong password and when SMTP AUTH is disabled for the mailbox: check both.", MS_SMTP_AUTH),
    row(Enhanced("5.7.14"), K::WebLoginRequired,
        "Sign in once in a web browser (the provider blocked the login as suspicious), then retry.", "Google: Gmail SMTP errors and codes (support.google.com/a/answer/3726730), 534 5.7.14"),
    row(Text("log in via your web browser"), K::WebLoginRequired,
        "Sign in once in a web browser (the provider blocked the login as suspicious), then retry.", "Google: Gmail SMTP errors and codes (support.google.com/a/answer/3726730)"),
    row(Text("not enabled for imap"), K::ProtocolDisabled,
        "Enable IMAP in the mailbox settings (Gmail: Settings → Forwarding and POP/IMAP).", "Gmail IMAP alert text"),
    row(Text("not enabled for pop"), K::ProtocolDisabled,
        "Enable POP in the mailbox settings.", "Gmail POP3 alert text"),
    row(Text("imap access is disabled"), K::ProtocolDisabled,
        "Ask the administrator to enable IMAP for the account (Microsoft 365: Set-CASMailbox -ImapEnabled $true).", "Microsoft Learn: Enable or disable POP3 or IMAP4 access for users"),
    row(Text("pop3 access is disabled"), K::ProtocolDisabled,
        "Ask the administrator to enable POP3 for the account (Microsoft 365: Set-CASMailbox -PopEnabled $true).", "Microsoft Learn: Enable or disable POP3 or IMAP4 access for users"),
    row(Text("account is locked"), K::AccountLocked,
        "Unlock the account (web sign-in or the administrator); repeated failed logins may have locked it.", "common server text (Dovecot/Exchange)"),
    row(Text("account is disabled"), K::AccountLocked,
        "Ask the administrator to re-enable the account.", "common server text"),
    row(Text("authenticate failed"), K::WrongPassword,
        "Check the password. Microsoft 365 gives this same answer when basic authentication is disabled: then OAuth2 is needed.", MS_BASIC),
    // OAuth error JSON (the challenge before the failure).
    row(Text("invalid_token"), K::TokenInvalid,
        "The access token is expired or revoked: obtain a new one.", "RFC 7628 §3.2.2 (OAUTHBEARER failure response), RFC 6750 §3.1"),
    row(Text("insufficient_scope"), K::TokenInvalid,
        "The token lacks the mail scope (e.g. https://mail.google.com/ or IMAP.AccessAsUser.All).", "RFC 6750 §3.1"),
    row(Text("\"status\":\"401\""), K::TokenInvalid,
        "The access token is expired, revoked or for another user: obtain a new one.", "Google: OAuth 2.0 Mechanism (developers.google.com/gmail/imap/xoauth2-protocol)"),
    row(Text("\"status\":\"400\""), K::TokenInvalid,
        "The token request was malformed (wrong user for the token?).", "Google: OAuth 2.0 Mechanism (developers.google.com/gmail/imap/xoauth2-protocol)"),
    // IMAP response codes.
    row(Code("AUTHENTICATIONFAILED"), K::WrongPassword,
        "Check the user name (full address or local part?) and the password.", RFC5530),
    row(Code("AUTHORIZATIONFAILED"), K::NotAuthorized,
        "The credentials work but this identity may not be used; ask the administrator.", RFC5530),
    row(Code("EXPIRED"), K::PasswordExpired, "Change the password (often in the web mail), then retry.", RFC5530),
    row(Code("PRIVACYREQUIRED"), K::TlsRequired, "Connect with SSL/TLS or STARTTLS.", RFC5530),
    row(Code("CONTACTADMIN"), K::AccountLocked, "Contact the administrator or support desk.", RFC5530),
    row(Code("UNAVAILABLE"), K::Temporary, "The authentication backend is down; retry later.", RFC5530),
    row(Code("LIMIT"), K::Temporary, "Too many connections or attempts; retry later.", RFC5530),
    row(Code("INUSE"), K::Temporary, "The mailbox is in use elsewhere; retry later.", RFC5530),
    // POP3 extended response codes.
    row(Code("AUTH"), K::WrongPassword, "Check the user name and the password.", RFC3206),
    row(Code("SYS/TEMP"), K::Temporary, "The server failed temporarily; retry later.", RFC3206),
    row(Code("SYS/PERM"), K::ServerError, "The server failed permanently; contact the administrator.", RFC3206),
    row(Code("IN-USE"), K::Temporary, "Another client holds the maildrop lock; close it and retry.", RFC2449),
    row(Code("LOGIN-DELAY"), K::Temporary, "The server limits how often this account may log in; wait and retry.", RFC2449),
    // SMTP enhanced codes, then basic codes.
    row(Enhanced("5.7.8"), K::WrongPassword, "Check the user name and the password.", RFC4954),
    row(Enhanced("5.7.9"), K::MechanismTooWeak, "Use a stronger mechanism (the server may need CRAM-MD5 or OAuth2).", RFC4954),
    row(Enhanced("5.7.11"), K::TlsRequired, "Use SSL/TLS or STARTTLS before authenticating.", RFC4954),
    row(Enhanced("5.7.12"), K::PasswordExpired, "A password change is needed before this mechanism works.", RFC4954),
    row(Enhanced("4.7.0"), K::Temporary, "The authentication backend failed temporarily; retry later.", RFC4954),
    row(Text("starttls"), K::TlsRequired, "Issue STARTTLS (or use port 465) before authenticating.", "RFC 3207 §4 (530 5.7.0 Must issue a STARTTLS command first)"),
    row(Smtp(535), K::WrongPassword, "Check the user name and the password.", RFC4954),
    row(Smtp(534), K::MechanismTooWeak, "Use a stronger mechanism.", RFC4954),
    row(Smtp(538), K::TlsRequired, "Use SSL/TLS or STARTTLS before authenticating.", RFC4954),
    row(Smtp(454), K::Temporary, "Retry later.", RFC4954),
    row(Smtp(504), K::MechanismTooWeak, "The server does not support this mechanism.", RFC4954),
    // Generic texts last.
    row(Text("invalid credentials"), K::WrongPassword, "Check the user name and the password.", "common server text (Yahoo, Dovecot)"),
    row(Text("authentication failed"), K::WrongPassword, "Check the user name and the password.", "common server text (Dovecot)"),
    row(Code("ALERT"), K::Unknown, "Read the server's alert text: it is meant for the user.", "RFC 9051 §7.1 (ALERT response code)"),
];

/// A decoded refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub hint: String,
    pub source: &'static str,
    /// `[ALERT]` text, to be shown as is (RFC 9051 §7.1).
    pub alert: Option<String>,
    /// Index of the [`TABLE`] row that matched.
    pub row: Option<usize>,
}

/// Decode a server's final answer to a login (IMAP tagged `NO`, POP3 `-ERR`, SMTP reply).
pub fn decode(response: &str) -> Refusal {
    let lower = response.to_ascii_lowercase();
    let ResponseCodes {
        bracketed: codes,
        alert,
        smtp,
        enhanced,
    } = response_codes(response);
    for (i, r) in TABLE.iter().enumerate() {
        let hit = match r.matcher {
            Text(t) => lower.contains(t),
            Code(c) => codes.iter().any(|x| x.eq_ignore_ascii_case(c)),
            Enhanced(e) => enhanced.iter().any(|x| x == e),
            Smtp(n) => smtp == Some(n),
        };
        if hit {
            return Refusal {
                kind: r.kind,
                hint: r.hint.to_string(),
                source: r.source,
                alert,
                row: Some(i),
            };
        }
    }
    Refusal {
        kind: RefusalKind::Unknown,
        hint: "Read the server's answer; check the user name and the password.".into(),
        source: "no table row matched",
        alert,
        row: None,
    }
}

/// Decode the refusal of a login with `mechanism`. For XOAUTH2 and OAUTHBEARER the server's
/// error JSON speaks first (RFC 7628 §3.2.2: `invalid_token`, `insufficient_scope`, the
/// `status`), and what would mean "wrong password" or "password logins are off" means the
/// token's use was refused instead.
pub fn decode_login(mechanism: &str, response: &str) -> Refusal {
    if !matches!(mechanism, "XOAUTH2" | "OAUTHBEARER") {
        return decode(response);
    }
    let oauth = |kind, hint: &str, source| Refusal {
        kind,
        hint: hint.to_string(),
        source,
        alert: response_codes(response).alert,
        row: None,
    };
    if response.to_ascii_lowercase().contains("insufficient_scope") {
        return oauth(
            K::TokenScopeMissing,
            "Sign in again asking for the protocol's scope (Google: https://mail.google.com/; Microsoft: IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send) with --oauth-scope.",
            "RFC 6750 §3.1",
        );
    }
    let r = decode(response);
    match r.kind {
        K::TokenInvalid | K::ProtocolDisabled | K::AccountLocked | K::Temporary => r,
        K::BasicAuthDisabled => oauth(
            K::ProtocolDisabled,
            "SMTP AUTH is off for this mailbox or tenant, also for OAuth2: enable it (Set-CASMailbox -SmtpClientAuthenticationDisabled $false).",
            MS_SMTP_AUTH,
        ),
        _ => oauth(
            K::OAuthRefused,
            "Check that the protocol is enabled for the mailbox (Microsoft 365: Set-CASMailbox -ImapEnabled/-PopEnabled $true) and that an administrator granted consent to your client ID in the tenant (Enterprise applications); the token must be for this address.",
            "Microsoft Learn: Authenticate an IMAP, POP or SMTP connection using OAuth",
        ),
    }
}

/// The finding for a refusal on `server` (`imap.example.com:993`).
pub fn finding(refusal: &Refusal, server: &str, response: &str) -> Finding {
    let mut msg = format!("{server}: {} ({})", refusal.kind.message(), response.trim());
    if let Some(a) = &refusal.alert {
        msg.push_str(&format!("; server alert: {a}"));
    }
    Finding::new(refusal.kind.severity(), refusal.kind.code(), msg)
        .hint(format!("{} [{}]", refusal.hint, refusal.source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_refusals_speak_of_the_token_and_its_use() {
        for (mech, response, kind) in [
            (
                "XOAUTH2",
                r#"a1 NO [AUTHENTICATIONFAILED] Authentication failed. (error challenge: {"status":"401","schemes":"bearer","scope":"mail"})"#,
                K::TokenInvalid,
            ),
            (
                "OAUTHBEARER",
                r#"a1 NO [AUTHENTICATIONFAILED] (error: {"status":"insufficient_scope","scope":"mail"})"#,
                K::TokenScopeMissing,
            ),
            ("XOAUTH2", "a1 NO AUTHENTICATE failed.", K::OAuthRefused),
            (
                "XOAUTH2",
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
                K::ProtocolDisabled,
            ),
            (
                "XOAUTH2",
                "a1 NO [ALERT] Your account is not enabled for IMAP use.",
                K::ProtocolDisabled,
            ),
            // A password mechanism keeps the password reading.
            ("PLAIN", "a1 NO AUTHENTICATE failed.", K::WrongPassword),
        ] {
            assert_eq!(decode_login(mech, response).kind, kind, "{mech} {response}");
        }
    }

    #[test]
    fn refusal_table_cases() {
        let cases: &[(&str, RefusalKind)] = &[
            (
                "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
                K::WrongPassword,
            ),
            (
                "a1 NO [UNAVAILABLE] Temporary authentication failure.",
                K::Temporary,
            ),
            (
                "a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed",
                K::TlsRequired,
            ),
            ("a1 NO [CONTACTADMIN] Account suspended", K::AccountLocked),
            ("a1 NO [EXPIRED] Password expired", K::PasswordExpired),
            ("a1 NO [AUTHORIZATIONFAILED] no", K::NotAuthorized),
            (
                "a1 NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)",
                K::AppPasswordRequired,
            ),
            (
                "a1 NO [ALERT] Your account is not enabled for IMAP use.",
                K::ProtocolDisabled,
            ),
            ("a1 NO [ALERT] Please come back later", K::Unknown),
            ("a1 NO AUTHENTICATE failed.", K::WrongPassword),
            (
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
                K::BasicAuthDisabled,
            ),
            (
                "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
                K::BasicAuthDisabled,
            ),
            (
                "535 5.7.3 Authentication unsuccessful",
                K::BasicAuthDisabled,
            ),
            (
                "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6",
                K::WrongPassword,
            ),
            (
                "535-5.7.8 Username and Password not accepted.",
                K::WrongPassword,
            ),
            (
                "534-5.7.9 Application-specific password required. Learn more at",
                K::AppPasswordRequired,
            ),
            (
                "534 5.7.9 Authentication mechanism is too weak",
                K::MechanismTooWeak,
            ),
            (
                "534-5.7.14 <https://accounts.google.com/signin/continue> Please log in via your web browser",
                K::WebLoginRequired,
            ),
            (
                "538 5.7.11 Encryption required for requested authentication mechanism",
                K::TlsRequired,
            ),
            ("454 4.7.0 Temporary authentication failure", K::Temporary),
            (
                "530 5.7.0 Must issue a STARTTLS command first",
                K::TlsRequired,
            ),
            ("535 Authentication failed", K::WrongPassword),
            ("-ERR [AUTH] Authentication failed.", K::WrongPassword),
            ("-ERR [SYS/TEMP] Try again", K::Temporary),
            ("-ERR [SYS/PERM] Broken", K::ServerError),
            ("-ERR [IN-USE] Mailbox locked", K::Temporary),
            ("-ERR [LOGIN-DELAY] wait", K::Temporary),
            (
                r#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#,
                K::TokenInvalid,
            ),
            (r#"{"status":"invalid_token","scope":"x"}"#, K::TokenInvalid),
            ("-ERR Invalid credentials", K::WrongPassword),
            ("a1 NO [LIMIT] too many", K::Temporary),
            ("a1 NO Account is locked", K::AccountLocked),
            ("weird", K::Unknown),
        ];
        for (resp, want) in cases {
            assert_eq!(decode(resp).kind, *want, "{resp}");
        }
    }

    #[test]
    fn every_row_has_a_source_and_hint() {
        for r in TABLE {
            assert!(!r.source.is_empty() && !r.hint.is_empty(), "{r:?}");
        }
    }

    #[test]
    fn alert_and_finding() {
        let r = decode("a1 NO [ALERT] Go away now");
        assert_eq!(r.alert.as_deref(), Some("Go away now"));
        let f = finding(&r, "imap.x:993", "a1 NO [ALERT] Go away now");
        assert_eq!(f.code, FindingCode::AuthFailed);
        assert!(f.message.contains("server alert: Go away now"));
        assert!(f.hint.unwrap().contains("RFC 9051"));
    }

    #[test]
    fn nasty_input_does_not_panic() {
        for t in [
            "",
            "[",
            "]",
            "[ALERT]",
            "5",
            "535",
            "535-",
            "é[ALERT]é",
            "[[[]]]",
            "5.7.",
            "..5.7.8..",
            "ü535 5.7.8",
        ] {
            let _ = decode(t);
        }
        assert_eq!(decode("[ALERT]").alert, None);
    }
}

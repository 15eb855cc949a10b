//! Authentication (README, `check --login`): credentials, SASL
//! mechanisms, refusal decoding and the login dialogues of IMAP, POP3 and SMTP.
//!
//! Entry points: [`Authenticator`] (the probe's login hook; also used by the round trip),
//! [`login_findings`] and [`settings_with_login`] (the `check` verdict with credentials).

pub mod credentials;
mod findings;
mod hook;
pub mod login;
pub mod oauth;
pub mod refusal;
pub mod sasl;

use std::sync::Arc;

pub use credentials::{
    CredentialError, Credentials, PasswordSource, Secret, read_secret, read_secret_with,
};
pub use findings::{auth_method, login_findings, settings_with_login};

use crate::address::Address;
use crate::model::AuthAttempt;
use crate::model::{Protocol, Security, Source};
use crate::net::Net;
use crate::proto::{Capability, CapabilitySet, Channel, Offered, Wire};
use sasl::Mech;

/// `AuthAttempt.response` when no credential was sent because the connection had no TLS.
pub const NOT_SENT_NO_TLS: &str =
    "not sent: the connection is not encrypted (use --allow-plaintext-auth to send it anyway)";
/// Start of `AuthAttempt.response` when no credential was sent because the certificate did
/// not verify.
pub(crate) const NOT_SENT_INVALID_CERT: &str = "not sent: the certificate did not verify";
/// The flag that sends credentials over TLS whose certificate did not verify.
pub(crate) const ALLOW_INVALID_CERT_FLAG: &str = "--allow-invalid-cert-auth";
/// Start of `AuthAttempt.response` when no credential was sent because only an untrusted source
/// names the server.
pub(crate) const NOT_SENT_UNTRUSTED: &str =
    "not sent: only plain-http autoconfig names this server";
/// The flag that sends credentials to a server only an untrusted source names.
pub(crate) const ALLOW_UNTRUSTED_FLAG: &str = "--allow-untrusted-auth";
/// `AuthAttempt.mechanism` for a note rather than an attempt.
pub(crate) const NO_MECHANISM: &str = AuthAttempt::NO_MECHANISM;

/// Where a login happens.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub protocol: Protocol,
    pub host: &'a str,
    pub port: u16,
    pub security: Security,
    /// The user name the discovered settings give, if any.
    pub discovered_user: Option<&'a str>,
    /// Every source that names the server (empty: the caller names it directly).
    pub sources: &'a [Source],
}

/// Logs in with the user's credentials; built once per run from [`Credentials`] and the address.
pub struct Authenticator {
    creds: Credentials,
    addr: Address,
    net: Option<Arc<Net>>,
}

impl Authenticator {
    pub fn new(creds: Credentials, addr: &Address) -> Self {
        Authenticator {
            creds,
            addr: addr.clone(),
            net: None,
        }
    }

    /// With the network context, `--all-mechs` opens a new connection for each mechanism after
    /// the first success (a session cannot authenticate twice: RFC 4954 §4, RFC 9051 §6.2.2).
    pub fn with_net(mut self, net: Arc<Net>) -> Self {
        self.net = Some(net);
        self
    }

    /// Mechanisms to try on a server offering `caps` / `sasl`.
    pub fn mechanisms(
        &self,
        protocol: Protocol,
        caps: &[String],
        sasl: &[String],
    ) -> Result<Vec<Mech>, String> {
        let forced = self.creds.mech;
        let offered = Offered::from_lines(protocol, caps);
        // The non-SASL command: IMAP LOGIN unless LOGINDISABLED (RFC 9051 §6.2.3); POP3
        // USER/PASS when CAPA lists USER, or when there was no CAPA to ask (RFC 2449 §6.3).
        let legacy = match protocol {
            Protocol::Imap => !offered.has(Capability::LoginDisabled),
            Protocol::Pop3 => caps.is_empty() || offered.has(Capability::User),
            Protocol::Smtp => false,
        };
        Ok(sasl::choose(
            protocol,
            sasl,
            legacy,
            self.creds.password.is_some(),
            self.creds.oauth_token.is_some(),
            forced,
            self.creds.all_mechs,
        ))
    }

    fn note(&self, t: &Target<'_>, mech: &str, response: String) -> AuthAttempt {
        let username =
            credentials::username_forms(self.creds.user.as_deref(), t.discovered_user, &self.addr)
                .into_iter()
                .next()
                .unwrap_or_default();
        AuthAttempt {
            mechanism: mech.to_string(),
            username,
            success: false,
            elapsed_ms: 0,
            response: Some(response),
        }
    }

    /// Why no credential may go over this connection: the server is known only from a source
    /// anyone on the path could forge (plain-http autoconfig) without `--allow-untrusted-auth`
    /// (a URL the user names has the `user` source); and, from what the connection itself says
    /// protects it: no TLS without `--allow-plaintext-auth`; TLS whose certificate did not
    /// verify (self-signed, wrong name, expired, …) without `--allow-invalid-cert-auth` —
    /// anyone on the path could be the server. Every login passes here ([`Self::try_users`]).
    fn refusal(&self, channel: &Channel, t: &Target<'_>) -> Option<String> {
        // Anyone on the path could have named this server, and holds a valid certificate
        // for it: the user's password would go to whoever rewrote the document.
        if Source::only_forgeable(t.sources) && !self.creds.allow_untrusted {
            return Some(format!(
                "{NOT_SENT_UNTRUSTED}, which anyone on the network path could have altered (use {ALLOW_UNTRUSTED_FLAG} to send it anyway)"
            ));
        }
        match channel {
            Channel::Plain if !self.creds.allow_plaintext => Some(NOT_SENT_NO_TLS.to_string()),
            Channel::Unverified(why) if !self.creds.allow_invalid_cert => Some(format!(
                "{NOT_SENT_INVALID_CERT} ({why}) (use {ALLOW_INVALID_CERT_FLAG} to send it anyway)"
            )),
            _ => None,
        }
    }

    /// Log in on an open connection. Port 25 (MX) is never logged into; no credential goes
    /// over a connection without TLS unless `--allow-plaintext-auth`, nor over TLS whose
    /// certificate did not verify unless `--allow-invalid-cert-auth` (see [`Self::refusal`]).
    /// Tries the other user name form once after an authentication error (RFC 6186 §4).
    /// Returns every attempt.
    pub async fn login_on<W: Wire>(
        &self,
        w: &mut W,
        t: &Target<'_>,
        caps: &[String],
        sasl_offered: &[String],
    ) -> Vec<AuthAttempt> {
        if !self.creds.present() || (t.protocol == Protocol::Smtp && t.port == 25) {
            return Vec::new();
        }
        if let Some(why) = self.refusal(&w.channel(), t) {
            return vec![self.note(t, NO_MECHANISM, why)];
        }
        let mechs = match self.mechanisms(t.protocol, caps, sasl_offered) {
            Ok(m) if !m.is_empty() => m,
            Ok(_) => {
                let offered = if sasl_offered.is_empty() {
                    "none".to_string()
                } else {
                    sasl_offered.join(" ")
                };
                return vec![self.note(
                    t,
                    NO_MECHANISM,
                    format!("no usable login mechanism (server offers: {offered})"),
                )];
            }
            Err(e) => return vec![self.note(t, NO_MECHANISM, e)],
        };
        let mut users =
            credentials::username_forms(self.creds.user.as_deref(), t.discovered_user, &self.addr);
        let mut out = Vec::new();
        let mut logged_in = false;
        for mech in mechs {
            if logged_in {
                // A new connection per further mechanism (--all-mechs).
                let Some(net) = &self.net else {
                    out.push(self.note(t, mech.name(), "not tried: needs a new connection".into()));
                    continue;
                };
                let ready =
                    crate::proto::connect_ready(net, t.protocol, t.host, t.port, t.security).await;
                match ready {
                    Ok(mut r) => {
                        let (a, _) = self
                            .try_users(&mut r.session, t, mech, &users, &r.caps)
                            .await;
                        out.extend(a);
                        r.session.close().await;
                    }
                    Err(e) => out.push(self.note(
                        t,
                        mech.name(),
                        format!("not tried: reconnect failed: {e}"),
                    )),
                }
                continue;
            }
            let (attempts, ok_user) = self.try_users(w, t, mech, &users, caps).await;
            let dropped = attempts.last().is_some_and(|a| {
                a.response
                    .as_deref()
                    .is_some_and(|r| r.contains("closed the connection"))
            });
            out.extend(attempts);
            if let Some(u) = ok_user {
                logged_in = true;
                users.retain(|x| *x != u);
                users.insert(0, u);
            } else if dropped {
                break;
            }
        }
        out
    }

    /// Attempts with `mech` over the user name forms; returns them and the user that worked.
    async fn try_users<W: Wire>(
        &self,
        w: &mut W,
        t: &Target<'_>,
        mech: Mech,
        users: &[String],
        caps: &[String],
    ) -> (Vec<AuthAttempt>, Option<String>) {
        let secret = if mech.is_oauth() {
            self.creds.oauth_token.as_ref()
        } else {
            self.creds.password.as_ref()
        };
        let Some(secret) = secret else {
            return (
                vec![self.note(t, mech.name(), "not tried: no matching credential".into())],
                None,
            );
        };
        // The one gate before any credential leaves: this connection (a reconnect for
        // --all-mechs included) as it is now.
        if let Some(why) = self.refusal(&w.channel(), t) {
            return (vec![self.note(t, NO_MECHANISM, why)], None);
        }
        let mut out = Vec::new();
        for u in users {
            let o = login::attempt(w, t.protocol, mech, u, secret, t.host, t.port, caps).await;
            out.push(AuthAttempt {
                mechanism: mech.name().to_string(),
                username: u.clone(),
                success: o.success,
                elapsed_ms: o.elapsed_ms,
                response: Some(o.response.clone()),
            });
            if o.success {
                return (out, Some(u.clone()));
            }
            if o.dropped() || !o.refusal.is_some_and(|k| k.is_credential_error()) {
                break;
            }
        }
        (out, None)
    }
}

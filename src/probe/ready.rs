//! A fresh connection ready to log in, for the stages after the probe that need one of their
//! own (`--all-mechs` reconnects, the round trip): the probe dialogue of [`open_session`] up to
//! the capabilities over TLS, then a certificate check, because these connections carry
//! credentials.
//!
//! [`connect_ready`]`(net, protocol, host, port, security) -> Result<`[`Ready`]`, String>`; the
//! error is one sentence (the failed probe step, or the unverified certificate).

use super::netglue;
use super::session::Session;
use super::{ProbeOptions, open_session};
use crate::net::Net;
use crate::report::{Candidate, Outcome, Protocol, Security};

/// A session past the greeting (and STARTTLS / implicit TLS), with what the server offers.
pub struct Ready {
    pub session: Session,
    /// The greeting as the probe records it (`Probe.greeting`).
    pub greeting: String,
    /// IMAP capabilities, POP3 CAPA lines or EHLO keyword lines seen last.
    pub caps: Vec<String>,
    /// SASL mechanisms offered, upper-cased.
    pub sasl: Vec<String>,
}

/// Connect to `host:port` (through `--connect-to`/`--resolve`), read the greeting, do TLS as
/// `security` says and learn the capabilities. `Security::Plain` leaves the session without TLS:
/// the caller decides whether a credential may go over it (`--allow-plaintext-auth`). A TLS
/// session whose certificate does not verify is closed and refused: nothing but the probe's own
/// login may send credentials over it.
pub async fn connect_ready(
    net: &Net,
    protocol: Protocol,
    host: &str,
    port: u16,
    security: Security,
) -> Result<Ready, String> {
    let candidate = Candidate {
        protocol,
        host: host.to_string(),
        port,
        security,
        username: None,
        auth: Vec::new(),
        sources: Vec::new(),
    };
    let (probe, session) = open_session(net, &candidate, &ProbeOptions::default()).await;
    let mut session = match (probe.outcome, session) {
        (_, Some(s)) => s,
        (Outcome::Failed { phase, error, .. }, None) => return Err(format!("{phase}: {error}")),
        (Outcome::Working { .. }, None) => return Err("the connection was not kept open".into()),
    };
    if let Some(tls) = session.tls()
        && !tls.verified
    {
        let why = tls
            .verify_error
            .clone()
            .unwrap_or_else(|| "unknown reason".into());
        let detail = netglue::describe(session.tls_problems());
        session.close().await;
        return Err(format!(
            "certificate of {host} not verified ({why}{}{detail}): no credentials sent",
            if detail.is_empty() { "" } else { ": " }
        ));
    }
    Ok(Ready {
        greeting: probe.greeting.unwrap_or_default(),
        caps: session.capabilities().to_vec(),
        sasl: session.sasl().to_vec(),
        session,
    })
}

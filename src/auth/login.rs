//! The login dialogues of IMAP (`AUTHENTICATE`, RFC 9051 §6.2.2, SASL-IR RFC 4959; `LOGIN`
//! §6.2.3), POP3 (`AUTH`, RFC 5034; `USER`/`PASS`, RFC 1939 §7) and SMTP (`AUTH`, RFC 4954):
//! the decisions (initial response or not, how many rounds, when to cancel), with the commands
//! and the meaning of each server line from the protocol layer, written against its [`Wire`]
//! trait so they run on a session and, in the unit tests (`login/tests.rs`), on a scripted wire.

use std::time::Instant;

use super::credentials::Secret;
use super::refusal::{self, RefusalKind};
use super::sasl::{self, Mech, SaslClient};
use crate::model::Protocol;
use crate::proto::login::{LoginLine, SASL_CANCEL, challenge_response, classify, initial_response};
pub use crate::proto::login::{Wire, WireError};
use crate::proto::transcript::{Secrets, secret_part};
use crate::proto::{Capability, CapabilitySet, Channel, Offered, Redact, imap, pop3, smtp};

/// Passes lines through and remembers every form of the credential sent (what each sent line
/// redacts, and each form registered with [`Wire::hide`]), so that they can be scrubbed from
/// what the server says back into the attempt's response.
struct Recording<'w, W> {
    inner: &'w mut W,
    secrets: Secrets,
}

impl<W: Wire> Wire for Recording<'_, W> {
    fn channel(&self) -> Channel {
        self.inner.channel()
    }
    fn hide(&mut self, form: &str) {
        self.secrets.add(form);
        self.inner.hide(form);
    }
    async fn send_line(&mut self, line: &str, redact: Redact) -> Result<(), WireError> {
        if let Some(part) = secret_part(line, redact) {
            self.secrets.add(part);
        }
        self.inner.send_line(line, redact).await
    }
    async fn recv_line(&mut self) -> Result<String, WireError> {
        self.inner.recv_line().await
    }
    fn next_tag(&mut self) -> String {
        self.inner.next_tag()
    }
}

/// Every form of `secret` a server could echo that the sent lines do not show as such: the
/// secret itself (inside a decoded SASL response), its base64 (SASL LOGIN's answer), and its
/// RFC 9051 §4.3 quoted form (IMAP `LOGIN`).
fn hide_secret<W: Wire>(w: &mut W, secret: &str) {
    w.hide(secret);
    w.hide(&sasl::b64(secret.as_bytes()));
    let quoted = imap::quote(secret);
    w.hide(&quoted[1..quoted.len() - 1]);
}

/// The line that starts a SASL exchange, and how a transcript stores it.
fn auth_command(
    proto: Protocol,
    tag: &str,
    mechanism: &str,
    initial: Option<&str>,
) -> (String, Redact) {
    match proto {
        Protocol::Imap => {
            let c = imap::Command::Authenticate { mechanism, initial };
            (c.tagged(tag), c.redact())
        }
        Protocol::Pop3 => {
            let c = pop3::Command::Auth { mechanism, initial };
            (c.command(), c.redact())
        }
        Protocol::Smtp => {
            let c = smtp::Command::Auth { mechanism, initial };
            (c.command(), c.redact())
        }
    }
}

/// Result of one login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoginResult {
    pub success: bool,
    /// The server's final answer (or the client-side reason); never contains the secret.
    pub response: String,
    /// Decoded refusal, `None` on success.
    pub refusal: Option<RefusalKind>,
    pub elapsed_ms: u64,
}

impl LoginResult {
    /// The connection is unusable after this attempt.
    pub fn dropped(&self) -> bool {
        self.refusal == Some(RefusalKind::ConnectionDropped)
    }
}

/// One login attempt with `mech` as `user`. `caps` are the capabilities in effect (for IMAP
/// `SASL-IR`); `host`/`port` go into OAUTHBEARER's GS2 header.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn attempt<W: Wire>(
    w: &mut W,
    proto: Protocol,
    mech: Mech,
    user: &str,
    secret: &Secret,
    host: &str,
    port: u16,
    caps: &[String],
) -> LoginResult {
    let start = Instant::now();
    let mut rec = Recording {
        inner: w,
        secrets: Secrets::default(),
    };
    hide_secret(&mut rec, secret.expose());
    let w = &mut rec;
    let r = match (proto, mech) {
        (Protocol::Imap, Mech::LoginCmd) => imap_login_cmd(w, user, secret).await,
        (Protocol::Pop3, Mech::UserPass) => pop3_user_pass(w, user, secret).await,
        (_, Mech::LoginCmd | Mech::UserPass) => Err(LoginError::Client(format!(
            "{} is not a {} command",
            mech.name(),
            proto_name(proto)
        ))),
        _ => {
            let ir = proto != Protocol::Imap
                || Offered::from_lines(Protocol::Imap, caps).has(Capability::SaslIr);
            sasl_exchange(
                w,
                proto,
                SaslClient::new(mech, user, secret, host, port),
                ir,
            )
            .await
        }
    };
    let elapsed_ms = start.elapsed().as_millis() as u64;
    // A server that echoes the client's line in its error must not put the credential into the
    // report: scrub the secret and every credential token sent.
    let r = match r {
        Ok(x) => Ok(rec.secrets.scrub(&x)),
        Err(LoginError::Refused(x)) => Err(LoginError::Refused(rec.secrets.scrub(&x))),
        Err(e) => Err(e),
    };
    match r {
        Ok(resp) => LoginResult {
            success: true,
            response: resp,
            refusal: None,
            elapsed_ms,
        },
        Err(LoginError::Refused(resp)) => {
            let kind = refusal::decode(&resp).kind;
            LoginResult {
                success: false,
                response: resp,
                refusal: Some(kind),
                elapsed_ms,
            }
        }
        Err(LoginError::Wire(e)) => LoginResult {
            success: false,
            response: format!("{e} during authentication"),
            refusal: Some(match e {
                WireError::Timeout => RefusalKind::Temporary,
                _ => RefusalKind::ConnectionDropped,
            }),
            elapsed_ms,
        },
        Err(LoginError::Client(msg)) => LoginResult {
            success: false,
            response: msg,
            refusal: Some(RefusalKind::Unknown),
            elapsed_ms,
        },
    }
}

fn proto_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Imap => "IMAP",
        Protocol::Pop3 => "POP3",
        Protocol::Smtp => "SMTP",
    }
}

enum LoginError {
    /// The server said no; its answer.
    Refused(String),
    Wire(WireError),
    /// Client-side problem (bad challenge, unsupported combination).
    Client(String),
}

impl From<WireError> for LoginError {
    fn from(e: WireError) -> Self {
        LoginError::Wire(e)
    }
}

/// One SASL authentication (RFC 4422 §3): the AUTH command, then a response to each challenge
/// until the server accepts or refuses; more than 8 rounds is cancelled.
async fn sasl_exchange<W: Wire>(
    w: &mut W,
    proto: Protocol,
    mut client: SaslClient<'_>,
    allow_ir: bool,
) -> Result<String, LoginError> {
    let tag = if proto == Protocol::Imap {
        w.next_tag()
    } else {
        String::new()
    };
    let mut pending_initial = send_auth(w, proto, &tag, &client, allow_ir).await?;
    let mut multiline = Vec::new();
    let mut rounds = 0;
    loop {
        let line = w.recv_line().await?;
        match classify(proto, &tag, &line) {
            LoginLine::Other => {
                if proto == Protocol::Smtp {
                    multiline.push(line);
                }
            }
            LoginLine::Success => return Ok(line),
            LoginLine::Failure => {
                multiline.push(line);
                let mut resp = multiline.join(" ");
                if let Some(json) = &client.oauth_error {
                    resp.push_str(&format!(" (error challenge: {json})"));
                }
                return Err(LoginError::Refused(resp));
            }
            LoginLine::Challenge(text) => {
                multiline.clear();
                rounds += 1;
                if rounds > 8 {
                    w.send_line(SASL_CANCEL, Redact::No).await?;
                    return Err(LoginError::Client("too many SASL challenges".into()));
                }
                let reply = match pending_initial.take() {
                    Some(ir) => Ok(ir),
                    None => sasl::unb64(&text).and_then(|c| client.respond(&c)),
                };
                answer_challenge(w, client.mech(), reply).await?;
            }
        }
    }
}

/// Sends the AUTH command, with the initial response when the server takes one (SASL-IR) and
/// the line allows it; returns the initial response still to be sent after the first (empty)
/// challenge.
async fn send_auth<W: Wire>(
    w: &mut W,
    proto: Protocol,
    tag: &str,
    client: &SaslClient<'_>,
    allow_ir: bool,
) -> Result<Option<Vec<u8>>, LoginError> {
    let mech = client.mech();
    let pending_initial = client.initial();
    if let Some(ir) = &pending_initial {
        hide_response(w, mech, ir);
    }
    let with_ir = pending_initial
        .as_ref()
        .filter(|_| allow_ir)
        .map(|ir| auth_command(proto, tag, mech.name(), Some(&initial_response(ir))));
    // RFC 5034 §4: a POP3 initial response that does not fit a 255-octet line must wait for
    // the server's empty challenge instead (OAuth tokens easily exceed it).
    let with_ir = with_ir.filter(|(l, _)| proto != Protocol::Pop3 || l.len() + 2 <= 255);
    match with_ir {
        Some((line, redact)) => {
            w.send_line(&line, redact).await?;
            Ok(None)
        }
        None => {
            let (line, redact) = auth_command(proto, tag, mech.name(), None);
            w.send_line(&line, redact).await?;
            Ok(pending_initial)
        }
    }
}

/// Sends the response to one challenge, or cancels the exchange (RFC 4422 §3.5) when the
/// client could not compute one.
async fn answer_challenge<W: Wire>(
    w: &mut W,
    mech: Mech,
    reply: Result<Vec<u8>, sasl::SaslError>,
) -> Result<(), LoginError> {
    match reply {
        Ok(bytes) => {
            hide_response(w, mech, &bytes);
            let enc = challenge_response(&bytes);
            // An empty OAuth response acknowledges an error challenge (RFC 7628 §3.2.3):
            // nothing secret in it.
            let secret = !mech.is_oauth() || !bytes.is_empty();
            let redact = if secret { Redact::All } else { Redact::No };
            w.send_line(&enc, redact).await?;
            Ok(())
        }
        Err(e) => {
            w.send_line(SASL_CANCEL, Redact::No).await?;
            let _ = w.recv_line().await;
            Err(LoginError::Client(e.to_string()))
        }
    }
}

/// Hide one SASL response (raw bytes) in every form a server could echo: its base64 (also
/// what the sent line redacts), the text itself, and for CRAM-MD5 the digest alone
/// (RFC 2195 §2: the response is `user SP digest`). An empty response is not secret.
fn hide_response<W: Wire>(w: &mut W, mech: Mech, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    w.hide(&sasl::b64(bytes));
    let text = String::from_utf8_lossy(bytes);
    w.hide(&text);
    if mech == Mech::CramMd5
        && let Some(digest) = text.rsplit(' ').next()
    {
        w.hide(digest);
    }
}

async fn imap_login_cmd<W: Wire>(
    w: &mut W,
    user: &str,
    secret: &Secret,
) -> Result<String, LoginError> {
    let pw = secret.expose();
    if pw.contains(['\r', '\n', '\0']) {
        return Err(LoginError::Client(
            "the password contains a line break or NUL".into(),
        ));
    }
    let tag = w.next_tag();
    if pw.is_ascii() {
        let c = imap::Command::Login { user, password: pw };
        w.send_line(&c.tagged(&tag), c.redact()).await?;
    } else {
        // RFC 9051 §4.3: 8-bit data only in a literal; wait for the continuation first.
        let c = imap::Command::LoginLiteral {
            user,
            len: pw.len(),
        };
        w.send_line(&c.tagged(&tag), c.redact()).await?;
        let l = w.recv_line().await?;
        if !matches!(classify(Protocol::Imap, &tag, &l), LoginLine::Challenge(_)) {
            return Err(LoginError::Refused(l));
        }
        w.send_line(pw, Redact::All).await?;
    }
    loop {
        let l = w.recv_line().await?;
        match classify(Protocol::Imap, &tag, &l) {
            LoginLine::Success => return Ok(l),
            LoginLine::Failure => return Err(LoginError::Refused(l)),
            _ => {}
        }
    }
}

async fn pop3_user_pass<W: Wire>(
    w: &mut W,
    user: &str,
    secret: &Secret,
) -> Result<String, LoginError> {
    let ok = |l: &str| classify(Protocol::Pop3, "", l) == LoginLine::Success;
    let c = pop3::Command::User(user);
    w.send_line(&c.command(), c.redact()).await?;
    let l = w.recv_line().await?;
    if !ok(&l) {
        return Err(LoginError::Refused(l));
    }
    let c = pop3::Command::Pass(secret.expose());
    w.send_line(&c.command(), c.redact()).await?;
    let l = w.recv_line().await?;
    if ok(&l) {
        Ok(l)
    } else {
        Err(LoginError::Refused(l))
    }
}

#[cfg(test)]
mod tests;

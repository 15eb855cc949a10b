//! SASL client mechanisms as pure functions over bytes: PLAIN (RFC 4616), LOGIN
//! (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195), XOAUTH2 (Google's protocol document) and
//! OAUTHBEARER (RFC 7628), plus the choice of mechanism. The protocol framing (IMAP
//! `AUTHENTICATE`, POP3 `AUTH`, SMTP `AUTH`) lives in `login.rs`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};

use super::credentials::Secret;
use crate::model::Protocol;

/// A way to log in. The last two are not SASL: the IMAP `LOGIN` command (RFC 9051 §6.2.3) and
/// POP3 `USER`/`PASS` (RFC 1939 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mech {
    OAuthBearer,
    XOAuth2,
    CramMd5,
    Plain,
    Login,
    /// IMAP `LOGIN user pass`.
    LoginCmd,
    /// POP3 `USER` + `PASS`.
    UserPass,
}

impl Mech {
    /// Name as reported in `AuthAttempt.mechanism` and accepted by `--auth-mech`.
    pub fn name(self) -> &'static str {
        match self {
            Mech::OAuthBearer => "OAUTHBEARER",
            Mech::XOAuth2 => "XOAUTH2",
            Mech::CramMd5 => "CRAM-MD5",
            Mech::Plain => "PLAIN",
            Mech::Login => "LOGIN",
            Mech::LoginCmd => "LOGIN-CMD",
            Mech::UserPass => "USER-PASS",
        }
    }
    pub fn from_name(s: &str) -> Option<Mech> {
        let all = [
            Mech::OAuthBearer,
            Mech::XOAuth2,
            Mech::CramMd5,
            Mech::Plain,
            Mech::Login,
            Mech::LoginCmd,
            Mech::UserPass,
        ];
        all.into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
    }
    /// Uses an OAuth2 token rather than a password.
    pub fn is_oauth(self) -> bool {
        matches!(self, Mech::OAuthBearer | Mech::XOAuth2)
    }
}

/// Mechanisms to try, strongest first. `offered` are the advertised SASL names; `legacy` says
/// the non-SASL command is usable (IMAP without `LOGINDISABLED`, POP3 `USER` in CAPA or no CAPA).
/// With `forced`, only that one (even when not advertised: the user asked). With `all`, every
/// usable one. Otherwise the first usable one — the loop in `login.rs` stops at the first
/// success anyway, so the list also serves as the fallback order.
pub fn choose(
    proto: Protocol,
    offered: &[String],
    legacy: bool,
    have_password: bool,
    have_token: bool,
    forced: Option<Mech>,
    all: bool,
) -> Vec<Mech> {
    if let Some(m) = forced {
        return vec![m];
    }
    let has = |n: &str| offered.iter().any(|o| o.eq_ignore_ascii_case(n));
    let mut out = Vec::new();
    // Strongest first: tokens (no password on the wire), then challenge-response, then the
    // password in clear inside TLS.
    for m in [
        Mech::OAuthBearer,
        Mech::XOAuth2,
        Mech::CramMd5,
        Mech::Plain,
        Mech::Login,
    ] {
        let usable = if m.is_oauth() {
            have_token
        } else {
            have_password
        };
        if usable && has(m.name()) {
            out.push(m);
        }
    }
    if have_password && legacy {
        match proto {
            Protocol::Imap => out.push(Mech::LoginCmd),
            Protocol::Pop3 => out.push(Mech::UserPass),
            Protocol::Smtp => {}
        }
    }
    if !all {
        out.truncate(1);
    }
    out
}

/// Errors of a SASL exchange detected on the client side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    #[error("the server's challenge is not valid base64")]
    BadBase64,
    #[error("unexpected challenge for {0}")]
    Unexpected(&'static str),
    #[error("mechanism {0} needs a password")]
    NoPassword(&'static str),
    #[error("mechanism {0} needs an OAuth2 token")]
    NoToken(&'static str),
}

/// One SASL exchange in progress. Responses are raw bytes; the caller base64-encodes them.
pub(crate) struct SaslClient<'a> {
    mech: Mech,
    user: &'a str,
    secret: &'a Secret,
    host: &'a str,
    port: u16,
    step: u32,
    /// The server's error JSON after an OAuth failure challenge (RFC 7628 §3.2.2).
    pub oauth_error: Option<String>,
}

impl<'a> SaslClient<'a> {
    pub fn new(mech: Mech, user: &'a str, secret: &'a Secret, host: &'a str, port: u16) -> Self {
        SaslClient {
            mech,
            user,
            secret,
            host,
            port,
            step: 0,
            oauth_error: None,
        }
    }

    pub fn mech(&self) -> Mech {
        self.mech
    }

    /// Initial response (client-first mechanisms), for SASL-IR (RFC 4959) or `AUTH M <ir>`.
    pub fn initial(&self) -> Option<Vec<u8>> {
        let (u, s) = (self.user, self.secret.expose());
        match self.mech {
            Mech::Plain => Some(format!("\0{u}\0{s}").into_bytes()),
            Mech::XOAuth2 => Some(format!("user={u}\x01auth=Bearer {s}\x01\x01").into_bytes()),
            Mech::OAuthBearer => Some(
                format!(
                    "n,a={},\x01host={}\x01port={}\x01auth=Bearer {s}\x01\x01",
                    gs2_escape(u),
                    self.host,
                    self.port
                )
                .into_bytes(),
            ),
            _ => None,
        }
    }

    /// Answer one server challenge (already base64-decoded).
    pub fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        self.step += 1;
        match self.mech {
            Mech::Login => {
                // Servers send "Username:" / "Password:" (some send "User Name"); fall back on
                // the step number when the prompt is something else.
                let text = String::from_utf8_lossy(challenge).to_ascii_lowercase();
                if text.contains("pass") || (self.step >= 2 && !text.contains("user")) {
                    Ok(self.secret.expose().as_bytes().to_vec())
                } else {
                    Ok(self.user.as_bytes().to_vec())
                }
            }
            Mech::CramMd5 if self.step == 1 => Ok(cram_md5(self.user, self.secret, challenge)),
            Mech::XOAuth2 | Mech::OAuthBearer => {
                // A challenge after the initial response is the error JSON; the client must
                // answer (empty for XOAUTH2, %x01 for OAUTHBEARER, RFC 7628 §3.2.3) and the
                // server then sends the failure.
                self.oauth_error = Some(String::from_utf8_lossy(challenge).into_owned());
                Ok(if self.mech == Mech::OAuthBearer {
                    vec![1]
                } else {
                    Vec::new()
                })
            }
            Mech::Plain if challenge.is_empty() && self.step == 1 => {
                Ok(self.initial().unwrap_or_default())
            }
            _ => Err(SaslError::Unexpected(self.mech.name())),
        }
    }
}

/// RFC 5801 §5.1: `,` → `=2C`, `=` → `=3D` in the authzid.
fn gs2_escape(s: &str) -> String {
    s.replace('=', "=3D").replace(',', "=2C")
}

/// RFC 2195 §2: `user SP hex(HMAC-MD5(password, challenge))`.
pub fn cram_md5(user: &str, secret: &Secret, challenge: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<md5::Md5> as Mac>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(challenge);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{user} {hex}").into_bytes()
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Decode a challenge; `=` or empty is the empty challenge (RFC 4954 §4, RFC 9051 §6.2.2).
pub(crate) fn unb64(text: &str) -> Result<Vec<u8>, SaslError> {
    let t = text.trim();
    if t.is_empty() || t == "=" {
        return Ok(Vec::new());
    }
    B64.decode(t).map_err(|_| SaslError::BadBase64)
}

/// The `status` of an XOAUTH2 / OAUTHBEARER error JSON (`{"status":"401",...}` or
/// `{"status":"invalid_token",...}`); `None` when the text is not such JSON.
pub fn oauth_status(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.get("status")
        .and_then(|s| s.as_str().map(str::to_string).or(Some(s.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Secret {
        Secret::new(x)
    }

    #[test]
    fn plain_and_xoauth2_initial() {
        let pw = s("pw");
        let c = SaslClient::new(Mech::Plain, "alice", &pw, "h", 1);
        assert_eq!(c.initial().unwrap(), b"\0alice\0pw");
        let c = SaslClient::new(Mech::XOAuth2, "a@b", &pw, "h", 1);
        assert_eq!(
            b64(&c.initial().unwrap()),
            "dXNlcj1hQGIBYXV0aD1CZWFyZXIgcHcBAQ=="
        );
        let c = SaslClient::new(Mech::OAuthBearer, "a,b=c", &pw, "imap.x", 993);
        assert_eq!(
            c.initial().unwrap(),
            b"n,a=a=2Cb=3Dc,\x01host=imap.x\x01port=993\x01auth=Bearer pw\x01\x01"
        );
    }

    #[test]
    fn cram_md5_rfc2195_example() {
        // RFC 2195 §2 example.
        let pw = s("tanstaaftanstaaf");
        let mut c = SaslClient::new(Mech::CramMd5, "tim", &pw, "h", 1);
        let r = c
            .respond(b"<1896.697170952@postoffice.reston.mci.net>")
            .unwrap();
        assert_eq!(r, b"tim b913a602c7eda7a495b4e6e7334d3890");
        assert!(c.respond(b"again").is_err());
    }

    #[test]
    fn login_prompts() {
        let pw = s("pw");
        let mut c = SaslClient::new(Mech::Login, "alice", &pw, "h", 1);
        assert_eq!(c.respond(b"Username:").unwrap(), b"alice");
        assert_eq!(c.respond(b"Password:").unwrap(), b"pw");
        let mut c = SaslClient::new(Mech::Login, "alice", &pw, "h", 1);
        assert_eq!(c.respond(b"").unwrap(), b"alice");
        assert_eq!(c.respond(b"").unwrap(), b"pw");
    }

    #[test]
    fn oauth_error_challenge() {
        let pw = s("tok");
        let mut c = SaslClient::new(Mech::XOAuth2, "a", &pw, "h", 1);
        let json = r#"{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}"#;
        assert_eq!(c.respond(json.as_bytes()).unwrap(), b"");
        assert_eq!(
            oauth_status(c.oauth_error.as_deref().unwrap()).as_deref(),
            Some("401")
        );
        let mut c = SaslClient::new(Mech::OAuthBearer, "a", &pw, "h", 1);
        assert_eq!(
            c.respond(br#"{"status":"invalid_token"}"#).unwrap(),
            b"\x01"
        );
    }

    #[test]
    fn choose_table() {
        let off = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let names = |v: Vec<Mech>| v.into_iter().map(Mech::name).collect::<Vec<_>>();
        let o = off(&["PLAIN", "LOGIN"]);
        assert_eq!(
            names(choose(Protocol::Imap, &o, true, true, false, None, false)),
            ["PLAIN"]
        );
        assert_eq!(
            names(choose(Protocol::Imap, &o, true, true, false, None, true)),
            ["PLAIN", "LOGIN", "LOGIN-CMD"]
        );
        let o = off(&["LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"]);
        assert_eq!(
            names(choose(Protocol::Smtp, &o, false, true, false, None, false)),
            ["CRAM-MD5"]
        );
        assert_eq!(
            names(choose(Protocol::Smtp, &o, false, true, true, None, true)),
            ["OAUTHBEARER", "XOAUTH2", "CRAM-MD5", "LOGIN"]
        );
        assert_eq!(
            names(choose(Protocol::Pop3, &[], true, true, false, None, false)),
            ["USER-PASS"]
        );
        assert!(choose(Protocol::Smtp, &[], false, true, false, None, false).is_empty());
        assert_eq!(
            names(choose(
                Protocol::Smtp,
                &[],
                false,
                true,
                false,
                Mech::from_name("login"),
                false
            )),
            ["LOGIN"]
        );
    }

    #[test]
    fn unb64_edge_cases() {
        assert_eq!(unb64("=").unwrap(), b"");
        assert_eq!(unb64("").unwrap(), b"");
        assert_eq!(unb64("VXNlcm5hbWU6").unwrap(), b"Username:");
        assert_eq!(unb64("***"), Err(SaslError::BadBase64));
    }
}

//! The login dialogues of IMAP (`AUTHENTICATE`, RFC 9051 §6.2.2, SASL-IR RFC 4959; `LOGIN`
//! §6.2.3), POP3 (`AUTH`, RFC 5034; `USER`/`PASS`, RFC 1939 §7) and SMTP (`AUTH`, RFC 4954),
//! written against the small [`Wire`] trait so they run on the probe's session and, in the unit
//! tests below, on a scripted wire.

use std::time::Instant;

use super::credentials::Secret;
use super::refusal::{self, RefusalKind};
use super::sasl::{self, Mech, Proto, SaslClient};
use super::wire::Recording;
pub use super::wire::{Wire, WireError};

/// Result of one login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub success: bool,
    /// The server's final answer (or the client-side reason); never contains the secret.
    pub response: String,
    /// Decoded refusal, `None` on success.
    pub refusal: Option<RefusalKind>,
    pub elapsed_ms: u64,
}

impl Outcome {
    /// The connection is unusable after this attempt.
    pub fn dropped(&self) -> bool {
        self.refusal == Some(RefusalKind::ConnectionDropped)
    }
}

/// One login attempt with `mech` as `user`. `caps` are the capabilities in effect (for IMAP
/// `SASL-IR`); `host`/`port` go into OAUTHBEARER's GS2 header.
#[allow(clippy::too_many_arguments)]
pub async fn attempt<W: Wire>(
    w: &mut W,
    proto: Proto,
    mech: Mech,
    user: &str,
    secret: &Secret,
    host: &str,
    port: u16,
    caps: &[String],
) -> Outcome {
    let start = Instant::now();
    let mut rec = Recording {
        inner: w,
        tokens: vec![secret.expose().to_string()],
    };
    let w = &mut rec;
    let r = match (proto, mech) {
        (Proto::Imap, Mech::LoginCmd) => imap_login_cmd(w, user, secret).await,
        (Proto::Pop3, Mech::UserPass) => pop3_user_pass(w, user, secret).await,
        (_, Mech::LoginCmd | Mech::UserPass) => Err(Fail::Client(format!(
            "{} is not a {} command",
            mech.name(),
            proto_name(proto)
        ))),
        _ => {
            let ir = proto != Proto::Imap || caps.iter().any(|c| c.eq_ignore_ascii_case("SASL-IR"));
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
        Ok(x) => Ok(rec.scrub(x)),
        Err(Fail::Refused(x)) => Err(Fail::Refused(rec.scrub(x))),
        Err(e) => Err(e),
    };
    match r {
        Ok(resp) => Outcome {
            success: true,
            response: resp,
            refusal: None,
            elapsed_ms,
        },
        Err(Fail::Refused(resp)) => {
            let kind = refusal::decode(&resp).kind;
            Outcome {
                success: false,
                response: resp,
                refusal: Some(kind),
                elapsed_ms,
            }
        }
        Err(Fail::Wire(e)) => Outcome {
            success: false,
            response: format!("{e} during authentication"),
            refusal: Some(match e {
                WireError::Timeout => RefusalKind::Temporary,
                _ => RefusalKind::ConnectionDropped,
            }),
            elapsed_ms,
        },
        Err(Fail::Client(msg)) => Outcome {
            success: false,
            response: msg,
            refusal: Some(RefusalKind::Unknown),
            elapsed_ms,
        },
    }
}

fn proto_name(p: Proto) -> &'static str {
    match p {
        Proto::Imap => "IMAP",
        Proto::Pop3 => "POP3",
        Proto::Smtp => "SMTP",
    }
}

enum Fail {
    /// The server said no; its answer.
    Refused(String),
    Wire(WireError),
    /// Client-side problem (bad challenge, unsupported combination).
    Client(String),
}

impl From<WireError> for Fail {
    fn from(e: WireError) -> Self {
        Fail::Wire(e)
    }
}

/// What a server line means inside a SASL exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum SaslLine {
    Challenge(String),
    Success,
    Failure,
    /// Untagged IMAP data or an SMTP continuation line: read on.
    Other,
}

/// Classify one server line of a SASL exchange (pure; table-tested).
pub fn classify(proto: Proto, tag: &str, line: &str) -> SaslLine {
    match proto {
        Proto::Imap => {
            if let Some(rest) = line.strip_prefix('+') {
                return SaslLine::Challenge(rest.trim().to_string());
            }
            let mut it = line.splitn(3, ' ');
            if it.next() == Some(tag) {
                return match it.next().map(str::to_ascii_uppercase).as_deref() {
                    Some("OK") => SaslLine::Success,
                    _ => SaslLine::Failure,
                };
            }
            SaslLine::Other
        }
        Proto::Pop3 => {
            if line.starts_with("+OK") {
                SaslLine::Success
            } else if line.starts_with("-ERR") {
                SaslLine::Failure
            } else if let Some(rest) = line.strip_prefix('+') {
                SaslLine::Challenge(rest.trim().to_string())
            } else {
                SaslLine::Failure
            }
        }
        Proto::Smtp => {
            if line.as_bytes().get(3) == Some(&b'-') {
                return SaslLine::Other;
            }
            match line.get(..3) {
                Some("334") => SaslLine::Challenge(line.get(4..).unwrap_or("").trim().to_string()),
                Some(c) if c.starts_with('2') => SaslLine::Success,
                _ => SaslLine::Failure,
            }
        }
    }
}

async fn sasl_exchange<W: Wire>(
    w: &mut W,
    proto: Proto,
    mut client: SaslClient<'_>,
    allow_ir: bool,
) -> Result<String, Fail> {
    let mech = client.mech();
    let tag = if proto == Proto::Imap {
        w.next_tag()
    } else {
        String::new()
    };
    let verb = match proto {
        Proto::Imap => format!("{tag} AUTHENTICATE {}", mech.name()),
        _ => format!("AUTH {}", mech.name()),
    };
    let mut pending_initial = client.initial();
    let with_ir = pending_initial.as_ref().filter(|_| allow_ir).map(|ir| {
        let enc = if ir.is_empty() {
            "=".to_string()
        } else {
            sasl::b64(ir)
        };
        format!("{verb} {enc}")
    });
    // RFC 5034 §4: a POP3 initial response that does not fit a 255-octet line must wait for
    // the server's empty challenge instead (OAuth tokens easily exceed it).
    let with_ir = with_ir.filter(|l| proto != Proto::Pop3 || l.len() + 2 <= 255);
    match with_ir {
        Some(line) => {
            w.send_line(&line, true).await?;
            pending_initial = None;
        }
        None => w.send_line(&verb, false).await?,
    }
    let mut multiline = Vec::new();
    let mut rounds = 0;
    loop {
        let line = w.recv_line().await?;
        match classify(proto, &tag, &line) {
            SaslLine::Other => {
                if proto == Proto::Smtp {
                    multiline.push(line);
                }
            }
            SaslLine::Success => return Ok(line),
            SaslLine::Failure => {
                multiline.push(line);
                let mut resp = multiline.join(" ");
                if let Some(json) = &client.oauth_error {
                    resp.push_str(&format!(" (error challenge: {json})"));
                }
                return Err(Fail::Refused(resp));
            }
            SaslLine::Challenge(text) => {
                multiline.clear();
                rounds += 1;
                if rounds > 8 {
                    w.send_line("*", false).await?;
                    return Err(Fail::Client("too many SASL challenges".into()));
                }
                let reply = if let Some(ir) = pending_initial.take() {
                    Ok(ir)
                } else {
                    sasl::unb64(&text).and_then(|c| client.respond(&c))
                };
                match reply {
                    Ok(bytes) => {
                        let enc = if bytes.is_empty() {
                            String::new()
                        } else {
                            sasl::b64(&bytes)
                        };
                        w.send_line(&enc, !mech.is_oauth() || !bytes.is_empty())
                            .await?;
                    }
                    Err(e) => {
                        // RFC 4954 §4 / RFC 9051 §6.2.2: "*" cancels the exchange.
                        w.send_line("*", false).await?;
                        let _ = w.recv_line().await;
                        return Err(Fail::Client(e.to_string()));
                    }
                }
            }
        }
    }
}

/// RFC 9051 §4.3 quoted string.
pub fn imap_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

async fn imap_login_cmd<W: Wire>(w: &mut W, user: &str, secret: &Secret) -> Result<String, Fail> {
    let pw = secret.expose();
    if pw.contains(['\r', '\n', '\0']) {
        return Err(Fail::Client(
            "the password contains a line break or NUL".into(),
        ));
    }
    let tag = w.next_tag();
    if pw.is_ascii() {
        let line = format!("{tag} LOGIN {} {}", imap_quote(user), imap_quote(pw));
        w.send_line(&line, true).await?;
    } else {
        // RFC 9051 §4.3: 8-bit data only in a literal; wait for the continuation first.
        w.send_line(
            &format!("{tag} LOGIN {} {{{}}}", imap_quote(user), pw.len()),
            false,
        )
        .await?;
        let l = w.recv_line().await?;
        if !l.starts_with('+') {
            return Err(Fail::Refused(l));
        }
        w.send_line(pw, true).await?;
    }
    loop {
        let l = w.recv_line().await?;
        match classify(Proto::Imap, &tag, &l) {
            SaslLine::Success => return Ok(l),
            SaslLine::Failure => return Err(Fail::Refused(l)),
            _ => {}
        }
    }
}

async fn pop3_user_pass<W: Wire>(w: &mut W, user: &str, secret: &Secret) -> Result<String, Fail> {
    w.send_line(&format!("USER {user}"), false).await?;
    let l = w.recv_line().await?;
    if !l.starts_with("+OK") {
        return Err(Fail::Refused(l));
    }
    w.send_line(&format!("PASS {}", secret.expose()), true)
        .await?;
    let l = w.recv_line().await?;
    if l.starts_with("+OK") {
        Ok(l)
    } else {
        Err(Fail::Refused(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A scripted wire: records what the client sent, answers from a queue.
    struct Script {
        sent: Vec<(String, bool)>,
        replies: VecDeque<String>,
    }
    impl Wire for Script {
        async fn send_line(&mut self, line: &str, secret: bool) -> Result<(), WireError> {
            self.sent.push((line.to_string(), secret));
            Ok(())
        }
        async fn recv_line(&mut self) -> Result<String, WireError> {
            self.replies.pop_front().ok_or(WireError::Closed)
        }
        fn next_tag(&mut self) -> String {
            "t1".into()
        }
    }
    fn script(replies: &[&str]) -> Script {
        Script {
            sent: vec![],
            replies: replies.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn classify_table() {
        use SaslLine::*;
        let cases: &[(Proto, &str, SaslLine)] = &[
            (
                Proto::Imap,
                "+ VXNlcm5hbWU6",
                Challenge("VXNlcm5hbWU6".into()),
            ),
            (Proto::Imap, "+", Challenge(String::new())),
            (
                Proto::Imap,
                "t1 OK [CAPABILITY IMAP4rev1] Logged in",
                Success,
            ),
            (Proto::Imap, "t1 NO [AUTHENTICATIONFAILED] x", Failure),
            (Proto::Imap, "* CAPABILITY IMAP4rev1", Other),
            (Proto::Pop3, "+OK Logged in.", Success),
            (Proto::Pop3, "+ ", Challenge(String::new())),
            (Proto::Pop3, "-ERR [AUTH] no", Failure),
            (
                Proto::Smtp,
                "334 VXNlcm5hbWU6",
                Challenge("VXNlcm5hbWU6".into()),
            ),
            (Proto::Smtp, "235 2.7.0 Authentication successful", Success),
            (Proto::Smtp, "535-5.7.8 first", Other),
            (Proto::Smtp, "535 5.7.8 last", Failure),
        ];
        for (p, line, want) in cases {
            assert_eq!(classify(*p, "t1", line), *want, "{line}");
        }
    }

    #[tokio::test]
    async fn smtp_login_dialogue() {
        let pw = Secret::new("pw");
        let mut s = script(&["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 ok"]);
        let o = attempt(&mut s, Proto::Smtp, Mech::Login, "al", &pw, "h", 587, &[]).await;
        assert!(o.success, "{o:?}");
        assert_eq!(s.sent[0], ("AUTH LOGIN".to_string(), false));
        assert_eq!(s.sent[1], (sasl::b64(b"al"), true));
        assert_eq!(s.sent[2], (sasl::b64(b"pw"), true));
    }

    #[tokio::test]
    async fn imap_plain_with_and_without_sasl_ir() {
        let pw = Secret::new("pw");
        let caps = vec!["SASL-IR".to_string()];
        let mut s = script(&["* CAPABILITY x", "t1 OK done"]);
        let o = attempt(&mut s, Proto::Imap, Mech::Plain, "al", &pw, "h", 993, &caps).await;
        assert!(o.success);
        assert_eq!(
            s.sent[0],
            ("t1 AUTHENTICATE PLAIN AGFsAHB3".to_string(), true)
        );
        let mut s = script(&["+ "]);
        let o = attempt(&mut s, Proto::Imap, Mech::Plain, "al", &pw, "h", 993, &[]).await;
        assert!(o.dropped(), "{o:?}");
        assert!(s.sent[0].0.ends_with("AUTHENTICATE PLAIN") && !s.sent[0].1);
        assert_eq!(s.sent[1], ("AGFsAHB3".to_string(), true));
    }

    #[tokio::test]
    async fn xoauth2_error_challenge() {
        let tok = Secret::new("tok");
        let json = sasl::b64(br#"{"status":"401","schemes":"bearer"}"#);
        let mut s = script(&[
            &format!("334 {json}"),
            "535 5.7.8 Username and Password not accepted",
        ]);
        let o = attempt(&mut s, Proto::Smtp, Mech::XOAuth2, "a", &tok, "h", 587, &[]).await;
        assert_eq!(o.refusal, Some(RefusalKind::TokenInvalid), "{o:?}");
        assert_eq!(s.sent[1], (String::new(), false));
        assert!(!o.response.contains("tok"));
    }

    #[tokio::test]
    async fn pop3_user_pass_and_drop() {
        let pw = Secret::new("pw");
        let mut s = script(&["+OK", "-ERR [AUTH] Authentication failed."]);
        let o = attempt(&mut s, Proto::Pop3, Mech::UserPass, "a", &pw, "h", 995, &[]).await;
        assert_eq!(o.refusal, Some(RefusalKind::WrongPassword));
        assert_eq!(s.sent[1], ("PASS pw".to_string(), true));
        let mut s = script(&["+ "]);
        let o = attempt(&mut s, Proto::Pop3, Mech::CramMd5, "a", &pw, "h", 995, &[]).await;
        assert!(o.dropped());
    }

    #[tokio::test]
    async fn pop3_long_initial_response_waits_for_the_challenge() {
        let tok = Secret::new("t".repeat(300));
        let mut s = script(&["+ ", "+OK"]);
        let o = attempt(&mut s, Proto::Pop3, Mech::XOAuth2, "a", &tok, "h", 995, &[]).await;
        assert!(o.success, "{o:?}");
        assert_eq!(s.sent[0], ("AUTH XOAUTH2".to_string(), false));
        assert!(s.sent[1].1 && s.sent[1].0.len() > 300);
    }

    #[tokio::test]
    async fn imap_login_command_quoted_and_literal() {
        let pw = Secret::new("p\"w");
        let mut s = script(&["t1 OK"]);
        assert!(
            attempt(
                &mut s,
                Proto::Imap,
                Mech::LoginCmd,
                "al",
                &pw,
                "h",
                993,
                &[]
            )
            .await
            .success
        );
        assert_eq!(s.sent[0], (r#"t1 LOGIN "al" "p\"w""#.to_string(), true));
        let pw = Secret::new("pässwort");
        let mut s = script(&["+ go ahead", "t1 NO [AUTHENTICATIONFAILED] x"]);
        let o = attempt(
            &mut s,
            Proto::Imap,
            Mech::LoginCmd,
            "al",
            &pw,
            "h",
            993,
            &[],
        )
        .await;
        assert_eq!(o.refusal, Some(RefusalKind::WrongPassword));
        assert_eq!(s.sent[0], ("t1 LOGIN \"al\" {9}".to_string(), false));
        assert_eq!(s.sent[1], ("pässwort".to_string(), true));
    }

    #[tokio::test]
    async fn echoed_credentials_are_scrubbed() {
        let pw = Secret::new("hunter22");
        let ir = sasl::b64(b"\0al\0hunter22");
        let mut s = script(&[&format!("501 5.5.2 cannot decode {ir}")]);
        let o = attempt(&mut s, Proto::Smtp, Mech::Plain, "al", &pw, "h", 587, &[]).await;
        assert_eq!(o.response, "501 5.5.2 cannot decode <redacted>");
        let mut s = script(&["+OK", "-ERR bad password hunter22"]);
        let o = attempt(
            &mut s,
            Proto::Pop3,
            Mech::UserPass,
            "al",
            &pw,
            "h",
            995,
            &[],
        )
        .await;
        assert_eq!(o.response, "-ERR bad password <redacted>");
    }

    #[test]
    fn quoting() {
        assert_eq!(imap_quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}

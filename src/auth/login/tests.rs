//! The login dialogues on a scripted wire: every line sent and received, and what is redacted.

use super::*;
use std::collections::VecDeque;

/// A scripted wire: records what the client sent, answers from a queue.
struct Script {
    sent: Vec<(String, bool)>,
    replies: VecDeque<String>,
}
impl Wire for Script {
    fn channel(&self) -> Channel {
        Channel::Verified
    }
    fn hide(&mut self, _form: &str) {}
    async fn send_line(&mut self, line: &str, redact: Redact) -> Result<(), WireError> {
        self.sent.push((line.to_string(), redact != Redact::No));
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

#[tokio::test]
async fn smtp_login_dialogue() {
    let pw = Secret::new("pw");
    let mut s = script(&["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 ok"]);
    let o = attempt(
        &mut s,
        Protocol::Smtp,
        Mech::Login,
        "al",
        &pw,
        "h",
        587,
        &[],
    )
    .await;
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
    let o = attempt(
        &mut s,
        Protocol::Imap,
        Mech::Plain,
        "al",
        &pw,
        "h",
        993,
        &caps,
    )
    .await;
    assert!(o.success);
    assert_eq!(
        s.sent[0],
        ("t1 AUTHENTICATE PLAIN AGFsAHB3".to_string(), true)
    );
    let mut s = script(&["+ "]);
    let o = attempt(
        &mut s,
        Protocol::Imap,
        Mech::Plain,
        "al",
        &pw,
        "h",
        993,
        &[],
    )
    .await;
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
    let o = attempt(
        &mut s,
        Protocol::Smtp,
        Mech::XOAuth2,
        "a",
        &tok,
        "h",
        587,
        &[],
    )
    .await;
    assert_eq!(o.refusal, Some(RefusalKind::TokenInvalid), "{o:?}");
    assert_eq!(s.sent[1], (String::new(), false));
    assert!(!o.response.contains("tok"));
}

#[tokio::test]
async fn pop3_user_pass_and_drop() {
    let pw = Secret::new("pw");
    let mut s = script(&["+OK", "-ERR [AUTH] Authentication failed."]);
    let o = attempt(
        &mut s,
        Protocol::Pop3,
        Mech::UserPass,
        "a",
        &pw,
        "h",
        995,
        &[],
    )
    .await;
    assert_eq!(o.refusal, Some(RefusalKind::WrongPassword));
    assert_eq!(s.sent[1], ("PASS pw".to_string(), true));
    let mut s = script(&["+ "]);
    let o = attempt(
        &mut s,
        Protocol::Pop3,
        Mech::CramMd5,
        "a",
        &pw,
        "h",
        995,
        &[],
    )
    .await;
    assert!(o.dropped());
}

#[tokio::test]
async fn pop3_long_initial_response_waits_for_the_challenge() {
    let tok = Secret::new("t".repeat(300));
    let mut s = script(&["+ ", "+OK"]);
    let o = attempt(
        &mut s,
        Protocol::Pop3,
        Mech::XOAuth2,
        "a",
        &tok,
        "h",
        995,
        &[],
    )
    .await;
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
            Protocol::Imap,
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
        Protocol::Imap,
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
    let o = attempt(
        &mut s,
        Protocol::Smtp,
        Mech::Plain,
        "al",
        &pw,
        "h",
        587,
        &[],
    )
    .await;
    assert_eq!(o.response, "501 5.5.2 cannot decode <redacted>");
    let mut s = script(&["+OK", "-ERR bad password hunter22"]);
    let o = attempt(
        &mut s,
        Protocol::Pop3,
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

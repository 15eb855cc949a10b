//! Login against scripted servers: every row of the refusal table from a server of its
//! protocol, a server that drops the connection mid-AUTH, XOAUTH2's error challenge, and the
//! mechanisms the real stack does not offer (CRAM-MD5, OAUTHBEARER) plus SASL LOGIN without
//! SASL-IR.

use mailprobe::auth::refusal::{self, TABLE};
use mailprobe::auth::sasl::{self, Mech};
use mailprobe::auth::{self, Authenticator, Credentials, Secret, Target};
use mailprobe::model::{Probe, Protocol, Security};
use mailprobe::proto::connect_ready;

use super::{alice, codes, creds, plain_net};
use crate::support::scripted::{ScriptedServer, Step};

/// Log in once over a plain scripted server (plaintext allowed: the point is the decoding).
async fn scripted_login(
    proto: Protocol,
    script: Vec<Step>,
    c: Credentials,
) -> (Vec<mailprobe::model::AuthAttempt>, ScriptedServer) {
    let srv = ScriptedServer::start(script);
    let net = plain_net();
    let mut o = connect_ready(&net, proto, "127.0.0.1", srv.port(), Security::Plain)
        .await
        .expect("open");
    let a = Authenticator::new(
        Credentials {
            allow_plaintext: true,
            user: Some("alice".into()),
            ..c
        },
        &alice(),
    );
    let t = Target {
        protocol: proto,
        host: "127.0.0.1",
        port: srv.port(),
        security: Security::Plain,
        discovered_user: None,
        sources: &[],
    };
    let attempts = a.login_on(&mut o.session, &t, &o.caps, &o.sasl).await;
    (attempts, srv)
}

fn smtp_script(mechs: &str, then: Vec<Step>) -> Vec<Step> {
    let mut s = vec![
        Step::line("220 scripted ESMTP"),
        Step::expect("EHLO"),
        Step::line(&format!("250-scripted\r\n250 AUTH {mechs}")),
    ];
    s.extend(then);
    s
}

fn imap_script(caps: &str, then: Vec<Step>) -> Vec<Step> {
    let mut s = vec![
        Step::line("* OK scripted IMAP"),
        Step::expect("a1 CAPABILITY"),
        Step::line(&format!("* CAPABILITY IMAP4rev1 {caps}\r\na1 OK done")),
    ];
    s.extend(then);
    s
}

fn pop3_script(sasl: &str, then: Vec<Step>) -> Vec<Step> {
    let mut s = vec![
        Step::line("+OK scripted POP3"),
        Step::expect("CAPA"),
        Step::line(&format!("+OK\r\nUSER\r\nSASL {sasl}\r\n.")),
    ];
    s.extend(then);
    s
}

/// A sample server answer for each row of the refusal table, sent by a scripted server of the
/// row's protocol; the decoded finding must be the row's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_table_row_over_a_scripted_server() {
    let samples: &[(Protocol, &str)] = &[
        (
            Protocol::Imap,
            "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833",
        ),
        (
            Protocol::Smtp,
            "534 5.7.9 Please use an app password for this account",
        ),
        (
            Protocol::Smtp,
            "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria",
        ),
        (
            Protocol::Smtp,
            "535 5.7.139x Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
        ),
        (
            Protocol::Imap,
            "NO Basic authentication is disabled for this organization",
        ),
        (Protocol::Smtp, "535 5.7.3 Authentication unsuccessful"),
        (
            Protocol::Smtp,
            "534 5.7.14 <https://accounts.google.com/signin/continue> Sign in first",
        ),
        (Protocol::Pop3, "-ERR Please log in via your web browser"),
        (
            Protocol::Imap,
            "NO [ALERT] Your account is not enabled for IMAP use.",
        ),
        (
            Protocol::Pop3,
            "-ERR Your account is not enabled for POP access.",
        ),
        (Protocol::Imap, "NO IMAP access is disabled for this user"),
        (Protocol::Pop3, "-ERR POP3 access is disabled for this user"),
        (Protocol::Imap, "NO Account is locked"),
        (Protocol::Pop3, "-ERR Account is disabled"),
        (Protocol::Imap, "NO AUTHENTICATE failed."),
        (Protocol::Smtp, "535 invalid_token"),
        (Protocol::Smtp, "535 insufficient_scope"),
        (Protocol::Smtp, "535 {\"status\":\"401\"}"),
        (Protocol::Smtp, "535 {\"status\":\"400\"}"),
        (
            Protocol::Imap,
            "NO [AUTHENTICATIONFAILED] Authentication failed.",
        ),
        (
            Protocol::Imap,
            "NO [AUTHORIZATIONFAILED] No such authorization-ID",
        ),
        (Protocol::Imap, "NO [EXPIRED] Password expired"),
        (Protocol::Imap, "NO [PRIVACYREQUIRED] Connection not secure"),
        (Protocol::Imap, "NO [CONTACTADMIN] Call the helpdesk"),
        (Protocol::Imap, "NO [UNAVAILABLE] Backend down"),
        (Protocol::Imap, "NO [LIMIT] Too many connections"),
        (Protocol::Imap, "NO [INUSE] Mailbox in use"),
        (Protocol::Pop3, "-ERR [AUTH] Bad login"),
        (Protocol::Pop3, "-ERR [SYS/TEMP] Try later"),
        (Protocol::Pop3, "-ERR [SYS/PERM] Broken"),
        (Protocol::Pop3, "-ERR [IN-USE] Locked"),
        (Protocol::Pop3, "-ERR [LOGIN-DELAY] Wait"),
        (
            Protocol::Smtp,
            "535 5.7.8 Error: authentication failed: bad",
        ),
        (
            Protocol::Smtp,
            "534 5.7.9 Authentication mechanism is too weak",
        ),
        (
            Protocol::Smtp,
            "538 5.7.11 Encryption required for requested authentication mechanism",
        ),
        (Protocol::Smtp, "535 5.7.12 A password transition is needed"),
        (Protocol::Smtp, "454 4.7.0 Temporary authentication failure"),
        (
            Protocol::Smtp,
            "530 5.7.0 Must issue a STARTTLS command first",
        ),
        (Protocol::Smtp, "535 Go away"),
        (Protocol::Smtp, "534 Nope"),
        (Protocol::Smtp, "538 Nope"),
        (Protocol::Smtp, "454 Nope"),
        (Protocol::Smtp, "504 Unrecognized authentication type"),
        (Protocol::Pop3, "-ERR Invalid credentials"),
        (Protocol::Pop3, "-ERR Authentication failed"),
        (Protocol::Imap, "NO [ALERT] Come back tomorrow"),
    ];
    // Rows for what the client itself observes are proven by the drop test below.
    let mut covered: Vec<bool> = TABLE
        .iter()
        .map(|r| r.source.starts_with("mailprobe"))
        .collect();
    for (proto, answer) in samples {
        let script = match proto {
            Protocol::Smtp => smtp_script(
                "PLAIN",
                vec![Step::expect("AUTH PLAIN "), Step::line(answer)],
            ),
            Protocol::Imap => imap_script(
                "AUTH=PLAIN SASL-IR",
                vec![
                    Step::expect("a2 AUTHENTICATE PLAIN "),
                    Step::line(&format!("a2 {answer}")),
                ],
            ),
            Protocol::Pop3 => pop3_script(
                "PLAIN",
                vec![Step::expect("AUTH PLAIN "), Step::line(answer)],
            ),
        };
        let (attempts, srv) = scripted_login(*proto, script, creds("pw")).await;
        assert!(srv.failures().is_empty(), "{answer}: {:?}", srv.failures());
        assert_eq!(attempts.len(), 1, "{answer}: {attempts:?}");
        let resp = attempts[0].response.clone().unwrap();
        let r = refusal::decode(&resp);
        let row = r.row.unwrap_or_else(|| panic!("no row for {resp}"));
        covered[row] = true;
        let probe = fake_probe(*proto, attempts);
        let f = auth::login_findings(&[probe]);
        assert!(
            codes(&f).contains(&TABLE[row].kind.code().as_str()),
            "{answer}: {f:?}"
        );
        assert!(f.iter().any(|f| {
            f.hint
                .as_deref()
                .is_some_and(|h| h.contains(TABLE[row].source))
        }));
    }
    let missing: Vec<_> = covered
        .iter()
        .enumerate()
        .filter(|(_, c)| !**c)
        .map(|(i, _)| TABLE[i])
        .collect();
    assert!(
        missing.is_empty(),
        "rows without a scripted test: {missing:?}"
    );
}

fn fake_probe(proto: Protocol, attempts: Vec<mailprobe::model::AuthAttempt>) -> Probe {
    Probe {
        protocol: proto,
        host: "127.0.0.1".into(),
        port: 1,
        security: Security::Tls,
        sources: vec![],
        connected_to: None,
        addresses: vec![],
        steps: vec![],
        greeting: None,
        capabilities_plain: vec![],
        capabilities: vec![],
        sasl: vec![],
        tls: None,
        outcome: mailprobe::model::Outcome::Working { tls_valid: true },
        auth: attempts,
        transcript: None,
        elapsed_ms: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_drops_the_connection_mid_auth() {
    let script = smtp_script(
        "LOGIN",
        vec![
            Step::expect("AUTH LOGIN"),
            Step::line("334 VXNlcm5hbWU6"),
            Step::Close,
        ],
    );
    let (attempts, _srv) = scripted_login(Protocol::Smtp, script, creds("pw")).await;
    assert_eq!(attempts.len(), 1);
    assert!(!attempts[0].success);
    let f = auth::login_findings(&[fake_probe(Protocol::Smtp, attempts)]);
    assert!(codes(&f).contains(&"auth-connection-dropped"), "{f:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_error_challenge_is_answered_and_decoded() {
    let json =
        sasl::b64(br#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#);
    let ir = sasl::b64(b"user=alice\x01auth=Bearer tok-123\x01\x01");
    let script = smtp_script(
        "XOAUTH2 PLAIN",
        vec![
            Step::expect(&format!("AUTH XOAUTH2 {ir}")),
            Step::line(&format!("334 {json}")),
            Step::ReadLine,
            Step::line("535 5.7.8 Username and Password not accepted"),
        ],
    );
    let c = Credentials {
        oauth_token: Some(Secret::new("tok-123")),
        ..Credentials::default()
    };
    let (attempts, srv) = scripted_login(Protocol::Smtp, script, c).await;
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
    // The client answered the error challenge with an empty line (Google's XOAUTH2 protocol).
    assert_eq!(srv.lines().last().map(String::as_str), Some(""));
    assert_eq!(attempts[0].mechanism, "XOAUTH2");
    let resp = attempts[0].response.clone().unwrap();
    assert!(!resp.contains("tok-123"));
    let f = auth::login_findings(&[fake_probe(Protocol::Smtp, attempts)]);
    assert!(codes(&f).contains(&"auth-token-invalid"), "{f:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cram_md5_oauthbearer_and_login_succeed_on_scripted_servers() {
    // CRAM-MD5 (RFC 2195 §2): the expected digest is fixed by the challenge and the password.
    let challenge = "<1896.697170952@postoffice.reston.mci.net>";
    let answer = sasl::b64(&sasl::cram_md5(
        "alice",
        &Secret::new("tanstaaftanstaaf"),
        challenge.as_bytes(),
    ));
    let script = imap_script(
        "AUTH=CRAM-MD5 AUTH=PLAIN",
        vec![
            Step::expect("a2 AUTHENTICATE CRAM-MD5"),
            Step::line(&format!("+ {}", sasl::b64(challenge.as_bytes()))),
            Step::expect(&answer),
            Step::line("a2 OK logged in"),
        ],
    );
    let (attempts, srv) = scripted_login(Protocol::Imap, script, creds("tanstaaftanstaaf")).await;
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
    assert_eq!(
        (attempts[0].mechanism.as_str(), attempts[0].success),
        ("CRAM-MD5", true)
    );

    // OAUTHBEARER over POP3 with an initial response (RFC 7628 §4.1 example shape).
    let script = pop3_script(
        "OAUTHBEARER XOAUTH2",
        vec![
            Step::expect("AUTH OAUTHBEARER "),
            Step::line("+OK Logged in"),
        ],
    );
    let c = Credentials {
        oauth_token: Some(Secret::new("tok")),
        ..Credentials::default()
    };
    let (attempts, _srv) = scripted_login(Protocol::Pop3, script, c).await;
    assert_eq!(
        (attempts[0].mechanism.as_str(), attempts[0].success),
        ("OAUTHBEARER", true)
    );

    // SASL LOGIN over IMAP without SASL-IR.
    let script = imap_script(
        "AUTH=LOGIN",
        vec![
            Step::expect("a2 AUTHENTICATE LOGIN"),
            Step::line("+ VXNlcm5hbWU6"),
            Step::expect(&sasl::b64(b"alice")),
            Step::line("+ UGFzc3dvcmQ6"),
            Step::expect(&sasl::b64(b"pw")),
            Step::line("a2 OK ok"),
        ],
    );
    let (attempts, srv) = scripted_login(Protocol::Imap, script, creds("pw")).await;
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
    assert!(attempts[0].success, "{attempts:?}");
    assert_eq!(Mech::from_name("cram-md5"), Some(Mech::CramMd5));
}

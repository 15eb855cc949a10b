//! The round trip's mailbox side against scripted servers, for what Dovecot never does: a
//! search answering every UID (only the message whose own `Message-ID` and `X-Mailprobe-Token`
//! match is touched, and only by `UID EXPUNGE`), no UIDPLUS (STORE + EXPUNGE only when nothing
//! else is flagged `\Deleted`, else ours is left and the report says so), no IDLE (polling
//! with backoff), and a POP3 maildrop where only one message is ours. The servers record every
//! line, so each test proves what was (not) flagged, expunged or deleted.

use std::time::Duration;

use mailprobe::auth::{Authenticator, Credentials, Secret};
use mailprobe::config::NetConfig;
use mailprobe::model::{Deletion, Protocol, Security, Setting};
use mailprobe::net::Net;
use mailprobe::roundtrip::RoundtripError;
use mailprobe::roundtrip::imap_fetch::{Found, Ours, wait_and_fetch};

use crate::support::scripted::{ScriptedServer, Step};

const OURS: Ours<'static> = Ours {
    message_id: "<x@y>",
    token: "tok1",
};

const HEADER: &str = "Received: from localhost by mx.example.test with ESMTPSA id Q1; Fri, 27 Nov 2026 16:00:01 +0000\r\nMessage-ID: <x@y>\r\nX-Mailprobe-Token: tok1\r\n\r\n";

/// The identity fields of a message: our Message-ID with `token`, or another Message-ID.
fn fields(message_id: &str, token: &str) -> String {
    format!("Message-ID: {message_id}\r\nX-Mailprobe-Token: {token}\r\n\r\n")
}

/// Login (SASL-IR PLAIN), capabilities after login `caps` (no IDLE), one INBOX; then `rest`.
fn script(caps: &str, rest: Vec<Step>) -> Vec<Step> {
    let mut s = vec![
        Step::line("* OK scripted"),
        Step::expect("a1 CAPABILITY"),
        Step::line("* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\na1 OK"),
        Step::expect("a2 AUTHENTICATE PLAIN "),
        Step::line("a2 OK logged in"),
        Step::expect("a3 CAPABILITY"),
        Step::line(&format!("* CAPABILITY IMAP4rev1 {caps}\r\na3 OK")),
        Step::expect("a4 LIST \"\" \"*\""),
        Step::line("* LIST (\\HasNoChildren) \"/\" INBOX\r\na4 OK"),
    ];
    s.extend(rest);
    s
}

/// `UID FETCH uid (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID X-MAILPROBE-TOKEN)])` answered with
/// `body`, the FETCH response naming `answer_uid`.
fn identity(tag: u32, uid: u32, answer_uid: u32, body: &str) -> Vec<Step> {
    vec![
        Step::expect(&format!(
            "a{tag} UID FETCH {uid} (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID X-MAILPROBE-TOKEN)])"
        )),
        Step::line(&format!(
            "* 1 FETCH (UID {answer_uid} BODY[HEADER.FIELDS (MESSAGE-ID X-MAILPROBE-TOKEN)] {{{}}}\r\n{body})\r\na{tag} OK",
            body.len()
        )),
    ]
}

/// SELECT INBOX again, then the INTERNALDATE and whole header of `uid`.
fn fetch(select_tag: u32, uid: u32) -> Vec<Step> {
    let f = select_tag + 1;
    vec![
        Step::expect(&format!("a{select_tag} SELECT \"INBOX\"")),
        Step::line(&format!("a{select_tag} OK")),
        Step::expect(&format!(
            "a{f} UID FETCH {uid} (INTERNALDATE BODY.PEEK[HEADER])"
        )),
        Step::line(&format!(
            "* 1 FETCH (UID {uid} INTERNALDATE \"27-Nov-2026 16:00:03 +0000\" BODY[HEADER] {{{}}}\r\n{HEADER})\r\na{f} OK",
            HEADER.len()
        )),
    ]
}

async fn run(script: Vec<Step>, wait: Duration) -> (Found, ScriptedServer) {
    let srv = ScriptedServer::start(script);
    let net = Net::new(NetConfig {
        offline: true,
        timeout: Duration::from_secs(5),
        ..NetConfig::default()
    })
    .unwrap();
    let creds = Credentials {
        password: Some(Secret::new("pw")),
        allow_plaintext: true,
        ..Credentials::default()
    };
    let addr = mailprobe::address::parse("alice@example.test").unwrap();
    let auth = Authenticator::new(creds, &addr);
    let setting = Setting {
        protocol: Protocol::Imap,
        host: "127.0.0.1".into(),
        port: srv.port(),
        security: Security::Plain,
        username: None,
        auth: vec![],
    };
    let found = wait_and_fetch(&net, &setting, &auth, OURS, wait, false).await;
    (found, srv)
}

/// Lines that flag, expunge or delete.
fn destructive(srv: &ScriptedServer) -> Vec<String> {
    srv.lines()
        .into_iter()
        .filter(|l| l.contains("STORE") || l.contains("EXPUNGE") || l.starts_with("DELE "))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_answering_every_uid_deletes_only_ours() {
    let mut rest = vec![
        Step::expect("a5 SELECT \"INBOX\""),
        Step::line("* 6 EXISTS\r\na5 OK"),
        Step::expect("a6 UID SEARCH HEADER Message-ID \"<x@y>\""),
        Step::line("* SEARCH 1 2 3 4 5 6\r\na6 OK"),
    ];
    // Newest first: someone else's message; ours in a FETCH about another UID; our
    // Message-ID with another token; then ours.
    rest.extend(identity(7, 6, 6, &fields("<other@y>", "tok1")));
    rest.extend(identity(8, 5, 9, &fields("<x@y>", "tok1")));
    rest.extend(identity(9, 4, 4, &fields("<x@y>", "tok2")));
    rest.extend(identity(10, 3, 3, &fields("<x@y>", "tok1")));
    rest.extend(fetch(11, 3));
    rest.extend([
        Step::expect("a13 UID STORE 3 +FLAGS.SILENT (\\Deleted)"),
        Step::line("a13 OK"),
        Step::expect("a14 UID EXPUNGE 3"),
        Step::line("* 3 EXPUNGE\r\na14 OK"),
        Step::expect("a15 LOGOUT"),
        Step::line("* BYE\r\na15 OK"),
    ]);
    let (found, srv) = run(script("UIDPLUS", rest), Duration::from_secs(5)).await;
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
    assert_eq!(found.error, None);
    assert_eq!(found.uid, Some(3));
    assert_eq!(found.deletion, Some(Deletion::Deleted));
    assert_eq!(
        destructive(&srv),
        [
            "a13 UID STORE 3 +FLAGS.SILENT (\\Deleted)",
            "a14 UID EXPUNGE 3"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_answering_only_others_deletes_nothing() {
    let mut rest = vec![
        Step::expect("a5 SELECT \"INBOX\""),
        Step::line("* 2 EXISTS\r\na5 OK"),
        Step::expect("a6 UID SEARCH HEADER Message-ID \"<x@y>\""),
        Step::line("* SEARCH 1 2\r\na6 OK"),
    ];
    rest.extend(identity(7, 2, 2, &fields("<other@y>", "tok1")));
    rest.extend(identity(8, 1, 1, &fields("<x@y>", "wrong")));
    rest.extend([Step::expect("a9 LOGOUT"), Step::line("* BYE\r\na9 OK")]);
    let (found, srv) = run(script("UIDPLUS", rest), Duration::ZERO).await;
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
    assert!(
        matches!(found.error, Some(RoundtripError::NotArrived(_))),
        "{:?}",
        found.error
    );
    assert_eq!(found.deletion, None);
    assert!(destructive(&srv).is_empty(), "{:?}", destructive(&srv));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_uidplus_other_deleted_messages_leave_ours_in_place() {
    let mut rest = vec![
        Step::expect("a5 SELECT \"INBOX\""),
        Step::line("* 3 EXISTS\r\na5 OK"),
        Step::expect("a6 UID SEARCH HEADER Message-ID \"<x@y>\""),
        Step::line("* SEARCH 7\r\na6 OK"),
    ];
    rest.extend(identity(7, 7, 7, &fields("<x@y>", "tok1")));
    rest.extend(fetch(8, 7));
    rest.extend([
        Step::expect("a10 UID SEARCH DELETED"),
        Step::line("* SEARCH 3\r\na10 OK"),
        Step::expect("a11 UID STORE 7 +FLAGS.SILENT (\\Deleted)"),
        Step::line("a11 OK"),
        Step::expect("a12 LOGOUT"),
        Step::line("* BYE\r\na12 OK"),
    ]);
    let (found, srv) = run(script("", rest), Duration::from_secs(5)).await;
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
    assert_eq!(found.error, None);
    assert_eq!(found.deletion, Some(Deletion::LeftOthersDeleted));
    assert_eq!(found.uid, Some(7));
    assert_eq!(
        found.internal_date.as_deref(),
        Some("27-Nov-2026 16:00:03 +0000")
    );
    assert_eq!(found.header, HEADER.as_bytes());
    assert_eq!(found.method.as_deref(), Some("polling"));
    // Ours flagged, nothing expunged.
    assert_eq!(
        destructive(&srv),
        ["a11 UID STORE 7 +FLAGS.SILENT (\\Deleted)"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_uidplus_and_idle_polls_then_stores_and_expunges() {
    let mut rest = vec![
        Step::expect("a5 SELECT \"INBOX\""),
        Step::line("a5 OK"),
        Step::expect("a6 UID SEARCH HEADER"),
        Step::line("* SEARCH\r\na6 OK"),
        // Not there yet: the client polls again after a pause.
        Step::expect("a7 SELECT \"INBOX\""),
        Step::line("* 1 EXISTS\r\na7 OK"),
        Step::expect("a8 UID SEARCH HEADER"),
        Step::line("* SEARCH 7\r\na8 OK"),
    ];
    rest.extend(identity(9, 7, 7, &fields("<x@y>", "tok1")));
    rest.extend(fetch(10, 7));
    rest.extend([
        Step::expect("a12 UID SEARCH DELETED"),
        Step::line("* SEARCH\r\na12 OK"),
        Step::expect("a13 UID STORE 7 +FLAGS.SILENT (\\Deleted)"),
        Step::line("a13 OK"),
        Step::expect("a14 EXPUNGE"),
        Step::line("* 1 EXPUNGE\r\na14 OK"),
        Step::expect("a15 LOGOUT"),
        Step::line("* BYE\r\na15 OK"),
    ]);
    let (found, srv) = run(script("", rest), Duration::from_secs(5)).await;
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
    assert_eq!(found.error, None);
    assert_eq!(found.deletion, Some(Deletion::Deleted));
}

/// POP3: of three messages, only the one whose Message-ID and token both match is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_deletes_only_the_message_that_is_ours() {
    let top = |n: u32, body: &str| {
        vec![
            Step::expect(&format!("TOP {n} 0")),
            Step::line(&format!("+OK\r\n{}.", body.replace("\r\n\r\n", "\r\n"))),
        ]
    };
    let mut s = vec![
        Step::line("+OK scripted"),
        Step::expect("CAPA"),
        Step::line("+OK\r\nUSER\r\nSASL PLAIN\r\n."),
        Step::expect("AUTH PLAIN "),
        Step::line("+OK logged in"),
        Step::expect("STAT"),
        Step::line("+OK 3 300"),
    ];
    s.extend(top(3, &fields("<other@y>", "tok1")));
    s.extend(top(2, &fields("<x@y>", "tok2")));
    s.extend(top(1, HEADER));
    s.extend([
        Step::expect("DELE 1"),
        Step::line("+OK"),
        Step::expect("QUIT"),
        Step::line("+OK bye"),
    ]);
    let srv = ScriptedServer::start(s);
    let net = Net::new(NetConfig {
        offline: true,
        timeout: Duration::from_secs(5),
        ..NetConfig::default()
    })
    .unwrap();
    let creds = Credentials {
        password: Some(Secret::new("pw")),
        allow_plaintext: true,
        ..Credentials::default()
    };
    let addr = mailprobe::address::parse("alice@example.test").unwrap();
    let auth = Authenticator::new(creds, &addr);
    let setting = Setting {
        protocol: Protocol::Pop3,
        host: "127.0.0.1".into(),
        port: srv.port(),
        security: Security::Plain,
        username: None,
        auth: vec![],
    };
    let found = mailprobe::roundtrip::pop3_fetch::wait_and_fetch(
        &net,
        &setting,
        &auth,
        OURS,
        Duration::from_secs(5),
        false,
    )
    .await;
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
    assert_eq!(found.error, None);
    assert_eq!(found.deletion, Some(Deletion::Deleted));
    assert_eq!(destructive(&srv), ["DELE 1"]);
}

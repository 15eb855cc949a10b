//! The IMAP side of the round trip against scripted servers, for what Dovecot never does: no
//! UIDPLUS (delete with STORE + EXPUNGE only when nothing else is flagged `\Deleted`, else leave
//! the message and say so), no IDLE (polling with backoff).

use std::time::Duration;

use mailprobe::auth::{Authenticator, Credentials, Secret};
use mailprobe::config::NetConfig;
use mailprobe::model::{Deletion, Protocol, Security, Setting};
use mailprobe::net::Net;
use mailprobe::roundtrip::imap_fetch::wait_and_fetch;

use crate::support::scripted::{ScriptedServer, Step};

const HEADER: &str = "Received: from localhost by mx.example.test with ESMTPSA id Q1; Fri, 27 Nov 2026 16:00:01 +0000\r\nMessage-ID: <x@y>\r\n\r\n";

/// Login (SASL-IR PLAIN), capabilities without UIDPLUS and IDLE, one INBOX; then `rest`.
fn script(search: Vec<Step>, rest: Vec<Step>) -> Vec<Step> {
    let mut s = vec![
        Step::line("* OK scripted"),
        Step::expect("a1 CAPABILITY"),
        Step::line("* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\na1 OK"),
        Step::expect("a2 AUTHENTICATE PLAIN "),
        Step::line("a2 OK logged in"),
        Step::expect("a3 CAPABILITY"),
        Step::line("* CAPABILITY IMAP4rev1\r\na3 OK"),
        Step::expect("a4 LIST \"\" \"*\""),
        Step::line("* LIST (\\HasNoChildren) \"/\" INBOX\r\na4 OK"),
    ];
    s.extend(search);
    s.extend(rest);
    s
}

fn fetch(select_tag: u32) -> Vec<Step> {
    let f = select_tag + 1;
    vec![
        Step::expect(&format!("a{select_tag} SELECT \"INBOX\"")),
        Step::line(&format!("a{select_tag} OK")),
        Step::expect(&format!(
            "a{f} UID FETCH 7 (INTERNALDATE BODY.PEEK[HEADER])"
        )),
        Step::line(&format!(
            "* 1 FETCH (UID 7 INTERNALDATE \"27-Nov-2026 16:00:03 +0000\" BODY[HEADER] {{{}}}\r\n{HEADER})\r\na{f} OK",
            HEADER.len()
        )),
    ]
}

async fn run(script: Vec<Step>) -> (mailprobe::roundtrip::imap_fetch::Found, ScriptedServer) {
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
    let found = wait_and_fetch(
        &net,
        &setting,
        &auth,
        "<x@y>",
        Duration::from_secs(5),
        false,
    )
    .await;
    (found, srv)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_uidplus_other_deleted_messages_leave_ours_in_place() {
    let search = vec![
        Step::expect("a5 SELECT \"INBOX\""),
        Step::line("* 3 EXISTS\r\na5 OK"),
        Step::expect("a6 UID SEARCH HEADER Message-ID \"<x@y>\""),
        Step::line("* SEARCH 7\r\na6 OK"),
    ];
    let mut rest = fetch(7);
    rest.extend([
        Step::expect("a9 UID SEARCH DELETED"),
        Step::line("* SEARCH 3\r\na9 OK"),
        Step::expect("a10 LOGOUT"),
        Step::line("* BYE\r\na10 OK"),
    ]);
    let (found, srv) = run(script(search, rest)).await;
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
    // Nothing was flagged or expunged.
    assert!(
        !srv.lines()
            .iter()
            .any(|l| l.contains("STORE") || l.contains("EXPUNGE"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_uidplus_and_idle_polls_then_stores_and_expunges() {
    let search = vec![
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
    let mut rest = fetch(9);
    rest.extend([
        Step::expect("a11 UID SEARCH DELETED"),
        Step::line("* SEARCH\r\na11 OK"),
        Step::expect("a12 UID STORE 7 +FLAGS.SILENT (\\Deleted)"),
        Step::line("a12 OK"),
        Step::expect("a13 EXPUNGE"),
        Step::line("* 1 EXPUNGE\r\na13 OK"),
        Step::expect("a14 LOGOUT"),
        Step::line("* BYE\r\na14 OK"),
    ]);
    let (found, srv) = run(script(search, rest)).await;
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
    assert_eq!(found.error, None);
    assert_eq!(found.deletion, Some(Deletion::Deleted));
}

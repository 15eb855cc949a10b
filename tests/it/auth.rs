//! Integration tests: authentication against the real Dovecot + Postfix stack (PLAIN, LOGIN,
//! the IMAP LOGIN command, USER/PASS; wrong password; no credentials before TLS; the other user
//! name form) and against scripted servers (every refusal-table row, a drop mid-AUTH, XOAUTH2's
//! error challenge, CRAM-MD5 and OAUTHBEARER).

use std::sync::Arc;
use std::time::Duration;

use mailprobe::address;
use mailprobe::auth::open::open;
use mailprobe::auth::refusal::{self, TABLE};
use mailprobe::auth::sasl::{self, Mech};
use mailprobe::auth::{self, Authenticator, Credentials, Secret, Target};
use mailprobe::config::{ConnectTo, NetConfig};
use mailprobe::net::Net;
use mailprobe::probe::{ProbeOptions, probe_one};
use mailprobe::report::{Candidate, Probe, Protocol, Report, Security, Source, Status};

use crate::support::mailstack::{self, MailStack};
use crate::support::scripted::{ScriptedServer, Step};

/// A network context that sends every standard mail port of any host to `st`, trusting its CA.
pub fn stack_net(st: &MailStack) -> Arc<Net> {
    let cfg = NetConfig {
        ca_file: Some(st.ca_file.clone()),
        offline: true,
        timeout: Duration::from_secs(10),
        deadline: Duration::from_secs(120),
        connect_to: st
            .ports
            .standard_map()
            .iter()
            .map(|(std_port, port)| ConnectTo {
                from_host: None,
                from_port: Some(*std_port),
                to_host: Some(st.addr.to_string()),
                to_port: Some(*port),
            })
            .collect(),
        ..NetConfig::default()
    };
    Net::new(cfg).expect("net")
}

/// Net for scripted servers on 127.0.0.1 (no overrides needed: hosts are IP literals).
fn plain_net() -> Arc<Net> {
    Net::new(NetConfig {
        offline: true,
        timeout: Duration::from_secs(5),
        ..NetConfig::default()
    })
    .expect("net")
}

fn creds(pw: &str) -> Credentials {
    Credentials {
        password: Some(Secret::new(pw)),
        ..Credentials::default()
    }
}

fn cand(proto: Protocol, host: &str, port: u16, sec: Security, user: Option<&str>) -> Candidate {
    Candidate {
        protocol: proto,
        host: host.into(),
        port,
        security: sec,
        username: user.map(str::to_string),
        auth: vec![],
        sources: vec![Source::User],
    }
}

async fn probe_with(net: &Arc<Net>, c: &Candidate, a: Authenticator) -> Probe {
    let opts = ProbeOptions {
        transcript: true,
        login: Some(Arc::new(a)),
        ..ProbeOptions::default()
    };
    probe_one(net, c, &opts).await
}

fn alice() -> address::Address {
    address::parse("alice@example.test").unwrap()
}

fn codes(f: &[mailprobe::report::Finding]) -> Vec<&str> {
    f.iter().map(|f| f.code.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mechanism_against_the_real_stack() {
    let st = mailstack::shared();
    let net = stack_net(st);
    let cases = [
        (
            Protocol::Imap,
            "imap.example.test",
            993,
            Security::Tls,
            &["PLAIN", "LOGIN", "LOGIN-CMD"][..],
        ),
        (
            Protocol::Imap,
            "imap.example.test",
            143,
            Security::Starttls,
            &["PLAIN", "LOGIN", "LOGIN-CMD"][..],
        ),
        (
            Protocol::Pop3,
            "pop.example.test",
            995,
            Security::Tls,
            &["PLAIN", "LOGIN", "USER-PASS"][..],
        ),
        (
            Protocol::Smtp,
            "smtp.example.test",
            587,
            Security::Starttls,
            &["PLAIN", "LOGIN"][..],
        ),
        (
            Protocol::Smtp,
            "smtp.example.test",
            465,
            Security::Tls,
            &["PLAIN", "LOGIN"][..],
        ),
    ];
    for (proto, host, port, sec, mechs) in cases {
        // --all-mechs: every advertised mechanism, one connection each after the first success.
        let a = Authenticator::new(
            Credentials {
                all_mechs: true,
                ..creds("alice-secret")
            },
            &alice(),
        )
        .with_net(net.clone());
        let p = probe_with(&net, &cand(proto, host, port, sec, None), a).await;
        let got: Vec<(&str, bool)> = p
            .auth
            .iter()
            .map(|a| (a.mechanism.as_str(), a.success))
            .collect();
        let want: Vec<(&str, bool)> = mechs.iter().map(|m| (*m, true)).collect();
        assert_eq!(got, want, "{proto:?} {port}: {:?}", p.auth);
        eprintln!(
            "{} {port}: {}",
            proto.as_str(),
            got.iter()
                .map(|(m, ok)| format!("{m}={}", if *ok { "ok" } else { "failed" }))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(
            auth::login_findings(std::slice::from_ref(&p)).is_empty(),
            "{:?}",
            auth::login_findings(&[p])
        );
        // --auth-mech forces one.
        for m in ["PLAIN", "LOGIN"] {
            let a = Authenticator::new(
                Credentials {
                    mech: Some(m.into()),
                    ..creds("alice-secret")
                },
                &alice(),
            );
            let p = probe_with(&net, &cand(proto, host, port, sec, None), a).await;
            assert_eq!(p.auth.len(), 1);
            assert!(
                p.auth[0].success && p.auth[0].mechanism == m,
                "{:?}",
                p.auth
            );
            let json = serde_json::to_string(&p).unwrap();
            assert!(!json.contains("alice-secret"), "password leaked: {json}");
            assert!(
                json.contains("<redacted>"),
                "no redacted AUTH line in the transcript"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_decoded_and_critical() {
    let st = mailstack::shared();
    let net = stack_net(st);
    for (proto, host, port, sec) in [
        (Protocol::Imap, "imap.example.test", 993, Security::Tls),
        (Protocol::Pop3, "pop.example.test", 995, Security::Tls),
        (Protocol::Smtp, "smtp.example.test", 587, Security::Starttls),
    ] {
        let a = Authenticator::new(creds("not-the-password"), &alice());
        let p = probe_with(&net, &cand(proto, host, port, sec, None), a).await;
        // Both user name forms tried, both refused.
        assert_eq!(p.auth.len(), 2, "{:?}", p.auth);
        assert!(p.auth.iter().all(|a| !a.success));
        assert_eq!(p.auth[1].username, "alice");
        let f = auth::login_findings(std::slice::from_ref(&p));
        assert_eq!(
            codes(&f),
            ["auth-wrong-password", "auth-login-failed"],
            "{f:?}"
        );
        let mut r = Report::new("check", "alice@example.test", "example.test");
        r.findings = f;
        assert_eq!(r.status_from_findings(), Status::Critical);
        assert_eq!(r.status_from_findings().exit_code(), 2);
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("not-the-password"), "{json}");
        // The verdict drops a server whose login failed (no other server logged in).
        let setting = mailprobe::report::Setting {
            protocol: proto,
            host: host.into(),
            port,
            security: sec,
            username: None,
            auth: vec![],
        };
        let s = if proto.is_incoming() {
            mailprobe::report::Settings {
                incoming: Some(setting),
                outgoing: None,
            }
        } else {
            mailprobe::report::Settings {
                incoming: None,
                outgoing: Some(setting),
            }
        };
        assert_eq!(
            auth::settings_with_login(&[p], s),
            mailprobe::report::Settings::default()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_before_tls_unless_allowed() {
    let st = mailstack::shared();
    let net = stack_net(st);
    let c = cand(
        Protocol::Imap,
        "imap.example.test",
        143,
        Security::Plain,
        None,
    );
    let p = probe_with(
        &net,
        &c,
        Authenticator::new(creds("alice-secret"), &alice()),
    )
    .await;
    assert_eq!(p.auth.len(), 1);
    assert_eq!(p.auth[0].response.as_deref(), Some(auth::NOT_SENT_NO_TLS));
    let sent: Vec<_> = p
        .transcript
        .iter()
        .flatten()
        .filter(|l| l.dir == "C")
        .map(|l| l.line.clone())
        .collect();
    assert_eq!(sent, ["a1 LOGOUT"], "only LOGOUT may be sent");
    assert_eq!(codes(&auth::login_findings(&[p])), ["auth-skipped-no-tls"]);
    // Allowed: it works (Dovecot trusts 127.0.0.1) and is a critical finding.
    let a = Authenticator::new(
        Credentials {
            allow_plaintext: true,
            ..creds("alice-secret")
        },
        &alice(),
    );
    let p = probe_with(&net, &c, a).await;
    assert!(p.auth.iter().any(|a| a.success), "{:?}", p.auth);
    let f = auth::login_findings(&[p]);
    assert_eq!(codes(&f), ["auth-plaintext"]);
    assert_eq!(f[0].severity, mailprobe::report::Severity::Critical);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_username_form_is_tried() {
    let st = mailstack::shared();
    let net = stack_net(st);
    // The discovered settings say "local part"; the stack wants the full address.
    let c = cand(
        Protocol::Imap,
        "imap.example.test",
        993,
        Security::Tls,
        Some("alice"),
    );
    let p = probe_with(
        &net,
        &c,
        Authenticator::new(creds("alice-secret"), &alice()),
    )
    .await;
    let got: Vec<(&str, bool)> = p
        .auth
        .iter()
        .map(|a| (a.username.as_str(), a.success))
        .collect();
    assert_eq!(got, [("alice", false), ("alice@example.test", true)]);
    let f = auth::login_findings(std::slice::from_ref(&p));
    assert_eq!(codes(&f), ["auth-username-form"]);
    assert!(f[0].message.contains("alice@example.test"));
    // settings_with_login carries the working user name.
    let s = mailprobe::report::Settings {
        incoming: Some(mailprobe::report::Setting {
            protocol: Protocol::Imap,
            host: "imap.example.test".into(),
            port: 993,
            security: Security::Tls,
            username: Some("alice".into()),
            auth: vec![],
        }),
        outgoing: None,
    };
    let s = auth::settings_with_login(&[p], s);
    assert_eq!(
        s.incoming.unwrap().username.as_deref(),
        Some("alice@example.test")
    );
    // --user: only that form.
    let a = Authenticator::new(
        Credentials {
            user: Some("alice".into()),
            ..creds("alice-secret")
        },
        &alice(),
    );
    let p = probe_with(&net, &c, a).await;
    assert_eq!(p.auth.len(), 1);
}

// ---- scripted servers -------------------------------------------------------------------------

/// Log in once over a plain scripted server (plaintext allowed: the point is the decoding).
async fn scripted_login(
    proto: Protocol,
    script: Vec<Step>,
    c: Credentials,
) -> (Vec<mailprobe::report::AuthAttempt>, ScriptedServer) {
    let srv = ScriptedServer::start(script);
    let net = plain_net();
    let mut o = open(&net, proto, "127.0.0.1", srv.port(), Security::Plain)
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
        tls_active: false,
        discovered_user: None,
    };
    let attempts = a.login_on(&mut o.conn, &t, &o.caps, &o.sasl).await;
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
            codes(&f).contains(&TABLE[row].kind.code()),
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

fn fake_probe(proto: Protocol, attempts: Vec<mailprobe::report::AuthAttempt>) -> Probe {
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
        outcome: mailprobe::report::Outcome::Working { tls_valid: true },
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

// ---- the binary -------------------------------------------------------------------------------

/// `mailprobe probe imaps://imap.example.test submission://smtp.example.test --user alice@…`
/// against the shared stack with the password in `$MP_PW`; (json, stdout+stderr, exit code).
fn cli_probe(pw: &str, extra: &[&str]) -> (serde_json::Value, String, i32) {
    let st = mailstack::shared();
    let mut args = vec!["--ca-file".to_string(), st.ca_file.display().to_string()];
    for h in ["imap.example.test", "smtp.example.test", "pop.example.test"] {
        args.extend(st.connect_to_args(h));
    }
    let out = crate::support::cmd::mailprobe()
        .env("MP_PW", pw)
        .args([
            "probe",
            "imaps://imap.example.test",
            "submission://smtp.example.test",
            "pop3s://pop.example.test",
        ])
        .args([
            "--user",
            "alice@example.test",
            "--password-env",
            "MP_PW",
            "--json",
            "--transcript",
            // The test certificates live 30 days: no expiry warning.
            "--warn-cert-days",
            "0",
        ])
        .args(args)
        .args(extra)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {all}"));
    (v, all, out.status.code().unwrap_or(-1))
}

fn json_codes(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn cli_login_never_shows_the_password() {
    let (v, all, code) = cli_probe("alice-secret", &[]);
    assert!(
        !all.contains("alice-secret"),
        "password in the output:\n{all}"
    );
    assert!(all.contains("<redacted>"), "no redacted AUTH line:\n{all}");
    for p in v["probes"].as_array().unwrap() {
        let auth = p["auth"].as_array().unwrap();
        assert!(auth.iter().any(|a| a["success"] == true), "{p}");
    }
    assert!(
        !json_codes(&v).iter().any(|c| c.starts_with("auth-")),
        "{:?}",
        json_codes(&v)
    );
    assert_eq!(code, 0, "{all}");
    // Human output too.
    let st = mailstack::shared();
    let mut args = vec!["--ca-file".to_string(), st.ca_file.display().to_string()];
    args.extend(st.connect_to_args("imap.example.test"));
    let out = crate::support::cmd::mailprobe()
        .env("MP_PW", "alice-secret")
        .args([
            "probe",
            "imaps://imap.example.test",
            "--user",
            "alice@example.test",
            "--password-env",
            "MP_PW",
            "--transcript",
        ])
        .args(args)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains("alice-secret") && all.contains("<redacted>"),
        "{all}"
    );
}

#[test]
fn cli_wrong_password_is_critical_with_the_decoded_finding() {
    let (v, all, code) = cli_probe("wrong-horse-battery", &[]);
    assert!(
        !all.contains("wrong-horse-battery"),
        "password in the output:\n{all}"
    );
    let codes = json_codes(&v);
    assert!(
        codes.iter().any(|c| c == "auth-wrong-password"),
        "{codes:?}"
    );
    assert!(codes.iter().any(|c| c == "auth-login-failed"), "{codes:?}");
    assert_eq!(code, 2, "{all}");
}

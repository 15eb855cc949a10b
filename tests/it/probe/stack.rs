//! The probe against the real Dovecot + Postfix stack: every protocol and security works with a
//! verified certificate for mail.example.test, and `probe_all` over all of them picks IMAP 993
//! and submission 465 with status OK (on a production-like stack on 127.0.0.2).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailprobe::model::{AuthAttempt, Candidate, Outcome, Protocol, Security, Status, StepStatus};
use mailprobe::net::Net;
use mailprobe::probe::{LoginHook, open_session, probe_all, probe_one, status_of};
use mailprobe::proto::{Redact, Session};

use super::{cand, codes, dump, net_with, opts, transcript};
use crate::support::mailstack::{self, MailStack, StackOptions};

fn stack_net(st: &MailStack) -> Arc<Net> {
    let maps: Vec<(u16, SocketAddr)> = st
        .ports
        .standard_map()
        .iter()
        .map(|(std, port)| (*std, st.sock(*port)))
        .collect();
    net_with(&maps, Duration::from_secs(10), Some(&st.ca_file))
}

fn all_seven() -> Vec<Candidate> {
    vec![
        cand(Protocol::Imap, 143, Security::Starttls),
        cand(Protocol::Imap, 993, Security::Tls),
        cand(Protocol::Pop3, 110, Security::Starttls),
        cand(Protocol::Pop3, 995, Security::Tls),
        cand(Protocol::Smtp, 25, Security::Starttls),
        cand(Protocol::Smtp, 587, Security::Starttls),
        cand(Protocol::Smtp, 465, Security::Tls),
    ]
}

#[tokio::test]
async fn real_stack_every_protocol_works_with_verified_tls() {
    let st = mailstack::shared();
    let net = stack_net(st);
    for c in all_seven() {
        let p = probe_one(&net, &c, &opts()).await;
        let what = format!("{:?} {} {:?}", c.protocol, c.port, c.security);
        assert_eq!(
            p.outcome,
            Outcome::Working { tls_valid: true },
            "{what}: {}",
            dump(&p)
        );
        let tls = p.tls.as_ref().unwrap();
        assert!(tls.verified && tls.verify_error.is_none(), "{what}");
        assert!(
            tls.names.iter().any(|n| n == "mail.example.test"),
            "{what}: {:?}",
            tls.names
        );
        assert!(p.greeting.is_some(), "{what}");
        assert!(!p.capabilities.is_empty(), "{what}");
        assert!(
            !p.sasl.is_empty() || c.port == 25,
            "{what}: {:?}",
            p.capabilities
        );
        if c.security == Security::Starttls {
            assert!(!p.capabilities_plain.is_empty(), "{what}");
        }
        assert!(
            p.steps.iter().all(|s| s.status != StepStatus::Failed),
            "{what}: {:?}",
            p.steps
        );
        assert!(p.connected_to.is_some(), "{what}");
        assert_eq!(p.addresses.len(), 1, "{what}");
        assert_eq!(p.addresses[0].result, "connected");
    }
}

#[tokio::test]
async fn real_stack_probe_all_picks_imaps_and_465_status_ok() {
    // 127.0.0.2: Dovecot treats 127.0.0.1 as a secure client and would allow plaintext login.
    let st = MailStack::start(StackOptions {
        addr: "127.0.0.2".parse().unwrap(),
        ..Default::default()
    });
    let net = stack_net(&st);
    let run = probe_all(net, &all_seven(), &opts()).await;
    let inc = run.settings.incoming.as_ref().expect("incoming");
    let out = run.settings.outgoing.as_ref().expect("outgoing");
    assert_eq!(
        (inc.protocol, inc.port, inc.security),
        (Protocol::Imap, 993, Security::Tls)
    );
    assert_eq!(
        (out.protocol, out.port, out.security),
        (Protocol::Smtp, 465, Security::Tls)
    );
    assert!(codes(&run).is_empty(), "{:?}", run.findings);
    assert_eq!(status_of(&run), Status::Ok);
    // Probes come back in candidate order; the lower-ranked ones may have been cancelled.
    for (p, c) in run.probes.iter().zip(all_seven()) {
        assert_eq!((p.protocol, p.port), (c.protocol, c.port));
        match &p.outcome {
            Outcome::Working { tls_valid } => assert!(tls_valid, "{}", dump(p)),
            Outcome::Failed { phase, .. } => assert_eq!(phase.as_str(), "cancelled", "{}", dump(p)),
        }
    }
    // Production-like: LOGINDISABLED and no AUTH before STARTTLS.
    let imap143 = &run.probes[0];
    if phase_is_working(imap143) {
        assert!(
            imap143
                .capabilities_plain
                .iter()
                .any(|c| c == "LOGINDISABLED")
        );
    }
}

fn phase_is_working(p: &mailprobe::model::Probe) -> bool {
    matches!(p.outcome, Outcome::Working { .. })
}

/// A login hook as the auth stage writes one: IMAP LOGIN over the session, redacted.
struct ImapLogin {
    user: String,
    password: String,
}

impl LoginHook for ImapLogin {
    fn login<'a>(
        &'a self,
        session: &'a mut Session,
        candidate: &'a Candidate,
        _caps: &'a [String],
        _sasl: &'a [String],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<AuthAttempt>> + Send + 'a>> {
        Box::pin(async move {
            assert!(session.is_tls(), "login before TLS on {}", candidate.port);
            let t = std::time::Instant::now();
            let cmd = format!("LOGIN {} {}", self.user, self.password);
            let r = session.imap_command(&cmd, Redact::KeepWords(3)).await;
            let success = matches!(&r, Ok(r) if r.status == mailprobe::proto::imap::ImapStatus::Ok);
            vec![AuthAttempt {
                mechanism: "LOGIN".into(),
                username: self.user.clone(),
                success,
                elapsed_ms: t.elapsed().as_millis() as u64,
                response: r.ok().map(|r| r.text),
            }]
        })
    }
}

#[tokio::test]
async fn real_stack_login_hook_runs_after_tls_and_is_redacted() {
    let st = mailstack::shared();
    let net = stack_net(st);
    let (user, password) = st.user();
    let mut o = opts();
    o.login = Some(Arc::new(ImapLogin {
        user: user.to_string(),
        password: password.to_string(),
    }));
    for c in [
        cand(Protocol::Imap, 993, Security::Tls),
        cand(Protocol::Imap, 143, Security::Starttls),
    ] {
        let p = probe_one(&net, &c, &o).await;
        assert_eq!(
            p.outcome,
            Outcome::Working { tls_valid: true },
            "{}",
            dump(&p)
        );
        assert_eq!(p.auth.len(), 1);
        assert!(p.auth[0].success, "{}", dump(&p));
        let auth_step = p
            .steps
            .iter()
            .find(|s| s.name == "auth")
            .expect("auth step");
        assert_eq!(auth_step.status, StepStatus::Ok);
        let names: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names[names.len() - 2..], ["auth", "logout"]);
        let t = transcript(&p);
        assert!(
            t.iter()
                .any(|l| l.ends_with(&format!("LOGIN {user} <redacted>"))),
            "{t:?}"
        );
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains(password), "password leaked: {json}");
    }
}

#[tokio::test]
async fn real_stack_open_session_hands_out_a_tls_session() {
    let st = mailstack::shared();
    let net = stack_net(st);
    let (user, password) = st.user();
    for c in [
        cand(Protocol::Imap, 143, Security::Starttls),
        cand(Protocol::Pop3, 995, Security::Tls),
        cand(Protocol::Smtp, 587, Security::Starttls),
    ] {
        let (p, s) = open_session(&net, &c, &opts()).await;
        let mut s = s.unwrap_or_else(|| panic!("{}", dump(&p)));
        assert!(s.is_tls() && s.tls().unwrap().verified);
        assert!(p.steps.iter().all(|s| s.name != "logout"));
        assert!(!s.sasl().is_empty(), "{:?}", s.capabilities());
        match c.protocol {
            Protocol::Imap => {
                let r = s
                    .imap_command(&format!("LOGIN {user} {password}"), Redact::KeepWords(3))
                    .await
                    .unwrap();
                assert_eq!(r.status, mailprobe::proto::imap::ImapStatus::Ok, "{r:?}");
                let r = s.imap_command("SELECT INBOX", Redact::No).await.unwrap();
                assert_eq!(r.status, mailprobe::proto::imap::ImapStatus::Ok, "{r:?}");
                s.imap_command("LOGOUT", Redact::No).await.unwrap();
            }
            Protocol::Pop3 => {
                s.pop3_command(&format!("USER {user}"), Redact::No, false)
                    .await
                    .unwrap();
                let r = s
                    .pop3_command(&format!("PASS {password}"), Redact::KeepWords(1), false)
                    .await
                    .unwrap();
                assert!(r.status.ok, "{r:?}");
                let r = s.pop3_command("LIST", Redact::No, true).await.unwrap();
                assert!(r.status.ok, "{r:?}");
                s.pop3_command("QUIT", Redact::No, false).await.unwrap();
            }
            Protocol::Smtp => {
                let r = s.smtp_command("NOOP", Redact::No).await.unwrap();
                assert_eq!(r.code, 250);
                s.smtp_command("QUIT", Redact::No).await.unwrap();
            }
        }
        s.close().await;
        let text = s
            .transcript()
            .iter()
            .map(|l| l.line.clone())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!text.contains(password), "{text}");
    }
}

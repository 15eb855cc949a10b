//! Integration tests: authentication against the real Dovecot + Postfix stack (PLAIN, LOGIN,
//! the IMAP LOGIN command, USER/PASS; wrong password; no credentials before TLS; the other user
//! name form; the binary never printing the password) — and, in `scripted`, against scripted
//! servers.

use std::sync::Arc;
use std::time::Duration;

use mailprobe::address;
use mailprobe::auth::{self, Authenticator, Credentials, Secret};
use mailprobe::config::{ConnectTo, NetConfig};
use mailprobe::model::{Candidate, Probe, Protocol, Report, Security, Source, Status};
use mailprobe::net::Net;
use mailprobe::probe::{ProbeOptions, probe_one};

use crate::support::mailstack::{self, MailStack};

mod echo;
mod scripted;
mod untrusted;
mod unverified;

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

fn codes(f: &[mailprobe::model::Finding]) -> Vec<&str> {
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
                    mech: mailprobe::auth::sasl::Mech::from_name(m),
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
        let setting = mailprobe::model::Setting {
            protocol: proto,
            host: host.into(),
            port,
            security: sec,
            username: None,
            auth: vec![],
        };
        let s = if proto.is_incoming() {
            mailprobe::model::Settings {
                incoming: Some(setting),
                outgoing: None,
            }
        } else {
            mailprobe::model::Settings {
                incoming: None,
                outgoing: Some(setting),
            }
        };
        assert_eq!(
            auth::settings_with_login(&[p], s),
            mailprobe::model::Settings::default()
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
    assert_eq!(f[0].severity, mailprobe::model::Severity::Critical);
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
    let s = mailprobe::model::Settings {
        incoming: Some(mailprobe::model::Setting {
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
            "--crit-cert-days",
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

#[test]
fn cli_password_sources() {
    let st = mailstack::shared();
    let mut args = vec!["--ca-file".to_string(), st.ca_file.display().to_string()];
    args.extend(st.connect_to_args("imap.example.test"));
    let base = [
        "probe",
        "imaps://imap.example.test",
        "--user",
        "alice@example.test",
        "--json",
        "--warn-cert-days",
        "0",
        "--crit-cert-days",
        "0",
    ];
    // --password-stdin: the first line of standard input.
    let out = crate::support::cmd::mailprobe()
        .args(base)
        .arg("--password-stdin")
        .args(&args)
        .write_stdin("alice-secret\nignored\n")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["probes"][0]["auth"][0]["success"], true, "{v}");
    // --password-file that others can read: refused before any traffic (usage error, exit 3).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "alice-secret\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = crate::support::cmd::mailprobe()
        .args(base)
        .arg("--password-file")
        .arg(&file)
        .args(&args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("chmod 600") && !err.contains("alice-secret"),
        "{err}"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = crate::support::cmd::mailprobe()
        .args(base)
        .arg("--password-file")
        .arg(&file)
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A missing variable: usage error naming it.
    let out = crate::support::cmd::mailprobe()
        .args(base)
        .args(["--password-env", "MAILPROBE_NO_SUCH_VAR"])
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MAILPROBE_NO_SUCH_VAR"));
}

//! `mailprobe oauth login|logout` and `--oauth` end to end: the device flow and the browser
//! flow (PKCE, loopback redirect; the "browser" is a stand-in `xdg-open` that fetches the URL
//! with curl) against the local authorization server of the harness, the stored tokens (0600,
//! never printed), then XOAUTH2 and OAUTHBEARER logins to a private real Dovecot whose `oauth2`
//! passdb introspects the tokens at that server; a revoked token is refused by Dovecot. In
//! `refresh`: an expired access token refreshed before the login, and a refused refresh as a
//! finding; in `refusals`: the client secret, a wrong PKCE verifier, a forged `state` and the
//! token endpoint's errors during `oauth login`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;

use crate::support::cmd::{mailprobe, stack_args};
use crate::support::dns::DnsServer;
use crate::support::mailstack::{MailStack, StackOptions};
use crate::support::oauth::OAuthServer;

mod endpoints;
mod refresh;
mod refusals;

const USER: &str = "alice@example.test";

fn login(srv: &OAuthServer, data: &Path, extra: &[&str]) -> (String, String, i32) {
    login_as(srv, data, "my-own-client", &[], extra)
}

/// `oauth login` as client `client_id` with the environment `env`.
fn login_as(
    srv: &OAuthServer,
    data: &Path,
    client_id: &str,
    env: &[(&str, &str)],
    extra: &[&str],
) -> (String, String, i32) {
    let out = mailprobe()
        .env("XDG_DATA_HOME", data)
        .envs(env.iter().copied())
        .args(["oauth", "login", USER, "--oauth-client-id", client_id])
        .args(["--oauth-device-url", &srv.url("/device")])
        .args(["--oauth-token-url", &srv.url("/token")])
        .args(["--oauth-auth-url", &srv.url("/authorize")])
        .args([
            "--oauth-scope",
            "mail",
            "--allow-insecure-oauth",
            "--timeout",
            "5",
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// `probe imaps://mail.example.test --oauth --auth-mech MECH` against `stack`.
fn probe(stack: &MailStack, data: &Path, mech: &str) -> (Value, String) {
    let (v, all, _) = probe_with(stack, data, mech, &[]);
    (v, all)
}

/// The same with `extra` arguments; also the exit code.
fn probe_with(stack: &MailStack, data: &Path, mech: &str, extra: &[&str]) -> (Value, String, i32) {
    let out = mailprobe()
        .env("XDG_DATA_HOME", data)
        .args([
            "probe",
            "imaps://mail.example.test",
            "--user",
            USER,
            "--oauth",
        ])
        .args([
            "--auth-mech",
            mech,
            "--json",
            "--transcript",
            "--allow-insecure-oauth",
        ])
        .args(["--warn-cert-days", "0", "--crit-cert-days", "0"])
        .args(["--ca-file", &stack.ca_file.display().to_string()])
        .args(stack.connect_to_args("mail.example.test"))
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

/// A folder holding a stand-in `xdg-open` that follows the URL with curl (the "browser" of
/// the code flow), and the PATH that finds it first.
fn stand_in_browser() -> (tempfile::TempDir, String) {
    let bin = tempfile::tempdir().unwrap();
    let opener = bin.path().join("xdg-open");
    std::fs::write(&opener, "#!/bin/sh\nexec curl -s -L -o /dev/null \"$1\"\n").unwrap();
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    (bin, path)
}

fn auth_ok(v: &Value) -> bool {
    v["probes"][0]["auth"]
        .as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x["success"] == true))
}

/// `check`, `export` and `check --batch` with `--oauth` log in to the real Dovecot with the
/// stored token, found through discovery (SRV records of example.test).
fn check_export_and_batch_use_the_token(stack: &MailStack, data: &Path) {
    let dns = DnsServer::start_zones(&[crate::check::zone(stack)]);
    let run = |args: &[&str], stdin: &str| {
        let out = mailprobe()
            .env("XDG_DATA_HOME", data)
            .args(args)
            .args(["--oauth", "--allow-insecure-oauth", "--timeout", "5"])
            .args(["--dns", &dns.addr().to_string()])
            .args(["--ispdb-url", "http://127.0.0.1:9/"])
            .args(["--warn-cert-days", "0", "--crit-cert-days", "0"])
            .args(stack_args(stack, "mail.example.test"))
            .write_stdin(stdin)
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let imap_login = |v: &Value| {
        v["probes"].as_array().unwrap().iter().any(|p| {
            p["protocol"] == "imap"
                && p["auth"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x["success"] == true))
        })
    };
    let (out, err) = run(&["check", USER, "--json", "--no-receiving"], "");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert!(imap_login(&v), "check --oauth logs in: {out}{err}");
    assert_eq!(
        v["settings"]["incoming"]["host"], "mail.example.test",
        "{out}"
    );
    let (out, err) = run(&["export", USER, "--to", "json"], "");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert_eq!(v["origin"], "verified", "{out}");
    // What the OAuth2 login verified, on both sides (Postfix authenticates through Dovecot).
    for side in ["incoming", "outgoing"] {
        assert_eq!(
            v["settings"][side]["auth"],
            serde_json::json!(["oauth2"]),
            "{out}"
        );
    }
    assert_eq!(
        v["settings"]["incoming"]["host"], "mail.example.test",
        "{out}"
    );
    let (out, err) = run(&["check", "--batch", "-", "--json"], &format!("{USER}\n"));
    let v: Value = serde_json::from_str(out.lines().next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert!(imap_login(&v), "check --batch --oauth logs in: {out}{err}");
    for text in [&out, &err] {
        assert!(!text.contains("at-"), "a token was printed: {text}");
    }
}

#[test]
fn device_and_browser_logins_then_xoauth2_and_oauthbearer_to_real_dovecot() {
    let srv = OAuthServer::start(USER);
    let stack = MailStack::start(StackOptions {
        oauth2_introspection: Some(srv.url("/introspect")),
        ..StackOptions::default()
    });
    let data = tempfile::tempdir().unwrap();

    // Device flow: pending once, then the token.
    srv.script_device(&["authorization_pending", "ok"]);
    let (out, err, code) = login(&srv, data.path(), &["--oauth-flow", "device"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("https://id.example.test/device") && err.contains("WDJB-MJHT"),
        "{err}"
    );
    assert!(out.contains("Signed in as alice@example.test"), "{out}");
    let file = data.path().join("mailprobe/oauth/alice@example.test.json");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for text in [&out, &err] {
        assert!(
            !text.contains("at-") && !text.contains("rt-"),
            "a token was printed: {text}"
        );
    }
    let polls = srv.log().iter().filter(|(r, _)| r == "POST /token").count();
    assert_eq!(polls, 2, "one pending answer, then the token");
    assert!(srv.log()[0].1.contains("client_id=my-own-client"));

    let (v, all) = probe(&stack, data.path(), "XOAUTH2");
    assert!(auth_ok(&v), "XOAUTH2 refused: {all}");
    assert!(
        !all.contains("at-1"),
        "the token is redacted in the transcript: {all}"
    );
    check_export_and_batch_use_the_token(&stack, data.path());

    // Browser flow: a stand-in browser follows the authorization URL to the loopback redirect.
    let (_bin, path) = stand_in_browser();
    let out = mailprobe()
        .env("XDG_DATA_HOME", data.path())
        .env("PATH", &path)
        .args(["oauth", "login", USER, "--oauth-client-id", "my-own-client"])
        .args([
            "--oauth-flow",
            "browser",
            "--oauth-auth-url",
            &srv.url("/authorize"),
        ])
        .args([
            "--oauth-token-url",
            &srv.url("/token"),
            "--oauth-scope",
            "mail",
        ])
        .args(["--allow-insecure-oauth"])
        .output()
        .unwrap();
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{o}{e}");
    assert!(e.contains("code_challenge_method=S256"), "{e}");
    let auth = srv
        .log()
        .into_iter()
        .find(|(r, _)| r == "GET /authorize")
        .unwrap()
        .1;
    assert!(
        auth.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{auth}"
    );

    let (v, all) = probe(&stack, data.path(), "OAUTHBEARER");
    assert!(auth_ok(&v), "OAUTHBEARER refused: {all}");

    // Revoked at the server: Dovecot's introspection says inactive, the login fails.
    srv.revoke_all();
    let (v, all) = probe(&stack, data.path(), "XOAUTH2");
    assert!(!auth_ok(&v), "a revoked token must be refused: {all}");
    // Dovecot's SASL error JSON (status 401) decoded: the token, not a password.
    let codes = crate::discover::finding_codes(&v);
    assert!(codes.iter().any(|c| c == "auth-token-invalid"), "{codes:?}");
    assert!(
        !codes.iter().any(|c| c == "auth-wrong-password"),
        "{codes:?}"
    );

    // Logout deletes the file; --oauth then says to log in.
    let out = mailprobe()
        .env("XDG_DATA_HOME", data.path())
        .args(["oauth", "logout", USER])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!file.exists());
    let (_, all) = {
        let out = mailprobe()
            .env("XDG_DATA_HOME", data.path())
            .args([
                "probe",
                "imaps://mail.example.test",
                "--user",
                USER,
                "--oauth",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        ((), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert!(all.contains("mailprobe oauth login"), "{all}");
}

#[test]
fn device_flow_slow_down_denied_and_expired() {
    let srv = OAuthServer::start(USER);
    let data = tempfile::tempdir().unwrap();
    srv.script_device(&["access_denied"]);
    let (_, err, code) = login(&srv, data.path(), &[]);
    assert_eq!(code, 3);
    assert!(err.contains("refused (access_denied)"), "{err}");
    srv.script_device(&["expired_token"]);
    let (_, err, code) = login(&srv, data.path(), &[]);
    assert_eq!(code, 3);
    assert!(err.contains("expired"), "{err}");
    // slow_down: the next poll waits 5 s more (RFC 8628 §3.5).
    srv.script_device(&["slow_down", "ok"]);
    let started = std::time::Instant::now();
    let (_, err, code) = login(&srv, data.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(started.elapsed().as_secs() >= 7, "{:?}", started.elapsed());
}

#[test]
fn browser_flow_denied_and_no_client_id() {
    let srv = OAuthServer::start(USER);
    let data = tempfile::tempdir().unwrap();
    srv.deny_authorization(true);
    let (_bin, path) = stand_in_browser();
    let out = mailprobe()
        .env("XDG_DATA_HOME", data.path())
        .env("PATH", &path)
        .args([
            "oauth",
            "login",
            USER,
            "--oauth-client-id",
            "c",
            "--oauth-flow",
            "browser",
        ])
        .args([
            "--oauth-auth-url",
            &srv.url("/authorize"),
            "--oauth-token-url",
            &srv.url("/token"),
        ])
        .args(["--allow-insecure-oauth"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("access_denied"));
    // No client ID: mailprobe has none of its own to fall back on.
    let out = mailprobe()
        .env("XDG_DATA_HOME", data.path())
        .args(["oauth", "login", "alice@gmail.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--oauth-client-id"));
    // http:// endpoints only with --allow-insecure-oauth.
    let (_, err, _) = {
        let out = mailprobe()
            .env("XDG_DATA_HOME", data.path())
            .args(["oauth", "login", USER, "--oauth-client-id", "c"])
            .args([
                "--oauth-device-url",
                &srv.url("/device"),
                "--oauth-token-url",
                &srv.url("/token"),
            ])
            .output()
            .unwrap();
        ((), String::from_utf8_lossy(&out.stderr).into_owned(), ())
    };
    assert!(err.contains("not https://"), "{err}");
}

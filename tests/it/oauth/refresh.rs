//! Refresh (RFC 6749 §6) end to end: a device-flow login whose access token is already
//! expired, then `probe --oauth` must trade the stored refresh token (with the client secret
//! the login used) for a new access token and log in to real Dovecot with it; a refresh the
//! token endpoint refuses is a finding that says to sign in again, and no login is tried.

use serde_json::Value;

use super::{USER, auth_ok, login_as, probe_with};
use crate::support::cmd::mailprobe;
use crate::support::mailstack::{MailStack, StackOptions};
use crate::support::oauth::OAuthServer;

const SECRET: &str = "GOCSPX-test-client-secret";

#[test]
fn an_expired_access_token_is_refreshed_then_xoauth2_logs_in_to_real_dovecot() {
    let srv = OAuthServer::start(USER);
    srv.require_secret("installed-app", SECRET);
    let stack = MailStack::start(StackOptions {
        oauth2_introspection: Some(srv.url("/introspect")),
        ..StackOptions::default()
    });
    let data = tempfile::tempdir().unwrap();
    // The token of the sign-in expires at once: Dovecot's introspection calls it inactive.
    srv.access_token_lifetime(0);
    let env = [("MP_CLIENT_SECRET", SECRET)];
    let secret_flag = ["--oauth-client-secret-env", "MP_CLIENT_SECRET"];
    let (out, err, code) = login_as(&srv, data.path(), "installed-app", &env, &secret_flag);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(srv.granted("refresh_token"), 0);
    srv.access_token_lifetime(3600);

    let (v, all, code) = probe_with(&stack, data.path(), "XOAUTH2", &[]);
    assert!(auth_ok(&v), "the refreshed token must log in: {all}");
    assert_eq!(code, 0, "{all}");
    assert_eq!(srv.granted("refresh_token"), 1, "{:?}", srv.log());
    let refresh = srv
        .log()
        .into_iter()
        .find(|(r, body)| r == "POST /token" && body.contains("grant_type=refresh_token"))
        .unwrap()
        .1;
    assert!(
        refresh.contains("refresh_token=rt-1")
            && refresh.contains(&format!("client_secret={SECRET}")),
        "the stored refresh token and the login's client secret: {refresh}"
    );
    for text in [&out, &err, &all] {
        assert!(
            !text.contains(SECRET),
            "the client secret was printed: {text}"
        );
        assert!(
            !text.contains("at-") && !text.contains("rt-"),
            "a token was printed: {text}"
        );
    }

    // The refreshed token was stored: the next login needs no refresh.
    let (v, all, _) = probe_with(&stack, data.path(), "OAUTHBEARER", &[]);
    assert!(auth_ok(&v), "{all}");
    assert_eq!(srv.granted("refresh_token"), 1);

    // The transcript of a refreshed-token login in human form, tokens redacted.
    srv.access_token_lifetime(0);
    let (_, err, code) = login_as(&srv, data.path(), "installed-app", &env, &secret_flag);
    assert_eq!(code, 0, "{err}");
    srv.access_token_lifetime(3600);
    let out = mailprobe()
        .env("XDG_DATA_HOME", data.path())
        .args([
            "probe",
            "imaps://mail.example.test",
            "--user",
            USER,
            "--oauth",
        ])
        .args([
            "--auth-mech",
            "XOAUTH2",
            "--transcript",
            "--allow-insecure-oauth",
        ])
        .args(["--warn-cert-days", "0", "--crit-cert-days", "0"])
        .args(["--ca-file", &stack.ca_file.display().to_string()])
        .args(stack.connect_to_args("mail.example.test"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(srv.granted("refresh_token"), 2);
    assert!(text.contains("AUTHENTICATE XOAUTH2"), "{text}");
    assert!(!text.contains("at-") && !text.contains(SECRET), "{text}");
    if std::env::var_os("MAILPROBE_SHOW_TRANSCRIPT").is_some() {
        eprintln!("{text}");
    }
}

/// `probe --oauth --json` whose refresh meets the server's `failure`: the finding's code and
/// hint, and no login attempted.
fn refused_refresh(stack: &MailStack, data: &std::path::Path) -> (Value, String, i32) {
    let (v, all, code) = probe_with(stack, data, "XOAUTH2", &[]);
    let auth = v["probes"][0]["auth"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(auth.is_empty(), "no login without a token: {all}");
    (v, all, code)
}

#[test]
fn a_refused_refresh_is_a_finding_saying_to_sign_in_again() {
    let srv = OAuthServer::start(USER);
    let stack = MailStack::start(StackOptions {
        oauth2_introspection: Some(srv.url("/introspect")),
        ..StackOptions::default()
    });
    let data = tempfile::tempdir().unwrap();
    srv.access_token_lifetime(0);
    let (out, err, code) = login_as(&srv, data.path(), "public-client", &[], &[]);
    assert_eq!(code, 0, "{out}{err}");

    // Revoked refresh token: invalid_grant.
    srv.revoke_refresh_tokens();
    let (v, all, code) = refused_refresh(&stack, data.path());
    assert_eq!(code, 2, "a critical finding: {all}");
    let f = &v["findings"][0];
    assert_eq!(f["code"], "oauth2-grant-invalid", "{all}");
    assert_eq!(f["severity"], "critical");
    assert!(
        f["message"].as_str().unwrap().contains("invalid_grant"),
        "{f}"
    );
    assert!(
        f["hint"]
            .as_str()
            .unwrap()
            .contains("run `mailprobe oauth login alice@example.test` again"),
        "{f}"
    );

    // The other answers of the token endpoint, each its own code.
    for (status, body, want) in [
        (
            401,
            r#"{"error":"invalid_client"}"#,
            "oauth2-client-invalid",
        ),
        (
            400,
            r#"{"error":"unauthorized_client"}"#,
            "oauth2-client-unauthorized",
        ),
        (400, r#"{"error":"access_denied"}"#, "oauth2-access-denied"),
        (400, r#"{"error":"expired_token"}"#, "oauth2-grant-invalid"),
        (400, r#"{"error":"invalid_scope"}"#, "oauth2-token-error"),
        (
            503,
            "<html>maintenance</html>",
            "oauth2-token-endpoint-failed",
        ),
    ] {
        srv.fail_token_requests(Some((status, body)));
        let (v, all, code) = refused_refresh(&stack, data.path());
        assert_eq!(code, 2, "{all}");
        assert_eq!(v["findings"][0]["code"], want, "{body}: {all}");
        assert!(v["findings"][0]["hint"].is_string(), "{all}");
    }

    // In human form: the finding and its hint, first.
    srv.fail_token_requests(None);
    let out = mailprobe()
        .env("XDG_DATA_HOME", data.path())
        .args([
            "probe",
            "imaps://mail.example.test",
            "--user",
            USER,
            "--oauth",
        ])
        .args([
            "--allow-insecure-oauth",
            "--warn-cert-days",
            "0",
            "--crit-cert-days",
            "0",
        ])
        .args(["--ca-file", &stack.ca_file.display().to_string()])
        .args(stack.connect_to_args("mail.example.test"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    if std::env::var_os("MAILPROBE_SHOW_TRANSCRIPT").is_some() {
        eprintln!("{text}");
    }
    assert!(
        text.contains("oauth2-grant-invalid") && text.contains("mailprobe oauth login"),
        "{text}"
    );
}

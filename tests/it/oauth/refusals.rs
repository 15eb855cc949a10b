//! `oauth login` refused: a client registered with a secret (RFC 6749 §2.3.1) without it and
//! with it (`--oauth-client-secret-env`, `--oauth-client-secret-file`, the configuration file;
//! never printed nor in a URL), a code exchange whose PKCE
//! verifier does not match the challenge (RFC 7636 §4.6: `invalid_grant`), a redirect with a
//! forged `state` (RFC 6749 §10.12), and HTTP errors of the token endpoint. Every refusal exits 3
//! with the server's error code and a hint, and stores nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{USER, login_as, stand_in_browser};
use crate::support::cmd::mailprobe;
use crate::support::oauth::OAuthServer;

const SECRET: &str = "GOCSPX-test-client-secret";

fn token_file(data: &Path) -> std::path::PathBuf {
    data.join("mailprobe/oauth/alice@example.test.json")
}

/// `oauth login --oauth-flow browser` as `client`, with the stand-in browser.
fn browser_login(
    srv: &OAuthServer,
    data: &Path,
    client: &str,
    env: &[(&str, &str)],
) -> (String, i32) {
    let (_bin, path) = stand_in_browser();
    let mut env: Vec<(&str, &str)> = env.to_vec();
    env.push(("PATH", &path));
    let (out, err, code) = login_as(srv, data, client, &env, &["--oauth-flow", "browser"]);
    (format!("{out}{err}"), code)
}

#[test]
fn a_client_secret_is_sent_in_token_requests_and_never_shown() {
    let srv = OAuthServer::start(USER);
    srv.require_secret("installed-app", SECRET);
    let data = tempfile::tempdir().unwrap();

    // Without the secret: the token endpoint's invalid_client, exit 3, a hint, nothing stored.
    let (out, err, code) = login_as(&srv, data.path(), "installed-app", &[], &[]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("sign-in failed") && err.contains("invalid_client"),
        "{err}"
    );
    assert!(
        err.contains("hint:") && err.contains("--oauth-client-secret-env"),
        "{err}"
    );
    assert!(!token_file(data.path()).exists());

    // A variable that is not set: a usage error before any traffic.
    let before = srv.log().len();
    let (_, err, code) = login_as(
        &srv,
        data.path(),
        "installed-app",
        &[],
        &["--oauth-client-secret-env", "MP_UNSET"],
    );
    assert_eq!(code, 3);
    assert!(err.contains("MP_UNSET"), "{err}");
    assert_eq!(srv.log().len(), before, "no request without the secret");

    // Device flow with the secret from --oauth-client-secret-env.
    let env = [("MP_CLIENT_SECRET", SECRET)];
    let (dout, derr, code) = login_as(
        &srv,
        data.path(),
        "installed-app",
        &env,
        &["--oauth-client-secret-env", "MP_CLIENT_SECRET"],
    );
    assert_eq!(code, 0, "{dout}{derr}");
    let file = token_file(data.path());
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Browser flow with the secret from the configuration file's [oauth-client-secret-file].
    let conf_dir = tempfile::tempdir().unwrap();
    let secret_file = conf_dir.path().join("client-secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let conf = conf_dir.path().join("config.toml");
    std::fs::write(
        &conf,
        format!(
            "[oauth-client-secret-file]\ndefault = \"{}\"\n",
            secret_file.display()
        ),
    )
    .unwrap();
    let (_bin, path) = stand_in_browser();
    let out = mailprobe()
        .env("XDG_DATA_HOME", data.path())
        .env("PATH", &path)
        .args(["--config", conf.to_str().unwrap()])
        .args(["oauth", "login", USER, "--oauth-client-id", "installed-app"])
        .args([
            "--oauth-flow",
            "browser",
            "--oauth-auth-url",
            &srv.url("/authorize"),
        ])
        .args([
            "--oauth-token-url",
            &srv.url("/token"),
            "--allow-insecure-oauth",
        ])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{all}");
    // Device flow with the secret from --oauth-client-secret-file.
    let secret_path = secret_file.display().to_string();
    let (fout, ferr, code) = login_as(
        &srv,
        data.path(),
        "installed-app",
        &[],
        &["--oauth-client-secret-file", &secret_path],
    );
    assert_eq!(code, 0, "{fout}{ferr}");
    let all = format!("{all}{fout}{ferr}");

    let log = srv.log();
    let posts: Vec<&String> = log
        .iter()
        .filter(|(r, _)| r == "POST /token")
        .map(|(_, b)| b)
        .collect();
    let with_secret = posts
        .iter()
        .filter(|b| b.contains(&format!("client_secret={SECRET}")))
        .count();
    assert!(
        posts
            .iter()
            .any(|b| b.contains("grant_type=authorization_code")
                && b.contains(&format!("client_secret={SECRET}"))),
        "{posts:?}"
    );
    assert_eq!(
        with_secret,
        posts.len() - 1,
        "all but the first, secretless, request: {posts:?}"
    );
    for (request, body) in &log {
        if !request.starts_with("POST /token") {
            assert!(
                !body.contains(SECRET),
                "the secret only in token requests: {request} {body}"
            );
        }
    }
    for text in [&dout, &derr, &all] {
        assert!(!text.contains(SECRET), "the secret was printed: {text}");
    }
}

#[test]
fn a_wrong_pkce_verifier_is_the_token_endpoints_invalid_grant() {
    let srv = OAuthServer::start(USER);
    let data = tempfile::tempdir().unwrap();
    srv.corrupt_challenge(true);
    let (all, code) = browser_login(&srv, data.path(), "my-own-client", &[]);
    assert_eq!(code, 3, "{all}");
    assert!(
        all.contains("error: sign-in failed: the authorization server refused: invalid_grant"),
        "{all}"
    );
    assert!(
        all.contains("hint:") && all.contains("wrong PKCE verifier"),
        "{all}"
    );
    assert!(!token_file(data.path()).exists());
    let exchange = srv
        .log()
        .into_iter()
        .find(|(r, _)| r == "POST /token")
        .expect("the code was exchanged")
        .1;
    assert!(exchange.contains("code_verifier="), "{exchange}");
    // The same server, the challenge kept: the verifier matches.
    srv.corrupt_challenge(false);
    let (all, code) = browser_login(&srv, data.path(), "my-own-client", &[]);
    assert_eq!(code, 0, "{all}");
}

#[test]
fn a_forged_state_is_refused_before_any_token_request() {
    let srv = OAuthServer::start(USER);
    let data = tempfile::tempdir().unwrap();
    srv.forge_state(true);
    let (all, code) = browser_login(&srv, data.path(), "my-own-client", &[]);
    assert_eq!(code, 3, "{all}");
    assert!(all.contains("state does not match"), "{all}");
    assert!(
        !srv.log().iter().any(|(r, _)| r == "POST /token"),
        "the code of a forged redirect is never exchanged: {:?}",
        srv.log()
    );
    assert!(!token_file(data.path()).exists());
}

#[test]
fn token_endpoint_errors_during_login_exit_3_with_a_hint() {
    let srv = OAuthServer::start(USER);
    let data = tempfile::tempdir().unwrap();
    for (status, body, want, hint) in [
        (
            500,
            "<html>oops</html>",
            "answered HTTP 500 without an OAuth error",
            "try again later",
        ),
        (
            400,
            r#"{"error":"unauthorized_client"}"#,
            "unauthorized_client",
            "public client flows",
        ),
        (
            400,
            r#"{"error":"invalid_scope","error_description":"bad\u001b[2Jscope"}"#,
            "invalid_scope",
            "--oauth-scope",
        ),
    ] {
        srv.fail_token_requests(Some((status, body)));
        let (out, err, code) = login_as(&srv, data.path(), "my-own-client", &[], &[]);
        assert_eq!(code, 3, "{out}{err}");
        assert!(err.contains(want) && err.contains(hint), "{err}");
        assert!(!err.contains('\u{1b}'), "network text is escaped: {err:?}");
    }
    assert!(!token_file(data.path()).exists());
}

//! The configuration file: its values apply, a flag on the command line wins, a malformed
//! file — or a value out of range — is an error naming the file and line (exit 3), `--config
//! FILE` must exist, and the OAuth client ID can come from `[oauth-client-id]`.

use std::path::Path;
use std::process::Output;

use crate::support::cmd::mailprobe;
use crate::support::oauth::OAuthServer;

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let d = dir.join("mailprobe");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn discover(xdg: &Path, extra: &[&str]) -> (String, String, i32) {
    let out = mailprobe()
        .env("XDG_CONFIG_HOME", xdg)
        .args(["discover", "alice@gmail.com", "--offline"])
        .args(extra)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn values_apply_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "# defaults\nformat = \"json\"\ntimeout = 3\nwarn-cert-days = 20\n",
    );
    let (out, err, code) = discover(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.trim_start().starts_with('{'),
        "format = json applies: {out}"
    );
    let (out, _, _) = discover(dir.path(), &["--format", "human"]);
    assert!(!out.trim_start().starts_with('{'), "the flag wins: {out}");
    // A bad value is an error even when the flag overrides it.
    write(dir.path(), "timeout = 0\n");
    let (_, err, code) = discover(dir.path(), &["--timeout", "5"]);
    assert_eq!(code, 3, "{err}");
}

#[test]
fn malformed_files_are_errors_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "timeout = 3\n\ntimeot = 4\n");
    let (_, err, code) = discover(dir.path(), &[]);
    assert_eq!(code, 3);
    assert!(
        err.contains(&format!("{}:3:", p.display())) && err.contains("timeot"),
        "{err}"
    );
    write(dir.path(), "timeout = 0\n");
    let (_, err, code) = discover(dir.path(), &[]);
    assert_eq!(code, 3);
    assert!(err.contains("timeout"), "{err}");
    write(dir.path(), "format = [\n");
    let (_, _, code) = discover(dir.path(), &[]);
    assert_eq!(code, 3);
    let (_, err, code) = discover(dir.path(), &["--config", "/nonexistent/mailprobe.toml"]);
    assert_eq!(code, 3);
    assert!(err.contains("/nonexistent/mailprobe.toml"), "{err}");
}

#[test]
fn values_out_of_range_are_errors_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for (text, line, says, flags) in [
        (
            "# defaults\nformat = \"json\"\n\ntimeout = 0\n",
            4,
            "timeout: must be between 1 and 86400 seconds",
            &[][..],
        ),
        (
            "timeout = 0\n",
            1,
            "timeout: must be between",
            &["--timeout", "5"][..],
        ),
        (
            "per-host = 0\n",
            1,
            "per-host: must be a whole number between 1 and 64",
            &[],
        ),
        (
            "warn-cert-days = 10\n\ncrit-cert-days = 20\n",
            3,
            "warn-cert-days (10) must not be below crit-cert-days (20)",
            &[],
        ),
    ] {
        let p = write(dir.path(), text);
        let (out, err, code) = discover(dir.path(), flags);
        assert_eq!(code, 3, "{text}: {out}{err}");
        assert!(
            err.contains(&format!("error: {}:{line}: {says}", p.display())),
            "{text}: {err}"
        );
    }
}

/// `oauth login ADDRESS` with the configuration file `conf`, tokens under `data`, the device
/// flow against `srv`: the client ID comes from the file alone.
fn oauth_login(conf: &Path, data: &Path, srv: &OAuthServer, address: &str) -> Output {
    mailprobe()
        .env("XDG_DATA_HOME", data)
        .args(["--config", conf.to_str().unwrap()])
        .args(["oauth", "login", address])
        .args(["--oauth-device-url", &srv.url("/device")])
        .args(["--oauth-token-url", &srv.url("/token")])
        .args(["--allow-insecure-oauth"])
        .output()
        .unwrap()
}

#[test]
fn oauth_client_id_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "[oauth-client-id]\ndefault = \"client-from-file\"\n",
    );
    let srv = OAuthServer::start("alice@example.test");
    let data = tempfile::tempdir().unwrap();
    let out = oauth_login(&conf, data.path(), &srv, "alice@example.test");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        srv.log()[0].1.contains("client_id=client-from-file"),
        "{:?}",
        srv.log()
    );
}

/// `[oauth-client-id]` picks by the address's provider database ID before `default`; a key
/// that is neither is an error at its line, never silently unused.
#[test]
fn oauth_client_id_per_provider_and_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "[oauth-client-id]\ngoogle = \"g-client\"\ndefault = \"d-client\"\n",
    );
    let srv = OAuthServer::start("alice@gmail.com");
    let data = tempfile::tempdir().unwrap();
    let login = |conf: &Path| oauth_login(conf, data.path(), &srv, "alice@gmail.com");
    let out = login(&conf);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        srv.log()[0].1.contains("client_id=g-client"),
        "{:?}",
        srv.log()
    );
    let conf = write(
        dir.path(),
        "format = \"openmetrics\"\n\n[oauth-client-id]\nmicrosoft = \"m-client\"\n",
    );
    let before = srv.log().len();
    let out = login(&conf);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "{}:4: [oauth-client-id] 'microsoft'",
            conf.display()
        )) && err.contains("microsoft365"),
        "{err}"
    );
    assert_eq!(srv.log().len(), before, "nothing sent");
    // `format = "openmetrics"` is a value the file takes, as --format does.
    write(dir.path(), "format = \"openmetrics\"\n");
    let (out, err, code) = discover(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("# HELP mailprobe_"), "{out}");
}

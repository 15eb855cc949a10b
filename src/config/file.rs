//! The configuration file: `--config FILE`, else `$XDG_CONFIG_HOME/mailprobe/config.toml`
//! (`~/.config/mailprobe/config.toml` when `XDG_CONFIG_HOME` is unset, XDG Base Directory
//! Specification), TOML 1.0.
//!
//! It is one layer of the settings, between the defaults and the flags: each table only sets what
//! it names, flags win. Unknown keys are errors (a typo must not be ignored silently), and so is
//! any malformed value: [`FileError`] names the file and the line. Secrets are never values here:
//! a key names the environment variable or the 0600 file that holds one.
//!
//! Top-level keys are defaults for what people repeat, each named after its flag (without `--`)
//! and checked by that flag's range check when the settings are resolved: `timeout`, `deadline`,
//! `concurrency`, `per-host`, `format`, `dns`, `ca-file`, `trust-anchor`, `ispdb-url`, the
//! thresholds, and `[oauth-client-id]` (provider ID of the provider database, or `default`, to
//! the user's own OAuth client ID) with `[oauth-client-secret-env]` / `[oauth-client-secret-file]`
//! (where that client's secret is, for providers whose installed-app clients have one). Tables:
//! `[serve]` and `[serve.modules.NAME]` (read by `mailprobe serve`).
//! New tables are added as new optional fields of [`ConfigFile`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

/// The largest configuration file read (a config is a few kilobytes).
pub(crate) const MAX_FILE: u64 = 1024 * 1024;

/// Why the configuration file cannot be used (a usage error, exit 3).
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct FileError {
    pub path: String,
    /// 1-based line of the problem, when the parser knows it.
    pub line: Option<usize>,
    pub message: String,
}

/// The whole file. Every table is optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Seconds per network step and for the whole run (`--timeout`, `--deadline`).
    pub timeout: Option<f64>,
    pub deadline: Option<f64>,
    /// Probes at once, and per host (`--concurrency`, `--per-host`).
    pub concurrency: Option<i64>,
    pub per_host: Option<i64>,
    /// `human`, `json` or `nagios` (`--format`).
    pub format: Option<String>,
    /// DNS servers, `IP[:PORT]` (`--dns`).
    pub dns: Option<Vec<String>>,
    /// Extra trusted CA certificates, PEM (`--ca-file`).
    pub ca_file: Option<PathBuf>,
    /// DNSSEC trust anchors, DS or DNSKEY records (`--trust-anchor`).
    pub trust_anchor: Option<PathBuf>,
    pub ispdb_url: Option<String>,
    /// Thresholds (`--warn-cert-days` … `--crit-time`).
    pub warn_cert_days: Option<i64>,
    pub crit_cert_days: Option<i64>,
    pub warn_latency: Option<f64>,
    pub crit_latency: Option<f64>,
    pub warn_time: Option<f64>,
    pub crit_time: Option<f64>,
    /// `[oauth-client-id]`: provider ID (or `default`) to the user's own OAuth client ID.
    #[serde(default)]
    pub oauth_client_id: BTreeMap<String, String>,
    /// `[oauth-client-secret-env]` and `[oauth-client-secret-file]`: provider ID (or `default`)
    /// to the environment variable, or the 0600 file, holding that client's secret.
    #[serde(default)]
    pub oauth_client_secret_env: BTreeMap<String, String>,
    #[serde(default)]
    pub oauth_client_secret_file: BTreeMap<String, String>,
    #[serde(default)]
    pub serve: Option<ServeFile>,
    /// The file it came from, for messages about its values (empty: no file).
    #[serde(skip)]
    pub source: PathBuf,
    /// The 1-based line of every key, by its dotted path (`timeout`,
    /// `serve.modules.imap.timeout`), for messages about values that parse but are out of range.
    #[serde(skip)]
    pub lines: BTreeMap<String, usize>,
}

impl ConfigFile {
    /// The error about the value of `key` (a dotted path): the file, the key's line, `message`.
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> FileError {
        FileError {
            path: self.source.display().to_string(),
            line: self.line_of(key),
            message: message.into(),
        }
    }

    /// The line of `key` (a dotted path), when the file sets it.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.lines.get(key).copied()
    }
}

/// `[serve]`: the exporter.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeFile {
    /// `ADDR:PORT` to listen on (`--listen` wins).
    pub listen: Option<String>,
    /// Probes running at once across all scrapes.
    pub concurrency: Option<usize>,
    /// Seconds a target's result is reused before it is probed again.
    pub min_interval: Option<f64>,
    /// Recent probes kept for `/` and `/report` (each with its full report).
    pub recent: Option<usize>,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: Option<usize>,
    /// Seconds a client gets to send a whole request head (and the TLS handshake).
    pub header_timeout: Option<f64>,
    /// HTTP basic authentication: the user name; the password from `basic-auth-password-env`
    /// or `basic-auth-password-file`.
    pub basic_auth_user: Option<String>,
    pub basic_auth_password_env: Option<String>,
    pub basic_auth_password_file: Option<PathBuf>,
    /// TLS for the listener: certificate chain and private key, PEM.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    #[serde(default)]
    pub modules: BTreeMap<String, ModuleFile>,
}

/// What a module runs.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ModuleCommand {
    /// Target: an address.
    #[default]
    Check,
    /// Target: a domain or an address.
    Audit,
    /// Target: a server URL (`imaps://host:993`).
    Probe,
    /// Target: an address; needs credentials.
    Roundtrip,
}

/// `[serve.modules.NAME]`: one kind of probe a scrape can ask for (`module=NAME`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ModuleFile {
    #[serde(default)]
    pub command: ModuleCommand,
    /// Seconds per network step and for the whole probe.
    pub timeout: Option<f64>,
    pub deadline: Option<f64>,
    pub warn_cert_days: Option<i64>,
    pub crit_cert_days: Option<i64>,
    pub warn_latency: Option<f64>,
    pub crit_latency: Option<f64>,
    pub warn_time: Option<f64>,
    pub crit_time: Option<f64>,
    /// Login name; the password only by reference.
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub oauth_token_env: Option<String>,
    /// `audit`: selectors besides the common ones.
    #[serde(default)]
    pub dkim_selectors: Vec<String>,
    /// `audit`: the recipient of the open-relay test (as `--relay-test-rcpt`).
    pub relay_test_rcpt: Option<String>,
    /// `roundtrip`: seconds to wait for the message.
    pub wait: Option<f64>,
    /// Seconds this module's result for one target is reused (overrides `[serve]`).
    pub min_interval: Option<f64>,
}

/// The default file: `$XDG_CONFIG_HOME/mailprobe/config.toml`, else
/// `$HOME/.config/mailprobe/config.toml`; None when neither variable is set.
pub(crate) fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("mailprobe").join("config.toml"))
}

/// Load `--config FILE` (must exist), else the default file when it exists, else nothing.
pub fn load(explicit: Option<&Path>) -> Result<ConfigFile, FileError> {
    match explicit {
        Some(p) => read(p),
        None => match default_path() {
            Some(p) if p.exists() => read(&p),
            _ => Ok(ConfigFile::default()),
        },
    }
}

/// Read and parse one file, at most [`MAX_FILE`] bytes.
pub fn read(path: &Path) -> Result<ConfigFile, FileError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let err = |message: String| FileError {
        path: shown.clone(),
        line: None,
        message,
    };
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut buf))
        .map_err(|e| err(format!("cannot read the configuration file: {e}")))?;
    if buf.len() as u64 > MAX_FILE {
        return Err(err(format!(
            "larger than {} KiB: not a configuration file",
            MAX_FILE / 1024
        )));
    }
    let text = String::from_utf8(buf).map_err(|_| err("not UTF-8 text".into()))?;
    let mut c = parse(&text, &shown)?;
    c.source = path.to_path_buf();
    Ok(c)
}

/// Parse the text of a file shown as `path` in errors.
pub fn parse(text: &str, path: &str) -> Result<ConfigFile, FileError> {
    let mut c: ConfigFile = toml::from_str(text).map_err(|e: toml::de::Error| FileError {
        path: path.to_string(),
        line: e.span().map(|s| line_at(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    // The document parsed above, so it parses again; its spans give each key's line.
    if let Ok(doc) = toml::de::DeTable::parse(text) {
        key_lines(doc.get_ref(), "", text, &mut c.lines);
    }
    Ok(c)
}

/// The 1-based line of byte `offset` of `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Record the line of every key of `table` (and of its tables) under `prefix`.
fn key_lines(
    table: &toml::de::DeTable<'_>,
    prefix: &str,
    text: &str,
    out: &mut BTreeMap<String, usize>,
) {
    for (k, v) in table.iter() {
        let path = match prefix {
            "" => k.get_ref().to_string(),
            p => format!("{p}.{}", k.get_ref()),
        };
        if let toml::de::DeValue::Table(t) = v.get_ref() {
            key_lines(t, &path, text, out);
        }
        out.entry(path)
            .or_insert_with(|| line_at(text, k.span().start));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_parse_with_their_commands() {
        let c = parse(
            "[serve]\nlisten = \"127.0.0.1:9999\"\nmin-interval = 30\n\n\
             [serve.modules.imap]\ncommand = \"check\"\ntimeout = 5\nuser = \"a@b.example\"\npassword-env = \"PW\"\n\n\
             [serve.modules.dns]\ncommand = \"audit\"\ndkim-selectors = [\"s1\"]\n",
            "c.toml",
        )
        .unwrap();
        let s = c.serve.unwrap();
        assert_eq!(s.listen.as_deref(), Some("127.0.0.1:9999"));
        assert_eq!(s.modules["imap"].password_env.as_deref(), Some("PW"));
        assert_eq!(s.modules["dns"].command, ModuleCommand::Audit);
        assert_eq!(parse("", "e.toml").unwrap(), ConfigFile::default());
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse("[serve]\nlisten = \"x\"\nbogus = 1\n", "/etc/m.toml").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().starts_with("/etc/m.toml:3: "), "{e}");
        assert!(e.message.contains("bogus"), "{e}");
        // An inline secret is not a key: it is refused, never read.
        let e = parse("[serve.modules.m]\n\npassword = \"hunter2\"\n", "m.toml").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = parse("[serve\n", "b.toml").unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
        let e = parse("[serve.modules.m]\ncommand = \"frob\"\n", "c.toml").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[test]
    fn top_level_keys_beside_serve() {
        let c = parse(
            "timeout = 5\nformat = \"json\"\nper-host = 2\n\n[oauth-client-id]\nmicrosoft = \"abc\"\n\n\
             [serve]\nconcurrency = 4\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.timeout, Some(5.0));
        assert_eq!(c.per_host, Some(2));
        assert_eq!(c.format.as_deref(), Some("json"));
        assert_eq!(c.oauth_client_id["microsoft"], "abc");
        let sec = parse(
            "[oauth-client-secret-env]\ngoogle = \"GOOGLE_SECRET\"\n\n[oauth-client-secret-file]\ndefault = \"/s\"\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(sec.oauth_client_secret_env["google"], "GOOGLE_SECRET");
        assert_eq!(sec.oauth_client_secret_file["default"], "/s");
        // A secret itself is not a key: refused, and not repeated in the message.
        let e = parse("[oauth-client-secret]\ngoogle = \"GOCSPX-x\"\n", "c.toml").unwrap_err();
        assert!(!e.to_string().contains("GOCSPX"), "{e}");
        assert_eq!(c.serve.unwrap().concurrency, Some(4));
        let e = parse("timeout = 5\n\ntimeot = 3\n", "t.toml").unwrap_err();
        assert!(
            e.to_string().starts_with("t.toml:3: ") && e.message.contains("timeot"),
            "{e}"
        );
        let e = parse("timeout = \"x\"\n", "t.toml").unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn every_key_has_its_line() {
        let c = parse(
            "# top\ntimeout = 5\n\n[serve]\nlisten = \"x:1\"\n\n[serve.modules.imap]\n\ntimeout = 0\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.line_of("timeout"), Some(2));
        assert_eq!(c.line_of("serve.listen"), Some(5));
        assert_eq!(c.line_of("serve.modules.imap.timeout"), Some(9));
        assert_eq!(c.line_of("deadline"), None);
        let e = c.error_at("serve.modules.imap.timeout", "timeout: too small");
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(9), "timeout: too small")
        );
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let e = load(Some(Path::new("/nonexistent/mailprobe.toml"))).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/mailprobe.toml"));
    }
}

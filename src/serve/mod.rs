//! `mailprobe serve`: a multi-target Prometheus exporter, as blackbox_exporter is one.
//!
//! A scrape asks `GET /probe?target=ADDRESS&module=NAME`; the module (from `[serve.modules.NAME]`
//! of the configuration file, see [`crate::config::file`]) says which command runs — `check`,
//! `audit`, `probe` or `roundtrip` — with which timeouts, thresholds and credential references,
//! and the answer is the report's metrics ([`crate::report::openmetrics`]). [`Exporter`] holds
//! the modules, the per-target result cache (a scrape storm probes each target once per
//! `min-interval`), the global probe limit, the connection limits shared by every probe (so
//! `--per-host` holds across scrapes) and the recent reports behind `/` and `/report`;
//! [`http`] answers the requests. Nothing here prints: the binary reports through [`Events`].

pub mod exporter;
pub mod http;
pub mod modules;
pub mod page;
pub mod stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::app::{AppError, Settings};
use crate::auth::{PasswordSource, read_secret};
use crate::config::file::{ConfigFile, ModuleFile, ServeFile};

pub use exporter::{Exporter, ProbeError};
pub use modules::Module;

/// Default listening address: loopback unless told otherwise.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:9117";
/// Default seconds a target's result is reused.
pub(crate) const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(15);
/// Default probes running at once.
pub(crate) const DEFAULT_CONCURRENCY: usize = 16;
/// Default number of recent probes kept for `/`.
pub(crate) const DEFAULT_RECENT: usize = 100;
/// Default connections served at once (more wait in the kernel's backlog).
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default time a client gets to send a whole request head, or to finish the TLS handshake.
pub(crate) const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The listener and the exporter's limits, resolved from `[serve]` and the flags.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Probes at once across every scrape (more wait).
    pub concurrency: usize,
    /// Reuse a target's result this long (per module unless the module says otherwise).
    pub min_interval: Duration,
    pub recent: usize,
    /// Connections served at once; a slow client holds one at most `header_timeout`.
    pub max_connections: usize,
    /// A request head (or the TLS handshake) not complete within this closes the connection.
    pub header_timeout: Duration,
    /// `(user, password)` for HTTP basic authentication.
    pub basic_auth: Option<(String, crate::auth::Secret)>,
    /// PEM certificate chain and key: the listener speaks HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// What the server tells its front end (the binary prints it).
pub trait Events: Send + Sync {
    /// Listening on this address (scheme `http` or `https`).
    fn listening(&self, url: &str);
    /// Shutting down: `open` connections are given time to finish.
    fn stopping(&self, _open: usize) {}
}

/// The exporter from the base settings (defaults and global flags), the configuration file's
/// `[serve]` table and `--listen` (which wins over the file). Every secret is read and every
/// module resolved here, before anything listens.
pub fn prepare(
    base: &Settings,
    file: &ConfigFile,
    listen_flag: Option<&str>,
) -> Result<Exporter, AppError> {
    let empty = ServeFile::default();
    let f = file.serve.as_ref().unwrap_or(&empty);
    let options = options(file, f, listen_flag)?;
    let files: Vec<(String, ModuleFile)> = if f.modules.is_empty() {
        modules::default_modules()
    } else {
        f.modules.clone().into_iter().collect()
    };
    let modules = files
        .iter()
        .map(|(name, m)| {
            Module::new(name, m, base, options.min_interval)
                .map_err(|e| at(file, &e.path(name), e.message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let connections = base.net.concurrency.max(1) * 4;
    Ok(Exporter::new(options, modules, connections, base.per_host))
}

/// The listener's options from `[serve]` and `--listen`; a value out of range names its line.
fn options(
    file: &ConfigFile,
    f: &ServeFile,
    listen_flag: Option<&str>,
) -> Result<ServeOptions, AppError> {
    let listen = listen_flag
        .or(f.listen.as_deref())
        .unwrap_or(DEFAULT_LISTEN);
    let listen: SocketAddr = listen.parse().map_err(|_| {
        let m = format!(
            "invalid listen address '{listen}': expected ADDR:PORT, e.g. 127.0.0.1:9117 or [::1]:9117"
        );
        match listen_flag {
            Some(_) => AppError::Usage(m),
            None => at(file, "serve.listen", m),
        }
    })?;
    let concurrency = f.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
    if !(1..=1024).contains(&concurrency) {
        return Err(at(
            file,
            "serve.concurrency",
            "[serve] concurrency must be between 1 and 1024",
        ));
    }
    let min_interval = seconds(
        file,
        ("min-interval", f.min_interval),
        (0.0, 86_400.0),
        DEFAULT_MIN_INTERVAL,
    )?;
    let max_connections = f.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if !(1..=65_536).contains(&max_connections) {
        return Err(at(
            file,
            "serve.max-connections",
            "[serve] max-connections must be between 1 and 65536",
        ));
    }
    let header_timeout = seconds(
        file,
        ("header-timeout", f.header_timeout),
        (0.1, 300.0),
        DEFAULT_HEADER_TIMEOUT,
    )?;
    let tls = match (&f.tls_cert_file, &f.tls_key_file) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        (None, None) => None,
        _ => {
            return Err(at(
                file,
                "serve.tls-cert-file",
                "[serve] tls-cert-file and tls-key-file go together",
            ));
        }
    };
    Ok(ServeOptions {
        listen,
        concurrency,
        min_interval,
        recent: f.recent.unwrap_or(DEFAULT_RECENT).clamp(1, 10_000),
        max_connections,
        header_timeout,
        basic_auth: basic_auth(file, f)?,
        tls,
    })
}

/// The `[serve]` value `key` in seconds, within `min..=max`; `default` when the file has none.
fn seconds(
    file: &ConfigFile,
    (key, value): (&str, Option<f64>),
    (min, max): (f64, f64),
    default: Duration,
) -> Result<Duration, AppError> {
    match value {
        None => Ok(default),
        Some(v) if v.is_finite() && (min..=max).contains(&v) => Ok(Duration::from_secs_f64(v)),
        Some(_) => Err(at(
            file,
            &format!("serve.{key}"),
            format!("[serve] {key} must be between {min} and {max} seconds"),
        )),
    }
}

/// A usage error about the value at `path` (dotted): with the file and the line when the value
/// came from a file, else the message alone (the built-in modules have no file).
fn at(file: &ConfigFile, path: &str, message: impl Into<String>) -> AppError {
    if file.source.as_os_str().is_empty() {
        return AppError::Usage(message.into());
    }
    let mut e = file.error_at(path, message);
    if e.line.is_none() {
        // The key was not written (a default or a pair half-given): the table's line.
        let table = path.rsplit_once('.').map_or(path, |(t, _)| t);
        e.line = file.line_of(table);
    }
    AppError::Usage(e.to_string())
}

fn basic_auth(
    file: &ConfigFile,
    f: &ServeFile,
) -> Result<Option<(String, crate::auth::Secret)>, AppError> {
    let source = match (&f.basic_auth_password_env, &f.basic_auth_password_file) {
        (Some(v), None) => Some(PasswordSource::Env(v.clone())),
        (None, Some(p)) => Some(PasswordSource::File(p.clone())),
        (None, None) => None,
        _ => {
            return Err(at(
                file,
                "serve.basic-auth-password-file",
                "[serve] give basic-auth-password-env or basic-auth-password-file, not both",
            ));
        }
    };
    match (&f.basic_auth_user, source) {
        (None, None) => Ok(None),
        (Some(u), Some(src)) => {
            let key = match src {
                PasswordSource::File(_) => "serve.basic-auth-password-file",
                _ => "serve.basic-auth-password-env",
            };
            let secret =
                read_secret(&src).map_err(|e| at(file, key, format!("[serve] basic auth: {e}")))?;
            Ok(Some((u.clone(), secret)))
        }
        _ => Err(at(
            file,
            "serve.basic-auth-user",
            "[serve] basic-auth-user needs basic-auth-password-env or basic-auth-password-file (and back)",
        )),
    }
}

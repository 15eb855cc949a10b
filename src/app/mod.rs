//! Orchestration: turns parsed arguments into a run (address → discover → probe → auth →
//! roundtrip → report). Usage problems are `Err(AppError)`; everything the network says is data
//! in the [`Report`].

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::address::{self, AddressError};
use crate::cli::{Cli, Command, Format, GlobalArgs};
use crate::config::{self, ConfigError, NetConfig};
use crate::discover;
use crate::net::{Net, NetSetupError};
use crate::report::{self, Report, Status, human::HumanOptions};

pub mod audit;
pub mod batch;
pub mod check;
pub mod creds;
use crate::thresholds::Thresholds;

/// Why a run could not even start (exit 3, UNKNOWN).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AppError {
    #[error(transparent)]
    Address(#[from] AddressError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Net(#[from] NetSetupError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Other(String),
}

impl AppError {
    /// A `hint:` line for the user, when there is something to suggest.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            AppError::Address(_) => Some("give a full address such as alice@example.com"),
            AppError::Config(ConfigError::Resolve(_)) => {
                Some("example: --resolve mail.example.com:993:192.0.2.10")
            }
            AppError::Config(ConfigError::ConnectTo(_)) => {
                Some("example: --connect-to mail.example.com:993:new-server.example.net:993")
            }
            AppError::Config(ConfigError::Dns(_)) => {
                Some("example: --dns 192.0.2.53 or --dns [2001:db8::53]:5353")
            }
            _ => None,
        }
    }
}

/// Plain-data network configuration from the global options.
pub fn net_config(g: &GlobalArgs) -> Result<NetConfig, AppError> {
    let secs = |name: &str, v: f64| -> Result<Duration, AppError> {
        if v.is_finite() && v > 0.0 && v <= 86_400.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(AppError::Usage(format!(
                "{name} must be a number of seconds between 0 and 86400, not {v}"
            )))
        }
    };
    Ok(NetConfig {
        dns: g
            .dns
            .iter()
            .map(|s| config::parse_dns(s))
            .collect::<Result<_, _>>()?,
        resolve: g
            .resolve
            .iter()
            .map(|s| config::parse_resolve(s))
            .collect::<Result<_, _>>()?,
        connect_to: g
            .connect_to
            .iter()
            .map(|s| config::parse_connect_to(s))
            .collect::<Result<_, _>>()?,
        ca_file: g.ca_file.clone(),
        ispdb_url: g.ispdb_url.clone(),
        offline: g.offline,
        timeout: secs("--timeout", g.timeout)?,
        deadline: secs("--deadline", g.deadline)?,
        concurrency: g.concurrency.max(1),
    })
}

/// Thresholds from the global options.
pub fn thresholds(g: &GlobalArgs) -> Thresholds {
    Thresholds {
        warn_cert_days: g.warn_cert_days,
        crit_cert_days: g.crit_cert_days,
        warn_latency_s: g.warn_latency,
        crit_latency_s: g.crit_latency,
        warn_time_s: g.warn_time,
        crit_time_s: g.crit_time,
    }
}

/// Render one report in the chosen format.
pub fn render(r: &Report, g: &GlobalArgs) -> String {
    match g.format() {
        Format::Json => report::json::render(r),
        Format::Nagios => report::nagios::render(r, &thresholds(g).perf()),
        Format::Human => report::human::render(
            r,
            HumanOptions {
                all_attempts: g.verbose > 0,
            },
        ),
    }
}

/// Render a usage or system error in the chosen format (stdout part; stderr gets the text).
pub fn render_error(e: &AppError, g: &GlobalArgs) -> Option<String> {
    match g.format() {
        Format::Json => Some(report::json::render_error(&e.to_string(), e.hint())),
        Format::Nagios => Some(report::nagios::render_error(&e.to_string())),
        Format::Human => None,
    }
}

/// Run the command, writing its output to `out`; returns the worst status (the exit code).
pub async fn run(cli: &Cli, out: &mut dyn Write) -> Result<Status, AppError> {
    let g = &cli.global;
    let cfg = net_config(g)?;
    let t = thresholds(g);
    let emit = |mut r: Report, out: &mut dyn Write| -> Status {
        crate::thresholds::apply(&mut r, &t);
        let _ = out.write_all(render(&r, g).as_bytes());
        r.status
    };
    match &cli.command {
        Command::Discover { address } => {
            let addr = address::parse(address)?;
            let net = Net::new(cfg)?;
            let r = discover_report(&net, &addr).await;
            Ok(emit(r, out))
        }
        Command::Check(a) => {
            if a.batch.is_none() && a.password_env_prefix.is_some() {
                return Err(AppError::Usage(
                    "--password-env-prefix applies to the password variables of a --batch file"
                        .into(),
                ));
            }
            let creds = creds::credentials(&a.creds, false)?;
            if a.batch.is_some() {
                let net = Net::new(cfg)?;
                return batch::run(g, a, &creds, &net, out).await;
            }
            let addr = check::parse_address(a.address.as_deref().unwrap_or_default())?;
            let net = Net::new(cfg)?;
            let opts = check::probe_options(
                a.transcript,
                g.warn_cert_days,
                g.concurrency,
                g.per_host,
                &creds,
                Some(&addr),
                &net,
            );
            let r = check::check(&net, &addr, &opts).await;
            Ok(emit(r, out))
        }
        Command::Probe(a) => {
            let creds = creds::credentials(&a.creds, false)?;
            let net = Net::new(cfg)?;
            // A login needs an address for the user name: --user gives it for `probe`.
            let addr = creds.user.as_deref().and_then(|u| address::parse(u).ok());
            let opts = check::probe_options(
                a.transcript,
                g.warn_cert_days,
                g.concurrency,
                g.per_host,
                &creds,
                addr.as_ref(),
                &net,
            );
            if creds.present() && addr.is_none() {
                return Err(AppError::Usage(
                    "logging in with `probe` needs --user ADDRESS (a full email address)".into(),
                ));
            }
            let r = check::probe_urls(&net, &a.urls, &opts).await?;
            Ok(emit(r, out))
        }
        Command::Audit(a) => {
            let opts = audit::options(a)?;
            if let Some(path) = &a.batch {
                let net = Net::new(cfg)?;
                return audit::run_batch(g, path, &opts, &net, out).await;
            }
            let target = a.target.as_deref().unwrap_or_default();
            let (domain, unicode) = audit::parse_target(target)?;
            let net = Net::new(cfg)?;
            let r = audit::audit_report(&net, target.trim(), &domain, unicode, &opts).await;
            Ok(emit(r, out))
        }
        Command::Roundtrip(a) => {
            let creds = creds::credentials(&a.creds, true)?;
            if !creds.present() {
                return Err(AppError::Usage(
                    "a round trip logs in: give --password-env VAR, --password-stdin, --password-file PATH or --oauth-token-env VAR".into(),
                ));
            }
            let addr = check::parse_address(&a.address)?;
            let to_password = a
                .to_password_env
                .as_ref()
                .map(|v| crate::auth::read_secret(&crate::auth::PasswordSource::Env(v.clone())))
                .transpose()
                .map_err(|e| AppError::Usage(e.to_string()))?;
            if !(a.wait.is_finite() && a.wait > 0.0 && a.wait <= 3600.0) {
                return Err(AppError::Usage(format!(
                    "--wait must be between 0 and 3600 seconds, not {}",
                    a.wait
                )));
            }
            let rt = crate::roundtrip::RoundtripOptions {
                to: a.to.clone(),
                from: a.from.clone(),
                keep: a.keep,
                wait: Duration::from_secs_f64(a.wait),
                to_user: a.to_user.clone(),
                to_password,
            };
            // The wait comes on top of the discovery and probing deadline.
            let mut cfg = cfg;
            cfg.deadline += rt.wait;
            let net = Net::new(cfg)?;
            let opts = check::probe_options(
                a.transcript,
                g.warn_cert_days,
                g.concurrency,
                g.per_host,
                &creds,
                Some(&addr),
                &net,
            );
            let r = check::roundtrip(&net, &addr, &creds, &opts, &rt).await;
            Ok(emit(r, out))
        }
    }
}

/// `mailprobe discover`: discovery only.
pub async fn discover_report(net: &Arc<Net>, addr: &address::Address) -> Report {
    let started = Instant::now();
    let mut report = Report::new("discover", &addr.ascii(), &addr.domain);
    report.domain_unicode = addr.domain_unicode.clone();
    let found = discover::discover(net, addr).await;
    report.discovery = found.discovery;
    report.findings = found.findings;
    report.status = report.status_from_findings();
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

/// The worst status of several reports (batch mode).
pub fn worst(reports: &[Report]) -> Status {
    reports
        .iter()
        .map(|r| r.status)
        .max()
        .unwrap_or(Status::Unknown)
}

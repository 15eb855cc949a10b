//! Orchestration: turns parsed arguments into a run (address → discover → probe → auth →
//! roundtrip → report). Usage problems are `Err(AppError)`; everything the network says is data
//! in the [`Report`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::address::{self, AddressError};
use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{self, ConfigError, NetConfig};
use crate::discover;
use crate::net::{Net, NetSetupError};
use crate::report::{Report, Status};

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
    })
}

/// Run the command; the caller renders the reports and maps the status to the exit code.
pub async fn run(cli: &Cli) -> Result<Vec<Report>, AppError> {
    let cfg = net_config(&cli.global)?;
    match &cli.command {
        Command::Discover { address } => {
            let addr = address::parse(address)?;
            let net = Net::new(cfg)?;
            Ok(vec![discover_report(&net, &addr).await])
        }
        Command::Check(_) | Command::Probe(_) | Command::Roundtrip(_) => Err(AppError::Usage(
            "this command is not available in this build yet".into(),
        )),
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

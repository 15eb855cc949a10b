//! Orchestration: turns [`Settings`] into a run (address → discover → probe → auth →
//! roundtrip → report). Usage problems are `Err(AppError)`; everything the network says is data
//! in the [`Report`]. Output goes to any `Write`; progress, password prompts and standard input
//! come through [`Io`], so nothing here touches the terminal.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use thiserror::Error;

use crate::address::{self, AddressError};
use crate::audit::receiving::ReceivingOptions;
use crate::auth::Credentials;
use crate::config::ConfigError;
use crate::discover;
use crate::model::{Finding, Report, Status};
use crate::net::{Net, NetSetupError};
use crate::report::{self, human::HumanOptions};
use crate::roundtrip::RoundtripOptions;

pub mod audit;
pub mod batch;
pub mod check;
pub mod creds;
pub mod export;
mod io;
pub mod oauth;
pub mod settings;
pub mod shard;

use creds::Need;
pub use io::{Io, NoOAuthUi, NoReporter, PasswordPrompt, Reporter};
pub use settings::{
    CredentialSettings, ExportTask, Format, OutputSettings, RoundtripTask, Settings, Task,
};

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
    /// `oauth login`: the sign-in did not give a token (the server refused, or was unreachable).
    #[error("sign-in failed: {0}")]
    OAuth(crate::auth::oauth::OAuthError),
}

impl AppError {
    /// A `hint:` line for the user, when there is something to suggest.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            AppError::Address(e) if e.not_an_address() => {
                Some("give a full address such as alice@example.com")
            }
            AppError::Config(ConfigError::Resolve(_)) => {
                Some("example: --resolve mail.example.com:993:192.0.2.10")
            }
            AppError::Config(ConfigError::ConnectTo(_)) => {
                Some("example: --connect-to mail.example.com:993:new-server.example.net:993")
            }
            AppError::Config(ConfigError::Dns(_)) => {
                Some("example: --dns 192.0.2.53 or --dns [2001:db8::53]:5353")
            }
            AppError::OAuth(e) => Some(e.hint()),
            _ => None,
        }
    }
}

/// Render one report in the chosen format.
pub fn render(r: &Report, s: &Settings) -> String {
    match s.output.format {
        Format::Json => report::json::render(r),
        Format::Nagios => report::nagios::render(r, &s.thresholds),
        Format::OpenMetrics => report::openmetrics::render(r),
        Format::Human => report::human::render(
            r,
            HumanOptions {
                all_attempts: s.output.all_attempts,
            },
        ),
    }
}

/// Render a usage or system error in `format` (the stdout part; stderr gets the text).
pub fn render_error(e: &AppError, format: Format) -> Option<String> {
    match format {
        Format::Json => Some(report::json::render_error(&e.to_string(), e.hint())),
        Format::Nagios => Some(report::nagios::render_error(&e.to_string())),
        Format::Human | Format::OpenMetrics => None,
    }
}

/// Run the task of `s`, writing its output to `out`; returns the worst status (the exit code).
/// Every usage check — secrets included — happens before the first packet.
pub async fn run(s: &Settings, io: &mut Io<'_>, out: &mut dyn Write) -> Result<Status, AppError> {
    s.validate()?;
    let emit = |mut r: Report, out: &mut dyn Write| -> Status {
        r.apply_thresholds(&s.thresholds);
        let _ = out.write_all(render(&r, s).as_bytes());
        tracing::debug!("report written");
        r.status
    };
    match &s.task {
        Task::Discover { address } => {
            let addr = address::parse(address)?;
            let net = Net::new(s.net.clone())?;
            Ok(emit(discover_report(&net, &addr).await, out))
        }
        Task::Check { address, receiving } => {
            Ok(emit(check_task(s, address, *receiving, io).await?, out))
        }
        Task::Batch {
            input,
            password_env_prefix,
        } => {
            let creds = creds::credentials(&s.credentials, Need::IfGiven, io)?;
            let net = Net::new(s.net.clone())?;
            let source = (input.as_str(), password_env_prefix.as_str());
            batch::run(s, source, &creds, &net, io, out).await
        }
        Task::Probe { urls } => Ok(emit(probe_task(s, urls, io).await?, out)),
        Task::Audit {
            target,
            dkim_selectors,
            relay_test_rcpt,
        } => {
            let opts = audit::options(s, dkim_selectors, relay_test_rcpt)?;
            let (domain, unicode) = audit::parse_target(target)?;
            let net = Net::new(s.net.clone())?;
            let r = audit::audit_report(&net, target.trim(), &domain, unicode, &opts).await;
            Ok(emit(r, out))
        }
        Task::AuditBatch {
            input,
            dkim_selectors,
            relay_test_rcpt,
        } => {
            let opts = audit::options(s, dkim_selectors, relay_test_rcpt)?;
            let net = Net::new(s.net.clone())?;
            audit::run_batch(s, input, &opts, &net, io, out).await
        }
        Task::Export(t) => export::run(s, t, io, out).await,
        Task::OAuthLogin { address } => {
            let addr = check::parse_address(address)?;
            oauth::login(s, &addr, io, out).await
        }
        Task::OAuthLogout { address } => {
            let addr = check::parse_address(address)?;
            oauth::logout(s, &addr, out)
        }
        Task::Roundtrip(t) => Ok(emit(roundtrip_task(s, t, io).await?, out)),
    }
}

/// `check ADDRESS`: discovery, probes, logins (with a stored OAuth token if there is one) and,
/// unless `--no-receiving`, the domain's receiving side.
async fn check_task(
    s: &Settings,
    address: &str,
    receiving: bool,
    io: &mut Io<'_>,
) -> Result<Report, AppError> {
    let addr = check::parse_address(address)?;
    let mut creds = creds::credentials(&s.credentials, Need::IfGiven, io)?;
    let net = Net::new(s.net.clone())?;
    let refused = with_stored_token(s, &net, Some(&addr), &mut creds).await?;
    let opts = check::probe_options(s, &creds, Some(&addr), &net);
    let ro = receiving.then(|| ReceivingOptions {
        per_host: s.per_host.max(1),
        warn_cert_days: s.thresholds.warn_cert_days,
        crit_cert_days: s.thresholds.crit_cert_days,
    });
    let r = check::check_receiving(&net, &addr, &opts, ro.as_ref()).await;
    Ok(with_finding(r, refused))
}

/// `probe URL…`: the named servers only; a login needs `--user ADDRESS`.
async fn probe_task(s: &Settings, urls: &[String], io: &mut Io<'_>) -> Result<Report, AppError> {
    let mut creds = creds::credentials(&s.credentials, Need::IfGiven, io)?;
    // A login needs an address for the user name: --user gives it for `probe`.
    let addr = creds.user.as_deref().and_then(|u| address::parse(u).ok());
    if creds.present() && addr.is_none() {
        return Err(AppError::Usage(
            "logging in with `probe` needs --user ADDRESS (a full email address)".into(),
        ));
    }
    let net = Net::new(s.net.clone())?;
    let refused = with_stored_token(s, &net, addr.as_ref(), &mut creds).await?;
    let opts = check::probe_options(s, &creds, addr.as_ref(), &net);
    let r = check::probe_urls(&net, urls, &opts).await?;
    Ok(with_finding(r, refused))
}

/// `roundtrip ADDRESS`: the check, then a test message sent and fetched back.
async fn roundtrip_task(
    s: &Settings,
    t: &RoundtripTask,
    io: &mut Io<'_>,
) -> Result<Report, AppError> {
    let (addr, mut creds, rt) = roundtrip_inputs(s, t, io)?;
    // The wait comes on top of the discovery and probing deadline.
    let mut cfg = s.net.clone();
    cfg.deadline += rt.wait;
    let net = Net::new(cfg)?;
    let refused = with_stored_token(s, &net, Some(&addr), &mut creds).await?;
    let opts = check::probe_options(s, &creds, Some(&addr), &net);
    let r = match refused {
        None => check::roundtrip(&net, &addr, &creds, &opts, &rt).await,
        Some(_) => check::roundtrip_without_token(&net, &addr, &opts).await,
    };
    Ok(with_finding(r, refused))
}

/// `--oauth`: the stored (refreshed when expired) access token of the address logs in; a
/// refresh the token endpoint refused comes back as the finding that says so.
async fn with_stored_token(
    s: &Settings,
    net: &Arc<Net>,
    addr: Option<&address::Address>,
    creds: &mut Credentials,
) -> Result<Option<Finding>, AppError> {
    if !s.credentials.oauth {
        return Ok(None);
    }
    let addr = addr.ok_or_else(|| {
        AppError::Usage("--oauth with `probe` needs --user ADDRESS (whose token to use)".into())
    })?;
    match oauth::access_token(s, net, addr).await? {
        Ok(token) => {
            creds.oauth_token = Some(token);
            Ok(None)
        }
        Err(finding) => Ok(Some(finding)),
    }
}

/// The report with `f` first among its findings, its status raised to match.
fn with_finding(mut r: Report, f: Option<Finding>) -> Report {
    if let Some(f) = f {
        r.findings.insert(0, f);
        r.status = r.status.max(r.status_from_findings());
    }
    r
}

/// Everything a round trip needs, read and checked before any traffic.
fn roundtrip_inputs(
    s: &Settings,
    t: &RoundtripTask,
    io: &mut Io<'_>,
) -> Result<(address::Address, Credentials, RoundtripOptions), AppError> {
    let addr = check::parse_address(&t.address)?;
    for (flag, value) in [("--to", &t.to), ("--from", &t.from)] {
        if let Some(v) = value {
            address::parse(v).map_err(|e| AppError::Usage(format!("{flag}: {e}")))?;
        }
    }
    let creds = creds::credentials(&s.credentials, Need::Required, io)?;
    let to_password = t
        .to_password_env
        .as_ref()
        .map(|v| crate::auth::read_secret(&crate::auth::PasswordSource::Env(v.clone())))
        .transpose()
        .map_err(|e| AppError::Usage(e.to_string()))?;
    let rt = RoundtripOptions {
        to: t.to.clone(),
        from: t.from.clone(),
        keep: t.keep,
        wait: t.wait,
        to_user: t.to_user.clone(),
        to_password,
    };
    Ok((addr, creds, rt))
}

/// `mailprobe discover`: discovery only.
pub(crate) async fn discover_report(net: &Arc<Net>, addr: &address::Address) -> Report {
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

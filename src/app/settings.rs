//! Settings: what one run does, resolved once into plain data before anything touches the
//! network, and passed to every part of [`crate::app`] that needs configuration.
//!
//! Layers, lowest first: [`Settings::new`] holds the defaults, a configuration file may
//! override them, and the command line (the binary's `cli` module builds that layer) overrides
//! both. Each layer only sets what it names; [`Settings::validate`] then checks what no single
//! value can (a warning threshold below the critical one, a command that needs the network run
//! with `--offline`), so every layer gets the same checks. The shape follows ripgrep's
//! `LowArgs` → `HiArgs` and uv's `settings.rs`.

use std::time::Duration;

use super::AppError;
use crate::auth::PasswordSource;
use crate::auth::sasl::Mech;
use crate::config::NetConfig;
use crate::model::Thresholds;
use crate::report::export::ExportFormat;

/// Output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned text for a terminal (`report::human`).
    #[default]
    Human,
    /// One JSON document (`report::json`); JSON Lines in batch mode.
    Json,
    /// One Nagios plugin line with performance data (`report::nagios`).
    Nagios,
    /// OpenMetrics text, every sample labelled with its target (`report::openmetrics`), for
    /// node_exporter's textfile collector; a batch is one exposition.
    OpenMetrics,
}

/// The command and its operands.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// `discover ADDRESS`: candidates from every source, no mail server contacted.
    Discover { address: String },
    /// `check ADDRESS`: discover, probe, verdict; with `receiving` (unless `--no-receiving`)
    /// the Receiving section: the domain's MX hosts on port 25.
    Check { address: String, receiving: bool },
    /// `check --batch FILE` (`-`: standard input).
    Batch {
        input: String,
        /// `--password-env-prefix`: every password variable the file names starts with it.
        password_env_prefix: String,
    },
    /// `probe URL…`: the named servers only.
    Probe { urls: Vec<String> },
    /// `roundtrip ADDRESS`: send a test message and fetch it back.
    Roundtrip(RoundtripTask),
    /// `audit DOMAIN|ADDRESS`: the receiving side of a domain; `--dkim-selector` adds
    /// selectors to the common ones.
    Audit {
        target: String,
        dkim_selectors: Vec<String>,
        /// `--relay-test-rcpt`: recipient of the safe open-relay test.
        relay_test_rcpt: String,
    },
    /// `oauth login ADDRESS`: sign in and store the tokens.
    OAuthLogin { address: String },
    /// `oauth logout ADDRESS`: delete the stored tokens.
    OAuthLogout { address: String },
    /// `export ADDRESS --to FORMAT`: the working (or discovered) settings as a client file.
    Export(ExportTask),
    /// `audit --batch FILE` (`-`: standard input).
    AuditBatch {
        input: String,
        dkim_selectors: Vec<String>,
        relay_test_rcpt: String,
    },
}

impl Task {
    /// The command's name, as in `Report.command`.
    pub fn name(&self) -> &'static str {
        match self {
            Task::Discover { .. } => "discover",
            Task::Check { .. } | Task::Batch { .. } => "check",
            Task::Probe { .. } => "probe",
            Task::Roundtrip(_) => "roundtrip",
            Task::Audit { .. } | Task::AuditBatch { .. } => "audit",
            Task::Export(_) => "export",
            Task::OAuthLogin { .. } | Task::OAuthLogout { .. } => "oauth",
        }
    }

    /// Does the command connect to mail servers (and so make no sense with `--offline`)?
    /// `discover` falls back on the built-in database; `audit` reports `dns-unavailable`.
    pub fn needs_network(&self) -> bool {
        matches!(
            self,
            Task::Check { .. } | Task::Batch { .. } | Task::Probe { .. } | Task::Roundtrip(_)
        ) || matches!(self, Task::Export(t) if !t.from_discovery)
            || matches!(self, Task::OAuthLogin { .. })
    }
}

/// `roundtrip` operands and options.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundtripTask {
    /// The mailbox that sends (and, without `to`, receives).
    pub address: String,
    /// `--to`: another mailbox receives.
    pub to: Option<String>,
    /// `--from`: envelope and header sender.
    pub from: Option<String>,
    /// `--keep`: leave the test message in the mailbox.
    pub keep: bool,
    /// `--wait`: how long to wait for the message to arrive.
    pub wait: Duration,
    /// `--to-user`: login name of the `to` mailbox.
    pub to_user: Option<String>,
    /// `--to-password-env`: the variable holding the `to` mailbox's password.
    pub to_password_env: Option<String>,
}

/// `export` operands and options.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportTask {
    pub address: String,
    /// `--to`.
    pub format: ExportFormat,
    /// `--from-discovery`: the top-ranked discovered candidates, without probing.
    pub from_discovery: bool,
    /// `--include-password`: put the password in the file (mobileconfig only).
    pub include_password: bool,
}

/// What the user gave for logging in (the secrets themselves are read by `app::creds`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialSettings {
    /// `--user`: the login name, used as is.
    pub user: Option<String>,
    /// Where the password comes from; none named: the run asks through [`super::Io::prompt`]
    /// when a login is wanted.
    pub password: Option<PasswordSource>,
    /// `--oauth-token-env`: the variable holding an OAuth2 access token.
    pub oauth_token_env: Option<String>,
    /// `--oauth`: the access token stored by `oauth login` (refreshed when expired).
    pub oauth: bool,
    /// `--auth-mech`: only this mechanism.
    pub mech: Option<Mech>,
    /// `--all-mechs`: try every advertised mechanism and report each.
    pub all_mechs: bool,
    /// `--allow-plaintext-auth`: credentials may go over a connection without TLS.
    pub allow_plaintext: bool,
    /// `--allow-invalid-cert-auth` (global): credentials may go over TLS whose certificate did
    /// not verify.
    pub allow_invalid_cert: bool,
    /// `--allow-untrusted-auth` (global): credentials may go to a server known only from
    /// plain-http autoconfig.
    pub allow_untrusted: bool,
}

/// How the report is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputSettings {
    pub format: Format,
    /// Human output lists every discovery attempt, not only those that found something or
    /// failed (`-v` sets it).
    pub all_attempts: bool,
    /// Keep the redacted wire dialogue of every connection (`--transcript`).
    pub transcript: bool,
}

/// Everything one run needs to know, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub task: Task,
    /// Where traffic goes, how long it may take, how much runs at once.
    pub net: NetConfig,
    /// Connections to one server at once (`--per-host`, across a whole batch).
    pub per_host: usize,
    pub credentials: CredentialSettings,
    pub output: OutputSettings,
    pub thresholds: Thresholds,
    /// `--shard K/N`: a batch takes only the domains of this shard.
    pub shard: Option<super::shard::Shard>,
    pub oauth: super::oauth::OAuthSettings,
}

impl Settings {
    /// The defaults for `task`: what a run gets when no file and no flag says otherwise.
    pub fn new(task: Task) -> Settings {
        Settings {
            task,
            net: NetConfig::default(),
            per_host: 4,
            credentials: CredentialSettings::default(),
            output: OutputSettings::default(),
            thresholds: Thresholds::default(),
            shard: None,
            oauth: super::oauth::OAuthSettings::default(),
        }
    }

    /// Checks across values, after every layer is applied; a failure is a usage error.
    pub fn validate(&self) -> Result<(), AppError> {
        if self.net.offline && self.task.needs_network() {
            return Err(AppError::Usage(format!(
                "`{}` connects to mail servers and cannot run with --offline (`discover` can)",
                self.task.name()
            )));
        }
        let t = &self.thresholds;
        if t.warn_cert_days < t.crit_cert_days {
            return Err(AppError::Usage(format!(
                "--warn-cert-days ({}) must not be below --crit-cert-days ({})",
                t.warn_cert_days, t.crit_cert_days
            )));
        }
        let below = |w: Option<f64>, c: Option<f64>| matches!((w, c), (Some(w), Some(c)) if w > c);
        if below(t.warn_latency_s, t.crit_latency_s) {
            return Err(AppError::Usage(
                "--warn-latency must not be above --crit-latency".into(),
            ));
        }
        if below(t.warn_time_s, t.crit_time_s) {
            return Err(AppError::Usage(
                "--warn-time must not be above --crit-time".into(),
            ));
        }
        if let Task::Export(e) = &self.task {
            if e.include_password && e.format != ExportFormat::Mobileconfig {
                return Err(AppError::Usage(
                    "--include-password applies to --to mobileconfig only: the other formats are published, and never carry a secret".into(),
                ));
            }
            if e.include_password && self.credentials.password.is_none() {
                return Err(AppError::Usage(
                    "--include-password needs the password: give --password-env, --password-stdin or --password-file".into(),
                ));
            }
        }
        let batch_stdin = matches!(&self.task, Task::Batch { input, .. } | Task::AuditBatch { input, .. } if input == "-");
        if self.credentials.password == Some(PasswordSource::Stdin) && batch_stdin {
            return Err(AppError::Usage(
                "--password-stdin and --batch - both read standard input: give the password with --password-env or --password-file".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(s: &Settings) -> String {
        s.validate().unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_valid() {
        Settings::new(Task::Check {
            receiving: true,
            address: "a@example.com".into(),
        })
        .validate()
        .unwrap();
    }

    #[test]
    fn cross_checks() {
        let mut s = Settings::new(Task::Probe {
            urls: vec!["imaps://h".into()],
        });
        s.net.offline = true;
        assert!(usage(&s).contains("--offline"));
        s.task = Task::Discover {
            address: "a@example.com".into(),
        };
        s.validate().unwrap();
        s.thresholds.warn_cert_days = 3;
        assert!(usage(&s).contains("--crit-cert-days (7)"));
        s.thresholds.warn_cert_days = 30;
        s.thresholds.warn_time_s = Some(9.0);
        s.thresholds.crit_time_s = Some(5.0);
        assert!(usage(&s).contains("--warn-time"));
    }
}

//! Modules: `[serve.modules.NAME]` resolved once at start into settings, credentials and a
//! network context, then run per scrape against one target. The module's values override the
//! base settings (defaults, then the global flags of `mailprobe serve`); secrets are read at
//! start from the environment variable or 0600 file the module names, so a missing one stops
//! the server before it listens instead of failing every scrape.

use std::sync::Arc;
use std::time::Duration;

use crate::address;
use crate::app::{self, CredentialSettings, Settings};
use crate::audit::AuditOptions;
use crate::auth::{Credentials, PasswordSource, read_secret};
use crate::config::file::{ModuleCommand, ModuleFile};
use crate::model::Report;
use crate::net::Net;
use crate::probe::limits::Limits;
use crate::roundtrip::RoundtripOptions;

/// The longest target accepted (an address is at most 254 octets, RFC 5321 §4.5.3.1.3; a URL a
/// little more).
pub(crate) const MAX_TARGET: usize = 1024;

/// One resolved module.
pub struct Module {
    pub name: String,
    pub command: ModuleCommand,
    pub settings: Settings,
    pub creds: Credentials,
    pub audit: AuditOptions,
    /// `roundtrip`: how long to wait for the message.
    pub wait: Duration,
    pub min_interval: Duration,
    net: Arc<Net>,
}

/// The modules a server has without a configuration file: `check` and `audit`.
pub(crate) fn default_modules() -> Vec<(String, ModuleFile)> {
    let m = |command| ModuleFile {
        command,
        ..ModuleFile::default()
    };
    vec![
        ("check".into(), m(ModuleCommand::Check)),
        ("audit".into(), m(ModuleCommand::Audit)),
    ]
}

/// Why `[serve.modules.NAME]` cannot be used: the key at fault when one is (its line in the
/// file makes the message), else the table as a whole.
#[derive(Debug)]
pub struct ModuleError {
    pub key: Option<&'static str>,
    pub message: String,
}

impl ModuleError {
    /// The dotted path of what is at fault, for [`crate::config::file::ConfigFile::line_of`].
    pub fn path(&self, name: &str) -> String {
        match self.key {
            Some(k) => format!("serve.modules.{name}.{k}"),
            None => format!("serve.modules.{name}"),
        }
    }
}

fn usage(name: &str, what: impl std::fmt::Display) -> ModuleError {
    ModuleError {
        key: None,
        message: format!("[serve.modules.{name}]: {what}"),
    }
}

fn usage_at(name: &str, key: &'static str, what: impl std::fmt::Display) -> ModuleError {
    ModuleError {
        key: Some(key),
        ..usage(name, what)
    }
}

fn secs(name: &str, key: &'static str, v: f64, max: f64) -> Result<Duration, ModuleError> {
    if v.is_finite() && (0.0..=max).contains(&v) {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(usage_at(
            name,
            key,
            format!("{key} must be between 0 and {max} seconds"),
        ))
    }
}

/// A module's name goes into metrics labels and URLs: 1 to 64 letters, digits, `_` or `-`.
fn check_name(name: &str) -> Result<(), ModuleError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(usage(
            name,
            "a module name is 1 to 64 letters, digits, '_' or '-'",
        ))
    }
}

impl Module {
    /// Resolve `[serve.modules.NAME]` on top of `base`.
    pub fn new(
        name: &str,
        f: &ModuleFile,
        base: &Settings,
        min_interval: Duration,
    ) -> Result<Module, ModuleError> {
        check_name(name)?;
        let mut s = base.clone();
        // Each report keeps its redacted transcript: `/report` shows what produced an alert.
        s.output.transcript = true;
        if let Some(v) = f.timeout {
            s.net.timeout = secs(name, "timeout", v, 86_400.0)?.max(Duration::from_secs(1));
        }
        if let Some(v) = f.deadline {
            s.net.deadline = secs(name, "deadline", v, 86_400.0)?.max(Duration::from_secs(1));
        }
        let t = &mut s.thresholds;
        t.warn_cert_days = f.warn_cert_days.unwrap_or(t.warn_cert_days);
        t.crit_cert_days = f.crit_cert_days.unwrap_or(t.crit_cert_days);
        t.warn_latency_s = f.warn_latency.or(t.warn_latency_s);
        t.crit_latency_s = f.crit_latency.or(t.crit_latency_s);
        t.warn_time_s = f.warn_time.or(t.warn_time_s);
        t.crit_time_s = f.crit_time.or(t.crit_time_s);
        if f.password_env.is_some() && f.password_file.is_some() {
            return Err(usage(name, "give password-env or password-file, not both"));
        }
        s.credentials = CredentialSettings {
            user: f.user.clone(),
            password: f
                .password_env
                .clone()
                .map(PasswordSource::Env)
                .or_else(|| f.password_file.clone().map(PasswordSource::File)),
            oauth_token_env: f.oauth_token_env.clone(),
            ..s.credentials.clone()
        };
        s.validate().map_err(|e| usage(name, e))?;
        let creds = read_credentials(name, &s.credentials)?;
        if f.command == ModuleCommand::Roundtrip && !creds.present() {
            return Err(usage_at(
                name,
                "command",
                "a roundtrip module needs password-env, password-file or oauth-token-env",
            ));
        }
        let wait = secs(name, "wait", f.wait.unwrap_or(60.0), 3600.0)?;
        let mut cfg = s.net.clone();
        if f.command == ModuleCommand::Roundtrip {
            cfg.deadline += wait;
        }
        let net = Net::new(cfg).map_err(|e| usage(name, e))?;
        let rcpt = f
            .relay_test_rcpt
            .as_deref()
            .unwrap_or(crate::audit::port25::DEFAULT_RELAY_RCPT);
        let audit = app::audit::options(&s, &f.dkim_selectors, rcpt).map_err(|e| usage(name, e))?;
        let min_interval = match f.min_interval {
            Some(v) => secs(name, "min-interval", v, 86_400.0)?,
            None => min_interval,
        };
        Ok(Module {
            name: name.to_string(),
            command: f.command,
            settings: s,
            creds,
            audit,
            wait,
            min_interval,
            net,
        })
    }

    /// The longest a run may take: its deadline, the round trip's wait, and a margin for the
    /// report; the exporter stops waiting after this.
    pub fn budget(&self) -> Duration {
        let wait = if self.command == ModuleCommand::Roundtrip {
            self.wait
        } else {
            Duration::ZERO
        };
        self.settings.net.deadline + wait + Duration::from_secs(5)
    }

    /// Check the target before anything runs: the reason is the `400` answer.
    pub fn check_target(&self, target: &str) -> Result<(), String> {
        if target.is_empty() {
            return Err("target is empty".into());
        }
        if target.len() > MAX_TARGET {
            return Err(format!("target is longer than {MAX_TARGET} bytes"));
        }
        match self.command {
            ModuleCommand::Check | ModuleCommand::Roundtrip => address::parse(target)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            ModuleCommand::Audit => app::audit::parse_target(target)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            ModuleCommand::Probe => crate::probe::url::parse_url(target)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }

    /// Run the module against `target` (already checked), sharing `limits` with every other run.
    pub async fn run(&self, target: &str, limits: &Arc<Limits>) -> Result<Report, String> {
        let net = self.net.rearmed();
        let s = &self.settings;
        let addr = match self.command {
            ModuleCommand::Check | ModuleCommand::Roundtrip => {
                Some(address::parse(target).map_err(|e| e.to_string())?)
            }
            ModuleCommand::Probe => self
                .creds
                .user
                .as_deref()
                .and_then(|u| address::parse(u).ok()),
            ModuleCommand::Audit => None,
        };
        let mut opts = app::check::probe_options(s, &self.creds, addr.as_ref(), &net);
        opts.limits = Some(limits.clone());
        let mut r = match (self.command, &addr) {
            (ModuleCommand::Check, Some(a)) => app::check::check(&net, a, &opts).await,
            (ModuleCommand::Roundtrip, Some(a)) => {
                let rt = RoundtripOptions {
                    to: None,
                    from: None,
                    keep: false,
                    wait: self.wait,
                    to_user: None,
                    to_password: None,
                };
                app::check::roundtrip(&net, a, &self.creds, &opts, &rt).await
            }
            (ModuleCommand::Probe, _) => app::check::probe_urls(&net, &[target.to_string()], &opts)
                .await
                .map_err(|e| e.to_string())?,
            _ => {
                let (domain, unicode) =
                    app::audit::parse_target(target).map_err(|e| e.to_string())?;
                app::audit::audit_report(&net, target.trim(), &domain, unicode, &self.audit).await
            }
        };
        r.apply_thresholds(&s.thresholds);
        Ok(r)
    }
}

/// Read the module's secrets now (environment variable or 0600 file; never a prompt).
fn read_credentials(name: &str, c: &CredentialSettings) -> Result<Credentials, ModuleError> {
    let read = |src: &PasswordSource| {
        let key = match src {
            PasswordSource::File(_) => "password-file",
            _ => "password-env",
        };
        read_secret(src).map_err(|e| usage_at(name, key, e))
    };
    let password = c.password.as_ref().map(read).transpose()?;
    let oauth_token = c
        .oauth_token_env
        .as_ref()
        .map(|v| read_secret(&PasswordSource::Env(v.clone())))
        .transpose()
        .map_err(|e| usage_at(name, "oauth-token-env", e))?;
    Ok(Credentials {
        user: c.user.clone(),
        password,
        oauth_token,
        mech: c.mech,
        all_mechs: c.all_mechs,
        allow_plaintext: c.allow_plaintext,
        allow_invalid_cert: c.allow_invalid_cert,
        allow_untrusted: c.allow_untrusted,
    })
}

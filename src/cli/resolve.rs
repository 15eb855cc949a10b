//! The command line resolved once into the library's [`Settings`]: the flag layer on top of
//! the defaults (a configuration file, when there is one, goes between the two: every flag
//! that was given wins over it). Parsing of the string-valued network options (`--dns`,
//! `--resolve`, `--connect-to`) is the library's (`mailprobe::config`), so a file gets the
//! same checks.

use std::time::Duration;

use mailprobe::app::batch::input::DEFAULT_ENV_PREFIX;
use mailprobe::app::oauth::OAuthFlow;
use mailprobe::app::{
    AppError, CredentialSettings, ExportTask, Format, RoundtripTask, Settings, Task,
};
use mailprobe::auth::PasswordSource;
use mailprobe::auth::oauth::store;
use mailprobe::auth::sasl::Mech;
use mailprobe::config;
use mailprobe::config::file::ConfigFile;
use mailprobe::report::export::ExportFormat;

use super::file_layer;

use super::{
    AuditArgs, AuthMech, CheckArgs, Cli, Command, CredArgs, ExportArgs, ExportTo, FormatArg,
    GlobalArgs, OauthCommand, OauthFlowArg, RoundtripArgs, SessionArgs,
};

/// The output format the flags ask for, also for rendering an error that stops resolution.
pub fn format(g: &GlobalArgs) -> Format {
    match (g.format, g.json) {
        (Some(f), _) => format_of(f),
        (None, true) => Format::Json,
        (None, false) => Format::Human,
    }
}

fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Nagios => Format::Nagios,
        FormatArg::OpenMetrics => Format::OpenMetrics,
    }
}

/// Settings from the command line alone: defaults, then every flag.
#[cfg(test)]
pub fn settings(cli: &Cli) -> Result<Settings, AppError> {
    settings_with(cli, &ConfigFile::default(), &|_| true)
}

/// Settings from defaults, then the configuration file `f` (the default value: no file), then
/// every flag `given` says was on the command line (the others keep the file's value).
pub fn settings_with(
    cli: &Cli,
    f: &ConfigFile,
    given: &dyn Fn(&str) -> bool,
) -> Result<Settings, AppError> {
    let mut s = settings_flags(cli)?;
    // Every value is checked, also those a flag overrides: a bad file is never ignored.
    let bad = |e: mailprobe::config::file::FileError| AppError::Usage(e.to_string());
    file_layer::apply(&mut s.clone(), f, &|_| false).map_err(bad)?;
    file_layer::apply(&mut s, f, given).map_err(bad)?;
    if let Command::Oauth(OauthCommand::Login(a)) = &cli.command {
        file_layer::oauth_client(&mut s, f, &a.address);
    }
    Ok(s)
}

fn settings_flags(cli: &Cli) -> Result<Settings, AppError> {
    if let Command::Check(a) = &cli.command
        && a.batch.is_none()
        && a.password_env_prefix.is_some()
    {
        return Err(AppError::Usage(
            "--password-env-prefix applies to the password variables of a --batch file".into(),
        ));
    }
    let (task, session, creds) = task(&cli.command)?;
    let mut s = Settings::new(task);
    s.shard = match &cli.command {
        Command::Check(a) => a.shard,
        Command::Audit(a) => a.shard,
        _ => None,
    };
    apply_global(&mut s, &cli.global)?;
    if let Some(a) = session {
        s.output.transcript = a.transcript;
    }
    if let Some(c) = creds {
        s.credentials = credentials(c);
    }
    s.credentials.allow_invalid_cert = cli.global.allow_invalid_cert_auth;
    s.credentials.allow_untrusted = cli.global.allow_untrusted_auth;
    s.oauth.token_dir = store::default_dir(
        std::env::var("XDG_DATA_HOME").ok().as_deref(),
        std::env::var("HOME").ok().as_deref(),
    );
    s.oauth.allow_http = cli.global.allow_insecure_oauth;
    if let Command::Oauth(OauthCommand::Login(a)) = &cli.command {
        let o = &mut s.oauth;
        o.client_id = a.oauth_client_id.clone();
        o.client_secret = a
            .oauth_client_secret_env
            .clone()
            .map(PasswordSource::Env)
            .or_else(|| a.oauth_client_secret_file.clone().map(PasswordSource::File));
        o.auth_url = a.oauth_auth_url.clone();
        o.token_url = a.oauth_token_url.clone();
        o.device_url = a.oauth_device_url.clone();
        o.scopes = a.oauth_scopes.clone();
        o.flow = match a.oauth_flow {
            OauthFlowArg::Device => OAuthFlow::Device,
            OauthFlowArg::Browser => OAuthFlow::Browser,
        };
    }
    Ok(s)
}

type TaskParts<'a> = (Task, Option<&'a SessionArgs>, Option<&'a CredArgs>);

fn task(c: &Command) -> Result<TaskParts<'_>, AppError> {
    Ok(match c {
        Command::Discover { address } => (
            Task::Discover {
                address: address.clone(),
            },
            None,
            None,
        ),
        Command::Check(a) => (check_task(a), Some(&a.session), Some(&a.creds)),
        Command::Probe(a) => (
            Task::Probe {
                urls: a.urls.clone(),
            },
            Some(&a.session),
            Some(&a.creds),
        ),
        Command::Audit(a) => (audit_task(a), None, None),
        Command::Oauth(OauthCommand::Login(a)) => (
            Task::OAuthLogin {
                address: a.address.clone(),
            },
            None,
            None,
        ),
        Command::Oauth(OauthCommand::Logout { address }) => (
            Task::OAuthLogout {
                address: address.clone(),
            },
            None,
            None,
        ),
        Command::Export(a) => (export_task(a), Some(&a.session), Some(&a.creds)),
        Command::Roundtrip(a) => (roundtrip_task(a), Some(&a.session), Some(&a.creds)),
        // The exporter's base settings; each module sets its own task per scrape.
        #[cfg(feature = "serve")]
        Command::Serve(_) => (
            Task::Check {
                address: String::new(),
                receiving: false,
            },
            None,
            None,
        ),
        Command::Completions { .. } | Command::Man => {
            return Err(AppError::Usage(
                "`completions` and `man` print a file and run nothing".into(),
            ));
        }
    })
}

/// `check ADDRESS`, or `check --batch FILE` with the prefix its password variables must have.
fn check_task(a: &CheckArgs) -> Task {
    match &a.batch {
        Some(input) => Task::Batch {
            input: input.clone(),
            password_env_prefix: a
                .password_env_prefix
                .clone()
                .unwrap_or_else(|| DEFAULT_ENV_PREFIX.to_string()),
        },
        None => Task::Check {
            address: a.address.clone().unwrap_or_default(),
            receiving: !a.no_receiving,
        },
    }
}

/// `audit TARGET` or `audit --batch FILE`.
fn audit_task(a: &AuditArgs) -> Task {
    let dkim_selectors = a.dkim_selectors.clone();
    let relay_test_rcpt = a.relay_test_rcpt.clone();
    match &a.batch {
        Some(input) => Task::AuditBatch {
            input: input.clone(),
            dkim_selectors,
            relay_test_rcpt,
        },
        None => Task::Audit {
            target: a.target.clone().unwrap_or_default(),
            dkim_selectors,
            relay_test_rcpt,
        },
    }
}

/// `export ADDRESS --to FORMAT`.
fn export_task(a: &ExportArgs) -> Task {
    Task::Export(ExportTask {
        address: a.address.clone(),
        format: match a.to {
            ExportTo::Thunderbird => ExportFormat::Thunderbird,
            ExportTo::Mobileconfig => ExportFormat::Mobileconfig,
            ExportTo::Autodiscover => ExportFormat::Autodiscover,
            ExportTo::Srv => ExportFormat::Srv,
            ExportTo::Json => ExportFormat::Json,
        },
        from_discovery: a.from_discovery,
        include_password: a.include_password,
    })
}

/// `roundtrip ADDRESS`.
fn roundtrip_task(a: &RoundtripArgs) -> Task {
    Task::Roundtrip(RoundtripTask {
        address: a.address.clone(),
        to: a.to.clone(),
        from: a.from.clone(),
        keep: a.keep,
        wait: Duration::from_secs_f64(a.wait),
        to_user: a.to_user.clone(),
        to_password_env: a.to_password_env.clone(),
    })
}

fn apply_global(s: &mut Settings, g: &GlobalArgs) -> Result<(), AppError> {
    if let (true, Some(f)) = (g.json, g.format)
        && f != FormatArg::Json
    {
        let name = match f {
            FormatArg::Human => "human",
            FormatArg::OpenMetrics => "openmetrics",
            _ => "nagios",
        };
        return Err(AppError::Usage(format!(
            "--json and --format {name} ask for two output formats: give one of them"
        )));
    }
    let n = &mut s.net;
    n.dns = g
        .dns
        .iter()
        .map(|v| config::parse_dns(v))
        .collect::<Result<_, _>>()?;
    n.resolve = g
        .resolve
        .iter()
        .map(|v| config::parse_resolve(v))
        .collect::<Result<_, _>>()?;
    n.connect_to = g
        .connect_to
        .iter()
        .map(|v| config::parse_connect_to(v))
        .collect::<Result<_, _>>()?;
    n.ca_file = g.ca_file.clone();
    n.trust_anchor = g.trust_anchor.clone();
    n.ispdb_url = g.ispdb_url.clone();
    n.offline = g.offline;
    n.timeout = Duration::from_secs_f64(g.timeout);
    n.deadline = Duration::from_secs_f64(g.deadline);
    n.concurrency = g.concurrency;
    s.per_host = g.per_host;
    s.output.format = format(g);
    s.output.all_attempts = g.verbose > 0;
    let t = &mut s.thresholds;
    t.warn_cert_days = g.warn_cert_days;
    t.crit_cert_days = g.crit_cert_days;
    t.warn_latency_s = g.warn_latency;
    t.crit_latency_s = g.crit_latency;
    t.warn_time_s = g.warn_time;
    t.crit_time_s = g.crit_time;
    Ok(())
}

fn credentials(a: &CredArgs) -> CredentialSettings {
    let password = if let Some(v) = &a.password_env {
        Some(PasswordSource::Env(v.clone()))
    } else if a.password_stdin {
        Some(PasswordSource::Stdin)
    } else {
        a.password_file.clone().map(PasswordSource::File)
    };
    CredentialSettings {
        user: a.user.clone(),
        password,
        oauth_token_env: a.oauth_token_env.clone(),
        oauth: a.oauth,
        mech: a.auth_mech.map(mech),
        all_mechs: a.all_mechs,
        allow_plaintext: a.allow_plaintext_auth,
        allow_invalid_cert: false,
        allow_untrusted: false,
    }
}

fn mech(m: AuthMech) -> Mech {
    match m {
        AuthMech::Plain => Mech::Plain,
        AuthMech::Login => Mech::Login,
        AuthMech::CramMd5 => Mech::CramMd5,
        AuthMech::XOAuth2 => Mech::XOAuth2,
        AuthMech::OAuthBearer => Mech::OAuthBearer,
        AuthMech::LoginCmd => Mech::LoginCmd,
        AuthMech::UserPass => Mech::UserPass,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn resolved(args: &[&str]) -> Result<Settings, AppError> {
        settings(&Cli::try_parse_from(args).unwrap())
    }

    #[test]
    fn flags_become_settings() {
        let s = resolved(&[
            "mailprobe",
            "--timeout",
            "3",
            "probe",
            "imaps://h.example",
            "--transcript",
            "--auth-mech",
            "cram-md5",
            "--user",
            "a@h.example",
            "--password-env",
            "PW",
            "-v",
        ])
        .unwrap();
        assert_eq!(s.net.timeout, Duration::from_secs(3));
        assert!(s.output.transcript && s.output.all_attempts);
        assert_eq!(s.credentials.mech, Some(Mech::CramMd5));
        assert_eq!(
            s.credentials.password,
            Some(PasswordSource::Env("PW".into()))
        );
        assert_eq!(s.task.name(), "probe");
    }

    #[test]
    fn json_and_another_format_conflict() {
        let e = resolved(&[
            "mailprobe",
            "--json",
            "--format",
            "nagios",
            "discover",
            "a@b.c",
        ]);
        assert!(e.unwrap_err().to_string().contains("--format nagios"));
        let s = resolved(&[
            "mailprobe",
            "--json",
            "--format",
            "json",
            "discover",
            "a@b.c",
        ]);
        assert_eq!(s.unwrap().output.format, Format::Json);
    }
}

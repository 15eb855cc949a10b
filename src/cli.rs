//! Command-line interface: clap definitions only, no logic. Global options work before or after
//! the subcommand (`mailprobe --json check A` = `mailprobe check A --json`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Version line: the tool and the date of its built-in provider database.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (provider database ",
    env!("MAILPROBE_DB_DATE"),
    ")"
);

const EXIT_CODES: &str = "\
Exit codes (monitoring-plugins convention):
  0  OK        incoming and outgoing settings work with valid TLS (discover: both found)
  1  WARNING   something works, with warnings
  2  CRITICAL  no working incoming or outgoing server (or none found)
  3  UNKNOWN   usage or internal error";

#[derive(Debug, Parser)]
#[command(name = "mailprobe", version = VERSION, args_override_self = true, about = "Find, probe and verify the mail server settings of an email address", after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find candidate settings from every source (no connection to a mail server)
    #[command(after_help = EXIT_CODES)]
    Discover {
        /// Email address, e.g. alice@example.com
        address: String,
    },
    /// Discover, then probe every candidate and say which settings work
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Probe the given servers: imap://, imaps://, pop3://, pop3s://, smtp://, submission://, smtps:// (or submissions://)
    #[command(after_help = EXIT_CODES)]
    Probe(ProbeArgs),
    /// Send a test message and fetch it back, timing the delivery
    #[command(after_help = EXIT_CODES)]
    Roundtrip(RoundtripArgs),
    /// Audit the receiving side of a domain: MX set, MTA-STS, TLS-RPT, SPF, DMARC, DKIM
    #[command(after_help = EXIT_CODES)]
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Domain (or address, for its domain), e.g. example.com (omit with --batch)
    #[arg(required_unless_present = "batch", value_name = "DOMAIN|ADDRESS")]
    pub target: Option<String>,
    /// DKIM selector to check besides the common ones (repeatable)
    #[arg(long = "dkim-selector", value_name = "S")]
    pub dkim_selectors: Vec<String>,
    /// Audit every domain or address of FILE ('-' for stdin): one per line, '#' comments
    #[arg(long, value_name = "FILE", conflicts_with = "target")]
    pub batch: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Email address (omit with --batch)
    #[arg(required_unless_present = "batch")]
    pub address: Option<String>,
    /// Print the full (redacted) wire dialogue of every connection
    #[arg(long)]
    pub transcript: bool,
    /// Check every address of FILE ('-' for stdin): one per line, '#' comments, optional CSV `address,user,password-env`
    #[arg(long, value_name = "FILE", conflicts_with = "address")]
    pub batch: Option<String>,
    /// Password variables a --batch file names must start with this prefix [default: MAILPROBE_]
    #[arg(long, value_name = "PREFIX")]
    pub password_env_prefix: Option<String>,
    #[command(flatten)]
    pub creds: CredArgs,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Server URLs, e.g. imaps://mail.example.com smtp://mx.example.com:25 (?security=plain|starttls|tls overrides)
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// Print the full (redacted) wire dialogue of every connection
    #[arg(long)]
    pub transcript: bool,
    #[command(flatten)]
    pub creds: CredArgs,
}

#[derive(Debug, Args)]
pub struct RoundtripArgs {
    /// Mailbox that sends (and, without --to, receives) the test message
    pub address: String,
    /// Send to another mailbox (outbound delivery test)
    #[arg(long, value_name = "ADDRESS")]
    pub to: Option<String>,
    /// Envelope and header sender (default: the address)
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,
    /// Leave the test message in the mailbox
    #[arg(long)]
    pub keep: bool,
    /// How long to wait for the message to arrive
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub wait: f64,
    /// Login name of the --to mailbox (to fetch the message back from it)
    #[arg(long, value_name = "NAME")]
    pub to_user: Option<String>,
    /// Environment variable holding the --to mailbox's password
    #[arg(long, value_name = "VAR")]
    pub to_password_env: Option<String>,
    /// Print the full (redacted) wire dialogue of every connection
    #[arg(long)]
    pub transcript: bool,
    #[command(flatten)]
    pub creds: CredArgs,
}

/// Credentials. There is deliberately no `--password`: it would sit in shell history and `ps`.
#[derive(Debug, Args, Default, Clone)]
pub struct CredArgs {
    /// Login name (default: the form the discovered settings give)
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Read the password from this environment variable
    #[arg(long, value_name = "VAR", group = "password")]
    pub password_env: Option<String>,
    /// Read the password from the first line of standard input
    #[arg(long, group = "password")]
    pub password_stdin: bool,
    /// Read the password from a file that is not group- or world-readable
    #[arg(long, value_name = "PATH", group = "password")]
    pub password_file: Option<PathBuf>,
    /// Read an OAuth2 access token from this environment variable (XOAUTH2, OAUTHBEARER)
    #[arg(long, value_name = "VAR")]
    pub oauth_token_env: Option<String>,
    /// Use only this SASL mechanism (PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER, or LOGIN-CMD / USER-PASS for IMAP LOGIN / POP3 USER+PASS)
    #[arg(long, value_name = "NAME")]
    pub auth_mech: Option<String>,
    /// Try every advertised mechanism and report each result
    #[arg(long)]
    pub all_mechs: bool,
    /// Allow sending credentials without TLS (reported as a critical finding)
    #[arg(long)]
    pub allow_plaintext_auth: bool,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Nagios,
}

/// When to color human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// DNS server for every lookup, HTTP included (repeatable): IP, IP:PORT or [IPv6]:PORT
    #[arg(long, value_name = "IP[:PORT]", global = true)]
    pub dns: Vec<String>,
    /// Pin HOST:PORT to ADDR, as curl does (repeatable)
    #[arg(long, value_name = "HOST:PORT:ADDR[,ADDR]", global = true)]
    pub resolve: Vec<String>,
    /// Connect to HOST2:PORT2 instead of HOST1:PORT1, keeping HOST1 for SNI and certificates (repeatable)
    #[arg(long, value_name = "HOST1:PORT1:HOST2:PORT2", global = true)]
    pub connect_to: Vec<String>,
    /// Extra trust anchors (PEM) on top of the built-in roots
    #[arg(long, value_name = "PEM", global = true)]
    pub ca_file: Option<PathBuf>,
    /// Thunderbird ISPDB base URL
    #[arg(long, value_name = "URL", global = true, default_value = crate::config::DEFAULT_ISPDB_URL)]
    pub ispdb_url: String,
    /// Built-in provider database only: no network at all
    #[arg(long, global = true)]
    pub offline: bool,
    /// Timeout of each network step, in seconds
    #[arg(long, value_name = "SECS", global = true, default_value_t = 10.0)]
    pub timeout: f64,
    /// Deadline of the whole run, in seconds
    #[arg(long, value_name = "SECS", global = true, default_value_t = 30.0)]
    pub deadline: f64,
    /// Lookups, fetches and connections at once; addresses at once in batch mode (1 = one thing at a time)
    #[arg(long, value_name = "N", global = true, default_value_t = 16)]
    pub concurrency: usize,
    /// Connections to one server at once (across the whole batch)
    #[arg(long, value_name = "N", global = true, default_value_t = 4)]
    pub per_host: usize,
    /// JSON output (same as --format json)
    #[arg(long, global = true)]
    pub json: bool,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT", global = true)]
    pub format: Option<Format>,
    /// Color human output (NO_COLOR is honoured with auto)
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        global = true,
        default_value = "auto"
    )]
    pub color: ColorChoice,
    /// Warn when a certificate expires within N days
    #[arg(long, value_name = "N", global = true, default_value_t = 30)]
    pub warn_cert_days: i64,
    /// Critical when a certificate expires within N days
    #[arg(long, value_name = "N", global = true, default_value_t = 7)]
    pub crit_cert_days: i64,
    /// Warn when the round trip takes longer than S seconds
    #[arg(long, value_name = "S", global = true)]
    pub warn_latency: Option<f64>,
    /// Critical when the round trip takes longer than S seconds
    #[arg(long, value_name = "S", global = true)]
    pub crit_latency: Option<f64>,
    /// Warn when the whole check takes longer than S seconds
    #[arg(long, value_name = "S", global = true)]
    pub warn_time: Option<f64>,
    /// Critical when the whole check takes longer than S seconds
    #[arg(long, value_name = "S", global = true)]
    pub crit_time: Option<f64>,
    /// More detail on stderr (-v, -vv)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

impl GlobalArgs {
    pub fn format(&self) -> Format {
        match self.format {
            Some(f) => f,
            None if self.json => Format::Json,
            None => Format::Human,
        }
    }
}

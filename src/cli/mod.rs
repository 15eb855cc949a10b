//! Command-line interface of the binary: clap definitions ([`Cli`]), value ranges
//! ([`values`]) and the one step that turns them into the library's `Settings`
//! ([`resolve`]). Global options work before or after the subcommand (`mailprobe --json check
//! A` = `mailprobe check A --json`). Options are grouped under the same headings in `--help`
//! and in the README: Discovery, Network, Credentials, Output, Thresholds, Batch, Round trip, Audit.

mod file_layer;
pub mod packaging;
pub mod resolve;
pub mod values;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Version line: the tool, the date of its built-in provider database and the build's
/// enabled Cargo features.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (provider database ",
    env!("MAILPROBE_DB_DATE"),
    "; features: ",
    env!("MAILPROBE_FEATURES"),
    ")"
);

const EXIT_CODES: &str = "\
Exit codes (monitoring-plugins convention):
  0  OK        incoming and outgoing settings work with valid TLS (discover: both found)
  1  WARNING   something works, with warnings
  2  CRITICAL  no working incoming or outgoing server (or none found)
  3  UNKNOWN   usage or internal error";

const DISCOVERY: &str = "Discovery";
const NETWORK: &str = "Network";
const CREDENTIALS: &str = "Credentials";
const OUTPUT: &str = "Output";
const THRESHOLDS: &str = "Thresholds";
const BATCH: &str = "Batch";
const ROUNDTRIP: &str = "Round trip";
const AUDIT: &str = "Audit";
const EXPORT: &str = "Export";
const OAUTH: &str = "OAuth2";

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
    /// OAuth2 sign-in: store a refresh token for --oauth logins (XOAUTH2, OAUTHBEARER)
    #[command(subcommand)]
    Oauth(OauthCommand),
    /// Write the working settings as a client file: Thunderbird autoconfig, Apple profile, Autodiscover, SRV records, JSON
    #[command(after_help = EXIT_CODES)]
    Export(ExportArgs),
    /// Run a Prometheus exporter: GET /probe?target=ADDRESS&module=NAME answers with metrics
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
    /// Print a shell completion script: bash, zsh, fish or powershell
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: packaging::ShellArg,
    },
    /// Print the manual page (roff) on standard output
    Man,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub headings: HeadingOrder,
    /// Email address, e.g. alice@example.com
    pub address: String,
    /// Format: thunderbird (autoconfig config-v1.1 XML), mobileconfig (Apple profile), autodiscover (POX XML), srv (zone lines), json
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = EXPORT)]
    pub to: ExportTo,
    /// Export the top-ranked discovered candidates without probing them (the file says so)
    #[arg(long, help_heading = EXPORT)]
    pub from_discovery: bool,
    /// Write to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE", help_heading = EXPORT)]
    pub output: Option<PathBuf>,
    /// Put the password in the profile (mobileconfig only; a warning is printed)
    #[arg(long, help_heading = EXPORT)]
    pub include_password: bool,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub creds: CredArgs,
}

#[derive(Debug, Subcommand)]
pub enum OauthCommand {
    /// Sign in (device code or browser) and store the refresh token of ADDRESS
    Login(OauthLoginArgs),
    /// Delete the stored token of ADDRESS
    Logout {
        /// Email address
        address: String,
    },
}

#[derive(Debug, Args)]
pub struct OauthLoginArgs {
    /// Email address, e.g. alice@example.com
    pub address: String,
    /// Your own OAuth2 client ID (registered by you or your admin; see the README)
    #[arg(long, value_name = "ID", help_heading = OAUTH)]
    pub oauth_client_id: Option<String>,
    /// Read the client's secret from this environment variable (Google's installed-app clients need one; Microsoft's public clients have none)
    #[arg(long, value_name = "VAR", help_heading = OAUTH)]
    pub oauth_client_secret_env: Option<String>,
    /// Read the client's secret from the first line of this file (mode 0600, like --password-file)
    #[arg(long, value_name = "FILE", conflicts_with = "oauth_client_secret_env", help_heading = OAUTH)]
    pub oauth_client_secret_file: Option<std::path::PathBuf>,
    /// device: type a code on any device (RFC 8628); browser: sign in here, redirected to 127.0.0.1 (RFC 7636 PKCE)
    #[arg(long, value_enum, value_name = "FLOW", default_value = "device", help_heading = OAUTH)]
    pub oauth_flow: OauthFlowArg,
    /// Authorization endpoint (default: the provider database's)
    #[arg(long, value_name = "URL", help_heading = OAUTH)]
    pub oauth_auth_url: Option<String>,
    /// Token endpoint (default: the provider database's)
    #[arg(long, value_name = "URL", help_heading = OAUTH)]
    pub oauth_token_url: Option<String>,
    /// Device authorization endpoint (default: known for Microsoft and Google)
    #[arg(long, value_name = "URL", help_heading = OAUTH)]
    pub oauth_device_url: Option<String>,
    /// Scope to ask for (repeatable; default: the provider database's)
    #[arg(long = "oauth-scope", value_name = "SCOPE", help_heading = OAUTH)]
    pub oauth_scopes: Vec<String>,
}

/// `--oauth-flow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OauthFlowArg {
    Device,
    Browser,
}

/// `export --to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportTo {
    Thunderbird,
    Mobileconfig,
    Autodiscover,
    Srv,
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:9117, or [serve] listen of the file]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub headings: HeadingOrder,
    /// Domain (or address, for its domain), e.g. example.com (omit with --batch)
    #[arg(required_unless_present = "batch", value_name = "DOMAIN|ADDRESS")]
    pub target: Option<String>,
    /// DKIM selector to check besides the common ones (repeatable)
    #[arg(long = "dkim-selector", value_name = "S", help_heading = AUDIT)]
    pub dkim_selectors: Vec<String>,
    /// Recipient of the safe open-relay test on each MX (MAIL FROM:<>, RCPT TO, never DATA)
    #[arg(long, value_name = "ADDRESS", default_value = mailprobe::audit::port25::DEFAULT_RELAY_RCPT, help_heading = AUDIT)]
    pub relay_test_rcpt: String,
    /// Audit every domain or address of FILE ('-' for stdin): one per line, '#' comments
    #[arg(long, value_name = "FILE", conflicts_with = "target", help_heading = BATCH)]
    pub batch: Option<String>,
    /// Take only the domains of shard K of N (0 <= K < N): FNV-1a 64 of the domain mod N
    #[arg(long, value_name = "K/N", requires = "batch", value_parser = values::shard, help_heading = BATCH)]
    pub shard: Option<mailprobe::app::shard::Shard>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub headings: HeadingOrder,
    /// Email address (omit with --batch)
    #[arg(required_unless_present = "batch")]
    pub address: Option<String>,
    /// Check every address of FILE ('-' for stdin): one per line, '#' comments, optional CSV `address,user,password-env`
    #[arg(long, value_name = "FILE", conflicts_with = "address", help_heading = BATCH)]
    pub batch: Option<String>,
    /// Password variables a --batch file names must start with this prefix [default: MAILPROBE_]
    #[arg(long, value_name = "PREFIX", help_heading = BATCH)]
    pub password_env_prefix: Option<String>,
    /// Take only the domains of shard K of N (0 <= K < N): FNV-1a 64 of the domain mod N
    #[arg(long, value_name = "K/N", requires = "batch", value_parser = values::shard, help_heading = BATCH)]
    pub shard: Option<mailprobe::app::shard::Shard>,
    /// Skip the Receiving section (no port-25 probe of the domain's MX hosts)
    #[arg(long, help_heading = NETWORK)]
    pub no_receiving: bool,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub creds: CredArgs,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub headings: HeadingOrder,
    /// Server URLs, e.g. imaps://mail.example.com smtp://mx.example.com:25 (?security=plain|starttls|tls overrides)
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub creds: CredArgs,
}

#[derive(Debug, Args)]
pub struct RoundtripArgs {
    #[command(flatten)]
    pub headings: HeadingOrder,
    /// Mailbox that sends (and, without --to, receives) the test message
    pub address: String,
    /// Send to another mailbox (outbound delivery test)
    #[arg(long, value_name = "ADDRESS", help_heading = ROUNDTRIP)]
    pub to: Option<String>,
    /// Envelope and header sender (default: the address)
    #[arg(long, value_name = "ADDRESS", help_heading = ROUNDTRIP)]
    pub from: Option<String>,
    /// Leave the test message in the mailbox
    #[arg(long, help_heading = ROUNDTRIP)]
    pub keep: bool,
    /// How long to wait for the message to arrive, 1 to 3600 seconds
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = values::wait_secs, allow_negative_numbers = true, help_heading = ROUNDTRIP)]
    pub wait: f64,
    /// Login name of the --to mailbox (to fetch the message back from it)
    #[arg(long, value_name = "NAME", help_heading = ROUNDTRIP)]
    pub to_user: Option<String>,
    /// Environment variable holding the --to mailbox's password
    #[arg(long, value_name = "VAR", help_heading = ROUNDTRIP)]
    pub to_password_env: Option<String>,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub creds: CredArgs,
}

/// Orders the help headings of a subcommand: clap lists headings in the order their first
/// argument appears, and the global options are appended after the subcommand's own, so
/// without these hidden anchors `check --help` would start with Credentials and Batch. Each
/// anchor is a hidden `--help-<heading>` that prints the help, as `--help` does.
#[derive(Debug, Args, Default, Clone)]
pub struct HeadingOrder {
    #[arg(long, hide = true, action = clap::ArgAction::Help, help_heading = DISCOVERY)]
    help_discovery: Option<bool>,
    #[arg(long, hide = true, action = clap::ArgAction::Help, help_heading = NETWORK)]
    help_network: Option<bool>,
    #[arg(long, hide = true, action = clap::ArgAction::Help, help_heading = CREDENTIALS)]
    help_credentials: Option<bool>,
    #[arg(long, hide = true, action = clap::ArgAction::Help, help_heading = OUTPUT)]
    help_output: Option<bool>,
    #[arg(long, hide = true, action = clap::ArgAction::Help, help_heading = THRESHOLDS)]
    help_thresholds: Option<bool>,
    #[arg(long, hide = true, action = clap::ArgAction::Help, help_heading = BATCH)]
    help_batch: Option<bool>,
}

/// Options of every command that opens mail sessions (`check`, `probe`, `roundtrip`).
#[derive(Debug, Args, Default, Clone)]
pub struct SessionArgs {
    /// Print the full (redacted) wire dialogue of every connection
    #[arg(long, help_heading = OUTPUT)]
    pub transcript: bool,
}

/// Credentials. There is deliberately no `--password`: it would sit in shell history and `ps`.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = CREDENTIALS)]
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
    #[arg(long, value_name = "VAR", conflicts_with = "oauth")]
    pub oauth_token_env: Option<String>,
    /// Log in with the token `mailprobe oauth login` stored for the address (refreshed when expired)
    #[arg(long, conflicts_with = "password")]
    pub oauth: bool,
    /// Use only this mechanism (LOGIN-CMD is IMAP LOGIN, USER-PASS is POP3 USER/PASS)
    #[arg(long, value_name = "NAME", value_enum, ignore_case = true)]
    pub auth_mech: Option<AuthMech>,
    /// Try every advertised mechanism and report each result
    #[arg(long)]
    pub all_mechs: bool,
    /// Allow sending credentials without TLS (reported as a critical finding)
    #[arg(long)]
    pub allow_plaintext_auth: bool,
}

/// `--auth-mech`: the SASL mechanisms and the two legacy login commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMech {
    #[value(name = "PLAIN")]
    Plain,
    #[value(name = "LOGIN")]
    Login,
    #[value(name = "CRAM-MD5")]
    CramMd5,
    #[value(name = "XOAUTH2")]
    XOAuth2,
    #[value(name = "OAUTHBEARER")]
    OAuthBearer,
    #[value(name = "LOGIN-CMD")]
    LoginCmd,
    #[value(name = "USER-PASS")]
    UserPass,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Nagios,
    #[value(name = "openmetrics")]
    OpenMetrics,
}

/// When to colour human output and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: $XDG_CONFIG_HOME/mailprobe/config.toml]; flags win over it
    #[arg(long, value_name = "FILE", global = true, help_heading = OUTPUT)]
    pub config: Option<PathBuf>,
    /// Thunderbird ISPDB base URL
    #[arg(long, value_name = "URL", global = true, default_value = mailprobe::config::DEFAULT_ISPDB_URL, help_heading = DISCOVERY)]
    pub ispdb_url: String,
    /// Built-in provider database only: no network at all (discover only)
    #[arg(long, global = true, help_heading = DISCOVERY)]
    pub offline: bool,
    /// DNS server for every lookup, HTTP included (repeatable): IP, IP:PORT or [IPv6]:PORT
    #[arg(long, value_name = "IP[:PORT]", global = true, help_heading = NETWORK)]
    pub dns: Vec<String>,
    /// Pin HOST:PORT to ADDR, as curl does (repeatable)
    #[arg(long, value_name = "HOST:PORT:ADDR[,ADDR]", global = true, help_heading = NETWORK)]
    pub resolve: Vec<String>,
    /// Connect to HOST2:PORT2 instead of HOST1:PORT1, keeping HOST1 for SNI and certificates (repeatable)
    #[arg(long, value_name = "HOST1:PORT1:HOST2:PORT2", global = true, help_heading = NETWORK)]
    pub connect_to: Vec<String>,
    /// Extra trust anchors (PEM) on top of the built-in roots
    #[arg(long, value_name = "PEM", global = true, help_heading = NETWORK)]
    pub ca_file: Option<PathBuf>,
    /// DNSSEC trust anchors for DANE (DS or DNSKEY records, zone-file format, any zone) on top of the built-in root KSK
    #[arg(long, value_name = "FILE", global = true, help_heading = NETWORK)]
    pub trust_anchor: Option<PathBuf>,
    /// Timeout of each network step, 1 to 86400 seconds
    #[arg(long, value_name = "SECS", global = true, default_value = "10", value_parser = values::step_secs, allow_negative_numbers = true, help_heading = NETWORK)]
    pub timeout: f64,
    /// Deadline of the whole run, 1 to 86400 seconds
    #[arg(long, value_name = "SECS", global = true, default_value = "30", value_parser = values::step_secs, allow_negative_numbers = true, help_heading = NETWORK)]
    pub deadline: f64,
    /// Lookups, fetches and connections at once; addresses at once in batch mode (1 = one thing at a time; at most 1024)
    #[arg(long, value_name = "N", global = true, default_value = "16", value_parser = values::concurrency, allow_negative_numbers = true, help_heading = NETWORK)]
    pub concurrency: usize,
    /// Connections to one server at once, across the whole batch (at most 64)
    #[arg(long, value_name = "N", global = true, default_value = "4", value_parser = values::per_host, allow_negative_numbers = true, help_heading = NETWORK)]
    pub per_host: usize,
    /// Allow http:// OAuth2 endpoints (a local test server; tokens then travel unencrypted)
    #[arg(long, global = true, help_heading = CREDENTIALS)]
    pub allow_insecure_oauth: bool,
    /// JSON output (same as --format json)
    #[arg(long, global = true, help_heading = OUTPUT)]
    pub json: bool,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT", global = true, help_heading = OUTPUT)]
    pub format: Option<FormatArg>,
    /// Colour human output and logs (NO_COLOR is honoured with auto)
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        global = true,
        default_value = "auto",
        help_heading = OUTPUT
    )]
    pub color: ColorChoice,
    /// Allow sending credentials over TLS whose certificate did not verify (reported as a critical finding)
    #[arg(long, global = true, help_heading = CREDENTIALS)]
    pub allow_invalid_cert_auth: bool,
    /// Allow sending credentials to a server known only from plain-http autoconfig
    #[arg(long, global = true, help_heading = CREDENTIALS)]
    pub allow_untrusted_auth: bool,
    /// More detail: -v lists every discovery attempt and logs our steps' outcomes on stderr, -vv our own steps in detail, -vvv the libraries' too
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = OUTPUT)]
    pub verbose: u8,
    /// Warn when a certificate expires within N days (0 to 3650, not below --crit-cert-days)
    #[arg(long, value_name = "N", global = true, default_value = "30", value_parser = values::cert_days, allow_negative_numbers = true, help_heading = THRESHOLDS)]
    pub warn_cert_days: i64,
    /// Critical when a certificate expires within N days (0 to 3650)
    #[arg(long, value_name = "N", global = true, default_value = "7", value_parser = values::cert_days, allow_negative_numbers = true, help_heading = THRESHOLDS)]
    pub crit_cert_days: i64,
    /// Warn when the round trip takes longer than S seconds
    #[arg(long, value_name = "S", global = true, value_parser = values::threshold_secs, allow_negative_numbers = true, help_heading = THRESHOLDS)]
    pub warn_latency: Option<f64>,
    /// Critical when the round trip takes longer than S seconds
    #[arg(long, value_name = "S", global = true, value_parser = values::threshold_secs, allow_negative_numbers = true, help_heading = THRESHOLDS)]
    pub crit_latency: Option<f64>,
    /// Warn when the whole check takes longer than S seconds
    #[arg(long, value_name = "S", global = true, value_parser = values::threshold_secs, allow_negative_numbers = true, help_heading = THRESHOLDS)]
    pub warn_time: Option<f64>,
    /// Critical when the whole check takes longer than S seconds
    #[arg(long, value_name = "S", global = true, value_parser = values::threshold_secs, allow_negative_numbers = true, help_heading = THRESHOLDS)]
    pub crit_time: Option<f64>,
}

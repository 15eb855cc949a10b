//! The one serde `Report` model every command fills and every renderer reads.
//!
//! Key names are public (issue #2, #3): monitoring jobs parse them, so fields are only ever
//! *added* within a `schema_version`; renaming or removing one bumps [`SCHEMA_VERSION`].

use serde::{Deserialize, Serialize};

/// Version of the JSON document. Fields may be added within a version, never renamed or removed.
pub const SCHEMA_VERSION: u32 = 1;

/// Mail access protocol of a candidate or probe.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Imap,
    Pop3,
    Smtp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Smtp => "smtp",
        }
    }
    pub fn is_incoming(self) -> bool {
        !matches!(self, Protocol::Smtp)
    }
}

/// Transport security. Ordered best first (RFC 8314 §3: implicit TLS is preferred).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    Tls,
    Starttls,
    Plain,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::Starttls => "starttls",
            Security::Plain => "plain",
        }
    }
    /// The label mail clients use in their account dialogs.
    pub fn client_label(self) -> &'static str {
        match self {
            Security::Tls => "SSL/TLS",
            Security::Starttls => "STARTTLS",
            Security::Plain => "None",
        }
    }
}

/// Where a candidate or attempt came from. Ordered by trust, most trusted first.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    ProviderDb,
    Autoconfig,
    AutoconfigWellknown,
    Ispdb,
    MxProvider,
    Autodiscover,
    Srv,
    /// Fetched over plain http: anyone on the path could have changed it.
    AutoconfigHttp,
    Guess,
    /// Named by the user on the command line (`mailprobe probe URL`).
    User,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::ProviderDb => "provider-db",
            Source::Autoconfig => "autoconfig",
            Source::AutoconfigWellknown => "autoconfig-wellknown",
            Source::Ispdb => "ispdb",
            Source::MxProvider => "mx-provider",
            Source::Autodiscover => "autodiscover",
            Source::Srv => "srv",
            Source::AutoconfigHttp => "autoconfig-http",
            Source::Guess => "guess",
            Source::User => "user",
        }
    }
    /// Sources whose answer could have been altered by anyone on the network path.
    pub fn is_trusted(self) -> bool {
        !matches!(self, Source::AutoconfigHttp | Source::Guess)
    }
}

/// How a client authenticates, as the discovery sources describe it (autoconfig's
/// `<authentication>` values, normalised).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// Password sent as is (SASL PLAIN / LOGIN), protected by TLS.
    PasswordCleartext,
    /// Challenge-response (CRAM-MD5, DIGEST-MD5, SCRAM).
    PasswordEncrypted,
    #[serde(rename = "oauth2")]
    OAuth2,
    /// The provider requires an app-specific password instead of the account password.
    AppPassword,
    Ntlm,
    Gssapi,
    ClientIpAddress,
    TlsClientCert,
    None,
}

/// One way to reach a server, with every source that suggested it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Candidate {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Login name with placeholders resolved; null when no source said.
    pub username: Option<String>,
    pub auth: Vec<AuthMethod>,
    pub sources: Vec<Source>,
}

impl Candidate {
    /// The identity of a candidate across sources: (protocol, host without the root dot and in
    /// lower case, port, security). Discovery merges on it; a pipelined probe run dedups on it.
    pub fn key(&self) -> (Protocol, String, u16, Security) {
        (
            self.protocol,
            self.host.trim_end_matches('.').to_ascii_lowercase(),
            self.port,
            self.security,
        )
    }
}

/// Outcome of one discovery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Found,
    NotFound,
    Error,
    /// Not tried: `--offline`, or made pointless by another answer.
    Skipped,
}

/// One question asked of one source: a URL fetched or a DNS name looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attempt {
    pub source: Source,
    /// The URL or DNS name asked.
    pub target: String,
    pub outcome: AttemptOutcome,
    /// Why it failed or was not found, or what it found, in a few words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub elapsed_ms: u64,
}

/// Severity of a finding.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// Something a helpdesk should know: a problem, a risk or a hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub severity: Severity,
    /// Stable kebab-case identifier, e.g. `sources-disagree`.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Finding {
    pub fn new(severity: Severity, code: &str, message: impl Into<String>) -> Self {
        Finding {
            severity,
            code: code.to_string(),
            message: message.into(),
            hint: None,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// `INFO`, `WARNING`, `CRITICAL`.
    pub fn severity_label(&self) -> &'static str {
        match self.severity {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// Overall verdict, mapped one to one to the Nagios exit codes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Status {
    /// 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (monitoring-plugins guidelines).
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
        }
    }
}

/// What the built-in database knows about the provider, when it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProviderInfo {
    pub id: String,
    pub name: String,
    /// How it matched: `domain`, or `mx` with the MX host.
    pub matched_by: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub hints: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    /// Whether the entry's servers were checked against published sources (`verified` in its
    /// provider file); an unverified entry's candidates rank below every fetched source.
    pub verified: bool,
}

/// Result of the discovery stage.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Discovery {
    pub candidates: Vec<Candidate>,
    pub attempts: Vec<Attempt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderInfo>,
}

/// The whole result of one command run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub schema_version: u32,
    /// `discover`, `check`, `probe` or `roundtrip`.
    pub command: String,
    /// The address as given, domain in punycode.
    pub address: String,
    /// ASCII (punycode) domain.
    pub domain: String,
    /// The domain in Unicode, when it differs from `domain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_unicode: Option<String>,
    pub discovery: Discovery,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub probes: Vec<crate::report::probe::Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<crate::report::probe::Settings>,
    /// The send-and-fetch-back test (`mailprobe roundtrip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roundtrip: Option<crate::roundtrip::RoundtripReport>,
    /// The receiving side of the domain (`mailprobe audit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound: Option<crate::report::inbound::Inbound>,
    pub findings: Vec<Finding>,
    pub status: Status,
    pub elapsed_ms: u64,
}

impl Report {
    pub fn new(command: &str, address: &str, domain: &str) -> Self {
        Report {
            schema_version: SCHEMA_VERSION,
            command: command.to_string(),
            address: address.to_string(),
            domain: domain.to_string(),
            domain_unicode: None,
            discovery: Discovery::default(),
            probes: Vec::new(),
            settings: None,
            roundtrip: None,
            inbound: None,
            findings: Vec::new(),
            status: Status::Ok,
            elapsed_ms: 0,
        }
    }

    /// Submit→arrival latency of the round trip, when one ran and the message arrived.
    pub fn roundtrip_latency_ms(&self) -> Option<u64> {
        self.roundtrip.as_ref().and_then(|r| r.latency_ms)
    }

    /// Worst severity among the findings, as a status (no finding: OK).
    pub fn status_from_findings(&self) -> Status {
        match self.findings.iter().map(|f| f.severity).max() {
            Some(Severity::Critical) => Status::Critical,
            Some(Severity::Warning) => Status::Warning,
            _ => Status::Ok,
        }
    }
}

//! Discovery's data: the protocol, security and source vocabulary, the [`Candidate`] settings
//! every source suggests, and the [`Attempt`]s made to find them.
//!
//! Wire names (lowercase or kebab-case) are public JSON keys and values; see the README.

use serde::{Deserialize, Serialize};

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

    /// A source that anyone on the network path could make name a server of their choosing
    /// (plain-http autoconfig), with a certificate valid for that server's own name. A guess is
    /// not one: it only names hosts of the address's own domain, and their certificate must
    /// verify for that name.
    pub fn is_forgeable(self) -> bool {
        matches!(self, Source::AutoconfigHttp)
    }

    /// Is a candidate with these sources known only from forgeable ones? (None at all: named
    /// directly by the caller.)
    pub fn only_forgeable(sources: &[Source]) -> bool {
        !sources.is_empty() && sources.iter().all(|s| s.is_forgeable())
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

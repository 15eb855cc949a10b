//! The probing stage's data: one [`Probe`] per server tried, each a list of timed [`Step`]s,
//! the addresses tried, the TLS facts and certificate chain, the login attempts and the
//! transcript, and the [`Settings`] verdict chosen from all probes.

use serde::{Deserialize, Serialize};

use super::discovery::{AuthMethod, Protocol, Security, Source};

/// Status of one probe step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Ok,
    Warning,
    Failed,
    Skipped,
}

/// One timed step of a probe: `resolve`, `connect`, `greeting`, `capabilities`, `starttls`,
/// `tls`, `capabilities-tls`, `auth`, `logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    pub name: String,
    pub status: StepStatus,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The step at which a probe stopped, serialised kebab-case (`Outcome::Failed.phase`). Each is
/// also the name of the failed step in `steps[]`, except `cancelled` and `deadline`.
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
pub enum Phase {
    /// The host name did not resolve (or `--resolve` named no address).
    Resolve,
    /// No address of the host accepted a TCP connection.
    Connect,
    /// The TLS handshake (implicit TLS, or after STARTTLS) failed.
    Tls,
    /// The server's greeting was missing, refused the session or was not the expected protocol.
    Greeting,
    /// The capabilities (IMAP CAPABILITY, POP3 CAPA, SMTP EHLO/HELO) before TLS were refused.
    Capabilities,
    /// STARTTLS (IMAP, SMTP) or STLS (POP3) was not offered or failed.
    Starttls,
    /// The capabilities after TLS were refused.
    CapabilitiesTls,
    /// Not run: a better server of the same kind already works (pipelined probing).
    Cancelled,
    /// Not finished before `--deadline`.
    Deadline,
}

impl Phase {
    /// The wire name, which is also the failed step's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Resolve => "resolve",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::Greeting => "greeting",
            Phase::Capabilities => "capabilities",
            Phase::Starttls => "starttls",
            Phase::CapabilitiesTls => "capabilities-tls",
            Phase::Cancelled => "cancelled",
            Phase::Deadline => "deadline",
        }
    }
}

impl AsRef<str> for Phase {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Outcome of a whole probe. A failed step is data, not an `Err`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// The server answered every step; `tls_valid` is false when the certificate did not verify.
    Working { tls_valid: bool },
    Failed {
        phase: Phase,
        error: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
}

/// Result of connecting to one address of the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AddressResult {
    pub address: String,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// `connected`, `refused`, `timeout`, `unreachable`, `not_tried` or an error text.
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
}

/// One certificate of the chain as the server sent it, leaf first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses from subjectAltName (or the CN when there is none).
    pub names: Vec<String>,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub self_signed: bool,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
}

/// What the TLS handshake showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsInfo {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    pub cipher: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kx_group: Option<String>,
    pub verified: bool,
    /// `expired`, `not-yet-valid`, `hostname-mismatch`, `unknown-issuer`, `self-signed`,
    /// `incomplete-chain`, or another text; null when verified.
    pub verify_error: Option<String>,
    /// Names the leaf certificate is valid for.
    pub names: Vec<String>,
    /// Leaf expiry, RFC 3339.
    pub not_after: Option<String>,
    /// Days until the leaf expires (negative once expired).
    pub days_left: Option<i64>,
    /// Days until the first certificate of the chain expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_days_left: Option<i64>,
    pub chain: Vec<CertInfo>,
}

/// One line of the wire dialogue. Credentials are replaced by `<redacted>` before they are stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TranscriptLine {
    /// Milliseconds since the connection started.
    pub t_ms: u64,
    /// `C` client, `S` server, `*` a note (TLS established, timeout, ...).
    pub dir: String,
    pub line: String,
}

/// Result of a login attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuthAttempt {
    pub mechanism: String,
    pub username: String,
    pub success: bool,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

impl AuthAttempt {
    /// `mechanism` of a note: nothing was sent, `response` says why.
    pub const NO_MECHANISM: &'static str = "none";

    /// A note rather than an attempt: no credential was sent (`response` says why).
    pub fn is_note(&self) -> bool {
        self.mechanism == Self::NO_MECHANISM
    }
}

/// One server probed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Probe {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub sources: Vec<Source>,
    /// Where the connection actually went when `--connect-to`/`--resolve` redirected it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_to: Option<String>,
    pub addresses: Vec<AddressResult>,
    pub steps: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    /// Capabilities (IMAP CAPABILITY, POP3 CAPA, SMTP EHLO keywords) before TLS.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub capabilities_plain: Vec<String>,
    /// Capabilities after TLS (or the only ones, on an implicit-TLS port).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub capabilities: Vec<String>,
    /// SASL mechanisms offered once TLS is up.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub sasl: Vec<String>,
    pub tls: Option<TlsInfo>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub auth: Vec<AuthAttempt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Vec<TranscriptLine>>,
    pub elapsed_ms: u64,
}

/// A server setting as a person types it into a mail client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Setting {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub auth: Vec<AuthMethod>,
}

impl Setting {
    /// `IMAP mail.example.com:993 SSL/TLS`, for one-line summaries.
    pub fn summary(&self) -> String {
        format!(
            "{} {}:{} {}",
            self.protocol.as_str().to_uppercase(),
            self.host,
            self.port,
            self.security.client_label()
        )
    }
}

/// The verdict: the best working incoming and outgoing server, null when none works.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Settings {
    pub incoming: Option<Setting>,
    pub outgoing: Option<Setting>,
}

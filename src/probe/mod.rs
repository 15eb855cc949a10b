//! Probing (issue "Probing"): connect to each candidate server, speak just enough IMAP, POP3 or
//! SMTP to see its greeting, capabilities and TLS, and turn all probes into findings and a
//! verdict.
//!
//! Public API (used by the app and the auth stage):
//! - [`probe_all`]`(net, candidates, opts) -> `[`ProbeRun`]: every candidate, concurrently
//!   (bounded, staggered guesses, cancellation of lower-ranked candidates), then
//!   [`findings`](findings::findings) and the [`verdict`](verdict::choose).
//! - [`probe_one`]`(net, candidate, opts) -> `[`Probe`]: one dialogue, every step timed and
//!   bounded (`dialogue`).
//! - [`parse_url`]: `imaps://host[:port][?security=…]` into a [`Candidate`] (`url`).
//! - [`status_of`]: OK / WARNING / CRITICAL of a run (`verdict`).
//! - [`session::Session`] with [`session::Redact`]: the wire session the [`LoginHook`] gets.
//! - [`LoginHook`]: called after the capabilities over TLS and before LOGOUT/QUIT, never before
//!   TLS is up on a STARTTLS/implicit-TLS probe, never on port 25; its attempts land in
//!   `Probe.auth` plus an `auth` step.
//!
//! The parsers (`imap`, `pop3`, `smtp`) are pure and table-tested; all I/O is in `session`.

pub mod dialogue;
pub mod findings;
pub mod imap;
pub mod netglue;
pub mod pop3;
pub mod schedule;
pub mod session;
pub mod smtp;
pub mod url;
pub mod verdict;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::report::{AuthAttempt, Candidate, Finding, Probe, Settings};

pub use dialogue::probe_one;
pub use schedule::probe_all;
pub use session::{Redact, Session, SessionError};
pub use url::{UrlError, parse_url};
pub use verdict::status_of;

/// Login step plugged in by the auth stage. It gets the session over TLS (or plain, for a
/// `security=plain` probe — the hook decides about `--allow-plaintext-auth`), the candidate, the
/// capabilities and the SASL mechanisms seen last; it must redact what it sends
/// ([`Redact`]) and leave the session ready for LOGOUT/QUIT.
pub trait LoginHook: Send + Sync {
    fn login<'a>(
        &'a self,
        session: &'a mut Session,
        candidate: &'a Candidate,
        caps: &'a [String],
        sasl: &'a [String],
    ) -> Pin<Box<dyn Future<Output = Vec<AuthAttempt>> + Send + 'a>>;
}

/// How to probe.
#[derive(Clone)]
pub struct ProbeOptions {
    /// Keep the redacted wire dialogue in `Probe.transcript` (`--transcript`).
    pub transcript: bool,
    /// Warn when a certificate expires within this many days.
    pub warn_cert_days: i64,
    /// Connections at once over the whole run.
    pub concurrency: usize,
    /// Connections at once to one host.
    pub per_host: usize,
    /// Delay between the starts of successive `Source::Guess` candidates (Thunderbird staggers
    /// its guesses the same way so a fast good answer can win).
    pub stagger_guesses: Duration,
    /// Name sent with EHLO/HELO (RFC 5321 §4.1.4: an FQDN or an address literal).
    pub ehlo_name: String,
    /// A greeting slower than this is reported (tarpit or overloaded server).
    pub slow_greeting: Duration,
    pub login: Option<Arc<dyn LoginHook>>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            transcript: false,
            warn_cert_days: 30,
            concurrency: 16,
            per_host: 4,
            stagger_guesses: Duration::from_millis(100),
            // RFC 2606 reserves .invalid: honest about being a probe and never a real host.
            ehlo_name: "mailprobe.invalid".to_string(),
            slow_greeting: Duration::from_secs(5),
            login: None,
        }
    }
}

impl std::fmt::Debug for ProbeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeOptions")
            .field("transcript", &self.transcript)
            .field("warn_cert_days", &self.warn_cert_days)
            .field("concurrency", &self.concurrency)
            .field("per_host", &self.per_host)
            .field("stagger_guesses", &self.stagger_guesses)
            .field("ehlo_name", &self.ehlo_name)
            .field("slow_greeting", &self.slow_greeting)
            .field("login", &self.login.is_some())
            .finish()
    }
}

/// Everything [`probe_all`] found: probes in candidate order, the verdict and the findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRun {
    pub probes: Vec<Probe>,
    pub settings: Settings,
    pub findings: Vec<Finding>,
}

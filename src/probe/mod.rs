//! Probing (README, `probe` and `check`): connect to each candidate server, speak just enough IMAP, POP3 or
//! SMTP to see its greeting, capabilities and TLS, and turn all probes into findings and a
//! verdict.
//!
//! Public API (used by the app and the auth stage):
//! - [`probe_all`]`(Arc<Net>, &[Candidate], &ProbeOptions) -> `[`ProbeRun`]: every candidate,
//!   concurrently (bounded, each started the moment it is known, outranked ones stopped; see
//!   [`schedule`]), then [`findings::findings`] and the verdict [`verdict::choose`]. Probes come
//!   back in candidate order.
//! - [`probe_feed`]`(Arc<Net>, UnboundedReceiver<`[`Feed`]`>, &ProbeOptions) -> `[`ProbeRun`]: the
//!   same, pipelined with discovery: `Feed::Found(candidates)` as each source answers (probed at
//!   once; one already known is not probed again), then `Feed::Settled(final ranked list)`, which
//!   orders the probes, enables cancellation and releases the logins ([`LoginHook::settled`]).
//! - [`probe_one`]`(&Net, &Candidate, &ProbeOptions) -> `[`Probe`]: one dialogue
//!   ([`crate::proto::open_and_login`], then LOGOUT/QUIT); steps `resolve`, `connect`, (`tls` for implicit TLS), `greeting`,
//!   `capabilities` (from the IMAP greeting when it has them, else CAPABILITY / CAPA / EHLO with
//!   HELO fallback), `starttls`, `tls`, `capabilities-tls`, (`auth`), `logout`. The first
//!   failing step ends it as `Outcome::Failed{phase: <step name>, error, hint}`.
//! - [`open_session`]`(&Net, &Candidate, &ProbeOptions) -> (Probe, Option<Session>)`: the same
//!   dialogue up to the capabilities over TLS, then the live [`Session`] (the caller sends
//!   LOGOUT/QUIT and calls [`Session::close`]).
//! - [`parse_url`]`(&str) -> Result<Candidate, UrlError>`: `imaps://host[:port][?security=…]`
//!   ([`url`]); sources `[User]`, no username.
//! - [`status_of`]`(&ProbeRun) -> Status`: CRITICAL without a working incoming or outgoing
//!   server, else the worst finding severity (OK / WARNING / CRITICAL).
//! - The wire itself — [`Session`], typed commands and replies, capability sets — is the
//!   protocol layer's ([`crate::proto`]); this module decides what to send and what it means.
//! - [`LoginHook`] (the protocol layer's): called after the capabilities over TLS and before LOGOUT/QUIT; never before
//!   TLS on a STARTTLS or implicit-TLS probe (a `security=plain` probe has no TLS: the hook
//!   decides about `--allow-plaintext-auth`), never on port 25. Its attempts land in
//!   `Probe.auth` plus an `auth` step (`ok` if one succeeded, `failed` if all failed, `skipped`
//!   if it tried nothing).
//!
//! Cancellation (see [`schedule`]): once the candidate list is settled, a pending probe that the
//! verdict would rank below a probe already working with a valid certificate is stopped at once
//! (never a URL the user named), keeping the steps and transcript lines it has, and recorded as
//! `Failed{phase: "cancelled"}` with a `cancelled` step (status `skipped`); port-25 probes are cut
//! when the verdict is ready (reachable, or "looks filtered" after at most 0.5 s more); past
//! `--deadline`, pending probes become `Failed{phase: "deadline"}`. Findings and the verdict
//! ignore cancelled and deadline probes.

pub mod findings;
pub mod limits;
pub mod schedule;
pub mod url;
pub mod verdict;

use std::sync::Arc;
use std::time::Duration;

use crate::model::{Candidate, Finding, Probe, Settings};
use crate::net::Net;
use crate::proto::Session;
use crate::proto::open::{DEFAULT_EHLO_NAME, Facts, OpenOptions, open_and_login};

pub use crate::proto::open::LoginHook;
pub use schedule::{Feed, probe_all, probe_feed};
pub use url::{UrlError, parse_url};
pub use verdict::status_of;

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
    /// Limits shared with other runs (batch mode); None: this run's own, from the two above.
    pub limits: Option<Arc<limits::Limits>>,
    /// Name sent with EHLO/HELO (RFC 5321 §4.1.4: an FQDN or an address literal).
    pub ehlo_name: String,
    /// A greeting slower than this is reported (tarpit or overloaded server).
    pub slow_greeting: Duration,
    pub login: Option<Arc<dyn LoginHook>>,
    /// Set to `true` the moment the verdict is ready (nothing still running can change it),
    /// and at the latest when the run ends: whatever runs beside the probes as information
    /// (`check`'s Receiving section) holds the report at most [`schedule::PORT25_HOLD`] more.
    pub verdict_ready: Option<Arc<tokio::sync::watch::Sender<bool>>>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            transcript: false,
            warn_cert_days: 30,
            concurrency: 16,
            per_host: 4,
            limits: None,
            ehlo_name: DEFAULT_EHLO_NAME.to_string(),
            slow_greeting: Duration::from_secs(5),
            login: None,
            verdict_ready: None,
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
            .field("ehlo_name", &self.ehlo_name)
            .field("slow_greeting", &self.slow_greeting)
            .field("login", &self.login.is_some())
            .field("verdict_ready", &self.verdict_ready.is_some())
            .finish()
    }
}

impl ProbeOptions {
    /// How the probe opens each session: its login hook, nothing refused (the findings judge
    /// the certificate).
    pub(crate) fn open_options(&self) -> OpenOptions<'_> {
        OpenOptions {
            ehlo_name: &self.ehlo_name,
            slow_greeting: self.slow_greeting,
            transcript: self.transcript,
            login: self.login.as_deref(),
            ..OpenOptions::default()
        }
    }
}

/// Probe one candidate; never fails — a failed step is in `outcome`.
pub async fn probe_one(net: &Net, candidate: &Candidate, opts: &ProbeOptions) -> Probe {
    probe_with_facts(net, candidate, opts).await.0
}

/// [`probe_one`] plus the facts the findings need: the whole dialogue, with the login hook,
/// ended by LOGOUT/QUIT.
pub(crate) async fn probe_with_facts(
    net: &Net,
    c: &Candidate,
    opts: &ProbeOptions,
) -> (Probe, Facts) {
    let o = opts.open_options();
    let (probe, facts) = open_and_login(net, c, &o).await.finish().await;
    log_probe(&probe);
    (probe, facts)
}

/// `-v` logs each probe's outcome, `-vv` each of its steps (the binary sets the levels; Debug
/// formatting escapes whatever the network put in a string).
fn log_probe(p: &Probe) {
    for s in &p.steps {
        tracing::debug!(host = ?p.host, port = p.port, step = ?s.name, status = ?s.status, ms = s.elapsed_ms, "probe step");
    }
    tracing::info!(protocol = ?p.protocol, host = ?p.host, port = p.port, outcome = ?p.outcome, "probe done");
}

/// The probe dialogue up to the capabilities over TLS, handing out the live session instead of
/// logging out, for a caller that logs in itself and then sends LOGOUT/QUIT and
/// [`Session::close`]. The login hook is not called. `None` when a step failed (the probe says
/// why). The session's transcript holds the dialogue so far; `Probe.transcript` stays empty.
pub async fn open_session(
    net: &Net,
    candidate: &Candidate,
    opts: &ProbeOptions,
) -> (Probe, Option<Session>) {
    let o = OpenOptions {
        login: None,
        ..opts.open_options()
    };
    open_and_login(net, candidate, &o).await.into_session()
}

/// Everything [`probe_all`] found: probes in candidate order, the verdict and the findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRun {
    pub probes: Vec<Probe>,
    pub settings: Settings,
    pub findings: Vec<Finding>,
}

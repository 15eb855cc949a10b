//! Opening a session and logging in, the same way for every caller: connect (through
//! `--connect-to`/`--resolve`), implicit TLS or not, greeting, capabilities, STARTTLS/STLS
//! (RFC 3207, RFC 9051 §6.2.1, RFC 2595 §4), TLS, capabilities again, then the login through a
//! [`LoginHook`]. Each step is timed and recorded in a [`Probe`]; the first failing step ends
//! the dialogue as `Outcome::Failed{phase,…}`.
//!
//! - [`open_and_login`] runs it and returns an [`Opened`]: the record, and the live session
//!   when every step worked. The probe ends it with [`Opened::finish`] (LOGOUT/QUIT, close);
//!   the round trip takes the session ([`Opened::into_session`]) to submit or fetch.
//! - [`open_until`]: [`open_and_login`] and its end, stopped from outside the moment the caller
//!   no longer needs it, keeping the steps and transcript lines so far.
//! - [`connect_ready`]: the same without a login, for a connection of its own (`--all-mechs`
//!   reconnects). Whether a credential may go over a session (no TLS, a certificate that did
//!   not verify) is the login's decision (the `auth` layer above), from the session's own TLS state
//!   ([`super::Wire::channel`]).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use super::Session;
use super::session::MAX_TOTAL;
use super::transport;
use crate::model::{AuthAttempt, Candidate, Outcome, Probe, Protocol, Security, StepStatus};
use crate::net::Net;

mod protocols;
mod steps;
mod until;

use steps::Fail;
pub use until::open_until;

/// The EHLO/HELO name when the caller gives none: RFC 2606 reserves `.invalid`, honest about
/// being a probe and never a real host (RFC 5321 §4.1.4 wants an FQDN or an address literal).
pub(crate) const DEFAULT_EHLO_NAME: &str = "mailprobe.invalid";

/// The login step, plugged in by the auth stage. It gets the session over TLS (or plain, for a
/// `security=plain` candidate — the hook decides about `--allow-plaintext-auth`), the
/// candidate, the capabilities and the SASL mechanisms seen last; it must redact what it sends
/// ([`super::Redact`]) and leave the session ready for LOGOUT/QUIT.
pub trait LoginHook: Send + Sync {
    /// Called before the login (outside the `auth` step's time): wait for what discovery finally
    /// says about this candidate and return it (None: the candidate the dialogue started with).
    /// A pipelined probe run waits here until discovery is complete.
    fn settled<'a>(
        &'a self,
        _candidate: &'a Candidate,
    ) -> Pin<Box<dyn Future<Output = Option<Candidate>> + Send + 'a>> {
        Box::pin(async { None })
    }

    fn login<'a>(
        &'a self,
        session: &'a mut Session,
        candidate: &'a Candidate,
        caps: &'a [String],
        sasl: &'a [String],
    ) -> Pin<Box<dyn Future<Output = Vec<AuthAttempt>> + Send + 'a>>;
}

/// How to open a session.
#[derive(Clone, Copy)]
pub struct OpenOptions<'a> {
    /// Name sent with EHLO/HELO.
    pub ehlo_name: &'a str,
    /// A greeting slower than this is a `warning` step (tarpit or overloaded server).
    pub slow_greeting: Duration,
    /// Keep the redacted dialogue in `Probe.transcript` when the dialogue ends.
    pub transcript: bool,
    /// Most bytes read over the session ([`Session::max_total`]).
    pub max_total: usize,
    /// Called after the capabilities over TLS; never on port 25 (server-to-server: no client
    /// logs in there).
    pub login: Option<&'a dyn LoginHook>,
}

impl Default for OpenOptions<'_> {
    fn default() -> Self {
        OpenOptions {
            ehlo_name: DEFAULT_EHLO_NAME,
            slow_greeting: Duration::from_secs(5),
            transcript: false,
            max_total: MAX_TOTAL,
            login: None,
        }
    }
}

/// Facts of a dialogue that the report model has no field for, used by the findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The server only offered this old TLS version (`TLSv1.0`, `TLSv1.1`).
    pub legacy_tls: Option<String>,
    /// Every certificate problem of the TLS session (the report keeps only the first code).
    pub cert_problems: Vec<transport::CertProblem>,
}

/// One dialogue in progress.
struct Run<'a> {
    net: &'a Net,
    c: &'a Candidate,
    opts: &'a OpenOptions<'a>,
    probe: Probe,
    facts: Facts,
    session: Option<Session>,
    /// When the connection attempt began.
    started: Instant,
    /// When the last step was recorded: a step that fails without recording itself is timed
    /// from here.
    mark: Instant,
    /// Set once the TCP connection is up (a scheduler may cut a port-25 dialogue from then on).
    connected: tokio::sync::watch::Sender<bool>,
}

impl<'a> Run<'a> {
    fn new(net: &'a Net, c: &'a Candidate, opts: &'a OpenOptions<'a>) -> Run<'a> {
        let started = Instant::now();
        Run {
            net,
            c,
            opts,
            probe: blank_probe(c),
            facts: Facts::default(),
            session: None,
            started,
            mark: started,
            connected: tokio::sync::watch::channel(false).0,
        }
    }

    /// Handshake, then the login; the outcome settled. `Some(why)` when a step failed (the
    /// session is then closed).
    async fn open(&mut self) -> Option<String> {
        let error = match self.handshake().await {
            Ok(()) => None,
            Err(f) => Some(self.failed(f)),
        };
        if error.is_none() {
            self.login().await;
        }
        self.settle_outcome();
        if error.is_some() {
            self.close().await;
        }
        error
    }

    /// Connect, TLS as the candidate says, then the protocol's greeting, capabilities,
    /// STARTTLS and capabilities again.
    async fn handshake(&mut self) -> Result<(), Fail> {
        self.connect().await?;
        if self.c.security == Security::Tls {
            self.tls().await?;
        }
        match self.c.protocol {
            Protocol::Imap => self.imap().await,
            Protocol::Pop3 => self.pop3().await,
            Protocol::Smtp => self.smtp().await,
        }
    }

    /// Record the failure: its step (even one that failed inside a read) and the outcome.
    fn failed(&mut self, f: Fail) -> String {
        if self
            .probe
            .steps
            .last()
            .is_none_or(|s| s.name != f.phase.as_str())
        {
            let mark = self.mark;
            self.step(f.phase, StepStatus::Failed, mark, Some(f.error.clone()));
        }
        let why = format!("{}: {}", f.phase, f.error);
        self.probe.outcome = Outcome::Failed {
            phase: f.phase,
            error: f.error,
            hint: f.hint,
        };
        why
    }

    /// Close the session (if any) and keep its transcript when asked.
    async fn close(&mut self) {
        match self.session.take() {
            Some(mut s) => {
                s.close().await;
                let transcript = s.take_transcript();
                if self.opts.transcript {
                    self.probe.transcript = Some(transcript);
                }
            }
            // No connection: an empty transcript (unless a closed session left one).
            None if self.opts.transcript && self.probe.transcript.is_none() => {
                self.probe.transcript = Some(Vec::new())
            }
            None => {}
        }
    }

    fn settle_outcome(&mut self) {
        if matches!(self.probe.outcome, Outcome::Working { .. }) {
            self.probe.outcome = Outcome::Working {
                tls_valid: self.probe.tls.as_ref().is_some_and(|t| t.verified),
            };
        }
        self.probe.elapsed_ms = self.started.elapsed().as_millis() as u64;
    }
}

/// An empty record for a candidate.
pub(crate) fn blank_probe(c: &Candidate) -> Probe {
    Probe {
        protocol: c.protocol,
        host: c.host.clone(),
        port: c.port,
        security: c.security,
        sources: c.sources.clone(),
        connected_to: None,
        addresses: Vec::new(),
        steps: Vec::new(),
        greeting: None,
        capabilities_plain: Vec::new(),
        capabilities: Vec::new(),
        sasl: Vec::new(),
        tls: None,
        outcome: Outcome::Working { tls_valid: false },
        auth: Vec::new(),
        transcript: None,
        elapsed_ms: 0,
    }
}

/// A dialogue after [`open_and_login`].
pub struct Opened<'a> {
    run: Run<'a>,
    /// Why there is no session: `phase: error` of the failed step.
    pub error: Option<String>,
}

impl Opened<'_> {
    /// The record so far: steps, greeting, capabilities, TLS, login attempts, outcome.
    pub fn probe(&self) -> &Probe {
        &self.run.probe
    }

    /// The live session, when every step worked.
    pub fn session(&mut self) -> Option<&mut Session> {
        self.run.session.as_mut()
    }

    /// Hand the record and the live session out; the caller ends the session (LOGOUT/QUIT and
    /// [`Session::close`]). The session's transcript holds the dialogue so far.
    pub fn into_session(self) -> (Probe, Option<Session>) {
        (self.run.probe, self.run.session)
    }

    /// End the dialogue: LOGOUT/QUIT as a `logout` step when the session is open, close it,
    /// and return the finished record and its facts.
    pub async fn finish(mut self) -> (Probe, Facts) {
        self.run.end().await;
        (self.run.probe, self.run.facts)
    }
}

/// Open a session to candidate `c` and log in with `opts.login` (see the module docs). Never
/// fails: a failed step is in the record's outcome and in [`Opened::error`], with the session
/// closed (its transcript in `Probe.transcript` when `opts.transcript`).
pub async fn open_and_login<'a>(
    net: &'a Net,
    c: &'a Candidate,
    opts: &'a OpenOptions<'a>,
) -> Opened<'a> {
    let mut run = Run::new(net, c, opts);
    let error = run.open().await;
    Opened { run, error }
}

/// A session past the greeting (and STARTTLS / implicit TLS), with what the server offers.
pub struct Ready {
    pub session: Session,
    /// The greeting as the dialogue records it (`Probe.greeting`).
    pub greeting: String,
    /// IMAP capabilities, POP3 CAPA lines or EHLO keyword lines seen last.
    pub caps: Vec<String>,
    /// SASL mechanisms offered, upper-cased.
    pub sasl: Vec<String>,
}

/// Connect to `host:port` (through `--connect-to`/`--resolve`), read the greeting, do TLS as
/// `security` says and learn the capabilities; no login. Whether a credential may go over the
/// session (no TLS, or a certificate that did not verify) is the login's decision
/// (the `auth` layer above), made from the session's own TLS state.
pub async fn connect_ready(
    net: &Net,
    protocol: Protocol,
    host: &str,
    port: u16,
    security: Security,
) -> Result<Ready, String> {
    let candidate = Candidate {
        protocol,
        host: host.to_string(),
        port,
        security,
        username: None,
        auth: Vec::new(),
        sources: Vec::new(),
    };
    let opts = OpenOptions::default();
    let opened = open_and_login(net, &candidate, &opts).await;
    let error = opened.error.clone();
    let (probe, session) = opened.into_session();
    let session = session.ok_or_else(|| error.unwrap_or_default())?;
    Ok(Ready {
        greeting: probe.greeting.unwrap_or_default(),
        caps: session.capabilities().to_vec(),
        sasl: session.sasl().to_vec(),
        session,
    })
}

//! The per-protocol probe dialogues: connect, greeting, capabilities, TLS (implicit or via
//! STARTTLS/STLS), capabilities again, the optional login hook, LOGOUT/QUIT. Each step is timed
//! and recorded; the first failing step ends the probe as `Outcome::Failed{phase,…}`.
//!
//! [`open_session`] stops before the login and hands out the live session; [`connect_ready`]
//! does the same for a connection of its own that will carry credentials (`--all-mechs`
//! reconnects, the round trip), refusing one whose certificate does not verify.

use std::time::Instant;

use super::ProbeOptions;
use crate::net::Net;
use crate::proto::caps::{CapabilitySet, Offered};
use crate::proto::transport;
use crate::proto::{Session, SessionError};
use crate::report::{Candidate, Outcome, Probe, Protocol, Security, Step, StepStatus};

mod protocols;

/// Facts of a probe that the report model has no field for, used by the findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The server only offered this old TLS version (`TLSv1.0`, `TLSv1.1`).
    pub legacy_tls: Option<String>,
    /// Every certificate problem of the TLS session (the report keeps only the first code).
    pub cert_problems: Vec<transport::CertProblem>,
}

/// Why the probe stopped.
struct Fail {
    phase: &'static str,
    error: String,
    hint: Option<String>,
}

fn fail(phase: &'static str, error: impl Into<String>) -> Fail {
    Fail {
        phase,
        error: error.into(),
        hint: None,
    }
}

impl Fail {
    fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }
}

fn session_fail(phase: &'static str, e: SessionError) -> Fail {
    let hint = match &e {
        SessionError::Timeout(_) if phase == "greeting" => Some(
            "the port accepts connections but the server says nothing: wrong protocol on this \
             port (implicit TLS expected?), or an overloaded/tarpitting server"
                .to_string(),
        ),
        SessionError::Protocol(_) if phase == "greeting" => {
            Some("this port does not speak the expected protocol".to_string())
        }
        SessionError::LineTooLong(_) | SessionError::TooMuchData(_) => {
            Some("the server sent far more than any mail server would; not a mail server?".into())
        }
        _ => None,
    };
    Fail {
        phase,
        error: e.to_string(),
        hint,
    }
}

/// One probe in progress.
struct Run<'a> {
    net: &'a Net,
    c: &'a Candidate,
    opts: &'a ProbeOptions,
    probe: Probe,
    facts: Facts,
    session: Option<Session>,
    /// Stop after the capabilities over TLS and hand the session out ([`open_session`]).
    keep_open: bool,
    /// When the last step was recorded: a step that fails without recording itself is timed
    /// from here.
    mark: Instant,
}

impl Run<'_> {
    fn step(&mut self, name: &str, status: StepStatus, t: Instant, detail: Option<String>) {
        self.probe.steps.push(Step {
            name: name.to_string(),
            status,
            elapsed_ms: t.elapsed().as_millis() as u64,
            detail,
        });
        self.mark = Instant::now();
    }

    fn s(&mut self) -> &mut Session {
        self.session.as_mut().expect("session exists after connect")
    }

    /// Record what the server offers, on the session and in the probe (before or over TLS).
    fn store_caps(&mut self, offered: Offered) {
        if self.s().is_tls() {
            self.probe.capabilities = offered.lines().to_vec();
            self.probe.sasl = offered.sasl().to_vec();
        } else {
            self.probe.capabilities_plain = offered.lines().to_vec();
        }
        self.s().set_offered(offered);
    }

    fn caps_step_name(&mut self) -> &'static str {
        if self.s().is_tls() {
            "capabilities-tls"
        } else {
            "capabilities"
        }
    }

    async fn connect(&mut self, started: Instant) -> Result<(), Fail> {
        let t = Instant::now();
        let (thost, tport) = self.net.cfg.connect_target(&self.c.host, self.c.port);
        if thost != self.c.host || tport != self.c.port {
            self.probe.connected_to = Some(format!("{thost}:{tport}"));
        }
        match transport::connect(self.net, &self.c.host, self.c.port).await {
            Ok(conn) => {
                if conn.redirected_to.is_some() {
                    self.probe.connected_to = conn.redirected_to;
                }
                self.probe.addresses = conn.addresses;
                let n = self.probe.addresses.len();
                self.probe.steps.push(Step {
                    name: "resolve".into(),
                    status: StepStatus::Ok,
                    elapsed_ms: conn.resolve_ms,
                    detail: Some(format!("{n} address{}", if n == 1 { "" } else { "es" })),
                });
                self.probe.steps.push(Step {
                    name: "connect".into(),
                    status: StepStatus::Ok,
                    elapsed_ms: conn.connect_ms,
                    detail: Some(conn.peer),
                });
                self.mark = Instant::now();
                self.session = Some(Session::new(conn.tcp, self.net, started));
                Ok(())
            }
            Err(e) => {
                self.probe.addresses = e.addresses;
                self.step(e.phase, StepStatus::Failed, t, Some(e.message.clone()));
                let mut f = fail(e.phase, e.message);
                f.hint = e.hint;
                Err(f)
            }
        }
    }

    async fn tls(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let net = self.net;
        let name = self.c.host.clone();
        match self.s().starttls(net, &name).await {
            Ok(info) => {
                let list = self.s().tls_problems().to_vec();
                let problems = transport::describe(&list);
                self.facts.cert_problems = list.clone();
                let (status, detail) = match (&info.verify_error, info.verified) {
                    (None, true) => (StepStatus::Ok, format!("{} {}", info.version, info.cipher)),
                    (e, _) => (
                        StepStatus::Warning,
                        format!(
                            "{} {}: certificate not verified ({}): {problems}",
                            info.version,
                            info.cipher,
                            e.as_deref().unwrap_or("unknown")
                        ),
                    ),
                };
                self.probe.tls = Some(info);
                self.step("tls", status, t, Some(detail));
                Ok(())
            }
            Err(e) => {
                self.step("tls", StepStatus::Failed, t, Some(e.message.clone()));
                self.facts.legacy_tls = e.legacy_version.clone();
                let mut f = fail("tls", e.message);
                f.hint = e.hint;
                Err(f)
            }
        }
    }

    fn greeting_step(&mut self, t: Instant, text: String) {
        let slow = t.elapsed() > self.opts.slow_greeting;
        let status = if slow {
            StepStatus::Warning
        } else {
            StepStatus::Ok
        };
        self.probe.greeting = Some(text.clone());
        self.step("greeting", status, t, Some(text));
    }

    async fn login(&mut self) {
        let Some(hook) = self.opts.login.clone() else {
            return;
        };
        // Port 25 is server-to-server: no client logs in there.
        if self.c.port == 25 {
            return;
        }
        let settled = hook.settled(self.c).await;
        let c = settled.as_ref().unwrap_or(self.c);
        let t = Instant::now();
        let caps = self.s().capabilities().to_vec();
        let sasl = self.s().sasl().to_vec();
        let attempts = hook.login(self.s(), c, &caps, &sasl).await;
        let status = if attempts.is_empty() {
            StepStatus::Skipped
        } else if attempts.iter().any(|a| a.success) {
            StepStatus::Ok
        } else {
            StepStatus::Failed
        };
        let detail = attempts
            .iter()
            .map(|a| {
                format!(
                    "{} {}",
                    a.mechanism,
                    if a.success { "ok" } else { "failed" }
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        self.step("auth", status, t, (!detail.is_empty()).then_some(detail));
        self.probe.auth = attempts;
    }

    async fn run(&mut self, started: Instant) -> Result<(), Fail> {
        self.connect(started).await?;
        if self.c.security == Security::Tls {
            self.tls().await?;
        }
        match self.c.protocol {
            Protocol::Imap => self.imap().await,
            Protocol::Pop3 => self.pop3().await,
            Protocol::Smtp => self.smtp().await,
        }
    }
}

/// An empty probe record for a candidate.
pub fn blank_probe(c: &Candidate) -> Probe {
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

/// Probe one candidate; never fails — a failed step is in `outcome`.
pub async fn probe_one(net: &Net, candidate: &Candidate, opts: &ProbeOptions) -> Probe {
    probe_with_facts(net, candidate, opts).await.0
}

/// [`probe_one`] plus the facts the findings need.
pub async fn probe_with_facts(net: &Net, c: &Candidate, opts: &ProbeOptions) -> (Probe, Facts) {
    let (probe, facts, _) = dialogue(net, c, opts, false).await;
    (probe, facts)
}

/// Run the probe dialogue up to the capabilities over TLS (greeting, STARTTLS, TLS, capabilities)
/// and hand out the live session instead of logging out: for the auth and round-trip stages,
/// which log in and must send LOGOUT/QUIT and [`Session::close`] themselves. The login hook is
/// not called. `None` when the probe failed (the probe says why). The session's transcript
/// holds the dialogue so far; `Probe.transcript` stays empty.
pub async fn open_session(
    net: &Net,
    candidate: &Candidate,
    opts: &ProbeOptions,
) -> (Probe, Option<Session>) {
    let (probe, _, session) = dialogue(net, candidate, opts, true).await;
    (probe, session)
}

/// A session past the greeting (and STARTTLS / implicit TLS), with what the server offers.
pub struct Ready {
    pub session: Session,
    /// The greeting as the probe records it (`Probe.greeting`).
    pub greeting: String,
    /// IMAP capabilities, POP3 CAPA lines or EHLO keyword lines seen last.
    pub caps: Vec<String>,
    /// SASL mechanisms offered, upper-cased.
    pub sasl: Vec<String>,
}

/// Connect to `host:port` (through `--connect-to`/`--resolve`), read the greeting, do TLS as
/// `security` says and learn the capabilities. `Security::Plain` leaves the session without TLS:
/// the caller decides whether a credential may go over it (`--allow-plaintext-auth`). A TLS
/// session whose certificate does not verify is closed and refused: nothing but the probe's own
/// login may send credentials over it.
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
    let (probe, session) = open_session(net, &candidate, &ProbeOptions::default()).await;
    let mut session = match (probe.outcome, session) {
        (_, Some(s)) => s,
        (Outcome::Failed { phase, error, .. }, None) => return Err(format!("{phase}: {error}")),
        (Outcome::Working { .. }, None) => return Err("the connection was not kept open".into()),
    };
    if let Some(tls) = session.tls()
        && !tls.verified
    {
        let why = tls
            .verify_error
            .clone()
            .unwrap_or_else(|| "unknown reason".into());
        let detail = transport::describe(session.tls_problems());
        session.close().await;
        return Err(format!(
            "certificate of {host} not verified ({why}{}{detail}): no credentials sent",
            if detail.is_empty() { "" } else { ": " }
        ));
    }
    Ok(Ready {
        greeting: probe.greeting.unwrap_or_default(),
        caps: session.capabilities().to_vec(),
        sasl: session.sasl().to_vec(),
        session,
    })
}

async fn dialogue(
    net: &Net,
    c: &Candidate,
    opts: &ProbeOptions,
    keep_open: bool,
) -> (Probe, Facts, Option<Session>) {
    let started = Instant::now();
    let mut run = Run {
        net,
        c,
        opts,
        probe: blank_probe(c),
        facts: Facts::default(),
        session: None,
        keep_open,
        mark: started,
    };
    let result = run.run(started).await;
    // Every failure ends with its step in the list, even one that failed inside a read.
    if let Err(f) = &result
        && run.probe.steps.last().is_none_or(|s| s.name != f.phase)
    {
        let mark = run.mark;
        run.step(f.phase, StepStatus::Failed, mark, Some(f.error.clone()));
    }
    let ok = result.is_ok();
    let mut probe = run.probe;
    probe.outcome = match result {
        Ok(()) => Outcome::Working {
            tls_valid: probe.tls.as_ref().is_some_and(|t| t.verified),
        },
        Err(f) => Outcome::Failed {
            phase: f.phase.to_string(),
            error: f.error,
            hint: f.hint,
        },
    };
    probe.elapsed_ms = started.elapsed().as_millis() as u64;
    if keep_open && ok {
        return (probe, run.facts, run.session);
    }
    if let Some(mut s) = run.session {
        s.close().await;
        let transcript = s.take_transcript();
        if opts.transcript {
            probe.transcript = Some(transcript);
        }
    } else if opts.transcript {
        probe.transcript = Some(Vec::new());
    }
    (probe, run.facts, None)
}

//! The per-protocol probe dialogues: connect, greeting, capabilities, TLS (implicit or via
//! STARTTLS/STLS), capabilities again, the optional login hook, LOGOUT/QUIT. Each step is timed
//! and recorded; the first failing step ends the probe as `Outcome::Failed{phase,…}`.

use std::time::Instant;

use super::ProbeOptions;
use super::imap::{self, ImapStatus};
use super::netglue;
use super::pop3;
use super::session::{Redact, Session, SessionError};
use super::smtp;
use crate::net::Net;
use crate::report::{Candidate, Outcome, Probe, Protocol, Security, Step, StepStatus};

/// Facts of a probe that the report model has no field for, used by the findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The server only offered this old TLS version (`TLSv1.0`, `TLSv1.1`).
    pub legacy_tls: Option<String>,
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
}

impl Run<'_> {
    fn step(&mut self, name: &str, status: StepStatus, t: Instant, detail: Option<String>) {
        self.probe.steps.push(Step {
            name: name.to_string(),
            status,
            elapsed_ms: t.elapsed().as_millis() as u64,
            detail,
        });
    }

    fn s(&mut self) -> &mut Session {
        self.session.as_mut().expect("session exists after connect")
    }

    fn store_caps(&mut self, caps: Vec<String>, sasl: Vec<String>) {
        let tls = self.s().is_tls();
        self.s().set_capabilities(caps.clone(), sasl.clone());
        if tls {
            self.probe.capabilities = caps;
            self.probe.sasl = sasl;
        } else {
            self.probe.capabilities_plain = caps;
        }
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
        match netglue::connect(self.net, &self.c.host, self.c.port).await {
            Ok(conn) => {
                self.probe.addresses = conn.addresses;
                self.step("connect", StepStatus::Ok, t, Some(conn.peer));
                self.session = Some(Session::new(conn.tcp, self.net, started));
                Ok(())
            }
            Err(e) => {
                self.probe.addresses = e.addresses;
                self.step(e.phase, StepStatus::Failed, t, Some(e.message.clone()));
                Err(fail(e.phase, e.message))
            }
        }
    }

    async fn tls(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let net = self.net;
        let name = self.c.host.clone();
        match self.s().start_tls(net, &name).await {
            Ok(info) => {
                let problems = self.s().tls_problems().join("; ");
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
        let t = Instant::now();
        let caps = self.s().capabilities().to_vec();
        let sasl = self.s().sasl().to_vec();
        let c = self.c;
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

    // ---- IMAP (RFC 9051) ----

    async fn imap_caps(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let name = self.caps_step_name();
        let r = self
            .s()
            .imap_command("CAPABILITY", Redact::No)
            .await
            .map_err(|e| session_fail(name, e))?;
        let caps = r
            .untagged
            .iter()
            .find_map(|u| imap::capabilities_from_untagged(u))
            .or_else(|| r.code.as_deref().and_then(imap::capabilities_from_code));
        match (r.status, caps) {
            (ImapStatus::Ok, Some(caps)) => {
                let sasl = imap::sasl_mechanisms(&caps);
                self.step(name, StepStatus::Ok, t, Some(caps.join(" ")));
                self.store_caps(caps, sasl);
                Ok(())
            }
            (status, _) => {
                let msg = format!("CAPABILITY answered {} {}", status.as_str(), r.text);
                self.step(name, StepStatus::Failed, t, Some(msg.clone()));
                Err(fail(name, msg))
            }
        }
    }

    async fn imap(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let line = self
            .s()
            .read_line()
            .await
            .map_err(|e| session_fail("greeting", e))?;
        let g = imap::parse_greeting(&line)
            .map_err(|e| fail("greeting", e.to_string()).hint("this port does not speak IMAP"))?;
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if g.status == ImapStatus::Bye {
            self.step("greeting", StepStatus::Failed, t, Some(text));
            return Err(fail(
                "greeting",
                format!("server refused the connection: {}", g.text),
            )
            .hint("the server may limit connections per IP or be in maintenance"));
        }
        self.greeting_step(t, text);
        match g.capabilities {
            Some(caps) => {
                let sasl = imap::sasl_mechanisms(&caps);
                let name = self.caps_step_name();
                self.step(
                    name,
                    StepStatus::Ok,
                    Instant::now(),
                    Some(format!("from greeting: {}", caps.join(" "))),
                );
                self.store_caps(caps, sasl);
            }
            None => self.imap_caps().await?,
        }
        if self.c.security == Security::Starttls {
            let t = Instant::now();
            let offered = imap::has_cap(self.s().capabilities(), "STARTTLS");
            if !offered {
                self.step(
                    "starttls",
                    StepStatus::Failed,
                    t,
                    Some("STARTTLS not offered".into()),
                );
                return Err(fail("starttls", "the server does not offer STARTTLS")
                    .hint("use implicit TLS (imaps, port 993) or enable STARTTLS on the server"));
            }
            let r = self
                .s()
                .imap_command("STARTTLS", Redact::No)
                .await
                .map_err(|e| session_fail("starttls", e))?;
            if r.status != ImapStatus::Ok || r.continuation.is_some() {
                let msg = format!("STARTTLS answered {} {}", r.status.as_str(), r.text);
                self.step("starttls", StepStatus::Failed, t, Some(msg.clone()));
                return Err(fail("starttls", msg).hint(
                    "STARTTLS is advertised but refused: TLS is misconfigured on the server",
                ));
            }
            self.step("starttls", StepStatus::Ok, t, None);
            self.tls().await?;
            // RFC 9051 §6.2.1: capabilities from before TLS must be discarded.
            self.imap_caps().await?;
        }
        self.login().await;
        let t = Instant::now();
        match self.s().imap_command("LOGOUT", Redact::No).await {
            Ok(r) if r.status == ImapStatus::Ok => self.step("logout", StepStatus::Ok, t, None),
            Ok(r) => self.step(
                "logout",
                StepStatus::Warning,
                t,
                Some(format!("{} {}", r.status.as_str(), r.text)),
            ),
            // Many servers close right after `* BYE`; that is not a fault.
            Err(e) => self.step("logout", StepStatus::Warning, t, Some(e.to_string())),
        }
        Ok(())
    }

    // ---- POP3 (RFC 1939, RFC 2449, RFC 2595) ----

    async fn pop3_caps(&mut self) -> Result<bool, Fail> {
        let t = Instant::now();
        let name = self.caps_step_name();
        let r = self
            .s()
            .pop3_command("CAPA", Redact::No, true)
            .await
            .map_err(|e| session_fail(name, e))?;
        if !r.status.ok {
            // RFC 2449 came late; old servers answer -ERR. Not fatal, but nothing is known.
            self.step(
                name,
                StepStatus::Warning,
                t,
                Some(format!("CAPA not supported: {}", r.status.text)),
            );
            self.store_caps(Vec::new(), Vec::new());
            return Ok(false);
        }
        let caps = pop3::parse_capa(&r.lines);
        self.step(name, StepStatus::Ok, t, Some(caps.lines.join(", ")));
        self.store_caps(caps.lines, caps.sasl);
        Ok(true)
    }

    async fn pop3(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let r = self
            .s()
            .read_pop3_response(false)
            .await
            .map_err(|e| session_fail("greeting", e))?;
        let text = format!(
            "{} {}",
            if r.status.ok { "+OK" } else { "-ERR" },
            r.status.text
        );
        if !r.status.ok || r.continuation.is_some() {
            self.step("greeting", StepStatus::Failed, t, Some(text.clone()));
            return Err(fail(
                "greeting",
                format!("server refused the connection: {text}"),
            ));
        }
        self.greeting_step(t, text.trim_end().to_string());
        let had_capa = self.pop3_caps().await?;
        if self.c.security == Security::Starttls {
            let t = Instant::now();
            let offered = pop3::parse_capa(self.s().capabilities()).stls;
            // Without CAPA we cannot know: try STLS anyway (RFC 2595 §4 predates CAPA).
            if had_capa && !offered {
                self.step(
                    "starttls",
                    StepStatus::Failed,
                    t,
                    Some("STLS not offered".into()),
                );
                return Err(fail("starttls", "the server does not offer STLS")
                    .hint("use implicit TLS (pop3s, port 995) or enable STLS on the server"));
            }
            let r = self
                .s()
                .pop3_command("STLS", Redact::No, false)
                .await
                .map_err(|e| session_fail("starttls", e))?;
            if !r.status.ok || r.continuation.is_some() {
                let msg = format!("STLS answered -ERR {}", r.status.text);
                self.step("starttls", StepStatus::Failed, t, Some(msg.clone()));
                return Err(fail("starttls", msg));
            }
            self.step("starttls", StepStatus::Ok, t, None);
            self.tls().await?;
            self.pop3_caps().await?;
        }
        self.login().await;
        let t = Instant::now();
        match self.s().pop3_command("QUIT", Redact::No, false).await {
            Ok(r) if r.status.ok => self.step("logout", StepStatus::Ok, t, None),
            Ok(r) => self.step("logout", StepStatus::Warning, t, Some(r.status.text)),
            Err(e) => self.step("logout", StepStatus::Warning, t, Some(e.to_string())),
        }
        Ok(())
    }

    // ---- SMTP (RFC 5321, RFC 3207) ----

    async fn ehlo(&mut self) -> Result<smtp::EhloInfo, Fail> {
        let t = Instant::now();
        let name = self.caps_step_name();
        let cmd = format!("EHLO {}", self.opts.ehlo_name);
        let r = self
            .s()
            .smtp_command(&cmd, Redact::No)
            .await
            .map_err(|e| session_fail(name, e))?;
        if r.code == 250 {
            let info = smtp::parse_ehlo(&r);
            self.step(name, StepStatus::Ok, t, Some(info.keywords.join(", ")));
            self.store_caps(info.keywords.clone(), info.sasl.clone());
            return Ok(info);
        }
        // RFC 5321 §3.2: a server that rejects EHLO may still take HELO.
        let cmd = format!("HELO {}", self.opts.ehlo_name);
        let h = self
            .s()
            .smtp_command(&cmd, Redact::No)
            .await
            .map_err(|e| session_fail(name, e))?;
        if h.code == 250 {
            self.step(
                name,
                StepStatus::Warning,
                t,
                Some(format!(
                    "EHLO refused ({} {}), HELO accepted: no extensions",
                    r.code,
                    r.text()
                )),
            );
            self.store_caps(Vec::new(), Vec::new());
            return Ok(smtp::EhloInfo::default());
        }
        let msg = format!("EHLO and HELO refused: {} {}", h.code, h.text());
        self.step(name, StepStatus::Failed, t, Some(msg.clone()));
        Err(fail(name, msg))
    }

    async fn smtp(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let r = self
            .s()
            .read_smtp_reply()
            .await
            .map_err(|e| session_fail("greeting", e))?;
        let text = format!("{} {}", r.code, r.lines.join(" / "));
        if r.code != 220 {
            self.step("greeting", StepStatus::Failed, t, Some(text.clone()));
            let f = fail("greeting", format!("server refused the session: {text}"));
            return Err(if r.code == 554 {
                f.hint("554 at connect: the server refuses this client (IP blocklist or policy)")
            } else {
                f
            });
        }
        self.greeting_step(t, text);
        let ehlo = self.ehlo().await?;
        if self.c.security == Security::Starttls {
            let t = Instant::now();
            if !ehlo.starttls && self.c.port == 25 {
                // Port 25 takes mail in clear when it must (RFC 3207 §4: STARTTLS is optional).
                self.step(
                    "starttls",
                    StepStatus::Skipped,
                    t,
                    Some("STARTTLS not offered".into()),
                );
            } else if !ehlo.starttls {
                self.step(
                    "starttls",
                    StepStatus::Failed,
                    t,
                    Some("STARTTLS not offered".into()),
                );
                return Err(fail("starttls", "the server does not offer STARTTLS")
                    .hint("use implicit TLS (port 465) or enable STARTTLS on the server"));
            } else {
                let r = self
                    .s()
                    .smtp_command("STARTTLS", Redact::No)
                    .await
                    .map_err(|e| session_fail("starttls", e))?;
                if r.code != 220 {
                    let msg = format!("STARTTLS answered {} {}", r.code, r.text());
                    self.step("starttls", StepStatus::Failed, t, Some(msg.clone()));
                    return Err(fail("starttls", msg).hint(
                        "STARTTLS is advertised but refused: TLS is misconfigured on the server",
                    ));
                }
                self.step("starttls", StepStatus::Ok, t, None);
                self.tls().await?;
                // RFC 3207 §4.2: forget what was learnt before TLS and say EHLO again.
                self.ehlo().await?;
            }
        }
        self.login().await;
        let t = Instant::now();
        match self.s().smtp_command("QUIT", Redact::No).await {
            Ok(r) if r.code == 221 => self.step("logout", StepStatus::Ok, t, None),
            Ok(r) => self.step(
                "logout",
                StepStatus::Warning,
                t,
                Some(format!("{} {}", r.code, r.text())),
            ),
            Err(e) => self.step("logout", StepStatus::Warning, t, Some(e.to_string())),
        }
        Ok(())
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
    let started = Instant::now();
    let mut run = Run {
        net,
        c,
        opts,
        probe: blank_probe(c),
        facts: Facts::default(),
        session: None,
    };
    let result = run.run(started).await;
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
    if let Some(mut s) = run.session {
        s.close().await;
        let transcript = s.take_transcript();
        if opts.transcript {
            probe.transcript = Some(transcript);
        }
    } else if opts.transcript {
        probe.transcript = Some(Vec::new());
    }
    probe.elapsed_ms = started.elapsed().as_millis() as u64;
    (probe, run.facts)
}

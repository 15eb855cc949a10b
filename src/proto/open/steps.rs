//! The shared steps of opening a session, each timed and recorded in the `Probe`: resolve and
//! connect (happy eyeballs, RFC 8305, through `net`), TLS (implicit, or after STARTTLS per
//! RFC 3207 / RFC 9051 §6.2.1 / RFC 2595 §4), the greeting, the capabilities as learnt, and the
//! login through the [`LoginHook`](super::LoginHook).

use std::time::Instant;

use super::Run;
use crate::model::{Phase, Step, StepStatus};
use crate::proto::caps::{CapabilitySet, Offered};
use crate::proto::{Session, SessionError, transport};

/// Why the dialogue stopped.
pub(super) struct Fail {
    pub(super) phase: Phase,
    pub(super) error: String,
    pub(super) hint: Option<String>,
}

pub(super) fn fail(phase: Phase, error: impl Into<String>) -> Fail {
    Fail {
        phase,
        error: error.into(),
        hint: None,
    }
}

impl Fail {
    pub(super) fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }
}

pub(super) fn session_fail(phase: Phase, e: SessionError) -> Fail {
    let hint = match &e {
        SessionError::Timeout(_) if phase == Phase::Greeting => Some(
            "the port accepts connections but the server says nothing: wrong protocol on this \
             port (implicit TLS expected?), or an overloaded/tarpitting server"
                .to_string(),
        ),
        SessionError::Protocol(_) if phase == Phase::Greeting => {
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

impl Run<'_> {
    pub(super) fn step(
        &mut self,
        name: impl AsRef<str>,
        status: StepStatus,
        t: Instant,
        detail: Option<String>,
    ) {
        self.probe.steps.push(Step {
            name: name.as_ref().to_string(),
            status,
            elapsed_ms: t.elapsed().as_millis() as u64,
            detail,
        });
        self.mark = Instant::now();
    }

    pub(super) fn s(&mut self) -> &mut Session {
        self.session.as_mut().expect("session exists after connect")
    }

    /// Record what the server offers, on the session and in the probe (before or over TLS).
    pub(super) fn store_caps(&mut self, offered: Offered) {
        if self.s().is_tls() {
            self.probe.capabilities = offered.lines().to_vec();
            self.probe.sasl = offered.sasl().to_vec();
        } else {
            self.probe.capabilities_plain = offered.lines().to_vec();
        }
        self.s().set_offered(offered);
    }

    pub(super) fn caps_step_name(&mut self) -> Phase {
        if self.s().is_tls() {
            Phase::CapabilitiesTls
        } else {
            Phase::Capabilities
        }
    }

    pub(super) async fn connect(&mut self) -> Result<(), Fail> {
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
                let mut session = Session::new(conn.tcp, self.net, self.started);
                session.max_total = self.opts.max_total;
                self.session = Some(session);
                self.connected.send_replace(true);
                if self.connected.receiver_count() > 0 {
                    // Let a waiting stop see the connection before the dialogue goes on.
                    tokio::task::yield_now().await;
                }
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

    pub(super) async fn tls(&mut self) -> Result<(), Fail> {
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
                let mut f = fail(Phase::Tls, e.message);
                f.hint = e.hint;
                Err(f)
            }
        }
    }

    pub(super) fn greeting_step(&mut self, t: Instant, text: String) {
        let slow = t.elapsed() > self.opts.slow_greeting;
        let status = if slow {
            StepStatus::Warning
        } else {
            StepStatus::Ok
        };
        self.probe.greeting = Some(text.clone());
        self.step("greeting", status, t, Some(text));
    }

    pub(super) async fn login(&mut self) {
        let Some(hook) = self.opts.login else {
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
        // A hook that sent nothing says why in a note (no mechanism): the step is skipped.
        let sent = attempts.iter().filter(|a| !a.is_note()).count();
        let status = if sent == 0 {
            StepStatus::Skipped
        } else if attempts.iter().any(|a| a.success) {
            StepStatus::Ok
        } else {
            StepStatus::Failed
        };
        let detail = attempts
            .iter()
            .map(|a| match (a.is_note(), a.success) {
                (true, _) => a.response.clone().unwrap_or_default(),
                (false, ok) => format!("{} {}", a.mechanism, if ok { "ok" } else { "failed" }),
            })
            .collect::<Vec<_>>()
            .join(", ");
        self.step("auth", status, t, (!detail.is_empty()).then_some(detail));
        self.probe.auth = attempts;
    }
}

//! The protocol parts of opening a session: IMAP (RFC 9051), POP3 (RFC 1939, RFC 2449,
//! RFC 2595) and SMTP (RFC 5321, RFC 3207) — greeting, capabilities, STARTTLS/STLS,
//! capabilities again — and LOGOUT/QUIT, on top of the shared steps in the parent module.

use std::time::Instant;

use super::Run;
use super::steps::{Fail, fail, session_fail};
use crate::model::{Phase, Protocol, Security, StepStatus};
use crate::proto::imap::{self, ImapStatus};
use crate::proto::{Capability, CapabilitySet, Offered, pop3, smtp};

impl Run<'_> {
    /// Does the server offer `cap`, by what the dialogue learnt last?
    fn offers(&mut self, cap: Capability<'_>) -> bool {
        self.s().offered().is_some_and(|o| o.has(cap))
    }

    // ---- IMAP (RFC 9051) ----

    async fn imap_caps(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let name = self.caps_step_name();
        let r = self
            .s()
            .imap(&imap::Command::Capability)
            .await
            .map_err(|e| session_fail(name, e))?;
        match (r.status, r.capabilities()) {
            (ImapStatus::Ok, Some(caps)) => {
                self.step(name, StepStatus::Ok, t, Some(caps.names().join(" ")));
                self.store_caps(Offered::Imap(caps));
                Ok(())
            }
            (status, _) => {
                let msg = format!("CAPABILITY answered {} {}", status.as_str(), r.text);
                self.step(name, StepStatus::Failed, t, Some(msg.clone()));
                Err(fail(name, msg))
            }
        }
    }

    pub(super) async fn imap(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let line = self
            .s()
            .read_line()
            .await
            .map_err(|e| session_fail(Phase::Greeting, e))?;
        let g = imap::parse_greeting(&line).map_err(|e| {
            fail(Phase::Greeting, e.to_string()).hint("this port does not speak IMAP")
        })?;
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if g.status == ImapStatus::Bye {
            self.step("greeting", StepStatus::Failed, t, Some(text));
            return Err(fail(
                Phase::Greeting,
                format!("server refused the connection: {}", g.text),
            )
            .hint("the server may limit connections per IP or be in maintenance"));
        }
        self.greeting_step(t, text);
        match g.capabilities {
            Some(caps) => {
                let name = self.caps_step_name();
                self.step(
                    name,
                    StepStatus::Ok,
                    Instant::now(),
                    Some(format!("from greeting: {}", caps.names().join(" "))),
                );
                self.store_caps(Offered::Imap(caps));
            }
            None => self.imap_caps().await?,
        }
        if self.c.security == Security::Starttls {
            let t = Instant::now();
            let offered = self.offers(Capability::StartTls);
            if !offered {
                self.step(
                    "starttls",
                    StepStatus::Failed,
                    t,
                    Some("STARTTLS not offered".into()),
                );
                return Err(fail(Phase::Starttls, "the server does not offer STARTTLS")
                    .hint("use implicit TLS (imaps, port 993) or enable STARTTLS on the server"));
            }
            let r = self
                .s()
                .imap(&imap::Command::StartTls)
                .await
                .map_err(|e| session_fail(Phase::Starttls, e))?;
            if r.status != ImapStatus::Ok || r.continuation.is_some() {
                let msg = format!("STARTTLS answered {} {}", r.status.as_str(), r.text);
                self.step("starttls", StepStatus::Failed, t, Some(msg.clone()));
                return Err(fail(Phase::Starttls, msg).hint(
                    "STARTTLS is advertised but refused: TLS is misconfigured on the server",
                ));
            }
            self.step("starttls", StepStatus::Ok, t, None);
            self.tls().await?;
            // RFC 9051 §6.2.1: capabilities from before TLS must be discarded.
            self.imap_caps().await?;
        }
        Ok(())
    }

    // ---- POP3 (RFC 1939, RFC 2449, RFC 2595) ----

    async fn pop3_caps(&mut self) -> Result<bool, Fail> {
        let t = Instant::now();
        let name = self.caps_step_name();
        let r = self
            .s()
            .pop3(&pop3::Command::Capa)
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
            self.store_caps(Offered::Pop3(pop3::Capabilities::default()));
            return Ok(false);
        }
        let caps = pop3::parse_capa(&r.lines);
        self.step(name, StepStatus::Ok, t, Some(caps.lines.join(", ")));
        self.store_caps(Offered::Pop3(caps));
        Ok(true)
    }

    pub(super) async fn pop3(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let r = self
            .s()
            .read_pop3_response(false)
            .await
            .map_err(|e| session_fail(Phase::Greeting, e))?;
        let text = r.status.line();
        if !r.status.ok || r.continuation.is_some() {
            self.step("greeting", StepStatus::Failed, t, Some(text.clone()));
            return Err(fail(
                Phase::Greeting,
                format!("server refused the connection: {text}"),
            ));
        }
        self.greeting_step(t, text.trim_end().to_string());
        let had_capa = self.pop3_caps().await?;
        if self.c.security == Security::Starttls {
            let t = Instant::now();
            let offered = self.offers(Capability::StartTls);
            // Without CAPA we cannot know: try STLS anyway (RFC 2595 §4 predates CAPA).
            if had_capa && !offered {
                self.step(
                    "starttls",
                    StepStatus::Failed,
                    t,
                    Some("STLS not offered".into()),
                );
                return Err(fail(Phase::Starttls, "the server does not offer STLS")
                    .hint("use implicit TLS (pop3s, port 995) or enable STLS on the server"));
            }
            let r = self
                .s()
                .pop3(&pop3::Command::Stls)
                .await
                .map_err(|e| session_fail(Phase::Starttls, e))?;
            if !r.status.ok || r.continuation.is_some() {
                let msg = format!("STLS answered -ERR {}", r.status.text);
                self.step("starttls", StepStatus::Failed, t, Some(msg.clone()));
                return Err(fail(Phase::Starttls, msg));
            }
            self.step("starttls", StepStatus::Ok, t, None);
            self.tls().await?;
            self.pop3_caps().await?;
        }
        Ok(())
    }

    // ---- SMTP (RFC 5321, RFC 3207) ----

    async fn ehlo(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let name = self.caps_step_name();
        let ehlo_name = self.opts.ehlo_name;
        let r = self
            .s()
            .smtp(&smtp::Command::Ehlo(ehlo_name))
            .await
            .map_err(|e| session_fail(name, e))?;
        if r.code == smtp::code::OK {
            let info = smtp::parse_ehlo(&r);
            self.step(name, StepStatus::Ok, t, Some(info.keywords.join(", ")));
            self.store_caps(Offered::Smtp(info));
            return Ok(());
        }
        // RFC 5321 §3.2: a server that rejects EHLO may still take HELO.
        let h = self
            .s()
            .smtp(&smtp::Command::Helo(ehlo_name))
            .await
            .map_err(|e| session_fail(name, e))?;
        if h.code == smtp::code::OK {
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
            self.store_caps(Offered::Smtp(smtp::ServerInfo::default()));
            return Ok(());
        }
        let msg = format!("EHLO and HELO refused: {} {}", h.code, h.text());
        self.step(name, StepStatus::Failed, t, Some(msg.clone()));
        Err(fail(name, msg))
    }

    pub(super) async fn smtp(&mut self) -> Result<(), Fail> {
        let t = Instant::now();
        let r = self
            .s()
            .read_smtp_reply()
            .await
            .map_err(|e| session_fail(Phase::Greeting, e))?;
        let text = format!("{} {}", r.code, r.lines.join(" / "));
        if r.code != smtp::code::READY {
            self.step("greeting", StepStatus::Failed, t, Some(text.clone()));
            let f = fail(
                Phase::Greeting,
                format!("server refused the session: {text}"),
            );
            return Err(if r.code == smtp::code::NO_SERVICE {
                f.hint("554 at connect: the server refuses this client (IP blocklist or policy)")
            } else {
                f
            });
        }
        self.greeting_step(t, text);
        self.ehlo().await?;
        if self.c.security == Security::Starttls {
            let t = Instant::now();
            let offered = self.offers(Capability::StartTls);
            if !offered && self.c.port == 25 {
                // Port 25 takes mail in clear when it must (RFC 3207 §4: STARTTLS is optional).
                self.step(
                    "starttls",
                    StepStatus::Skipped,
                    t,
                    Some("STARTTLS not offered".into()),
                );
            } else if !offered {
                self.step(
                    "starttls",
                    StepStatus::Failed,
                    t,
                    Some("STARTTLS not offered".into()),
                );
                return Err(fail(Phase::Starttls, "the server does not offer STARTTLS")
                    .hint("use implicit TLS (port 465) or enable STARTTLS on the server"));
            } else {
                let r = self
                    .s()
                    .smtp(&smtp::Command::StartTls)
                    .await
                    .map_err(|e| session_fail(Phase::Starttls, e))?;
                if r.code != smtp::code::READY {
                    let msg = format!("STARTTLS answered {} {}", r.code, r.text());
                    self.step("starttls", StepStatus::Failed, t, Some(msg.clone()));
                    return Err(fail(Phase::Starttls, msg).hint(
                        "STARTTLS is advertised but refused: TLS is misconfigured on the server",
                    ));
                }
                self.step("starttls", StepStatus::Ok, t, None);
                self.tls().await?;
                // RFC 3207 §4.2: forget what was learnt before TLS and say EHLO again.
                self.ehlo().await?;
            }
        }
        Ok(())
    }

    /// LOGOUT / QUIT as the last step (RFC 9051 §6.1.3, RFC 1939 §6, RFC 5321 §4.1.1.10). A
    /// refusal or a dropped connection is a warning: many servers close right after `* BYE`.
    pub(super) async fn logout(&mut self) {
        let t = Instant::now();
        let r = match self.c.protocol {
            Protocol::Imap => self.s().imap(&imap::Command::Logout).await.map(|r| {
                (
                    r.status == ImapStatus::Ok,
                    format!("{} {}", r.status.as_str(), r.text),
                )
            }),
            Protocol::Pop3 => {
                (self.s().pop3(&pop3::Command::Quit).await).map(|r| (r.status.ok, r.status.text))
            }
            Protocol::Smtp => self.s().smtp(&smtp::Command::Quit).await.map(|r| {
                (
                    r.code == smtp::Command::Quit.expect(),
                    format!("{} {}", r.code, r.text()),
                )
            }),
        };
        match r {
            Ok((true, _)) => self.step("logout", StepStatus::Ok, t, None),
            Ok((false, detail)) => self.step("logout", StepStatus::Warning, t, Some(detail)),
            Err(e) => self.step("logout", StepStatus::Warning, t, Some(e.to_string())),
        }
    }
}

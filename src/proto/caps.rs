//! Capability sets: one type per protocol — [`imap::Capabilities`] (RFC 9051 §7.2.2),
//! [`pop3::Capabilities`] (RFC 2449 §6) and [`smtp::ServerInfo`] (the EHLO reply, RFC 5321
//! §4.1.1.1) — and one way to ask any of them: [`CapabilitySet::has`] with a [`Capability`].
//! [`Offered`] holds whichever one a session learnt last, for callers that work across
//! protocols (the login, which chooses a SASL mechanism the same way for all three).
//!
//! Names compare case-insensitively: RFC 9051 §7.2.2 (IMAP atoms), RFC 2449 §5 (POP3 tags),
//! RFC 5321 §2.4 (EHLO keywords).

use super::{imap, pop3, smtp};
use crate::model::Protocol;

/// Something a server may offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability<'a> {
    /// IMAP `STARTTLS` (RFC 9051 §6.2.1), POP3 `STLS` (RFC 2595 §4), SMTP `STARTTLS` (RFC 3207).
    StartTls,
    /// A SASL mechanism: IMAP `AUTH=X`, POP3 `SASL X` (RFC 5034), SMTP `AUTH X` (RFC 4954).
    Auth(&'a str),
    /// IMAP `SASL-IR` (RFC 4959): an initial response on the AUTHENTICATE line.
    SaslIr,
    /// IMAP `LOGINDISABLED` (RFC 9051 §6.2.3): the LOGIN command is refused.
    LoginDisabled,
    /// IMAP `IDLE` (RFC 2177).
    Idle,
    /// IMAP `UIDPLUS` (RFC 4315): `UID EXPUNGE` of given UIDs only.
    UidPlus,
    /// IMAP `SPECIAL-USE` (RFC 6154): `\Junk` and friends in LIST.
    SpecialUse,
    /// POP3 `USER` (RFC 2449 §6.3): the `USER`/`PASS` login.
    User,
    /// POP3 or SMTP `PIPELINING` (RFC 2449 §6.6, RFC 2920).
    Pipelining,
    /// Any other name, as the server spells it (the first word of a POP3 or EHLO line).
    Named(&'a str),
}

/// What every protocol's capability set answers.
pub trait CapabilitySet {
    /// Does the server offer `cap`?
    fn has(&self, cap: Capability<'_>) -> bool;
    /// SASL mechanisms offered, upper-cased, in the server's order.
    fn sasl(&self) -> &[String];
    /// The capabilities as the server sent them (IMAP names, POP3 CAPA lines, EHLO keyword
    /// lines): what the report shows.
    fn lines(&self) -> &[String];
}

/// Does `list` name `mech` (case-insensitive)?
pub(crate) fn names(list: &[String], name: &str) -> bool {
    list.iter().any(|m| m.eq_ignore_ascii_case(name))
}

/// Does any line of `lines` start with the word `name` (case-insensitive)?
pub(crate) fn first_word(lines: &[String], name: &str) -> bool {
    lines.iter().any(|l| {
        l.split([' ', '='])
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(name))
    })
}

/// The capability set a session learnt last, of whichever protocol it speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offered {
    Imap(imap::Capabilities),
    Pop3(pop3::Capabilities),
    Smtp(smtp::ServerInfo),
}

impl Offered {
    /// Rebuild the set of `protocol` from the lines a probe recorded
    /// ([`CapabilitySet::lines`]): they carry everything the set knows.
    pub fn from_lines(protocol: Protocol, lines: &[String]) -> Offered {
        match protocol {
            Protocol::Imap => Offered::Imap(imap::Capabilities::new(lines.to_vec())),
            Protocol::Pop3 => Offered::Pop3(pop3::parse_capa(lines)),
            Protocol::Smtp => Offered::Smtp(smtp::ServerInfo::from_keywords(lines)),
        }
    }

    fn set(&self) -> &dyn CapabilitySet {
        match self {
            Offered::Imap(c) => c,
            Offered::Pop3(c) => c,
            Offered::Smtp(c) => c,
        }
    }
}

impl CapabilitySet for Offered {
    fn has(&self, cap: Capability<'_>) -> bool {
        self.set().has(cap)
    }
    fn sasl(&self) -> &[String] {
        self.set().sasl()
    }
    fn lines(&self) -> &[String] {
        self.set().lines()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn one_question_for_three_protocols() {
        use Capability::*;
        let imap = Offered::from_lines(
            Protocol::Imap,
            &v(&["IMAP4rev1", "STARTTLS", "AUTH=PLAIN", "idle", "UIDPLUS"]),
        );
        let pop3 = Offered::from_lines(Protocol::Pop3, &v(&["STLS", "USER", "SASL PLAIN"]));
        let smtp = Offered::from_lines(
            Protocol::Smtp,
            &v(&["PIPELINING", "STARTTLS", "AUTH PLAIN LOGIN", "SIZE 100"]),
        );
        let cases: &[(&Offered, Capability, bool)] = &[
            (&imap, StartTls, true),
            (&imap, Auth("plain"), true),
            (&imap, Auth("LOGIN"), false),
            (&imap, Idle, true),
            (&imap, UidPlus, true),
            (&imap, SpecialUse, false),
            (&imap, LoginDisabled, false),
            (&imap, User, false),
            (&pop3, StartTls, true),
            (&pop3, User, true),
            (&pop3, Auth("PLAIN"), true),
            (&pop3, Idle, false),
            (&smtp, StartTls, true),
            (&smtp, Pipelining, true),
            (&smtp, Auth("login"), true),
            (&smtp, Named("size"), true),
            (&smtp, Named("CHUNKING"), false),
        ];
        for (set, cap, want) in cases {
            assert_eq!(set.has(*cap), *want, "{set:?} {cap:?}");
        }
        assert_eq!(smtp.sasl(), ["PLAIN", "LOGIN"]);
        assert_eq!(pop3.lines().len(), 3);
    }
}

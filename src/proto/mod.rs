//! The protocol layer: the one place that speaks IMAP (RFC 9051, RFC 3501), POP3 (RFC 1939,
//! RFC 2449) and SMTP (RFC 5321, RFC 3207, RFC 4954). It sits above `net` (sockets, TLS) and
//! `model` (the report's data), and below `probe`, `auth` and `roundtrip`, which hold decisions and never
//! parse a server line themselves.
//!
//! - [`Session`] ([`session`]): one connection — TCP, then TLS on the same socket (implicit or
//!   STARTTLS) — with a bounded line reader ([`session::MAX_LINE`], [`session::MAX_TOTAL`]),
//!   per-step timeouts from `Net`, and a [`Transcript`] ([`transcript`]) where every sent line
//!   is stored as its [`Redact`] flag says and every server line passes through
//!   [`Transcript::server`]. `session.imap(&imap::Command)`,
//!   `session.pop3(&pop3::Command)` and `session.smtp(&smtp::Command)` send one typed command
//!   and read its whole typed reply ([`ImapResponse`], [`Pop3Response`], [`smtp::SmtpReply`]).
//! - [`imap`], [`pop3`], [`smtp`]: per protocol, typed commands (each knows its line, its
//!   redaction and, for POP3, whether its answer is multi-line; for SMTP, its success code) and
//!   pure reply parsers, table- and property-tested.
//! - [`caps`]: one capability set per protocol ([`imap::Capabilities`], [`pop3::Capabilities`],
//!   [`smtp::ServerInfo`] from EHLO) and one way to ask them: `has(Capability::StartTls)`,
//!   `has(Capability::Auth("PLAIN"))`, `Idle`, `UidPlus`, `SpecialUse`, `LoginDisabled`, ….
//! - [`login`]: the line interface of the login dialogues ([`Wire`]), what a server line
//!   means inside a login ([`login::classify`]), SASL response framing, and the codes of a
//!   refused login ([`login::response_codes`]).
//! - [`open`]: [`open_and_login`] — connect, greeting, capabilities, STARTTLS, capabilities
//!   again, login through a [`LoginHook`] — each step timed and recorded in a `Probe`; the one
//!   way the probe, the login with `--all-mechs` ([`connect_ready`]) and the round trip open a
//!   session.
//! - [`transport`]: connect and TLS handshake through `net`, with errors as data.

pub mod caps;
pub mod imap;
pub mod login;
pub mod open;
pub mod pop3;
pub mod session;
pub mod smtp;
pub mod transcript;
pub(crate) mod transport;

pub use caps::{Capability, CapabilitySet, Offered};
pub use login::{Channel, LoginLine, Wire, WireError};
pub use open::{LoginHook, OpenOptions, Opened, Ready, connect_ready, open_and_login};
pub use session::{ImapResponse, Pop3Response, Session, SessionError};
pub use transcript::{Redact, Secrets, Transcript, redact_line};

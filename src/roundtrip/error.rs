//! Why a step of the round trip failed: the typed error every submit and fetch step returns,
//! whose text is what the report shows (`roundtrip-submit-failed`, `roundtrip-fetch-failed`).

use crate::proto::SessionError;

/// A failed submit or fetch step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoundtripError {
    /// The server could not be opened (resolve, connect, TLS, greeting, STARTTLS): the failed
    /// step as `phase: error`.
    #[error("{0}")]
    Open(String),
    /// No login worked on the mailbox server (`IMAP`, `POP3`): the last refusal.
    #[error("{protocol} login failed: {reply}")]
    MailboxLogin { protocol: String, reply: String },
    /// No login worked on the submission server: the last refusal.
    #[error("login failed: {0}")]
    SubmitLogin(String),
    /// The session broke: timeout, I/O error, an answer too long or not the protocol.
    #[error("{0}")]
    Session(String),
    /// An SMTP command of the submission was refused (RFC 5321 §4.2): the command and reply.
    #[error("{command} refused: {reply}")]
    Refused { command: String, reply: String },
    /// The message itself was refused after DATA.
    #[error("message refused: {0}")]
    MessageRefused(String),
    /// An IMAP or POP3 command was answered with an error: the server's status line.
    #[error("{0}")]
    Rejected(String),
    /// The message was not found within `--wait` (seconds).
    #[error("the message did not arrive within {0} s")]
    NotArrived(u64),
}

impl From<SessionError> for RoundtripError {
    fn from(e: SessionError) -> Self {
        RoundtripError::Session(e.to_string())
    }
}

impl From<std::io::Error> for RoundtripError {
    fn from(e: std::io::Error) -> Self {
        RoundtripError::Session(e.to_string())
    }
}

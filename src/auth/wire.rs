//! The line interface the login dialogues run on ([`Wire`]), its two implementations outside
//! the probe (a fresh [`Conn`] here, the probe's session in `hook.rs`), and the recorder that
//! keeps every credential token sent so it can be scrubbed from the server's answers.

use std::future::Future;

use super::conn::{Conn, ConnError};

/// Why a line could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    Closed,
    Timeout,
    Other(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Closed => f.write_str("the server closed the connection"),
            WireError::Timeout => f.write_str("timed out waiting for the server"),
            WireError::Other(e) => f.write_str(e),
        }
    }
}

impl From<ConnError> for WireError {
    fn from(e: ConnError) -> Self {
        match e {
            ConnError::Closed => WireError::Closed,
            ConnError::Timeout(_) => WireError::Timeout,
            e => WireError::Other(e.to_string()),
        }
    }
}

/// Line I/O the login dialogues need. `secret` marks a line carrying a credential: a transcript
/// must record it as `<redacted>` after the command word.
pub trait Wire: Send {
    fn send_line(
        &mut self,
        line: &str,
        secret: bool,
    ) -> impl Future<Output = Result<(), WireError>> + Send;
    fn recv_line(&mut self) -> impl Future<Output = Result<String, WireError>> + Send;
    /// A fresh IMAP tag for this connection.
    fn next_tag(&mut self) -> String;
}

impl Wire for Conn {
    async fn send_line(&mut self, line: &str, _secret: bool) -> Result<(), WireError> {
        Ok(self.write_line(line).await?)
    }
    async fn recv_line(&mut self) -> Result<String, WireError> {
        Ok(self.read_line().await?)
    }
    fn next_tag(&mut self) -> String {
        Conn::next_tag(self)
    }
}

/// Passes lines through and remembers the credential tokens sent (the last word of each
/// secret line), so that they can be scrubbed from what the server says back.
pub(crate) struct Recording<'w, W> {
    pub(crate) inner: &'w mut W,
    pub(crate) tokens: Vec<String>,
}

impl<W: Wire> Wire for Recording<'_, W> {
    async fn send_line(&mut self, line: &str, secret: bool) -> Result<(), WireError> {
        if secret && let Some(t) = line.rsplit(' ').next() {
            self.tokens.push(t.to_string());
        }
        self.inner.send_line(line, secret).await
    }
    async fn recv_line(&mut self) -> Result<String, WireError> {
        self.inner.recv_line().await
    }
    fn next_tag(&mut self) -> String {
        self.inner.next_tag()
    }
}

impl<W> Recording<'_, W> {
    pub(crate) fn scrub(&self, mut text: String) -> String {
        for t in self.tokens.iter().filter(|t| t.len() >= 3) {
            if text.contains(t.as_str()) {
                text = text.replace(t.as_str(), "<redacted>");
            }
        }
        text
    }
}

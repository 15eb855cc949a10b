//! The line interface the login dialogues run on ([`Wire`]): implemented by the probe's
//! [`Session`](crate::probe::Session) (in `hook.rs`) and by the scripted wire of the login unit
//! tests; and the recorder that keeps every credential token sent so it can be scrubbed from the
//! server's answers.

use std::future::Future;

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

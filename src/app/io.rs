//! What a run needs from whoever drives it, besides the output stream: somewhere to report
//! progress, a way to ask the user for a password, and standard input. The library never
//! touches the terminal itself; the binary (`src/terminal/`) implements these with a progress
//! bar, a no-echo prompt and the process's stdin, and a test passes [`Io::silent`] or its own.
//! The pattern is uv's `Reporter` traits and ripgrep's printers: the core calls, the front end
//! decides what to draw.

use std::io::Read;

use crate::auth::oauth::OAuthUi;
use crate::auth::oauth::wire::DeviceAuthorization;
use crate::auth::{CredentialError, Secret};
use crate::model::Report;

/// Progress events of a run. Every method has an empty default, so a front end implements
/// only what it shows.
pub trait Reporter: Sync {
    /// A batch of `total` addresses starts.
    fn on_batch_start(&self, _total: usize) {}
    /// One address of the batch is done (called as it completes, not in input order).
    fn on_address_done(&self, _report: &Report) {}
    /// The batch is over. `summary` is the aggregated summary when the output format leaves
    /// it out of the output stream (JSON Lines keep stdout pure): the binary prints it on
    /// standard error.
    fn on_batch_complete(&self, _summary: Option<&str>) {}
}

/// A reporter that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReporter;

impl Reporter for NoReporter {}

/// Asks the user for a secret without echo. `label` is what is asked for (`Password for
/// alice@example.com: `). `Err(CredentialError::NoTerminal)` when nobody can be asked.
pub type PasswordPrompt<'a> = dyn FnMut(&str) -> Result<Secret, CredentialError> + 'a;

/// The front end of one run.
pub struct Io<'a> {
    /// Shows the device code or opens the browser during `oauth login`.
    pub oauth: &'a dyn OAuthUi,
    pub reporter: &'a dyn Reporter,
    pub prompt: Box<PasswordPrompt<'a>>,
    /// Standard input, for `--password-stdin` and `--batch -`.
    pub stdin: Box<dyn Read + 'a>,
}

impl<'a> Io<'a> {
    /// No progress, no prompt (`NoTerminal`), empty standard input: for tests and for callers
    /// that run unattended.
    pub fn silent() -> Io<'a> {
        Io {
            reporter: &NoReporter,
            oauth: &NoOAuthUi,
            prompt: Box::new(|_| Err(CredentialError::NoTerminal)),
            stdin: Box::new(std::io::empty()),
        }
    }
}

/// An OAuth front end that shows nothing (a device-flow login then waits unseen).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoOAuthUi;

impl OAuthUi for NoOAuthUi {
    fn device_code(&self, _d: &DeviceAuthorization) {}
    fn open_browser(&self, _url: &str) {}
}

//! The password prompt: without echo, on the terminal (rpassword writes the prompt to
//! /dev/tty, not to stdout), and only when standard input is one — a script or a cron job gets
//! a usage error naming the password options instead of a login silently skipped.

use std::io::IsTerminal;

use mailprobe::auth::{CredentialError, Secret, credentials::checked};

/// Ask for a secret with `label`; `NoTerminal` when standard input is not a terminal.
pub fn prompt_password(label: &str) -> Result<Secret, CredentialError> {
    if !std::io::stdin().is_terminal() {
        return Err(CredentialError::NoTerminal);
    }
    let value =
        rpassword::prompt_password(label).map_err(|e| CredentialError::Prompt(e.to_string()))?;
    checked(value, "the prompt".to_string())
}

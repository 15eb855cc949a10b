//! The OAuth sign-in on the terminal: the device code and its URL on standard error (RFC 8628
//! §3.3), the browser opened with `xdg-open` (or macOS `open`) when one is installed and the
//! URL printed in any case (RFC 8252 §7.3). Strings from the authorization server are escaped
//! before they reach the terminal.

use std::path::Path;
use std::process::{Command, Stdio};

use mailprobe::auth::oauth::OAuthUi;
use mailprobe::auth::oauth::wire::DeviceAuthorization;
use mailprobe::report::safe::escape;

/// The terminal front end of `oauth login`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TerminalOAuth;

impl OAuthUi for TerminalOAuth {
    fn device_code(&self, d: &DeviceAuthorization) {
        eprintln!(
            "To sign in, open {} on any device and enter the code {}",
            escape(&d.verification_uri),
            escape(&d.user_code)
        );
        if let Some(u) = &d.verification_uri_complete {
            eprintln!("(or open {} directly)", escape(u));
        }
        eprintln!(
            "Waiting for the sign-in (the code expires in {} s)...",
            d.expires_in
        );
    }

    fn open_browser(&self, url: &str) {
        eprintln!("Open this URL to sign in:\n  {}", escape(url));
        if let Some(opener) = ["xdg-open", "open"].into_iter().find(|c| on_path(c)) {
            let _ = Command::new(opener)
                .arg(url)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
        }
        eprintln!("Waiting for the browser to come back to mailprobe...");
    }
}

fn on_path(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| Path::new(&d).join(cmd).is_file()))
}

//! Credentials (README, "Credentials" options): the [`Secret`] wrapper
//! that never prints, where a password comes from ([`PasswordSource`]), and which user names to
//! try (RFC 6186 §4: the full address or its local part).

use std::fmt;
use std::io::{BufRead, Read};
use std::path::PathBuf;

use thiserror::Error;

use crate::address::Address;

/// A password or token. `Debug` and `Display` print `<redacted>`; the bytes are overwritten when
/// it drops. Reach the value only through [`Secret::expose`], at the point it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself, for the SASL encoder only.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.fill(0);
        // Keeps the compiler from eliding the fill of a buffer about to be freed.
        std::hint::black_box(&bytes);
    }
}

/// Where the password comes from. There is deliberately no variant for a command-line value:
/// arguments are visible to every user of the machine (`ps`, /proc/PID/cmdline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// `--password-env VAR`
    Env(String),
    /// `--password-stdin`: the first line of standard input (the reader the front end gives).
    Stdin,
    /// `--password-file PATH`: first line; the file must not be group- or world-readable.
    File(PathBuf),
}

/// Reading a secret failed: a usage error, reported before any network traffic.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    #[error("environment variable {0} is not set")]
    EnvMissing(String),
    #[error("environment variable {0} is not valid UTF-8")]
    EnvNotUnicode(String),
    #[error("the password from {0} is empty")]
    Empty(String),
    #[error("cannot read the password from standard input: {0}")]
    Stdin(String),
    #[error("the password from {origin} is longer than {max} bytes")]
    TooLong { origin: String, max: usize },
    #[error("cannot read password file {path}: {reason}")]
    File { path: String, reason: String },
    #[error(
        "password file {path} is readable by group or others (mode {mode:o}); run chmod 600 {path}"
    )]
    FileTooOpen { path: String, mode: u32 },
    #[error(
        "no password given and no terminal to ask on: use --password-env VAR, --password-stdin or --password-file PATH"
    )]
    NoTerminal,
    #[error("cannot read the password from the terminal: {0}")]
    Prompt(String),
}

/// Read the secret from `src` (standard input reads as empty: see [`read_secret_with`]).
pub fn read_secret(src: &PasswordSource) -> Result<Secret, CredentialError> {
    read_secret_with(src, &mut std::io::empty())
}

/// Read the secret from `src`, taking standard input from `stdin`. Only the first line counts
/// (a trailing CR/LF is removed).
pub fn read_secret_with(
    src: &PasswordSource,
    stdin: &mut dyn Read,
) -> Result<Secret, CredentialError> {
    let (value, origin) = match src {
        PasswordSource::Env(var) => match std::env::var(var) {
            Ok(v) => (v, format!("${var}")),
            Err(std::env::VarError::NotPresent) => {
                return Err(CredentialError::EnvMissing(var.clone()));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(CredentialError::EnvNotUnicode(var.clone()));
            }
        },
        PasswordSource::Stdin => {
            let origin = "standard input".to_string();
            match read_line_bounded(std::io::BufReader::new(stdin), MAX_SECRET_LEN) {
                Ok(BoundedLine::Line(line)) => (line, origin),
                Ok(BoundedLine::TooLong) => return Err(too_long(origin)),
                Err(e) => return Err(CredentialError::Stdin(e.to_string())),
            }
        }
        PasswordSource::File(path) => (read_file(path)?, path.display().to_string()),
    };
    checked(value, origin)
}

/// The first line of `value` as a secret; an empty one is an error naming its `origin`.
pub fn checked(value: String, origin: String) -> Result<Secret, CredentialError> {
    let secret = Secret::new(first_line(&value));
    drop(Secret::new(value));
    if secret.is_empty() {
        return Err(CredentialError::Empty(origin));
    }
    Ok(secret)
}

/// Longest password accepted from standard input or a file, in bytes: real passwords are far
/// shorter, and the cap keeps `--password-stdin < /dev/zero` or an endless FIFO from growing
/// memory without bound.
pub(crate) const MAX_SECRET_LEN: usize = 4096;

/// A line read by [`read_line_bounded`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BoundedLine {
    /// The first line, without its line end (the whole input when it has no line end).
    Line(String),
    /// The first line is longer than the cap; nothing more was read.
    TooLong,
}

/// Read the first line of `r`, reading at most `max` bytes of it plus its line end: a longer
/// line is [`BoundedLine::TooLong`] without reading on. Invalid UTF-8 is an `InvalidData` error.
/// Whoever reads a secret from a stream (standard input, a file, a FIFO) goes through here.
pub(crate) fn read_line_bounded(r: impl BufRead, max: usize) -> std::io::Result<BoundedLine> {
    let mut buf = Vec::new();
    // `max` bytes, then "\r\n" at most.
    let read = r.take(max as u64 + 2).read_until(b'\n', &mut buf);
    let zero = |mut b: Vec<u8>| {
        b.fill(0);
        std::hint::black_box(&b);
    };
    if let Err(e) = read {
        zero(buf);
        return Err(e);
    }
    let mut line = buf.as_slice();
    line = line.strip_suffix(b"\n").unwrap_or(line);
    line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > max {
        zero(buf);
        return Ok(BoundedLine::TooLong);
    }
    let text = std::str::from_utf8(line).map(str::to_string);
    zero(buf);
    text.map(BoundedLine::Line)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn too_long(origin: String) -> CredentialError {
    CredentialError::TooLong {
        origin,
        max: MAX_SECRET_LEN,
    }
}

fn first_line(s: &str) -> &str {
    s.split('\n').next().unwrap_or("").trim_end_matches('\r')
}

fn read_file(path: &std::path::Path) -> Result<String, CredentialError> {
    let p = path.display().to_string();
    let err = |reason: String| CredentialError::File {
        path: p.clone(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    // The mode of the file opened, not of whatever the path names a moment later.
    let meta = file.metadata().map_err(|e| err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CredentialError::FileTooOpen {
                path: p.clone(),
                mode,
            });
        }
    }
    let _ = meta;
    match read_line_bounded(std::io::BufReader::new(file), MAX_SECRET_LEN) {
        Ok(BoundedLine::Line(line)) => Ok(line),
        Ok(BoundedLine::TooLong) => Err(too_long(p.clone())),
        Err(e) => Err(err(e.to_string())),
    }
}

/// What the user gave for logging in. Built by the CLI; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// `--user`: used as is, no other form is tried.
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// `--oauth-token-env`: an OAuth2 access token for XOAUTH2 / OAUTHBEARER.
    pub oauth_token: Option<Secret>,
    /// `--auth-mech`: force one mechanism (SASL name, or `LOGIN-CMD` / `USER-PASS`).
    pub mech: Option<super::sasl::Mech>,
    /// `--all-mechs`: try every advertised mechanism and report each.
    pub all_mechs: bool,
    /// `--allow-plaintext-auth`: allow credentials on a connection without TLS.
    pub allow_plaintext: bool,
    /// `--allow-invalid-cert-auth`: allow credentials over TLS whose certificate did not verify.
    pub allow_invalid_cert: bool,
    /// `--allow-untrusted-auth`: allow credentials to a server known only from an untrusted
    /// source (plain-http autoconfig).
    pub allow_untrusted: bool,
}

impl Credentials {
    /// Is there anything to log in with?
    pub fn present(&self) -> bool {
        self.password.is_some() || self.oauth_token.is_some()
    }
}

/// User names to try, in order: `--user` alone; else the discovered form (or the full address),
/// then the other form once (RFC 6186 §4: "the user name is either the full email address or
/// the local part").
pub(crate) fn username_forms(
    user: Option<&str>,
    discovered: Option<&str>,
    addr: &Address,
) -> Vec<String> {
    if let Some(u) = user {
        return vec![u.to_string()];
    }
    let full = addr.ascii();
    let local = addr.local.clone();
    let first = discovered
        .filter(|s| !s.is_empty())
        .unwrap_or(&full)
        .to_string();
    let other = if first.eq_ignore_ascii_case(&full) {
        local
    } else {
        full
    };
    if other.eq_ignore_ascii_case(&first) {
        vec![first]
    } else {
        vec![first, other]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        let c = Credentials {
            password: Some(s),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn bounded_line_table() {
        let line = |s: &str| BoundedLine::Line(s.to_string());
        let cases: &[(&[u8], usize, BoundedLine)] = &[
            (b"pw\nrest", 8, line("pw")),
            (b"pw\r\nrest", 8, line("pw")),
            (b"pw", 8, line("pw")),
            (b"", 8, line("")),
            (b"12345678\r\n", 8, line("12345678")),
            (b"12345678", 8, line("12345678")),
            (b"123456789", 8, BoundedLine::TooLong),
            (b"123456789\n", 8, BoundedLine::TooLong),
            (&[0u8; 64], 8, BoundedLine::TooLong),
        ];
        for (input, max, want) in cases {
            let got = read_line_bounded(*input, *max).unwrap();
            assert_eq!(&got, want, "{input:?}");
        }
        assert!(read_line_bounded(&b"\xff\n"[..], 8).is_err());
    }

    #[test]
    fn an_endless_stream_is_read_no_further_than_the_cap() {
        // `std::io::repeat` never ends, like /dev/zero: the read stops after the cap.
        let endless = std::io::BufReader::new(std::io::repeat(b'x'));
        assert_eq!(
            read_line_bounded(endless, MAX_SECRET_LEN).unwrap(),
            BoundedLine::TooLong
        );
    }

    #[test]
    fn stdin_source_takes_the_first_line() {
        let mut input: &[u8] = b"from-stdin\r\nsecond\n";
        let s = read_secret_with(&PasswordSource::Stdin, &mut input).unwrap();
        assert_eq!(s.expose(), "from-stdin");
        assert!(matches!(
            read_secret(&PasswordSource::Stdin),
            Err(CredentialError::Empty(_))
        ));
    }

    #[test]
    fn env_source() {
        // SAFETY: test-local variable names, no other thread reads them.
        unsafe {
            std::env::set_var("MAILPROBE_TEST_PW1", "pw-from-env\n");
            std::env::set_var("MAILPROBE_TEST_PW2", "");
        }
        let s = read_secret(&PasswordSource::Env("MAILPROBE_TEST_PW1".into())).unwrap();
        assert_eq!(s.expose(), "pw-from-env");
        let e = read_secret(&PasswordSource::Env("MAILPROBE_TEST_NOPE".into())).unwrap_err();
        assert_eq!(e, CredentialError::EnvMissing("MAILPROBE_TEST_NOPE".into()));
        assert!(matches!(
            read_secret(&PasswordSource::Env("MAILPROBE_TEST_PW2".into())),
            Err(CredentialError::Empty(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn file_source_checks_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret\r\nignored\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_secret(&PasswordSource::File(p.clone())).unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            read_secret(&PasswordSource::File(p)).unwrap().expose(),
            "s3cret"
        );
        let e = read_secret(&PasswordSource::File(dir.path().join("missing"))).unwrap_err();
        assert!(matches!(e, CredentialError::File { .. }));
    }

    #[test]
    fn username_forms_table() {
        let a = crate::address::parse("alice@example.test").unwrap();
        let cases: &[(Option<&str>, Option<&str>, &[&str])] = &[
            (None, None, &["alice@example.test", "alice"]),
            (None, Some("alice"), &["alice", "alice@example.test"]),
            (
                None,
                Some("alice@example.test"),
                &["alice@example.test", "alice"],
            ),
            (Some("admin"), Some("alice"), &["admin"]),
            (
                None,
                Some("other-login"),
                &["other-login", "alice@example.test"],
            ),
        ];
        for (user, disc, want) in cases {
            assert_eq!(username_forms(*user, *disc, &a), *want, "{user:?} {disc:?}");
        }
    }
}

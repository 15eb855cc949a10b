//! Credentials from the settings: the secrets are read before any network traffic, so that a
//! missing variable, an unsafe file or nobody to ask is a usage error (exit 3).

use super::settings::CredentialSettings;
use super::{AppError, Io};
use crate::auth::{CredentialError, Credentials, PasswordSource, read_secret, read_secret_with};

/// Why a login is attempted at all: `--user` asks for one, `roundtrip` cannot run without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Log in only when credentials are given (`check`, `probe`).
    IfGiven,
    /// The command logs in (`roundtrip`).
    Required,
}

/// Read every secret the settings name. With no password source, a login that is wanted
/// (`--user`) or needed (`roundtrip`) asks through `io.prompt` — an error when there is no
/// terminal to ask on, rather than silently skipping the login.
pub fn credentials(
    c: &CredentialSettings,
    need: Need,
    io: &mut Io<'_>,
) -> Result<Credentials, AppError> {
    let err = |e: CredentialError| AppError::Usage(e.to_string());
    let oauth_token = c
        .oauth_token_env
        .as_ref()
        .map(|v| read_secret(&PasswordSource::Env(v.clone())))
        .transpose()
        .map_err(err)?;
    let password = match &c.password {
        Some(src) => Some(read_secret_with(src, &mut io.stdin).map_err(err)?),
        None if oauth_token.is_none()
            && !c.oauth
            && (c.user.is_some() || need == Need::Required) =>
        {
            let label = match &c.user {
                Some(u) => format!("Password for {u}: "),
                None => "Password: ".to_string(),
            };
            Some((io.prompt)(&label).map_err(|e| no_password(e, c, need))?)
        }
        None => None,
    };
    if (c.mech.is_some() || c.all_mechs) && password.is_none() && oauth_token.is_none() && !c.oauth
    {
        return Err(AppError::Usage(
            "--auth-mech and --all-mechs need credentials: --password-env, --password-stdin, --password-file or --oauth-token-env".into(),
        ));
    }
    Ok(Credentials {
        user: c.user.clone(),
        password,
        oauth_token,
        mech: c.mech,
        all_mechs: c.all_mechs,
        allow_plaintext: c.allow_plaintext,
        allow_invalid_cert: c.allow_invalid_cert,
        allow_untrusted: c.allow_untrusted,
    })
}

/// The usage error when the prompt could not be shown: say why a password is wanted and every
/// way to give one.
fn no_password(e: CredentialError, c: &CredentialSettings, need: Need) -> AppError {
    if e != CredentialError::NoTerminal {
        return AppError::Usage(e.to_string());
    }
    let why = match (&c.user, need) {
        (_, Need::Required) => "a round trip logs in".to_string(),
        (Some(u), Need::IfGiven) => format!("--user {u} asks for a login"),
        (None, Need::IfGiven) => "a login was asked for".to_string(),
    };
    AppError::Usage(format!(
        "{why} but no password was given and standard input is not a terminal to ask on: give --password-env VAR, --password-stdin, --password-file PATH or --oauth-token-env VAR"
    ))
}

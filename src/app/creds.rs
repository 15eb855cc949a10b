//! Credentials from the command line: where the password comes from, read before any network
//! traffic so that a missing variable or an unsafe file is a usage error (exit 3).

use std::io::IsTerminal;

use super::AppError;
use crate::auth::{Credentials, PasswordSource, read_secret};
use crate::cli::CredArgs;

/// The password source the flags name; an interactive prompt only when `--user` was given, no
/// other source was, and standard input is a terminal.
pub fn password_source(a: &CredArgs) -> Option<PasswordSource> {
    if let Some(v) = &a.password_env {
        Some(PasswordSource::Env(v.clone()))
    } else if a.password_stdin {
        Some(PasswordSource::Stdin)
    } else if let Some(p) = &a.password_file {
        Some(PasswordSource::File(p.clone()))
    } else if a.user.is_some() && a.oauth_token_env.is_none() && std::io::stdin().is_terminal() {
        Some(PasswordSource::Prompt)
    } else {
        None
    }
}

/// Read every secret the flags name.
pub fn credentials(a: &CredArgs) -> Result<Credentials, AppError> {
    let err = |e: crate::auth::CredentialError| AppError::Usage(e.to_string());
    let password = password_source(a)
        .map(|s| read_secret(&s))
        .transpose()
        .map_err(err)?;
    let oauth_token = a
        .oauth_token_env
        .as_ref()
        .map(|v| read_secret(&PasswordSource::Env(v.clone())))
        .transpose()
        .map_err(err)?;
    if (a.auth_mech.is_some() || a.all_mechs) && password.is_none() && oauth_token.is_none() {
        return Err(AppError::Usage(
            "--auth-mech and --all-mechs need credentials: --password-env, --password-stdin, --password-file or --oauth-token-env".into(),
        ));
    }
    Ok(Credentials {
        user: a.user.clone(),
        password,
        oauth_token,
        mech: a.auth_mech.clone(),
        all_mechs: a.all_mechs,
        allow_plaintext: a.allow_plaintext_auth,
    })
}

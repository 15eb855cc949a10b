//! Credentials from the command line: where the password comes from, read before any network
//! traffic so that a missing variable or an unsafe file is a usage error (exit 3).

use std::io::IsTerminal;

use super::AppError;
use crate::auth::{Credentials, PasswordSource, read_secret};
use crate::cli::CredArgs;

/// The password source the flags name; an interactive prompt (no echo) when no other source
/// was named, standard input is a terminal, and a login is wanted (`--user`) or needed
/// (`roundtrip`).
pub fn password_source(a: &CredArgs, needed: bool) -> Option<PasswordSource> {
    if let Some(v) = &a.password_env {
        Some(PasswordSource::Env(v.clone()))
    } else if a.password_stdin {
        Some(PasswordSource::Stdin)
    } else if let Some(p) = &a.password_file {
        Some(PasswordSource::File(p.clone()))
    } else if (a.user.is_some() || needed)
        && a.oauth_token_env.is_none()
        && std::io::stdin().is_terminal()
    {
        Some(PasswordSource::Prompt)
    } else {
        None
    }
}

/// Read every secret the flags name; `needed` when the command cannot run without a login.
pub fn credentials(a: &CredArgs, needed: bool) -> Result<Credentials, AppError> {
    let err = |e: crate::auth::CredentialError| AppError::Usage(e.to_string());
    let password = password_source(a, needed)
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
    if let Some(m) = &a.auth_mech
        && crate::auth::sasl::Mech::from_name(m).is_none()
    {
        return Err(AppError::Usage(format!(
            "unknown --auth-mech '{m}': use PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER, LOGIN-CMD (IMAP LOGIN) or USER-PASS (POP3 USER/PASS)"
        )));
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

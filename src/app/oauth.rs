//! `mailprobe oauth login|logout ADDRESS` and `--oauth`: where the endpoints come from (flags
//! over the provider database), the sign-in flows of [`crate::auth::oauth`], and the stored
//! token turned into an access token for XOAUTH2 / OAUTHBEARER — refreshed when it expired.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{AppError, Io, Settings};
use crate::address::Address;
use crate::auth::oauth::store::{self, StoredToken};
use crate::auth::oauth::wire::TokenResponse;
use crate::auth::oauth::{Endpoints, findings, flow};
use crate::auth::{PasswordSource, Secret, read_secret};
use crate::model::{Finding, Status};
use crate::net::Net;
use crate::provider_db;

/// Which sign-in flow `oauth login` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OAuthFlow {
    /// RFC 8628 device authorization grant: a code to type on another device.
    #[default]
    Device,
    /// RFC 7636 authorization code with PKCE, redirected to 127.0.0.1.
    Browser,
}

/// The OAuth options, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OAuthSettings {
    /// Where token files live (`$XDG_DATA_HOME/mailprobe/oauth`); None when neither
    /// `XDG_DATA_HOME` nor `HOME` is set.
    pub token_dir: Option<PathBuf>,
    pub client_id: Option<String>,
    /// Where the client's secret is (`--oauth-client-secret-env`, or the configuration file's
    /// `[oauth-client-secret-env]` / `[oauth-client-secret-file]`): Google's installed-app
    /// clients have one; Microsoft's public clients do not.
    pub client_secret: Option<PasswordSource>,
    pub auth_url: Option<String>,
    pub token_url: Option<String>,
    pub device_url: Option<String>,
    pub scopes: Vec<String>,
    pub flow: OAuthFlow,
    /// `--allow-insecure-oauth`: `http://` endpoints (a local test server).
    pub allow_http: bool,
}

/// The device endpoint of providers whose database entry names only the token endpoint
/// (Microsoft identity platform "OAuth 2.0 device authorization grant"; Google "OAuth 2.0 for
/// TV and Limited-Input Device Applications").
fn known_device_url(token_url: &str) -> Option<String> {
    if let Some(base) = token_url.strip_suffix("/oauth2/v2.0/token")
        && base.starts_with("https://login.microsoftonline.com/")
    {
        return Some(format!("{base}/oauth2/v2.0/devicecode"));
    }
    (token_url == GOOGLE_TOKEN_URL).then(|| "https://oauth2.googleapis.com/device/code".to_string())
}

/// Google's token endpoint as its OpenID discovery document names it
/// (`accounts.google.com/.well-known/openid-configuration`, `token_endpoint`), the one its
/// device flow documentation polls.
const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// The database's token endpoint, with Google's older address (the one Thunderbird's ISPDB
/// carries, `www.googleapis.com/oauth2/v3/token`) replaced by the current one: both take the
/// code and refresh grants, only the current one is documented for the device grant.
fn current_token_url(url: &str) -> String {
    if url == "https://www.googleapis.com/oauth2/v3/token" {
        GOOGLE_TOKEN_URL.to_string()
    } else {
        url.to_string()
    }
}

/// Endpoints for `addr`: each flag, else the provider database's `[oauth2]`. The client
/// secret, when one is named, is read here, before any traffic.
pub fn endpoints(o: &OAuthSettings, addr: &Address) -> Result<Endpoints, AppError> {
    let db = provider_db::by_domain(&addr.domain).and_then(|p| p.oauth2.clone());
    let client_id = o.client_id.clone().ok_or_else(|| {
        AppError::Usage(
            "OAuth2 needs your own client ID: --oauth-client-id ID (see the README: registering a client ID)".into(),
        )
    })?;
    let token_url = o
        .token_url
        .clone()
        .or_else(|| db.as_ref().map(|d| current_token_url(&d.token_url)));
    let client_secret = o
        .client_secret
        .as_ref()
        .map(|src| {
            read_secret(src).map_err(|e| AppError::Usage(format!("the OAuth2 client secret: {e}")))
        })
        .transpose()?;
    let device_url = o
        .device_url
        .clone()
        .or_else(|| token_url.as_deref().and_then(known_device_url));
    Ok(Endpoints {
        client_id,
        client_secret,
        auth_url: o
            .auth_url
            .clone()
            .or_else(|| db.as_ref().map(|d| d.auth_url.clone())),
        token_url,
        device_url,
        scopes: if o.scopes.is_empty() {
            db.map(|d| d.scopes).unwrap_or_default()
        } else {
            o.scopes.clone()
        },
        allow_http: o.allow_http,
    })
}

fn token_dir(o: &OAuthSettings) -> Result<&Path, AppError> {
    o.token_dir
        .as_deref()
        .ok_or_else(|| AppError::Usage("no place for tokens: set HOME or XDG_DATA_HOME".into()))
}

fn stored(addr: &Address, ep: &Endpoints, t: &TokenResponse, old: Option<String>) -> StoredToken {
    StoredToken {
        address: addr.ascii(),
        client_id: ep.client_id.clone(),
        client_secret: ep.client_secret.as_ref().map(|s| s.expose().to_string()),
        token_url: ep.token_url.clone().unwrap_or_default(),
        scopes: ep.scopes.clone(),
        refresh_token: t.refresh_token.clone().or(old),
        access_token: Some(t.access_token.clone()),
        expires_at: t.expires_in.map(|s| store::now() + s),
    }
}

/// `oauth login ADDRESS`: run the flow, store the tokens, say where (never the token).
pub async fn login(
    s: &Settings,
    addr: &Address,
    io: &mut Io<'_>,
    out: &mut dyn Write,
) -> Result<Status, AppError> {
    let mut ep = endpoints(&s.oauth, addr)?;
    let dir = token_dir(&s.oauth)?;
    // A sign-in waits on a person: the step timeout does not apply to the whole flow.
    let net = Net::new(s.net.clone())?;
    if ep.token_url.is_none() {
        from_autoconfig(&net, addr, &mut ep, out).await;
    }
    let t = match s.oauth.flow {
        OAuthFlow::Device => flow::device_login(&net, &ep, io.oauth).await,
        OAuthFlow::Browser => {
            let wait = Duration::from_secs(300);
            flow::browser_login(&net, &ep, io.oauth, Some(&addr.ascii()), wait).await
        }
    }
    .map_err(AppError::OAuth)?;
    let path = store::save(dir, &stored(addr, &ep, &t, None)).map_err(AppError::Usage)?;
    let refresh = if t.refresh_token.is_some() {
        "a refresh token"
    } else {
        "an access token only (no refresh token: the server did not grant offline access)"
    };
    let _ = writeln!(
        out,
        "Signed in as {}: {refresh} stored in {}",
        addr.ascii(),
        path.display()
    );
    Ok(Status::Ok)
}

/// Endpoints neither a flag nor the provider database gave, from the `<oAuth2>` element of the
/// domain's autoconfig document (or its ISPDB entry), when one names them; says so on `out`.
async fn from_autoconfig(net: &Net, addr: &Address, ep: &mut Endpoints, out: &mut dyn Write) {
    let Some((src, o)) = crate::discover::sources::autoconfig::oauth2(net, addr).await else {
        return;
    };
    ep.auth_url = ep.auth_url.take().or(o.auth_url);
    ep.token_url = o.token_url;
    if ep.scopes.is_empty() {
        ep.scopes = o.scopes;
    }
    if ep.device_url.is_none() {
        ep.device_url = ep.token_url.as_deref().and_then(known_device_url);
    }
    let _ = writeln!(
        out,
        "OAuth2 endpoints from {} (issuer {})",
        src.as_str(),
        crate::report::safe::escape(o.issuer.as_deref().unwrap_or("not named"))
    );
}

/// `oauth logout ADDRESS`: delete the stored token.
pub fn logout(s: &Settings, addr: &Address, out: &mut dyn Write) -> Result<Status, AppError> {
    let dir = token_dir(&s.oauth)?;
    let path = store::path_for(dir, &addr.ascii());
    let text = match store::delete(dir, &addr.ascii()).map_err(AppError::Usage)? {
        true => format!("Removed the token of {} ({})", addr.ascii(), path.display()),
        false => format!("No token stored for {}", addr.ascii()),
    };
    let _ = writeln!(out, "{text}");
    Ok(Status::Ok)
}

/// `--oauth`: the access token of `addr` from the store, refreshed (and stored again) when it
/// has expired or expires within a minute. A refresh the token endpoint refuses, or that cannot
/// reach it, is a finding (`Ok(Err(finding))`): the run goes on without a login and says why.
pub async fn access_token(
    s: &Settings,
    net: &Arc<Net>,
    addr: &Address,
) -> Result<Result<Secret, Finding>, AppError> {
    let dir = token_dir(&s.oauth)?;
    let t = store::load(dir, &addr.ascii())
        .map_err(AppError::Usage)?
        .ok_or_else(|| {
            AppError::Usage(format!(
                "no OAuth2 token stored for {}: run `mailprobe oauth login {}` first",
                addr.ascii(),
                addr.ascii()
            ))
        })?;
    if let Some(a) = t.fresh_access_token(store::now(), 60) {
        return Ok(Ok(Secret::new(a)));
    }
    let rt = t.refresh_token.clone().ok_or_else(|| {
        AppError::Usage(format!(
            "the stored access token expired and there is no refresh token: run `mailprobe oauth login {}` again",
            addr.ascii()
        ))
    })?;
    let ep = Endpoints {
        client_id: t.client_id.clone(),
        client_secret: t.client_secret.clone().map(Secret::new),
        token_url: Some(t.token_url.clone()),
        scopes: t.scopes.clone(),
        allow_http: s.oauth.allow_http,
        ..Endpoints::default()
    };
    let fresh = match flow::refresh(net, &ep, &rt).await {
        Ok(fresh) => fresh,
        Err(e) => {
            return Ok(Err(findings::refresh_failed(&e, &addr.ascii())));
        }
    };
    store::save(dir, &stored(addr, &ep, &fresh, Some(rt))).map_err(AppError::Usage)?;
    Ok(Ok(Secret::new(fresh.access_token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_urls_of_known_providers() {
        assert_eq!(
            known_device_url("https://login.microsoftonline.com/common/oauth2/v2.0/token")
                .as_deref(),
            Some("https://login.microsoftonline.com/common/oauth2/v2.0/devicecode")
        );
        assert_eq!(
            known_device_url("https://oauth2.googleapis.com/token").as_deref(),
            Some("https://oauth2.googleapis.com/device/code")
        );
        assert_eq!(known_device_url("https://id.example/token"), None);
    }

    #[test]
    fn flags_over_the_database_and_no_embedded_client_id() {
        let addr = crate::address::parse("alice@gmail.com").unwrap();
        let mut o = OAuthSettings::default();
        assert!(
            endpoints(&o, &addr)
                .unwrap_err()
                .to_string()
                .contains("--oauth-client-id")
        );
        o.client_id = Some("mine".into());
        let ep = endpoints(&o, &addr).unwrap();
        assert_eq!(ep.client_id, "mine");
        assert!(ep.token_url.is_some() && !ep.scopes.is_empty(), "{ep:?}");
        // The database's own entries give the device endpoint (the default flow).
        for (who, device) in [
            (
                "alice@gmail.com",
                "https://oauth2.googleapis.com/device/code",
            ),
            (
                "bob@outlook.com",
                "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
            ),
        ] {
            let a = crate::address::parse(who).unwrap();
            let ep = endpoints(&o, &a).unwrap();
            assert_eq!(ep.device_url.as_deref(), Some(device), "{who}: {ep:?}");
        }
        o.token_url = Some("https://id.example/token".into());
        o.scopes = vec!["x".into()];
        let ep = endpoints(&o, &addr).unwrap();
        assert_eq!(ep.token_url.as_deref(), Some("https://id.example/token"));
        assert_eq!(ep.scopes, ["x"]);
    }
}

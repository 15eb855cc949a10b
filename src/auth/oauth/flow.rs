//! The OAuth 2.0 flows with their I/O: the device authorization grant (RFC 8628), the
//! authorization code grant with PKCE and a loopback redirect (RFC 7636, RFC 8252 §7.3), and
//! refresh (RFC 6749 §6). HTTP goes through [`crate::net::http`] (the run's resolver,
//! timeouts and trust anchors); showing the user code, opening a browser or printing the URL
//! is the caller's, through [`OAuthUi`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::wire::{self, Client, DeviceAuthorization, Redirect, TokenAnswer, TokenResponse};
use crate::auth::Secret;
use crate::net::Net;
use crate::net::http::{self, HttpRequest};
use crate::net::loopback::Loopback;

/// Where to ask and for what.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoints {
    /// The user's own client ID (never a third party's).
    pub client_id: String,
    /// The client's secret, for providers whose installed-app clients have one (Google); sent
    /// in the body of token requests only, never in a URL.
    pub client_secret: Option<Secret>,
    pub auth_url: Option<String>,
    pub token_url: Option<String>,
    pub device_url: Option<String>,
    pub scopes: Vec<String>,
    /// Plain `http://` endpoints allowed (`--allow-insecure-oauth`, for a local test server).
    pub allow_http: bool,
}

impl Endpoints {
    fn client(&self) -> Client<'_> {
        Client {
            id: &self.client_id,
            secret: self.client_secret.as_ref().map(Secret::expose),
        }
    }
}

/// What the front end shows or does during a login.
pub trait OAuthUi: Sync {
    /// RFC 8628 §3.3: show the verification URI and the user code.
    fn device_code(&self, d: &DeviceAuthorization);
    /// RFC 8252 §7.3: open `url` in the user's browser, or print it.
    fn open_browser(&self, url: &str);
}

/// Why a login did not give a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    Setup(String),
    #[error("the authorization server: {0}")]
    Server(String),
    #[error(
        "the device code expired before the sign-in was completed (RFC 8628 expired_token): run `mailprobe oauth login` again"
    )]
    Expired,
    #[error("the sign-in was refused (access_denied)")]
    Denied,
    #[error("the authorization server refused: {error}{}", desc.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused { error: String, desc: Option<String> },
    /// An HTTP error without an OAuth error body (RFC 6749 §5.2), e.g. a 500 or a proxy's page.
    #[error("{url} answered HTTP {status} without an OAuth error")]
    Http { url: String, status: u16 },
}

impl OAuthError {
    /// The OAuth error code (RFC 6749 §5.2, RFC 8628 §3.5) the server answered, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            OAuthError::Expired => Some("expired_token"),
            OAuthError::Denied => Some("access_denied"),
            OAuthError::Refused { error, .. } => Some(error),
            OAuthError::Setup(_) | OAuthError::Server(_) | OAuthError::Http { .. } => None,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self.code() {
            Some("invalid_grant") => {
                "the authorization code or refresh token was refused (a wrong PKCE verifier; a code or token revoked, expired or issued to another client): run `mailprobe oauth login ADDRESS` again"
            }
            Some("invalid_client") => {
                "the client ID is unknown to this server or its secret is missing or wrong: check --oauth-client-id and --oauth-client-secret-env (Google's installed-app clients need the secret)"
            }
            Some("unauthorized_client") => {
                "this client may not use this grant: enable it in the app registration (Microsoft Entra: \"Allow public client flows\"; Google: the client type \"TVs and Limited Input devices\" for the device flow)"
            }
            Some("access_denied") => {
                "the user or an administrator refused the sign-in or the consent: sign in again and accept, or ask the tenant's admin to allow this app"
            }
            Some("expired_token") => {
                "the code expired before the sign-in was completed: run `mailprobe oauth login ADDRESS` again and finish it sooner"
            }
            Some("invalid_scope") => "the server refused a scope: check --oauth-scope",
            Some(_) => "see the authorization server's error description",
            None => match self {
                OAuthError::Setup(_) => "see the OAuth options in the README",
                _ => {
                    "the authorization server could not be reached or failed: try again later, or check the token endpoint URL"
                }
            },
        }
    }
}

fn endpoint<'a>(
    url: &'a Option<String>,
    what: &str,
    ep: &Endpoints,
) -> Result<&'a str, OAuthError> {
    let u = url
        .as_deref()
        .ok_or_else(|| OAuthError::Setup(format!("no {what} URL: give --oauth-{what}-url")))?;
    let allowed = u.starts_with("https://") || (ep.allow_http && u.starts_with("http://"));
    if !allowed {
        return Err(OAuthError::Setup(format!(
            "the {what} URL {u} is not https://: tokens go over verified TLS only"
        )));
    }
    Ok(u)
}

/// POST a form; the status and body, whatever the status.
async fn post(net: &Net, url: &str, body: String) -> Result<(u16, Vec<u8>), OAuthError> {
    let mut req = HttpRequest::get(url);
    req.post = Some((
        "application/x-www-form-urlencoded".into(),
        body.into_bytes(),
    ));
    req.max_body = wire::MAX_RESPONSE;
    req.max_redirects = 0;
    req.any_status = true;
    let r = http::fetch(net, &req)
        .await
        .map_err(|e| OAuthError::Server(format!("{url}: {e}")))?;
    Ok((r.status, r.body))
}

/// The server's error; its description is network text, so it is kept short and printable
/// (control and bidirectional-override characters escaped).
fn refused(e: wire::ErrorResponse) -> OAuthError {
    OAuthError::Refused {
        error: e.error,
        desc: e.error_description.map(|d| printable(&d)),
    }
}

fn printable(d: &str) -> String {
    d.chars()
        .take(300)
        .map(|c| match c {
            c if c.is_control() => c.escape_default().to_string(),
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                c.escape_unicode().to_string()
            }
            c => c.to_string(),
        })
        .collect()
}

/// RFC 8628: ask for a device code, show it, poll the token endpoint at the server's interval
/// (5 s more after each `slow_down`) until a token, a refusal or the code's expiry.
pub(crate) async fn device_login(
    net: &Arc<Net>,
    ep: &Endpoints,
    ui: &dyn OAuthUi,
) -> Result<TokenResponse, OAuthError> {
    let device_url = endpoint(&ep.device_url, "device", ep)?;
    let token_url = endpoint(&ep.token_url, "token", ep)?;
    let (status, body) = post(
        net,
        device_url,
        wire::device_request(&ep.client_id, &ep.scopes),
    )
    .await?;
    if !(200..300).contains(&status) {
        return Err(match wire::parse_token_answer(status, &body) {
            Ok(TokenAnswer::Error(e)) => refused(e),
            Ok(TokenAnswer::Denied) => OAuthError::Denied,
            _ => OAuthError::Http {
                url: device_url.to_string(),
                status,
            },
        });
    }
    let d = wire::parse_device_authorization(&body).map_err(OAuthError::Server)?;
    ui.device_code(&d);
    let deadline = Instant::now() + Duration::from_secs(d.expires_in.min(3600));
    let mut interval = d.interval();
    loop {
        if Instant::now() + interval > deadline {
            return Err(OAuthError::Expired);
        }
        tokio::time::sleep(interval).await;
        let (status, body) = post(
            net,
            token_url,
            wire::device_token_request(&ep.client(), &d.device_code),
        )
        .await?;
        match wire::parse_token_answer(status, &body).map_err(OAuthError::Server)? {
            TokenAnswer::Token(t) => return Ok(t),
            TokenAnswer::Pending => {}
            TokenAnswer::SlowDown => interval += Duration::from_secs(5),
            TokenAnswer::Expired => return Err(OAuthError::Expired),
            TokenAnswer::Denied => return Err(OAuthError::Denied),
            TokenAnswer::Error(e) => return Err(refused(e)),
            TokenAnswer::Http(status) => return Err(http_error(token_url, status)),
        }
    }
}

fn http_error(url: &str, status: u16) -> OAuthError {
    OAuthError::Http {
        url: url.to_string(),
        status,
    }
}

/// RFC 7636 + RFC 8252 §7.3: listen on 127.0.0.1, send the browser to the authorization URL
/// with an S256 challenge and a fresh state, take the code from the redirect, exchange it with
/// the verifier.
pub async fn browser_login(
    net: &Arc<Net>,
    ep: &Endpoints,
    ui: &dyn OAuthUi,
    login_hint: Option<&str>,
    wait: Duration,
) -> Result<TokenResponse, OAuthError> {
    let auth_url = endpoint(&ep.auth_url, "auth", ep)?;
    let token_url = endpoint(&ep.token_url, "token", ep)?;
    let lb = Loopback::bind()
        .await
        .map_err(|e| OAuthError::Setup(format!("cannot listen on 127.0.0.1: {e}")))?;
    let redirect_uri = lb.redirect_uri();
    let (verifier, challenge) = wire::pkce_pair();
    let state = wire::random_state();
    let url = wire::authorization_url(
        auth_url,
        &ep.client_id,
        &redirect_uri,
        &ep.scopes,
        &state,
        &challenge,
        login_hint,
    );
    ui.open_browser(&url);
    let query = lb.accept_query(wait).await.map_err(OAuthError::Server)?;
    let code = match wire::parse_redirect(&query, &state).map_err(OAuthError::Server)? {
        Redirect::Code(c) => c,
        Redirect::Error(e) if e.error == "access_denied" => return Err(OAuthError::Denied),
        Redirect::Error(e) => return Err(refused(e)),
    };
    let body = wire::code_token_request(&ep.client(), &code, &redirect_uri, &verifier);
    token(net, token_url, body).await
}

/// RFC 6749 §6: a new access token from a refresh token.
pub async fn refresh(
    net: &Arc<Net>,
    ep: &Endpoints,
    refresh_token: &str,
) -> Result<TokenResponse, OAuthError> {
    let token_url = endpoint(&ep.token_url, "token", ep)?;
    let body = wire::refresh_request(&ep.client(), refresh_token, &ep.scopes);
    token(net, token_url, body).await
}

async fn token(net: &Net, url: &str, body: String) -> Result<TokenResponse, OAuthError> {
    let (status, body) = post(net, url, body).await?;
    match wire::parse_token_answer(status, &body).map_err(OAuthError::Server)? {
        TokenAnswer::Token(t) => Ok(t),
        TokenAnswer::Denied => Err(OAuthError::Denied),
        // Not a device code here: the code or refresh token the server calls expired.
        TokenAnswer::Expired => Err(OAuthError::Refused {
            error: "expired_token".into(),
            desc: None,
        }),
        TokenAnswer::Error(e) => Err(refused(e)),
        TokenAnswer::Http(status) => Err(http_error(url, status)),
        TokenAnswer::Pending | TokenAnswer::SlowDown => Err(OAuthError::Server(
            "the token endpoint answered a device-flow status to a code exchange".into(),
        )),
    }
}

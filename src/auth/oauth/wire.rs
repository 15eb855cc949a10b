//! OAuth 2.0 wire formats as pure functions: the form bodies mailprobe POSTs and the JSON and
//! query strings it reads back. Device authorization grant (RFC 8628 §3.1–§3.5), authorization
//! code with PKCE (RFC 6749 §4.1, RFC 7636 §4), refresh (RFC 6749 §6), and the error response
//! (RFC 6749 §5.2). Everything is table-tested; the flows in [`super::flow`] do the I/O.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// Largest token-endpoint or device-endpoint answer read (real ones are a few KiB).
pub(crate) const MAX_RESPONSE: usize = 64 * 1024;

/// RFC 8628 §3.5: "If no value is provided, clients MUST use 5 as the default."
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// The `grant_type` of a device access token request (RFC 8628 §3.4).
pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `application/x-www-form-urlencoded` body of `pairs` (RFC 6749 Appendix B).
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// RFC 7636 §4.1–§4.2: a code verifier (32 random octets, base64url: 43 characters) and its
/// S256 challenge, `BASE64URL(SHA256(verifier))`.
pub(crate) fn pkce_pair() -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = pkce_challenge(&verifier);
    (verifier, challenge)
}

/// The S256 code challenge of `verifier` (RFC 7636 §4.2).
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// An unguessable `state` for the authorization request (RFC 6749 §10.12).
pub(crate) fn random_state() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// The device authorization request body (RFC 8628 §3.1).
pub(crate) fn device_request(client_id: &str, scopes: &[String]) -> String {
    form(&[("client_id", client_id), ("scope", &scopes.join(" "))])
}

/// The device authorization response (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    /// Microsoft's v2.0 endpoint spells it `verification_uri`, its v1 `verification_url`.
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    pub expires_in: u64,
    #[serde(default)]
    pub interval: Option<u64>,
}

impl DeviceAuthorization {
    /// The polling interval: the server's, else 5 s (RFC 8628 §3.5).
    pub fn interval(&self) -> Duration {
        self.interval
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_INTERVAL)
    }
}

/// Parse a device authorization response.
pub(crate) fn parse_device_authorization(body: &[u8]) -> Result<DeviceAuthorization, String> {
    let d: DeviceAuthorization = parse_json(body)?;
    for (name, v) in [
        ("device_code", &d.device_code),
        ("user_code", &d.user_code),
        ("verification_uri", &d.verification_uri),
    ] {
        if v.is_empty() || v.chars().any(char::is_control) {
            return Err(format!(
                "the device authorization response has no usable {name}"
            ));
        }
    }
    Ok(d)
}

/// A client's identity in a token request: its ID and, for clients that have one, the
/// secret sent as `client_secret` in the body (RFC 6749 §2.3.1). Google's installed-app and
/// limited-input clients have a secret its token endpoint requires, though it "is obviously not
/// treated as a secret"; Microsoft's public clients have none.
#[derive(Clone, Copy)]
pub struct Client<'a> {
    pub id: &'a str,
    pub secret: Option<&'a str>,
}

impl std::fmt::Debug for Client<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("secret", &self.secret.map(|_| "<redacted>"))
            .finish()
    }
}

/// `pairs` with the client's `client_id` and, when it has one, `client_secret`.
fn with_client<'a>(mut pairs: Vec<(&'a str, &'a str)>, c: &Client<'a>) -> String {
    pairs.push(("client_id", c.id));
    if let Some(s) = c.secret {
        pairs.push(("client_secret", s));
    }
    form(&pairs)
}

/// The device access token request body (RFC 8628 §3.4).
pub(crate) fn device_token_request(c: &Client<'_>, device_code: &str) -> String {
    with_client(
        vec![("grant_type", DEVICE_GRANT), ("device_code", device_code)],
        c,
    )
}

/// The authorization request URL (RFC 6749 §4.1.1 with RFC 7636 §4.3).
pub(crate) fn authorization_url(
    auth_url: &str,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[String],
    state: &str,
    challenge: &str,
    login_hint: Option<&str>,
) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    let scope = scopes.join(" ");
    pairs.insert(3, ("scope", &scope));
    if let Some(h) = login_hint {
        pairs.push(("login_hint", h));
    }
    let sep = if auth_url.contains('?') { '&' } else { '?' };
    format!("{auth_url}{sep}{}", form(&pairs))
}

/// The token request exchanging an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub(crate) fn code_token_request(
    c: &Client<'_>,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> String {
    with_client(
        vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
        c,
    )
}

/// The refresh request (RFC 6749 §6).
pub(crate) fn refresh_request(c: &Client<'_>, refresh_token: &str, scopes: &[String]) -> String {
    let scope = scopes.join(" ");
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if !scope.is_empty() {
        pairs.push(("scope", &scope));
    }
    with_client(pairs, c)
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("scope", &self.scope)
            .finish()
    }
}

/// An error response (RFC 6749 §5.2; RFC 8628 §3.5 adds its codes).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorResponse {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// What one answer of the token endpoint means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenAnswer {
    Token(TokenResponse),
    /// RFC 8628 §3.5 `authorization_pending`: ask again after the interval.
    Pending,
    /// RFC 8628 §3.5 `slow_down`: "the interval MUST be increased by 5 seconds".
    SlowDown,
    /// RFC 8628 §3.5 `expired_token`: the device code expired; start over.
    Expired,
    /// `access_denied`: the user said no.
    Denied,
    /// Any other error, e.g. `invalid_grant` (a wrong PKCE verifier, a revoked refresh token).
    Error(ErrorResponse),
    /// A non-2xx status without an OAuth error body (a 500, a proxy's HTML page).
    Http(u16),
}

/// Read a token endpoint answer: a 2xx JSON token, or a (usually 400) JSON error.
pub(crate) fn parse_token_answer(status: u16, body: &[u8]) -> Result<TokenAnswer, String> {
    if (200..300).contains(&status) {
        let t: TokenResponse = parse_json(body)?;
        if t.access_token.is_empty() || t.access_token.chars().any(char::is_control) {
            return Err("the token response has no usable access_token".into());
        }
        return Ok(TokenAnswer::Token(t));
    }
    let Ok(e) = parse_json::<ErrorResponse>(body) else {
        return Ok(TokenAnswer::Http(status));
    };
    if e.error.is_empty() || e.error.chars().any(|c| !c.is_ascii_graphic()) {
        return Ok(TokenAnswer::Http(status));
    }
    Ok(match e.error.as_str() {
        "authorization_pending" => TokenAnswer::Pending,
        "slow_down" => TokenAnswer::SlowDown,
        "expired_token" => TokenAnswer::Expired,
        "access_denied" => TokenAnswer::Denied,
        _ => TokenAnswer::Error(e),
    })
}

/// What came back to the loopback redirect URI (RFC 6749 §4.1.2 and §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    Code(String),
    Error(ErrorResponse),
}

/// Parse the query of the redirect request; the `state` must be the one sent (RFC 6749
/// §10.12: otherwise it may be a forged request).
pub(crate) fn parse_redirect(query: &str, state: &str) -> Result<Redirect, String> {
    let mut code = None;
    let mut error = None;
    let mut desc = None;
    let mut got_state = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => desc = Some(v.into_owned()),
            "state" => got_state = Some(v.into_owned()),
            _ => {}
        }
    }
    if got_state.as_deref() != Some(state) {
        return Err("the redirect's state does not match the request's: ignored".into());
    }
    match (code, error) {
        (_, Some(error)) => Ok(Redirect::Error(ErrorResponse {
            error,
            error_description: desc,
        })),
        (Some(c), None) if !c.is_empty() => Ok(Redirect::Code(c)),
        _ => Err("the redirect carries neither a code nor an error".into()),
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    if body.len() > MAX_RESPONSE {
        return Err(format!("answer larger than {MAX_RESPONSE} bytes"));
    }
    serde_json::from_slice(body).map_err(|e| format!("not the expected JSON: {e}"))
}

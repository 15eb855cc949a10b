//! A local OAuth 2.0 authorization server (real HTTP on 127.0.0.1:0, axum): the device
//! authorization grant (RFC 8628) with a scripted sequence of poll answers
//! (`authorization_pending`, `slow_down`, `access_denied`, `expired_token`, then a token), the
//! authorization endpoint of the code flow that redirects at once (as if the user had agreed,
//! or `access_denied`), the token endpoint checking the PKCE S256 verifier (RFC 7636 §4.6) and,
//! for the clients registered with one, the client secret (RFC 6749 §2.3.1), refresh,
//! revocation, access tokens of a chosen lifetime, and an RFC 7662 introspection endpoint for
//! Dovecot's `oauth2` passdb (an expired or revoked token is inactive). Modes make it misbehave:
//! record a challenge that is not the one sent (so the verifier does not match), redirect with
//! a forged `state`, answer every token request with a fixed status and body.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::rt::Background;

/// One authorization request of the code flow, waiting for its token request.
#[derive(Debug, Clone)]
struct Pending {
    redirect_uri: String,
    challenge: String,
}

#[derive(Debug, Default)]
struct St {
    /// Answers to the device-flow polls, in order; "ok" issues the token.
    device_script: Vec<String>,
    /// Deny the authorization request of the code flow.
    deny: bool,
    user: String,
    codes: HashMap<String, Pending>,
    /// access token → (active, expiry)
    access: HashMap<String, (bool, Instant)>,
    refresh: HashMap<String, bool>,
    counter: u64,
    /// Lifetime of the access tokens issued next, seconds (`expires_in`).
    lifetime: u64,
    /// Client ID → the secret its token requests must carry.
    secrets: HashMap<String, String>,
    /// Grants that gave a token, by `grant_type`.
    granted: HashMap<String, usize>,
    /// Record a challenge other than the one sent (the verifier then does not match).
    corrupt_challenge: bool,
    /// Redirect with a `state` other than the one sent.
    forge_state: bool,
    /// Answer every token request with this status and body.
    token_failure: Option<(u16, String)>,
    /// Every request: "METHOD /path" and the form body (for the tests' checks).
    log: Vec<(String, String)>,
}

/// The server; stops when dropped.
pub struct OAuthServer {
    addr: SocketAddr,
    st: Arc<Mutex<St>>,
    _bg: Background,
}

impl OAuthServer {
    /// Start for mailbox `user` (the introspection `username`).
    pub fn start(user: &str) -> OAuthServer {
        let st = Arc::new(Mutex::new(St {
            user: user.to_string(),
            device_script: vec!["ok".into()],
            lifetime: 3600,
            ..St::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let s2 = st.clone();
        let bg = Background::spawn("test-oauth", move || async move {
            let app = Router::new()
                .route("/device", post(device))
                .route("/token", post(token))
                .route("/authorize", get(authorize))
                .route("/introspect", post(introspect))
                .with_state(s2);
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = axum::serve(l, app).await;
        });
        OAuthServer { addr, st, _bg: bg }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    /// The answers the next device-flow polls get.
    pub fn script_device(&self, answers: &[&str]) {
        self.st.lock().unwrap().device_script = answers.iter().map(|s| s.to_string()).collect();
    }

    pub fn deny_authorization(&self, deny: bool) {
        self.st.lock().unwrap().deny = deny;
    }

    /// Revoke every token issued so far (introspection then says `active: false`).
    pub fn revoke_all(&self) {
        let mut st = self.st.lock().unwrap();
        st.access.values_mut().for_each(|v| v.0 = false);
        st.refresh.values_mut().for_each(|v| *v = false);
    }

    /// Revoke the refresh tokens only (the access tokens stay as they are).
    pub fn revoke_refresh_tokens(&self) {
        let mut st = self.st.lock().unwrap();
        st.refresh.values_mut().for_each(|v| *v = false);
    }

    /// The lifetime (`expires_in`, seconds) of the access tokens issued from now on; 0 issues
    /// tokens that are expired at once.
    pub fn access_token_lifetime(&self, secs: u64) {
        self.st.lock().unwrap().lifetime = secs;
    }

    /// Token requests with `client_id` must carry `client_secret=secret`, else `invalid_client`.
    pub fn require_secret(&self, client_id: &str, secret: &str) {
        let mut st = self.st.lock().unwrap();
        st.secrets.insert(client_id.into(), secret.into());
    }

    /// How many token requests of `grant_type` gave a token.
    pub fn granted(&self, grant_type: &str) -> usize {
        let st = self.st.lock().unwrap();
        st.granted.get(grant_type).copied().unwrap_or(0)
    }

    /// The authorization endpoint records a challenge other than the one it was sent, so the
    /// verifier of the token request does not match it (RFC 7636 §4.6).
    pub fn corrupt_challenge(&self, on: bool) {
        self.st.lock().unwrap().corrupt_challenge = on;
    }

    /// The authorization endpoint redirects with a forged `state`.
    pub fn forge_state(&self, on: bool) {
        self.st.lock().unwrap().forge_state = on;
    }

    /// Answer every token request with `status` and `body` (None: back to normal).
    pub fn fail_token_requests(&self, failure: Option<(u16, &str)>) {
        self.st.lock().unwrap().token_failure = failure.map(|(s, b)| (s, b.to_string()));
    }

    /// Every request so far: ("POST /token", form body).
    pub fn log(&self) -> Vec<(String, String)> {
        self.st.lock().unwrap().log.clone()
    }

    /// The access tokens issued, in order.
    pub fn issued(&self) -> usize {
        self.st.lock().unwrap().access.len()
    }
}

fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn error(code: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        format!(r#"{{"error":"{code}","error_description":"test server says {code}"}}"#),
    )
}

fn issue(st: &mut St, grant_type: &str) -> Response {
    st.counter += 1;
    *st.granted.entry(grant_type.to_string()).or_default() += 1;
    let (at, rt) = (format!("at-{}", st.counter), format!("rt-{}", st.counter));
    let lifetime = st.lifetime;
    st.access.insert(
        at.clone(),
        (true, Instant::now() + Duration::from_secs(lifetime)),
    );
    st.refresh.insert(rt.clone(), true);
    json(
        StatusCode::OK,
        format!(
            r#"{{"access_token":"{at}","token_type":"Bearer","expires_in":{lifetime},"refresh_token":"{rt}","scope":"mail"}}"#
        ),
    )
}

/// RFC 6749 §2.3.1 / §5.2: a client registered with a secret must send it.
fn client_ok(st: &St, f: &HashMap<String, String>) -> bool {
    match f.get("client_id").and_then(|c| st.secrets.get(c)) {
        Some(secret) => f.get("client_secret") == Some(secret),
        None => true,
    }
}

async fn device(State(st): State<Arc<Mutex<St>>>, body: Bytes) -> Response {
    let mut st = st.lock().unwrap();
    st.log
        .push(("POST /device".into(), String::from_utf8_lossy(&body).into()));
    json(
        StatusCode::OK,
        r#"{"device_code":"dev-code-1","user_code":"WDJB-MJHT","verification_uri":"https://id.example.test/device","expires_in":60,"interval":1}"#.into(),
    )
}

async fn token(State(st): State<Arc<Mutex<St>>>, body: Bytes) -> Response {
    let mut st = st.lock().unwrap();
    st.log
        .push(("POST /token".into(), String::from_utf8_lossy(&body).into()));
    if let Some((status, body)) = st.token_failure.clone() {
        let status = StatusCode::from_u16(status).unwrap();
        return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    let f = form(&body);
    if !client_ok(&st, &f) {
        return json(
            StatusCode::UNAUTHORIZED,
            r#"{"error":"invalid_client","error_description":"client authentication failed"}"#
                .into(),
        );
    }
    let grant = f.get("grant_type").cloned().unwrap_or_default();
    match f.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            if f.get("device_code").map(String::as_str) != Some("dev-code-1") {
                return error("invalid_grant");
            }
            let next = if st.device_script.is_empty() {
                "ok".to_string()
            } else {
                st.device_script.remove(0)
            };
            if next == "ok" {
                issue(&mut st, &grant)
            } else {
                error(&next)
            }
        }
        Some("authorization_code") => {
            let Some(p) = f.get("code").and_then(|c| st.codes.remove(c)) else {
                return error("invalid_grant");
            };
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
            if URL_SAFE_NO_PAD.encode(digest.as_ref()) != p.challenge
                || f.get("redirect_uri") != Some(&p.redirect_uri)
            {
                return error("invalid_grant");
            }
            issue(&mut st, &grant)
        }
        Some("refresh_token") => {
            let ok = f
                .get("refresh_token")
                .and_then(|r| st.refresh.get(r))
                .copied()
                .unwrap_or(false);
            if ok {
                issue(&mut st, &grant)
            } else {
                error("invalid_grant")
            }
        }
        _ => error("unsupported_grant_type"),
    }
}

async fn authorize(State(st): State<Arc<Mutex<St>>>, uri: Uri) -> Response {
    let mut st = st.lock().unwrap();
    let q: HashMap<String, String> = form(uri.query().unwrap_or_default().as_bytes());
    st.log.push((
        "GET /authorize".into(),
        uri.query().unwrap_or_default().into(),
    ));
    let (Some(redirect), Some(state)) = (q.get("redirect_uri"), q.get("state")) else {
        return (StatusCode::BAD_REQUEST, "no redirect_uri or state").into_response();
    };
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return (StatusCode::BAD_REQUEST, "S256 only").into_response();
    }
    let state = if st.forge_state {
        "forged-state".to_string()
    } else {
        state.clone()
    };
    let location = if st.deny {
        format!("{redirect}?error=access_denied&state={state}")
    } else {
        st.counter += 1;
        let code = format!("code-{}", st.counter);
        let mut challenge = q.get("code_challenge").cloned().unwrap_or_default();
        if st.corrupt_challenge {
            challenge = URL_SAFE_NO_PAD
                .encode(ring::digest::digest(&ring::digest::SHA256, b"not the verifier").as_ref());
        }
        st.codes.insert(
            code.clone(),
            Pending {
                redirect_uri: redirect.clone(),
                challenge,
            },
        );
        format!("{redirect}?code={code}&state={state}")
    };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// RFC 7662 token introspection, as Dovecot's oauth2 passdb asks it (`introspection_mode =
/// post`: a form with `token`).
async fn introspect(State(st): State<Arc<Mutex<St>>>, body: Bytes) -> Response {
    let mut st = st.lock().unwrap();
    st.log
        .push(("POST /introspect".into(), "token=<redacted>".into()));
    let f = form(&body);
    let active = f
        .get("token")
        .and_then(|t| st.access.get(t))
        .is_some_and(|&(active, expiry)| active && Instant::now() < expiry);
    let user = st.user.clone();
    json(
        StatusCode::OK,
        if active {
            format!(r#"{{"active":true,"username":"{user}"}}"#)
        } else {
            r#"{"active":"false"}"#.into()
        },
    )
}

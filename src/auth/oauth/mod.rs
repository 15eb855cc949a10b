//! OAuth 2.0 sign-in for mail logins (XOAUTH2, OAUTHBEARER): the wire formats ([`wire`]), the
//! flows ([`flow`]: device authorization grant, authorization code with PKCE and a loopback
//! redirect, refresh), the per-address token store ([`store`]) and a failed refresh as a
//! finding ([`findings`]). The client ID is always the user's own; nothing here embeds another
//! application's.

pub mod findings;
pub mod flow;
pub mod store;
pub mod wire;

#[cfg(test)]
mod wire_tests;

pub use flow::{Endpoints, OAuthError, OAuthUi};

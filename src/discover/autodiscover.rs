//! Placeholder: the Autodiscover parser lands from the `parsers` branch.
use crate::address::Address;
use crate::report::{AuthMethod, Candidate, Protocol, Security};

#[derive(Debug, Clone)]
pub struct AdServer {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub spa: bool,
    pub auth: Vec<AuthMethod>,
}
#[derive(Debug, Clone)]
pub enum AutodiscoverResponse {
    Settings {
        display_name: Option<String>,
        servers: Vec<AdServer>,
    },
    RedirectAddr(String),
    RedirectUrl(String),
    Error {
        code: Option<String>,
        message: String,
    },
}
#[derive(Debug, thiserror::Error)]
pub enum AutodiscoverError {
    #[error("not xml")]
    NotXml(String),
}
pub fn request_body(email: &str) -> String {
    email.to_string()
}
pub fn parse(_xml: &[u8], _addr: &Address) -> Result<AutodiscoverResponse, AutodiscoverError> {
    Err(AutodiscoverError::NotXml("stub".into()))
}
pub fn candidates(_servers: &[AdServer], _addr: &Address) -> Vec<Candidate> {
    Vec::new()
}

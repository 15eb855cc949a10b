//! Placeholder: the autoconfig parser lands from the `parsers` branch.
use crate::address::Address;
use crate::report::{AuthMethod, Candidate, Protocol, Security, Source};

#[derive(Debug, Clone, Default)]
pub struct OAuth2Info {
    pub issuer: String,
}
#[derive(Debug, Clone, Default)]
pub struct EnableInfo {
    pub visit_url: Option<String>,
    pub instructions: Vec<String>,
}
#[derive(Debug, Clone, Default)]
pub struct DocLink {
    pub url: String,
}
#[derive(Debug, Clone)]
pub struct ServerEntry {
    pub incoming: bool,
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Vec<Security>,
    pub username: Option<String>,
    pub auth: Vec<AuthMethod>,
}
#[derive(Debug, Clone, Default)]
pub struct AutoconfigDoc {
    pub servers: Vec<ServerEntry>,
    pub oauth2: Option<OAuth2Info>,
    pub enable: Option<EnableInfo>,
    pub documentation: Vec<DocLink>,
    pub warnings: Vec<String>,
}
#[derive(Debug, thiserror::Error)]
pub enum AutoconfigError {
    #[error("not xml")]
    NotXml(String),
}
pub fn parse(_xml: &[u8], _addr: &Address) -> Result<AutoconfigDoc, AutoconfigError> {
    Err(AutoconfigError::NotXml("stub".into()))
}
pub fn candidates(_doc: &AutoconfigDoc, _source: Source) -> Vec<Candidate> {
    Vec::new()
}

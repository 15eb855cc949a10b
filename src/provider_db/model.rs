//! The compiled provider record, shared by `build.rs` (which serialises it to JSON in OUT_DIR)
//! and the library (which deserialises the embedded JSON). `Protocol` and `Security` come from
//! the parent module: the library's `crate::model` types, or build.rs's serde-identical mirrors.

use serde::{Deserialize, Serialize};

use super::{Protocol, Security};

/// Whether the provider wants an app-specific password instead of the account password.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppPassword {
    /// The account password never works for IMAP/POP3/SMTP (e.g. iCloud).
    Required,
    /// Needed once two-factor authentication is on (e.g. Gmail, Yahoo, Zoho).
    #[serde(rename = "required-with-2fa")]
    RequiredWith2fa,
    /// The account password works.
    #[default]
    No,
}

/// How a mail client reaches the mailbox at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Ordinary IMAP/POP3/SMTP servers on the Internet.
    #[default]
    Standard,
    /// Only through a local bridge program (Proton Mail Bridge listens on 127.0.0.1).
    Bridge,
    /// No IMAP/POP3/SMTP at all (end-to-end encrypted services with their own apps).
    None,
}

/// Authentication a server accepts, in the database's own spelling (autoconfig's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    PasswordCleartext,
    PasswordEncrypted,
    #[serde(rename = "oauth2")]
    OAuth2,
    Ntlm,
    Gssapi,
    ClientIpAddress,
    TlsClientCert,
    None,
}

/// OAuth2 endpoints and scopes (RFC 6749), as the provider publishes them for mail clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuth2 {
    pub issuer: String,
    pub scopes: Vec<String>,
    pub auth_url: String,
    pub token_url: String,
}

/// One incoming or outgoing server. `host` and `username` may hold `%EMAILADDRESS%`,
/// `%EMAILLOCALPART%` and `%EMAILDOMAIN%` (autoconfig placeholders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub auth: Vec<Auth>,
}

/// Everything the built-in database knows about one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// Equals the file stem in `provider-db/`.
    pub id: String,
    pub name: String,
    /// Mail domains served; `*.example.com` stands for every subdomain of example.com.
    pub domains: Vec<String>,
    /// MX host patterns (`*` matches any run of characters) that reveal a hosted domain.
    pub mx: Vec<String>,
    pub documentation: Option<String>,
    pub hints: Vec<String>,
    pub app_password: AppPassword,
    /// What must be switched on in the web interface before a client can log in.
    pub enable_first: Option<String>,
    pub access: Access,
    pub oauth2: Option<OAuth2>,
    pub servers: Vec<Server>,
    /// Where the facts come from: the provider's help pages, the ISPDB file it agrees with.
    #[serde(default)]
    pub sources: Vec<String>,
    /// `YYYY-MM-DD`: when the servers were last checked against `sources`; `None` when they
    /// never were (the file says `verified = false`).
    #[serde(default)]
    pub verified: Option<String>,
}

//! Export: the settings of a run as the documents mail clients and servers read — a
//! Thunderbird autoconfig file ([`thunderbird`]), an Apple configuration profile
//! ([`mobileconfig`]), an Autodiscover POX response ([`autodiscover`]), DNS SRV zone lines
//! ([`srv`]) and the settings object as JSON. Pure functions from an [`Export`] to text; the
//! caller decides where the text goes.

pub mod autodiscover;
pub mod mobileconfig;
pub mod srv;
pub mod thunderbird;

use serde::Serialize;

use crate::model::{AuthMethod, Setting, Settings};

/// The export formats (`--to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Thunderbird,
    Mobileconfig,
    Autodiscover,
    Srv,
    Json,
}

/// Where the exported settings come from; said inside every document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Settings a `check` run logged in to (or at least connected to): what works.
    Verified,
    /// The top-ranked discovered candidates, never connected to (`--from-discovery`).
    Discovery,
}

impl Origin {
    /// One line for the comment atop a document.
    pub fn comment(self) -> &'static str {
        match self {
            Origin::Verified => "settings verified by a mailprobe check run",
            Origin::Discovery => {
                "UNTESTED: the top-ranked discovered candidates, exported from discovery without probing them"
            }
        }
    }
}

/// What is exported: one address, its incoming and outgoing setting (either may be missing).
#[derive(Debug, Clone)]
pub struct Export<'a> {
    /// The address, ASCII form (`local@domain`).
    pub local: &'a str,
    pub domain: &'a str,
    /// A name for the account in client dialogs (the provider name, or the domain).
    pub display_name: &'a str,
    pub settings: &'a Settings,
    pub origin: Origin,
    /// Only `mobileconfig` carries it, and only with `--include-password`.
    pub password: Option<&'a str>,
}

impl Export<'_> {
    pub fn address(&self) -> String {
        format!("{}@{}", self.local, self.domain)
    }
    /// Both settings in order, incoming first.
    pub fn servers(&self) -> impl Iterator<Item = &Setting> {
        self.settings
            .incoming
            .iter()
            .chain(self.settings.outgoing.iter())
    }
}

/// Render `e` as `format`.
pub fn render(e: &Export<'_>, format: ExportFormat) -> String {
    match format {
        ExportFormat::Thunderbird => thunderbird::render(e),
        ExportFormat::Mobileconfig => mobileconfig::render(e),
        ExportFormat::Autodiscover => autodiscover::render(e),
        ExportFormat::Srv => srv::render(e),
        ExportFormat::Json => json(e),
    }
}

/// `json`: the settings object (the report's `settings` key), with the address and its origin.
fn json(e: &Export<'_>) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        address: String,
        origin: Origin,
        settings: &'a Settings,
    }
    let doc = Doc {
        address: e.address(),
        origin: e.origin,
        settings: e.settings,
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// The autoconfig `<authentication>` word of a method (draft-ietf-mailmaint-autoconfig
/// §"authentication"); the parser maps each back to the same method.
pub(crate) fn auth_word(a: AuthMethod) -> &'static str {
    match a {
        AuthMethod::PasswordCleartext => "password-cleartext",
        AuthMethod::PasswordEncrypted => "password-encrypted",
        AuthMethod::OAuth2 => "OAuth2",
        AuthMethod::AppPassword => "password-cleartext",
        AuthMethod::Ntlm => "NTLM",
        AuthMethod::Gssapi => "GSSAPI",
        AuthMethod::ClientIpAddress => "client-IP-address",
        AuthMethod::TlsClientCert => "TLS-client-cert",
        AuthMethod::None => "none",
    }
}

/// A name-based UUID (RFC 4122 §4.3, version 3: MD5 over the URL namespace and `name`), in
/// upper case as Apple profiles write them. The same name always gives the same UUID, so a
/// profile exported twice for one address replaces the installed one instead of duplicating it.
pub(crate) fn name_uuid(name: &str) -> String {
    use md5::{Digest, Md5};
    // RFC 4122 Appendix C: NameSpace_URL.
    const NS_URL: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    let mut h = Md5::new();
    h.update(NS_URL);
    h.update(name.as_bytes());
    let mut b: [u8; 16] = h.finalize().into();
    b[6] = (b[6] & 0x0f) | 0x30;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod autoconfig_schema;
#[cfg(test)]
mod tests;

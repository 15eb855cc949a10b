//! The built-in provider database: one human-editable TOML file per provider in `provider-db/`,
//! validated by `build.rs` (with `source.rs`) and embedded as JSON. Lookups by mail domain
//! ([`by_domain`]) and by MX host ([`by_mx`], which reveals custom domains hosted at a provider),
//! and conversion of a provider's servers into discovery [`Candidate`]s and helpdesk findings.

mod model;
#[cfg(test)]
mod source;

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::address::Address;
use crate::model::{AuthMethod, Candidate, Finding, FindingCode, ProviderInfo, Severity, Source};
pub use crate::model::{Protocol, Security};
pub use model::{Access, AppPassword, Auth, OAuth2, Provider, Server};

/// Date of the database (`provider-db/_meta.toml`), shown by `--version`.
pub const DB_DATE: &str = env!("MAILPROBE_DB_DATE");

static JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/provider_db.json"));

static DB: LazyLock<Index> = LazyLock::new(|| {
    // build.rs wrote this JSON from the same `model` types; failure would be a build bug.
    let providers: Vec<Provider> =
        serde_json::from_str(JSON).expect("embedded provider database is valid JSON");
    Index::new(providers)
});

/// Every provider in the database, sorted by id.
pub fn providers() -> &'static [Provider] {
    &DB.providers
}

/// The provider serving `domain` (ASCII, any case, trailing dot allowed): an exact domain
/// first, then the nearest `*.parent` wildcard.
pub fn by_domain(domain: &str) -> Option<&'static Provider> {
    DB.by_domain(domain)
}

/// The provider whose MX host pattern matches `mx_host`; the longest (most specific) pattern
/// wins when several match.
pub fn by_mx(mx_host: &str) -> Option<&'static Provider> {
    DB.by_mx(mx_host)
}

/// (number of providers, number of domains including wildcard entries).
pub fn stats() -> (usize, usize) {
    let p = providers();
    (p.len(), p.iter().map(|p| p.domains.len()).sum())
}

impl Auth {
    /// The report model's name for this method.
    pub fn method(self) -> AuthMethod {
        match self {
            Auth::PasswordCleartext => AuthMethod::PasswordCleartext,
            Auth::PasswordEncrypted => AuthMethod::PasswordEncrypted,
            Auth::OAuth2 => AuthMethod::OAuth2,
            Auth::Ntlm => AuthMethod::Ntlm,
            Auth::Gssapi => AuthMethod::Gssapi,
            Auth::ClientIpAddress => AuthMethod::ClientIpAddress,
            Auth::TlsClientCert => AuthMethod::TlsClientCert,
            Auth::None => AuthMethod::None,
        }
    }
}

/// Replace the autoconfig placeholders (`%EMAILADDRESS%`, `%EMAILLOCALPART%`, `%EMAILDOMAIN%`).
pub(crate) fn resolve_placeholders(template: &str, addr: &Address) -> String {
    template
        .replace("%EMAILADDRESS%", &addr.ascii())
        .replace("%EMAILLOCALPART%", &addr.local)
        .replace("%EMAILDOMAIN%", &addr.domain)
}

impl Provider {
    /// This provider's servers as discovery candidates for `addr`, placeholders resolved.
    /// `source` is [`Source::ProviderDb`] for a domain match, [`Source::MxProvider`] for an MX match.
    pub fn candidates(&self, addr: &Address, source: Source) -> Vec<Candidate> {
        self.servers
            .iter()
            .map(|s| {
                let mut auth: Vec<AuthMethod> = s.auth.iter().map(|a| a.method()).collect();
                if self.app_password == AppPassword::Required
                    && !auth.contains(&AuthMethod::AppPassword)
                {
                    auth.push(AuthMethod::AppPassword);
                }
                Candidate {
                    protocol: s.protocol,
                    host: resolve_placeholders(&s.host, addr).to_ascii_lowercase(),
                    port: s.port,
                    security: s.security,
                    username: Some(resolve_placeholders(&s.username, addr)),
                    auth,
                    sources: vec![source],
                }
            })
            .collect()
    }

    /// What the report shows about the matched provider. `matched_by` is `domain` or
    /// `mx <host>`.
    pub fn info(&self, matched_by: &str) -> ProviderInfo {
        ProviderInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            matched_by: matched_by.to_string(),
            hints: self.hints.clone(),
            documentation: self.documentation.clone(),
            verified: self.verified.is_some(),
        }
    }

    /// Whether every server accepts only OAuth2 (no password of any kind).
    pub fn oauth2_only(&self) -> bool {
        !self.servers.is_empty()
            && self
                .servers
                .iter()
                .all(|s| s.auth.iter().all(|a| *a == Auth::OAuth2))
    }

    /// Helpdesk findings that hold before any probe: an entry no source confirmed, app
    /// passwords, OAuth2, settings to switch on, bridges, providers without IMAP/SMTP. These are
    /// facts about the provider, not faults: all are `info` with a hint, except a provider that
    /// offers no standard access at all (no mail client can ever work, so `critical`).
    pub fn findings(&self) -> Vec<Finding> {
        [
            self.unverified_finding(),
            self.access_finding(),
            self.app_password_finding(),
            self.oauth2_finding(),
            self.enable_first_finding(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The entry's servers were not checked against the provider's published settings.
    fn unverified_finding(&self) -> Option<Finding> {
        if self.verified.is_some() {
            return None;
        }
        Some(
            Finding::new(
                Severity::Info,
                FindingCode::ProviderEntryUnverified,
                format!(
                    "the built-in servers for {} (provider-db/{}.toml) were not checked \
                     against the provider's published settings",
                    self.name, self.id
                ),
            )
            .hint(
                "They rank below every server another source names; `mailprobe check` \
                 shows whether they work.",
            ),
        )
    }

    /// `text` as the finding's hint, followed by the provider's documentation when known.
    fn with_doc(&self, f: Finding, text: &str) -> Finding {
        match self.documentation.as_deref() {
            Some(d) => f.hint(format!("{text} See {d}")),
            None => f.hint(text.to_string()),
        }
    }

    /// No standard access at all, or access only through a local bridge program.
    fn access_finding(&self) -> Option<Finding> {
        match self.access {
            Access::None => Some(self.with_doc(
                Finding::new(
                    Severity::Critical,
                    FindingCode::NoStandardAccess,
                    format!("{} offers no IMAP, POP3 or SMTP access", self.name),
                ),
                "Use the provider's own apps or web mail; ordinary mail clients cannot connect.",
            )),
            Access::Bridge => Some(self.with_doc(
                Finding::new(
                    Severity::Info,
                    FindingCode::BridgeRequired,
                    format!(
                        "{} is reached through a local bridge program, not over the Internet",
                        self.name
                    ),
                ),
                "Install and sign in to the bridge, then use the host, port and password it shows.",
            )),
            Access::Standard => None,
        }
    }

    /// An app-specific password, always or with two-factor authentication.
    fn app_password_finding(&self) -> Option<Finding> {
        match self.app_password {
            AppPassword::Required => Some(self.with_doc(
                Finding::new(
                    Severity::Info,
                    FindingCode::AppPasswordRequired,
                    format!(
                        "{} requires an app-specific password for mail clients",
                        self.name
                    ),
                ),
                "Create an app password in the account's security settings and use it instead \
                 of the account password.",
            )),
            AppPassword::RequiredWith2fa => Some(self.with_doc(
                Finding::new(
                    Severity::Info,
                    FindingCode::AppPasswordWith2fa,
                    format!(
                        "{} requires an app password when two-factor authentication is on",
                        self.name
                    ),
                ),
                "If the account uses 2-step verification, create an app password and use it in \
                 the mail client.",
            )),
            AppPassword::No => None,
        }
    }

    /// OAuth2 sign-in: the only way in, or one of them.
    fn oauth2_finding(&self) -> Option<Finding> {
        self.oauth2.as_ref()?;
        Some(if self.oauth2_only() {
            Finding::new(
                Severity::Info,
                FindingCode::Oauth2Required,
                format!(
                    "{} accepts only OAuth2 sign-in; passwords are refused",
                    self.name
                ),
            )
            .hint("Use a mail client that supports OAuth2 (modern authentication).")
        } else {
            Finding::new(
                Severity::Info,
                FindingCode::Oauth2Available,
                format!("{} supports OAuth2 sign-in", self.name),
            )
        })
    }

    /// Mail-client access must be switched on before the first login.
    fn enable_first_finding(&self) -> Option<Finding> {
        let step = self.enable_first.as_ref()?;
        Some(
            Finding::new(
                Severity::Info,
                FindingCode::EnableImapFirst,
                format!(
                    "{} needs mail-client access switched on before the first login",
                    self.name
                ),
            )
            .hint(step.clone()),
        )
    }
}

// ---- lookup indexes: exact and wildcard domains, exact and glob MX patterns ----

struct Index {
    providers: Vec<Provider>,
    /// Exact domain → provider index.
    domains: HashMap<String, usize>,
    /// `*.parent` entries, keyed by `parent`.
    wildcards: HashMap<String, usize>,
    /// MX patterns without `*`.
    mx_exact: HashMap<String, usize>,
    /// MX patterns with `*`, longest first so the most specific one wins.
    mx_globs: Vec<(String, usize)>,
}

/// Lowercase and drop the trailing root dot (DNS names compare case-insensitively, RFC 4343).
fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl Index {
    fn new(mut providers: Vec<Provider>) -> Self {
        providers.sort_by(|a, b| a.id.cmp(&b.id));
        let mut ix = Index {
            providers: Vec::new(),
            domains: HashMap::new(),
            wildcards: HashMap::new(),
            mx_exact: HashMap::new(),
            mx_globs: Vec::new(),
        };
        for (i, p) in providers.iter().enumerate() {
            for d in &p.domains {
                match d.strip_prefix("*.") {
                    Some(parent) => ix.wildcards.insert(parent.to_string(), i),
                    None => ix.domains.insert(d.clone(), i),
                };
            }
            for m in &p.mx {
                if m.contains('*') {
                    ix.mx_globs.push((m.clone(), i));
                } else {
                    ix.mx_exact.insert(m.clone(), i);
                }
            }
        }
        ix.mx_globs
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        ix.providers = providers;
        ix
    }

    fn by_domain(&self, domain: &str) -> Option<&Provider> {
        let d = normalise(domain);
        if let Some(&i) = self.domains.get(&d) {
            return Some(&self.providers[i]);
        }
        // `*.parent` matches every name below parent, the nearest parent first.
        let mut rest = d.as_str();
        while let Some((_, parent)) = rest.split_once('.') {
            if let Some(&i) = self.wildcards.get(parent) {
                return Some(&self.providers[i]);
            }
            rest = parent;
        }
        None
    }

    fn by_mx(&self, host: &str) -> Option<&Provider> {
        let h = normalise(host);
        if let Some(&i) = self.mx_exact.get(&h) {
            return Some(&self.providers[i]);
        }
        self.mx_globs
            .iter()
            .find(|(p, _)| glob(p.as_bytes(), h.as_bytes()))
            .map(|&(_, i)| &self.providers[i])
    }
}

/// `*` matches any run of characters (also dots and the empty run); everything else literally.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            back = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((bp, bt)) = back {
            p = bp + 1;
            t = bt + 1;
            back = Some((bp, bt + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_database_loads() {
        let (providers, domains) = stats();
        assert!(providers >= 150, "{providers} providers");
        assert!(domains >= providers, "{domains} domains");
        assert_eq!(DB_DATE.len(), 10);
        let ids: Vec<&str> = super::providers().iter().map(|p| p.id.as_str()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn placeholders() {
        let a = crate::address::parse("Jo.Doe@Example.org").unwrap();
        assert_eq!(
            resolve_placeholders("%EMAILLOCALPART%|%EMAILDOMAIN%|%EMAILADDRESS%", &a),
            "Jo.Doe|example.org|Jo.Doe@example.org"
        );
    }

    #[test]
    fn glob_table() {
        let cases = [
            ("*.aspmx.l.google.com", "alt1.aspmx.l.google.com", true),
            ("*.aspmx.l.google.com", "aspmx.l.google.com", false),
            ("mx*.gmx.net", "mx00.gmx.net", true),
            ("mx*.gmx.net", "mx.gmx.net", true),
            ("mx*.gmx.net", "mx00.gmx.net.evil.example", false),
            ("mx.zoho.*", "mx.zoho.eu", true),
            ("mx.zoho.*", "mx2.zoho.eu", false),
            (
                "*.mail.protection.outlook.com",
                "contoso-com.mail.protection.outlook.com",
                true,
            ),
            ("a*b*c.example", "axxbyyc.example", true),
            ("a*b*c.example", "axxbyy.example", false),
        ];
        for (p, t, want) in cases {
            assert_eq!(glob(p.as_bytes(), t.as_bytes()), want, "{p} vs {t}");
        }
    }
}

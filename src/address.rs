//! Email address parsing: split, validate (RFC 5321 §4.1.2 / §4.5.3.1 limits), and turn an IDN
//! domain into its ASCII (punycode, RFC 5891) form, which every later step uses.

use thiserror::Error;

/// Why an address is not usable.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressError {
    #[error("'{0}' is not an email address: it has no '@'")]
    NoAt(String),
    #[error(
        "'{0}' has {1} '@' signs; an address has exactly one, between the local part and the domain"
    )]
    ManyAt(String, usize),
    #[error("'{0}' has an empty local part (the part before '@')")]
    EmptyLocal(String),
    #[error("'{0}' has an empty domain (the part after '@')")]
    EmptyDomain(String),
    #[error("the local part of '{0}' is longer than 64 octets (RFC 5321 §4.5.3.1.1)")]
    LocalTooLong(String),
    #[error("the local part of '{0}' is not valid: {1}")]
    BadLocal(String, String),
    #[error("the domain of '{0}' is not valid: {1}")]
    BadDomain(String, String),
}

/// A parsed, normalised address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Local part as given (case preserved: RFC 5321 §2.4 leaves it to the server).
    pub local: String,
    /// Lowercase ASCII domain (punycode for an IDN).
    pub domain: String,
    /// The domain in Unicode, when it differs from `domain`.
    pub domain_unicode: Option<String>,
}

impl AddressError {
    /// Is the input missing a part of an address altogether (rather than an address with a
    /// bad part)? Then an example of a full address helps.
    pub fn not_an_address(&self) -> bool {
        matches!(
            self,
            AddressError::NoAt(_) | AddressError::EmptyLocal(_) | AddressError::EmptyDomain(_)
        )
    }
}

impl Address {
    /// `local@domain` with the ASCII domain.
    pub fn ascii(&self) -> String {
        format!("{}@{}", self.local, self.domain)
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// Parse and normalise an address. A domain literal (`[192.0.2.1]`) is refused: discovery
/// needs a name.
pub fn parse(input: &str) -> Result<Address, AddressError> {
    let s = input.trim();
    parse_inner(s).map_err(|e| shorten(e, s))
}

/// Error messages quote the input; keep a 300-character label from flooding the terminal.
fn shorten(e: AddressError, s: &str) -> AddressError {
    if s.chars().count() <= 80 {
        return e;
    }
    let short: String = s
        .chars()
        .take(40)
        .chain("…".chars())
        .chain(s.chars().skip(s.chars().count() - 20))
        .collect();
    let fix = |x: String| if x == s { short.clone() } else { x };
    match e {
        AddressError::NoAt(x) => AddressError::NoAt(fix(x)),
        AddressError::ManyAt(x, n) => AddressError::ManyAt(fix(x), n),
        AddressError::EmptyLocal(x) => AddressError::EmptyLocal(fix(x)),
        AddressError::EmptyDomain(x) => AddressError::EmptyDomain(fix(x)),
        AddressError::LocalTooLong(x) => AddressError::LocalTooLong(fix(x)),
        AddressError::BadLocal(x, m) => AddressError::BadLocal(fix(x), m),
        AddressError::BadDomain(x, m) => AddressError::BadDomain(fix(x), m),
    }
}

fn parse_inner(s: &str) -> Result<Address, AddressError> {
    let (local, domain) = s
        .rsplit_once('@')
        .ok_or_else(|| AddressError::NoAt(s.to_string()))?;
    // An '@' inside a quoted local part is legal (RFC 5321 §4.1.2); anywhere else it is a typo.
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    if local.contains('@') && !quoted {
        return Err(AddressError::ManyAt(s.to_string(), s.matches('@').count()));
    }
    if local.is_empty() {
        return Err(AddressError::EmptyLocal(s.to_string()));
    }
    if domain.is_empty() {
        return Err(AddressError::EmptyDomain(s.to_string()));
    }
    if local.len() > 64 {
        return Err(AddressError::LocalTooLong(s.to_string()));
    }
    check_local(local).map_err(|e| AddressError::BadLocal(s.to_string(), e))?;
    let (ascii, unicode) =
        normalise_domain(domain).map_err(|e| AddressError::BadDomain(s.to_string(), e))?;
    Ok(Address {
        local: local.to_string(),
        domain: ascii,
        domain_unicode: unicode,
    })
}

/// RFC 5322 dot-atom or quoted string; UTF-8 allowed (RFC 6531 SMTPUTF8).
fn check_local(local: &str) -> Result<(), String> {
    if local.starts_with('"') && local.ends_with('"') && local.len() >= 2 {
        return if local[1..local.len() - 1].chars().any(|c| c.is_control()) {
            Err("control characters in quoted local part".into())
        } else {
            Ok(())
        };
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("dots must separate words (no leading, trailing or double dot)".into());
    }
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";
    if let Some(bad) = local.chars().find(|&c| {
        (c.is_control() || c.is_ascii()) && !SPECIALS.contains(c) && !c.is_alphanumeric()
    }) {
        return Err(format!("character {bad:?} is not allowed unquoted"));
    }
    Ok(())
}

/// A mail domain: a host name ([`normalise_host`]) of at least two labels whose top-level
/// label is not numeric.
pub(crate) fn normalise_domain(domain: &str) -> Result<(String, Option<String>), String> {
    let (ascii, unicode) = normalise_host(domain)?;
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err(format!(
            "'{ascii}' has a single label; a mail domain needs at least two (like example.com)"
        ));
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("the top-level label is numeric; an IP address is not a mail domain".into());
    }
    Ok((ascii, unicode))
}

/// A host name: lowercase, IDNA-map to ASCII (UTS #46), then check LDH rules and lengths
/// (RFC 1035 §2.3.4). Returns the ASCII form and the Unicode form when it differs.
pub(crate) fn normalise_host(domain: &str) -> Result<(String, Option<String>), String> {
    let d = domain.trim_end_matches('.');
    if d.starts_with('[') {
        return Err("address literals ([IP]) cannot be looked up; use a domain name".into());
    }
    // Checked before IDNA mapping, which would only say "invalid" for an over-long label.
    if let Some(label) = d.split('.').find(|l| l.len() > 63) {
        return Err(format!(
            "a label is {} octets long; at most 63 are allowed",
            label.len()
        ));
    }
    let ascii = idna::domain_to_ascii(d)
        .map_err(|_| "not a valid internationalised domain name".to_string())?;
    if ascii.is_empty() {
        return Err("empty domain".into());
    }
    if ascii.len() > 253 {
        return Err(format!(
            "{} octets long; a domain name has at most 253",
            ascii.len()
        ));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err("empty label (two dots in a row)".into());
        }
        if label.len() > 63 {
            return Err(format!(
                "a label is {} octets long; at most 63 are allowed",
                label.len()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("label '{label}' starts or ends with a hyphen"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!(
                "label '{label}' has characters other than letters, digits and hyphens"
            ));
        }
    }
    let unicode = idna::domain_to_unicode(&ascii).0;
    let unicode = (unicode != ascii).then_some(unicode);
    Ok((ascii, unicode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses() {
        let a = parse("Alice@Example.COM").unwrap();
        assert_eq!(
            (a.local.as_str(), a.domain.as_str()),
            ("Alice", "example.com")
        );
        let a = parse("jörg@bücher.example").unwrap();
        assert_eq!(a.domain, "xn--bcher-kva.example");
        assert_eq!(a.domain_unicode.as_deref(), Some("bücher.example"));
        assert_eq!(a.ascii(), "jörg@xn--bcher-kva.example");
        assert!(parse("\"a b\"@example.com").is_ok());
        assert!(parse("\"a@b\"@example.com").is_ok());
        assert!(parse("first.last+tag@sub.example.co.uk.").is_ok());
    }

    #[test]
    fn invalid_addresses() {
        let long_label = format!("a@{}.com", "x".repeat(300));
        let cases: &[(&str, &str)] = &[
            ("alice", "no '@'"),
            ("@x", "empty local"),
            ("a@", "empty domain"),
            ("a@-bad-.com", "hyphen"),
            (&long_label, "octets"),
            ("a@localhost", "single label"),
            ("a@[127.0.0.1]", "literals"),
            ("a..b@example.com", "dots"),
            ("a b@example.com", "not allowed"),
            ("a@exa mple.com", "not valid"),
            ("a@1.2.3.4", "numeric"),
            ("alice@gmail.com@", "2 '@' signs"),
            ("a@b@example.com", "2 '@' signs"),
        ];
        for (input, needle) in cases {
            let err = parse(input).unwrap_err().to_string();
            assert!(err.contains(needle), "{input}: {err}");
        }
    }
}

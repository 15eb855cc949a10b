//! DKIM keys (RFC 6376 §3.6): whether `_domainkey.<domain>` exists at all (NXDOMAIN there means
//! no key below it, RFC 8020 — internet.nl's test), and the key records of the selectors named
//! with `--dkim-selector` plus the common ones: key type and length, revoked (`p=` empty),
//! testing (`t=y`).

use base64::Engine;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use x509_parser::prelude::FromDer;

use super::{COMMON_DKIM_SELECTORS, finding, tags};
use crate::dns::{DnsError, Resolver};
use crate::model::DkimKey;
use crate::model::{Finding, FindingCode, Severity};
use crate::net::Net;

/// RSA keys shorter than this are critical (RFC 8301 §3.2: verifiers MUST NOT accept < 1024).
pub(crate) const RSA_CRITICAL_BITS: u32 = 1024;
/// RSA keys shorter than this are a warning (RFC 8301 §3.2: signers SHOULD use ≥ 2048).
pub(crate) const RSA_WARNING_BITS: u32 = 2048;

/// The selectors found and what `_domainkey` answered.
#[derive(Debug, Default)]
pub struct DkimSet {
    pub keys: Vec<DkimKey>,
    pub domainkey: Option<String>,
}

/// Look up `_domainkey` and every selector at once.
pub async fn check(
    net: &Net,
    resolver: &Resolver,
    domain: &str,
    given: &[String],
) -> (DkimSet, Vec<Finding>) {
    let selectors = selectors(given);
    let base = format!("_domainkey.{domain}");
    let exists = async {
        match resolver.txt(&base).await {
            Ok(_) | Err(DnsError::NoRecords(..)) => Ok(true),
            Err(DnsError::NxDomain(_)) => Ok(false),
            Err(e) => Err(e),
        }
    };
    let lookups = net.join_bounded(
        selectors
            .iter()
            .map(|(s, _)| {
                let name = format!("{s}.{base}");
                async move { resolver.txt(&name).await }
            })
            .collect(),
    );
    let (exists, answers) = tokio::join!(exists, lookups);
    let mut set = DkimSet::default();
    let mut out = Vec::new();
    set.domainkey = match exists {
        Ok(true) => Some("exists".into()),
        Ok(false) => Some("nxdomain".into()),
        Err(_) => None,
    };
    for ((sel, user), answer) in selectors.into_iter().zip(answers) {
        let name = format!("{sel}.{base}");
        let records: Vec<String> = match answer {
            Ok(txt) => txt.into_iter().filter(|r| looks_like_key(r)).collect(),
            Err(_) => Vec::new(),
        };
        let Some(record) = records.first() else {
            if user {
                out.push(finding(
                    Severity::Warning,
                    FindingCode::DkimSelectorMissing,
                    format!("no DKIM key at {name}"),
                    "publish the selector's key record, or check the selector name in the DKIM-Signature s= tag",
                ));
                set.keys.push(DkimKey {
                    selector: sel,
                    ..DkimKey::default()
                });
            }
            continue;
        };
        let (key, f) = lint(&sel, &name, record, user);
        set.keys.push(key);
        out.extend(f);
    }
    out.extend(none_found(&set, &base, domain));
    (set, out)
}

/// The selectors to look up: the user's (`true`), then the common ones not already given.
fn selectors(given: &[String]) -> Vec<(String, bool)> {
    let mut selectors: Vec<(String, bool)> = given
        .iter()
        .map(|s| (s.to_ascii_lowercase(), true))
        .collect();
    for s in COMMON_DKIM_SELECTORS {
        if !selectors.iter().any(|(g, _)| g == s) {
            selectors.push((s.to_string(), false));
        }
    }
    selectors
}

/// No key found at all: `_domainkey` does not exist (no DKIM), or the selector is unknown.
fn none_found(set: &DkimSet, base: &str, domain: &str) -> Option<Finding> {
    if set.domainkey.as_deref() == Some("nxdomain") && set.keys.iter().all(|k| !k.found) {
        return Some(finding(
            Severity::Warning,
            FindingCode::DkimNone,
            format!(
                "{base} does not exist (NXDOMAIN): {domain} publishes no DKIM key, so its mail is never DKIM-signed"
            ),
            "sign outgoing mail with DKIM and publish the key at <selector>._domainkey.<domain>",
        ));
    }
    if set.keys.iter().all(|k| !k.found) {
        return Some(finding(
            Severity::Info,
            FindingCode::DkimSelectorUnknown,
            format!("no DKIM key under the common selectors of {domain}"),
            "name the selector of the domain's DKIM-Signature s= tag with --dkim-selector S",
        ));
    }
    None
}

/// A DKIM key record: `v=DKIM1` first, or (v is optional) a `p=` tag.
fn looks_like_key(r: &str) -> bool {
    tags::has_version(r, "DKIM1") || tags::get(&tags::parse(r), "p").is_some()
}

/// Parse and lint one key record.
pub fn lint(selector: &str, name: &str, record: &str, user: bool) -> (DkimKey, Vec<Finding>) {
    let t = tags::parse(record);
    let mut key = DkimKey {
        selector: selector.to_string(),
        found: true,
        key_type: Some(tags::get(&t, "k").unwrap_or("rsa").to_ascii_lowercase()),
        testing: tags::get(&t, "t")
            .is_some_and(|v| v.split(':').any(|f| f.trim().eq_ignore_ascii_case("y"))),
        ..DkimKey::default()
    };
    let mut out = Vec::new();
    match DomainKey::parse(record.as_bytes()) {
        Ok(_) => {}
        Err(mail_auth::Error::Dkim(mail_auth::dkim::DkimError::RevokedPublicKey)) => {
            key.revoked = true;
            out.push(Finding::new(
                if user {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                FindingCode::DkimKeyRevoked,
                format!("the DKIM key at {name} is revoked (empty p=): mail signed with it fails"),
            ));
            return (key, out);
        }
        // A key too short for the crypto library still has a length to report.
        Err(_)
            if key.key_type.as_deref() == Some("rsa")
                && tags::get(&t, "p").and_then(rsa_bits).is_some() => {}
        Err(e) => {
            key.error = Some(e.to_string());
            out.push(finding(
                Severity::Warning,
                FindingCode::DkimKeyInvalid,
                format!("the DKIM key record at {name} is not valid ({e})"),
                "RFC 6376 §3.6.1: \"v=DKIM1; k=rsa; p=<base64 public key>\"",
            ));
            return (key, out);
        }
    }
    if key.key_type.as_deref() == Some("rsa") {
        key.key_bits = tags::get(&t, "p").and_then(rsa_bits);
        match key.key_bits {
            Some(b) if b < RSA_CRITICAL_BITS => out.push(finding(
                Severity::Critical,
                FindingCode::DkimKeyWeak,
                format!("the DKIM key at {name} is RSA {b} bits: verifiers reject it and it can be factored"),
                "RFC 8301 §3.2: publish a 2048-bit RSA key (or Ed25519 next to it) and re-sign",
            )),
            Some(b) if b < RSA_WARNING_BITS => out.push(finding(
                Severity::Warning,
                FindingCode::DkimKeyShort,
                format!("the DKIM key at {name} is RSA {b} bits, shorter than 2048"),
                "RFC 8301 §3.2: rotate to a 2048-bit RSA key",
            )),
            Some(_) => {}
            None => {
                key.error = Some("the RSA public key does not parse".into());
                out.push(finding(
                    Severity::Warning,
                    FindingCode::DkimKeyInvalid,
                    format!("the DKIM key at {name} holds no RSA public key in p="),
                    "RFC 6376 §3.6.1: p= is the base64 SubjectPublicKeyInfo of the key",
                ));
            }
        }
    }
    if key.testing {
        out.push(finding(
            Severity::Warning,
            FindingCode::DkimKeyTesting,
            format!("the DKIM key at {name} has t=y: verifiers treat its signatures as absent"),
            "RFC 6376 §3.6.1: remove t=y once signing works",
        ));
    }
    (key, out)
}

/// Modulus length of an RSA key given as base64 SubjectPublicKeyInfo (RFC 6376 §3.6.1) or as
/// a bare PKCS#1 RSAPublicKey (published by some signers).
pub fn rsa_bits(p: &str) -> Option<u32> {
    let clean: String = p.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .ok()?;
    use x509_parser::public_key::RSAPublicKey;
    let modulus_bits = |k: RSAPublicKey| {
        let m: Vec<u8> = k.modulus.iter().copied().skip_while(|b| *b == 0).collect();
        let first = *m.first()?;
        Some(8 * (m.len() as u32 - 1) + (8 - first.leading_zeros()))
    };
    if let Ok((_, spki)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&der)
        && let Ok((_, k)) = RSAPublicKey::from_der(&spki.subject_public_key.data)
    {
        return modulus_bits(k);
    }
    RSAPublicKey::from_der(&der)
        .ok()
        .and_then(|(_, k)| modulus_bits(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SubjectPublicKeyInfo of a 1024-bit RSA key (RFC 6376 Appendix C's example key).
    const RSA1024: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB";

    #[test]
    fn key_lengths() {
        assert_eq!(rsa_bits(RSA1024), Some(1024));
        assert_eq!(rsa_bits("not base64!"), None);
    }

    #[test]
    fn records() {
        let (k, f) = lint(
            "s",
            "s._domainkey.example.test",
            &format!("v=DKIM1; k=rsa; p={RSA1024}"),
            false,
        );
        assert_eq!(k.key_bits, Some(1024));
        assert_eq!(
            f.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
            ["dkim-key-short"]
        );
        let (k, f) = lint("s", "n", "v=DKIM1; p=", true);
        assert!(k.revoked);
        assert_eq!(f[0].code.as_str(), "dkim-key-revoked");
        let (k, f) = lint("s", "n", &format!("v=DKIM1; t=y; p={RSA1024}"), false);
        assert!(k.testing);
        assert!(f.iter().any(|f| f.code.as_str() == "dkim-key-testing"));
        let (_, f) = lint("s", "n", "v=DKIM1; k=rsa; p=AAAA", false);
        assert_eq!(f[0].code.as_str(), "dkim-key-invalid");
    }
}

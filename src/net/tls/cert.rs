//! Certificate inspection: what a person needs to see of each certificate the server sent
//! (subject, issuer, names, validity, fingerprint). Pure functions over DER, no verification —
//! the verdict comes from webpki (see `verdict.rs`).

use std::net::IpAddr;

use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::model::CertInfo;

/// One [`CertInfo`] per certificate, in the order the server sent them (leaf first).
/// A certificate that does not parse is left out (webpki rejects it anyway; its fingerprint
/// alone tells a person nothing).
pub fn inspect_chain(
    certs: &[CertificateDer<'_>],
    server_name: &str,
    now: OffsetDateTime,
) -> Vec<CertInfo> {
    // `server_name` is part of the API so that a later per-certificate name check fits here;
    // the leaf's names are listed whatever the name asked for.
    let _ = server_name;
    certs.iter().filter_map(|c| inspect_one(c, now)).collect()
}

/// [`CertInfo`] of one certificate, `None` when the DER does not parse.
pub(crate) fn inspect_one(der: &CertificateDer<'_>, now: OffsetDateTime) -> Option<CertInfo> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let not_before = cert.validity().not_before.to_datetime();
    let not_after = cert.validity().not_after.to_datetime();
    Some(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        names: cert_names(&cert),
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        days_left: days_between(now, not_after),
        // Self-issued (RFC 5280 §6.1: subject and issuer DN equal); the signature itself is
        // checked by webpki, not here.
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        sha256: sha256_hex(der.as_ref()),
    })
}

/// Whole days from `now` until `then`, rounded down: an hour after expiry is -1, 29.9 days
/// before it is 29 (so a "less than 30 days" warning fires on the right day).
pub fn days_between(now: OffsetDateTime, then: OffsetDateTime) -> i64 {
    let secs = (then - now).whole_seconds();
    secs.div_euclid(86_400)
}

/// RFC 3339 in UTC; the formatter only fails for years outside 0..=9999.
fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// DNS names and IP addresses of subjectAltName; the subject CN when there is no SAN
/// (RFC 6125 §6.4.4: clients fall back to the CN only then).
fn cert_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for gn in &san.value.general_names {
            match gn {
                GeneralName::DNSName(d) => names.push(d.to_string()),
                GeneralName::IPAddress(b) => {
                    if let Some(ip) = ip_from_bytes(b) {
                        names.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    if names.is_empty() {
        names.extend(
            cert.subject()
                .iter_common_name()
                .filter_map(|cn| cn.as_str().ok())
                .map(str::to_string),
        );
    }
    names
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => <[u8; 4]>::try_from(b).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
        _ => None,
    }
}

/// Does the certificate carry an AIA caIssuers URL (RFC 5280 §4.2.2.1)? Public CAs put one in
/// every leaf and intermediate; a chain that stops at such a certificate lacks an intermediate
/// that browsers fetch and mail clients do not.
pub(crate) fn has_ca_issuers_url(der: &[u8]) -> bool {
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return false;
    };
    cert.iter_extensions()
        .any(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => aia
                .accessdescs
                .iter()
                .any(|d| d.access_method == OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS),
            _ => false,
        })
}

/// Lowercase hex SHA-256, computed with the hash of the TLS stack's own crypto provider (ring)
/// so that no extra dependency is needed.
pub fn sha256_hex(data: &[u8]) -> String {
    let suite = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    let Some(tls13) = suite.tls13() else {
        return String::new();
    };
    let digest = tls13.common.hash_provider.hash(data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Subject DN and issuer DN of a certificate, raw DER, for chain-shape analysis.
pub(crate) fn raw_names(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    Some((
        cert.subject().as_raw().to_vec(),
        cert.issuer().as_raw().to_vec(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, IsCa, Issuer, KeyPair, date_time_ymd};
    use time::macros::datetime;

    fn cert(names: &[&str], cn: &str, nb: OffsetDateTime, na: OffsetDateTime) -> Vec<u8> {
        let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.not_before = nb;
        p.not_after = na;
        let key = KeyPair::generate().unwrap();
        p.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn sha256_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn days_round_down() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let cases = [
            (datetime!(2026-11-27 11:00 UTC), -1),
            (datetime!(2026-11-27 13:00 UTC), 0),
            (datetime!(2026-12-27 11:00 UTC), 29),
            (datetime!(2026-12-27 12:00 UTC), 30),
            (datetime!(2026-11-17 12:00 UTC), -10),
        ];
        for (then, want) in cases {
            assert_eq!(days_between(now, then), want, "{then}");
        }
    }

    #[test]
    fn self_signed_leaf_fields() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let der = cert(
            &["mail.example.test", "127.0.0.1"],
            "mail.example.test",
            date_time_ymd(2026, 1, 1),
            date_time_ymd(2026, 12, 7),
        );
        let infos = inspect_chain(&[CertificateDer::from(der.clone())], "x", now);
        assert_eq!(infos.len(), 1);
        let c = &infos[0];
        assert_eq!(c.names, vec!["mail.example.test", "127.0.0.1"]);
        assert_eq!(c.subject, "CN=mail.example.test");
        assert_eq!(c.issuer, c.subject);
        assert!(c.self_signed);
        assert_eq!(c.days_left, 9);
        assert_eq!(c.not_after, "2026-12-07T00:00:00Z");
        assert_eq!(c.not_before, "2026-01-01T00:00:00Z");
        assert_eq!(c.sha256, sha256_hex(&der));
        assert_eq!(c.sha256.len(), 64);
        assert!(!has_ca_issuers_url(&der));
    }

    #[test]
    fn cn_fallback_and_issued_cert() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name = rcgen::DistinguishedName::new();
        ca.distinguished_name.push(DnType::CommonName, "Test CA");
        ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let issuer = Issuer::new(ca, ca_key);
        let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.distinguished_name = rcgen::DistinguishedName::new();
        leaf.distinguished_name
            .push(DnType::CommonName, "legacy.example.test");
        leaf.not_after = date_time_ymd(2026, 11, 1);
        let key = KeyPair::generate().unwrap();
        let der = leaf.signed_by(&key, &issuer).unwrap().der().clone();
        let c = &inspect_chain(&[der], "x", now)[0];
        assert_eq!(c.names, vec!["legacy.example.test"]);
        assert_eq!(c.issuer, "CN=Test CA");
        assert!(!c.self_signed);
        assert_eq!(c.days_left, -27);
    }

    #[test]
    fn garbage_is_skipped() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let certs = [
            CertificateDer::from(vec![0x30, 0x03, 0x01, 0x01, 0xff]),
            CertificateDer::from(vec![]),
        ];
        assert!(inspect_chain(&certs, "x", now).is_empty());
        assert!(raw_names(&[1, 2, 3]).is_none());
        assert!(!has_ca_issuers_url(&[]));
    }

    #[test]
    fn aia_ca_issuers_detected() {
        let mut p = CertificateParams::new(vec!["a.example.test".to_string()]).unwrap();
        p.custom_extensions
            .push(crate::net::tls::testcerts::aia_extension(
                "http://ca.example.test/int.der",
            ));
        let key = KeyPair::generate().unwrap();
        let der = p.self_signed(&key).unwrap().der().to_vec();
        assert!(has_ca_issuers_url(&der));
    }
}

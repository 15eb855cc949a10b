//! Chain validation from a trust anchor published in DNS (DANE-TA, RFC 7671 §5.2.2, RFC 7672
//! §3.1.2): the presented chain must lead from the leaf to the anchor with valid signatures and
//! dates, and the leaf must name one of the reference identifiers (RFC 7672 §3.2.2). webpki
//! does the work with the anchor as the only root; the public CAs play no part.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::{CertificateError, Error, RootCertStore};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use x509_parser::prelude::{FromDer, X509Certificate};

/// The verdict on a chain against a DANE-TA anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorVerdict {
    /// The chain validates from the anchor for this reference identifier.
    Valid(String),
    /// The chain validates from the anchor, but the leaf names none of the identifiers.
    NameMismatch,
    /// The chain does not lead to the anchor (or is expired, or a signature is wrong).
    Invalid(String),
}

/// Validate `chain` (leaf first, DER) from the certificate `anchor` (DER) for any of `names`.
pub fn verify_from_anchor(chain: &[Vec<u8>], anchor: &[u8], names: &[String]) -> AnchorVerdict {
    let Some((leaf, rest)) = chain.split_first() else {
        return AnchorVerdict::Invalid("no certificate presented".into());
    };
    let mut roots = RootCertStore::empty();
    if let Err(e) = roots.add(CertificateDer::from(anchor.to_vec())) {
        return AnchorVerdict::Invalid(format!("the trust anchor does not parse: {e}"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        match WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build() {
            Ok(v) => v,
            Err(e) => return AnchorVerdict::Invalid(e.to_string()),
        };
    let leaf = CertificateDer::from(leaf.as_slice());
    // The anchor itself may be sent as part of the chain; webpki stops at the root anyway.
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let mut last = String::from("no reference identifier");
    let mut name_only = true;
    for name in names {
        let Ok(sn) = ServerName::try_from(name.trim_end_matches('.').to_string()) else {
            continue;
        };
        match verifier.verify_server_cert(&leaf, &intermediates, &sn, &[], UnixTime::now()) {
            Ok(_) => return AnchorVerdict::Valid(name.clone()),
            Err(e) => {
                name_only &= is_name_error(&e);
                last = e.to_string();
            }
        }
    }
    if name_only && !names.is_empty() {
        AnchorVerdict::NameMismatch
    } else {
        AnchorVerdict::Invalid(last)
    }
}

fn is_name_error(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    )
}

/// The DER SubjectPublicKeyInfo of a certificate (TLSA selector 1, RFC 6698 §2.1.2); `None`
/// when the certificate does not parse.
pub fn spki_der(cert: &[u8]) -> Option<Vec<u8>> {
    let (_, c) = X509Certificate::from_der(cert).ok()?;
    Some(c.tbs_certificate.subject_pki.raw.to_vec())
}

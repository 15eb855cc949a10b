//! The recording verifier: asks webpki, keeps every problem it finds and lets the handshake
//! go on. Time, trust and name are each checked on their own — webpki stops at the first
//! problem, so an expired certificate is verified again at a moment inside its validity to
//! learn whether it is also untrusted, and the name is checked apart from the chain. Signatures
//! over the handshake are still checked by the real verifier, so a server that does not hold
//! the key of its certificate still fails.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, Error, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use time::OffsetDateTime;

use super::cert::{has_ca_issuers_url, inspect_chain, raw_names};
use super::verdict::{Facts, Problem, Shape, VerdictSlot, chain_shape, classify, judge};
use crate::model::CertInfo;

/// A verifier that asks webpki, records the verdict in its slot and always accepts the chain.
#[derive(Debug)]
pub struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    slot: VerdictSlot,
}

impl RecordingVerifier {
    pub fn new(inner: Arc<WebPkiServerVerifier>) -> (Self, VerdictSlot) {
        let slot = VerdictSlot::default();
        (
            RecordingVerifier {
                inner,
                slot: slot.clone(),
            },
            slot,
        )
    }

    fn gather(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Facts {
        let verify = |t: UnixTime| {
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, t)
                .err()
                .map(|e| classify(&e))
        };
        let all: Vec<CertificateDer<'_>> = std::iter::once(end_entity)
            .chain(intermediates)
            .cloned()
            .collect();
        let now_s = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let now_t =
            OffsetDateTime::from_unix_timestamp(now_s).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let name_str = server_name.to_str().into_owned();
        let chain = inspect_chain(&all, &name_str, now_t);
        let first = verify(now);
        let trust = match &first {
            Some(Problem::Expired | Problem::NotYetValid) => {
                valid_moment(&chain, now_t).and_then(verify).filter(|p| {
                    !matches!(
                        p,
                        Problem::NameMismatch | Problem::Expired | Problem::NotYetValid
                    )
                })
            }
            _ => None,
        };
        let name_mismatch = ParsedCertificate::try_from(end_entity)
            .and_then(|p| verify_server_name(&p, server_name))
            .is_err_and(|e| classify(&e) == Problem::NameMismatch);
        let names: Option<Vec<_>> = all.iter().map(|c| raw_names(c.as_ref())).collect();
        let shape = names.map(|n| chain_shape(&n));
        let dangling_has_aia = match shape {
            Some(Shape::Dangling(i)) => all.get(i).is_some_and(|c| has_ca_issuers_url(c.as_ref())),
            _ => false,
        };
        Facts {
            first,
            trust,
            name_mismatch,
            shape,
            dangling_has_aia,
            chain,
            server_name: name_str,
        }
    }
}

/// A moment inside the validity of every certificate of the chain, nearest to `now`; `None`
/// when the validity periods do not overlap.
fn valid_moment(chain: &[CertInfo], now: OffsetDateTime) -> Option<UnixTime> {
    use time::format_description::well_known::Rfc3339;
    let parse = |s: &str| OffsetDateTime::parse(s, &Rfc3339).ok();
    let start = chain.iter().filter_map(|c| parse(&c.not_before)).max()?;
    let end = chain.iter().filter_map(|c| parse(&c.not_after)).min()?;
    if start >= end {
        return None;
    }
    let t = if now < start {
        start + time::Duration::seconds(1)
    } else {
        end - time::Duration::seconds(1)
    };
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    Some(UnixTime::since_unix_epoch(Duration::from_secs(secs)))
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let facts = self.gather(end_entity, intermediates, server_name, ocsp_response, now);
        let verdict = judge(&facts);
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(verdict);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

//! DANE for SMTP (RFC 7672, RFC 6698, RFC 7671): TLSA records and their match against the
//! certificate chain an MX address presents. Pure functions over records and DER;
//! [`lookup`] asks the DNS and judges each address, [`judge`] turns the verdicts into findings.
//!
//! RFC 7672 §3.1: SMTP uses only DANE-TA(2) and DANE-EE(3); PKIX-TA(0) and PKIX-EE(1) records,
//! unknown selectors or matching types, and digests of the wrong length are "unusable" (RFC
//! 7671 §4.1: treated as absent). DANE-EE matches the leaf and ignores its names and dates
//! (RFC 7672 §3.1.1); DANE-TA matches a certificate of the chain that then serves as the trust
//! anchor, and the leaf must name a reference identifier (RFC 7672 §3.2.2).

pub mod judge;
pub mod lookup;
#[cfg(test)]
mod tests;

use ring::digest;

use crate::model::{DaneAddress, DaneOutcome, TlsaRecord};
use crate::net::tls::{AnchorVerdict, spki_der, verify_from_anchor};

/// DANE-TA(2): the record names a trust anchor of the chain.
pub const DANE_TA: u8 = 2;
/// DANE-EE(3): the record names the server's own certificate or key.
pub const DANE_EE: u8 = 3;

/// Longest association data accepted in presentation form (a full certificate, hex).
const MAX_DATA_HEX: usize = 16 * 1024;

/// A record from its wire fields, with [`TlsaRecord::usable`] decided.
pub fn record(usage: u8, selector: u8, matching: u8, data: &[u8]) -> TlsaRecord {
    let mut r = TlsaRecord {
        usage,
        selector,
        matching,
        data: hex(data),
        usable: false,
    };
    r.usable = unusable_reason(&r).is_none();
    r
}

/// Parse the presentation form `usage selector matching hex…` (RFC 6698 §2.2; the hex may be
/// split by white space). Total: any input gives a record or a reason.
pub fn parse_presentation(s: &str) -> Result<TlsaRecord, String> {
    let mut words = s.split_whitespace();
    let mut field = |what: &str| -> Result<u8, String> {
        let w = words.next().ok_or_else(|| format!("missing {what}"))?;
        w.parse::<u8>().map_err(|_| {
            format!(
                "{what} '{}' is not 0–255",
                w.chars().take(8).collect::<String>()
            )
        })
    };
    let (usage, selector, matching) =
        (field("usage")?, field("selector")?, field("matching type")?);
    let data: String = words.collect();
    if data.is_empty() {
        return Err("missing certificate association data".into());
    }
    if data.len() > MAX_DATA_HEX {
        return Err("certificate association data too long".into());
    }
    let bytes = unhex(&data).ok_or("certificate association data is not hex")?;
    Ok(record(usage, selector, matching, &bytes))
}

/// Why a record cannot be used for SMTP, or `None` when it can (RFC 7672 §3.1, RFC 7671 §4.1).
pub fn unusable_reason(r: &TlsaRecord) -> Option<&'static str> {
    let len = r.data.len() / 2;
    match (r.usage, r.selector, r.matching) {
        (0 | 1, ..) => Some("PKIX-TA(0) and PKIX-EE(1) are not used for SMTP (RFC 7672 §3.1.3)"),
        (4.., ..) => Some("unknown certificate usage"),
        (_, 2.., _) => Some("unknown selector"),
        (_, _, 3..) => Some("unknown matching type"),
        _ if unhex(&r.data).is_none() => Some("association data is not hex"),
        (_, _, 1) if len != 32 => Some("a SHA-256 digest is 32 bytes"),
        (_, _, 2) if len != 64 => Some("a SHA-512 digest is 64 bytes"),
        (_, _, 0) if len == 0 => Some("empty association data"),
        _ => None,
    }
}

/// The association data of `cert` for `selector` and `matching` (RFC 6698 §2.1.2–§2.1.3):
/// the certificate or its SubjectPublicKeyInfo, as is or hashed.
pub fn association(cert: &[u8], selector: u8, matching: u8) -> Option<Vec<u8>> {
    let selected = match selector {
        0 => cert.to_vec(),
        1 => spki_der(cert)?,
        _ => return None,
    };
    match matching {
        0 => Some(selected),
        1 => Some(digest::digest(&digest::SHA256, &selected).as_ref().to_vec()),
        2 => Some(digest::digest(&digest::SHA512, &selected).as_ref().to_vec()),
        _ => None,
    }
}

/// Does usable record `r` match certificate `cert`?
pub fn matches(r: &TlsaRecord, cert: &[u8]) -> bool {
    r.usable
        && unhex(&r.data)
            .is_some_and(|want| association(cert, r.selector, r.matching) == Some(want))
}

/// The DANE verdict on the chain one address presented (leaf first, DER). `names` are the
/// reference identifiers for DANE-TA: the MX host name, and the TLSA base domain when a
/// CNAME was followed (RFC 7672 §3.2.2).
pub fn check_chain(records: &[TlsaRecord], chain: &[Vec<u8>], names: &[String]) -> DaneAddress {
    let verdict = |outcome, matched: Option<&TlsaRecord>, detail: Option<String>| DaneAddress {
        outcome,
        matched: matched.map(TlsaRecord::presentation),
        detail,
        ..DaneAddress::default()
    };
    if !records.iter().any(|r| r.usable) {
        return verdict(
            DaneOutcome::NotChecked,
            None,
            Some("no usable TLSA record".into()),
        );
    }
    let Some(leaf) = chain.first() else {
        return verdict(
            DaneOutcome::Mismatch,
            None,
            Some("no certificate presented".into()),
        );
    };
    // RFC 7672 §3.1.1: DANE-EE authenticates the key alone; names and expiry do not matter.
    if let Some(r) = records
        .iter()
        .find(|r| r.usage == DANE_EE && matches(r, leaf))
    {
        return verdict(DaneOutcome::Valid, Some(r), None);
    }
    let mut name_mismatch = None;
    let mut ta_problem = None;
    for r in records.iter().filter(|r| r.usable && r.usage == DANE_TA) {
        for anchor in anchors(r, chain) {
            match verify_from_anchor(chain, &anchor, names) {
                AnchorVerdict::Valid(name) => {
                    let mut v = verdict(DaneOutcome::Valid, Some(r), None);
                    v.name = Some(name);
                    return v;
                }
                AnchorVerdict::NameMismatch => name_mismatch = Some(r),
                AnchorVerdict::Invalid(e) => ta_problem = Some(e),
            }
        }
    }
    if let Some(r) = name_mismatch {
        let detail = format!("the certificate names none of {}", names.join(", "));
        return verdict(DaneOutcome::NameMismatch, Some(r), Some(detail));
    }
    let presented = presented(leaf);
    let detail = match ta_problem {
        Some(e) => {
            format!("the chain does not validate from the DANE-TA anchor ({e}); {presented}")
        }
        None => presented,
    };
    verdict(DaneOutcome::Mismatch, None, Some(detail))
}

/// Certificates that may serve as the anchor of DANE-TA record `r`: those of the chain above
/// the leaf that match it, and the record's own data when it is a full certificate (`2 0 0`,
/// RFC 7671 §5.2.2: then the server need not send it).
fn anchors(r: &TlsaRecord, chain: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = chain
        .iter()
        .skip(1)
        .filter(|c| matches(r, c))
        .cloned()
        .collect();
    if r.selector == 0
        && r.matching == 0
        && let Some(cert) = unhex(&r.data)
        && !out.contains(&cert)
    {
        out.push(cert);
    }
    out
}

/// What the leaf would match as `3 1 1`, for the admin to compare with the published records.
fn presented(leaf: &[u8]) -> String {
    match association(leaf, 1, 1) {
        Some(d) => format!("the certificate's key is 3 1 1 {}", hex(&d)),
        None => "the certificate does not parse".into(),
    }
}

/// Lowercase hex.
pub fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a hex string (either case); `None` for odd length or a non-hex character.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|p| {
            let d = |c: u8| (c as char).to_digit(16);
            Some((d(p[0])? * 16 + d(p[1])?) as u8)
        })
        .collect()
}

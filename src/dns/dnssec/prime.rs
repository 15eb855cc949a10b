//! Priming the anchors of `--trust-anchor` (RFC 4035 §5, unbound's `trust-anchor-file`): for
//! each anchored zone, its DNSKEY set is fetched once, an anchored key (a DNSKEY of the file, or
//! one whose digest a DS of the file holds, RFC 4034 §5.1.4) must have signed the set, and then
//! every zone key of the set is trusted for the zone. hickory's validator treats a zone below
//! the root as anchored only when all of its keys are, so the set is what it is given.

use std::sync::Arc;

use hickory_resolver::net::dnssec::DnssecDnsHandle;
use hickory_resolver::net::xfer::{DnsHandle, FirstAnswer};
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, RRSIG};
use hickory_resolver::proto::dnssec::{PublicKey, TrustAnchors, Verifier};
use hickory_resolver::proto::op::{DnsResponse, Query};
use hickory_resolver::proto::rr::{DNSClass, LowerName, Name, RData, Record, RecordType};

use super::{Raw, request_options};
use crate::dns::anchor::{Anchor, AnchorKey, AnchorSet};

/// The validator, with the root's built-in anchors and the primed zones.
pub(crate) struct Primed {
    pub handle: DnssecDnsHandle<Raw>,
    /// Anchored zones whose keys could not be established, and why: names below them are bogus.
    pub problems: Vec<(Name, String)>,
}

/// Build the validator: hickory's root anchors plus the keys each anchored zone proves.
pub(crate) async fn prime(raw: &Raw, anchors: &AnchorSet) -> Primed {
    let mut trust = TrustAnchors::default();
    let mut problems = Vec::new();
    for zone in anchors.zones() {
        let mine: Vec<&Anchor> = anchors.anchors.iter().filter(|a| a.zone == zone).collect();
        let name = mine[0].name();
        let lower = LowerName::from(&name);
        match zone_keys(raw, &name, &mine).await {
            Ok(keys) => {
                for k in keys {
                    trust.insert_with_name(k.public_key(), lower.clone());
                }
            }
            Err(reason) => {
                // The file's own DNSKEYs stay trusted: a zone whose keys are all anchored
                // still validates, and every other one fails with `reason`.
                for a in &mine {
                    if let AnchorKey::Dnskey(k) = &a.key {
                        trust.insert_with_name(k.public_key(), lower.clone());
                    }
                }
                problems.push((name, reason));
            }
        }
    }
    Primed {
        handle: DnssecDnsHandle::with_trust_anchor(raw.clone(), Arc::new(trust)),
        problems,
    }
}

/// The DNSKEYs of `zone`'s set (zone keys, not revoked) once an anchored key signed the set.
async fn zone_keys(raw: &Raw, zone: &Name, anchors: &[&Anchor]) -> Result<Vec<DNSKEY>, String> {
    let shown = zone.to_ascii();
    let resp = raw
        .lookup(
            Query::query(zone.clone(), RecordType::DNSKEY),
            request_options(),
        )
        .first_answer()
        .await
        .map_err(|e| format!("trust anchor {shown}: the DNSKEY lookup failed: {e}"))?;
    let keys = dnskeys(&resp, zone);
    if keys.is_empty() {
        return Err(format!(
            "trust anchor {shown}: the zone serves no DNSKEY record"
        ));
    }
    let trusted: Vec<&DNSKEY> = keys
        .iter()
        .map(|(_, k)| *k)
        .filter(|k| anchors.iter().any(|a| matches_anchor(a, zone, k)))
        .collect();
    if trusted.is_empty() {
        let tags: Vec<String> = anchors.iter().map(|a| a.key_tag.to_string()).collect();
        return Err(format!(
            "trust anchor {shown}: no DNSKEY the zone serves matches the anchor (key tag {})",
            tags.join(", ")
        ));
    }
    let records: Vec<Record> = keys.iter().map(|(r, _)| (*r).clone()).collect();
    let now = now();
    let signed = rrsigs(&resp, zone, RecordType::DNSKEY).any(|sig| {
        let input = sig.input();
        let in_time = input.sig_inception.get() <= now && now <= input.sig_expiration.get();
        in_time
            && trusted.iter().any(|k| {
                k.calculate_key_tag().ok() == Some(input.key_tag)
                    && k.algorithm() == input.algorithm
                    && k.verify_rrsig(zone, DNSClass::IN, sig, records.iter())
                        .is_ok()
            })
    });
    if !signed {
        return Err(format!(
            "trust anchor {shown}: the DNSKEY set carries no valid signature by the anchored key"
        ));
    }
    Ok(keys
        .into_iter()
        .map(|(_, k)| k.clone())
        .filter(|k| k.zone_key() && !k.revoke())
        .collect())
}

/// Whether `key` of `zone` is the key `anchor` names.
fn matches_anchor(anchor: &Anchor, zone: &Name, key: &DNSKEY) -> bool {
    match &anchor.key {
        AnchorKey::Dnskey(k) => {
            k.algorithm() == key.algorithm()
                && k.public_key().public_bytes() == key.public_key().public_bytes()
        }
        AnchorKey::Ds(ds) => ds.covers(zone, key).unwrap_or(false),
    }
}

/// The DNSKEY records of `zone` in the answer, with their data.
pub(crate) fn dnskeys<'a>(resp: &'a DnsResponse, zone: &Name) -> Vec<(&'a Record, &'a DNSKEY)> {
    resp.answers
        .iter()
        .filter(|r| r.name == *zone)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some((r, k)),
            _ => None,
        })
        .collect()
}

/// The RRSIGs in the answer over `owner`'s records of type `covered`.
pub(crate) fn rrsigs<'a>(
    resp: &'a DnsResponse,
    owner: &'a Name,
    covered: RecordType,
) -> impl Iterator<Item = &'a RRSIG> {
    resp.answers.iter().filter_map(move |r| match &r.data {
        RData::DNSSEC(DNSSECRData::RRSIG(sig))
            if r.name == *owner && sig.input().type_covered == covered =>
        {
            Some(sig)
        }
        _ => None,
    })
}

/// Seconds since 1970 as RRSIG times count them (RFC 4034 §3.1.5; serial arithmetic aside,
/// good until 2106).
pub(crate) fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

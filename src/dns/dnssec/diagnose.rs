//! Why an answer is bogus, in words: hickory's validator says only *that* it is. The same
//! question is asked again without validation and its signatures are checked one by one, as
//! RFC 4035 §5.3 orders the checks: present, in time, made by a key the signer's DNSKEY set
//! holds, and matching the records.

use hickory_resolver::net::xfer::{DnsHandle, FirstAnswer};
use hickory_resolver::proto::dnssec::Verifier;
use hickory_resolver::proto::dnssec::rdata::RRSIG;
use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::{DNSClass, Name, Record, RecordType};

use super::prime::{Primed, dnskeys, now, rrsigs};
use super::{Raw, request_options};

/// One sentence on why `qname`/`rtype` failed validation.
pub(crate) async fn bogus_reason(
    raw: &Raw,
    qname: &Name,
    rtype: RecordType,
    primed: &Primed,
) -> String {
    let shown = format!("{} {rtype}", qname.to_ascii().trim_end_matches('.'));
    if let Some((zone, why)) = primed.problems.iter().find(|(z, _)| z.zone_of(qname)) {
        let _ = zone;
        return format!("{shown}: DNSSEC bogus: {why}");
    }
    let resp = match raw
        .lookup(Query::query(qname.clone(), rtype), request_options())
        .first_answer()
        .await
    {
        Ok(r) => r,
        Err(_) => {
            return format!(
                "{shown}: DNSSEC bogus: the denial of existence (NSEC/NSEC3) does not validate"
            );
        }
    };
    let owner = resp
        .answers
        .iter()
        .find(|r| r.record_type() == rtype)
        .map(|r| r.name.clone());
    let Some(owner) = owner else {
        return format!(
            "{shown}: DNSSEC bogus: the denial of existence (NSEC/NSEC3) does not validate"
        );
    };
    let records: Vec<Record> = resp
        .answers
        .iter()
        .filter(|r| r.record_type() == rtype && r.name == owner)
        .cloned()
        .collect();
    let sigs: Vec<&RRSIG> = rrsigs(&resp, &owner, rtype).collect();
    if sigs.is_empty() {
        return format!(
            "{shown}: DNSSEC bogus: no RRSIG over the records, yet the zone is signed (a DS leads to it)"
        );
    }
    let mut reasons = Vec::new();
    for sig in sigs {
        reasons.push(check_one(raw, &owner, &records, sig).await);
    }
    format!("{shown}: DNSSEC bogus: {}", reasons.join("; "))
}

/// What is wrong with one RRSIG over `records`.
async fn check_one(raw: &Raw, owner: &Name, records: &[Record], sig: &RRSIG) -> String {
    let input = sig.input();
    let signer = &input.signer_name;
    let (tag, zone) = (input.key_tag, signer.to_ascii());
    let t = now();
    if t > input.sig_expiration.get() {
        return format!(
            "the RRSIG (key tag {tag}) expired at {}",
            stamp(input.sig_expiration.get())
        );
    }
    if t < input.sig_inception.get() {
        return format!(
            "the RRSIG (key tag {tag}) is not valid before {}",
            stamp(input.sig_inception.get())
        );
    }
    let keys = raw
        .lookup(
            Query::query(signer.clone(), RecordType::DNSKEY),
            request_options(),
        )
        .first_answer()
        .await;
    let Ok(keys) = keys else {
        return format!("the DNSKEY set of {zone} cannot be fetched");
    };
    let candidates: Vec<_> = dnskeys(&keys, signer)
        .into_iter()
        .filter(|(_, k)| {
            k.calculate_key_tag().ok() == Some(tag) && k.algorithm() == input.algorithm
        })
        .collect();
    if candidates.is_empty() {
        return format!(
            "the RRSIG was made by key tag {tag}, which the DNSKEY set of {zone} does not hold"
        );
    }
    let verifies = candidates.iter().any(|(_, k)| {
        k.verify_rrsig(owner, DNSClass::IN, sig, records.iter())
            .is_ok()
    });
    if !verifies {
        return format!(
            "the RRSIG (key tag {tag} of {zone}) does not match the records: changed after signing, or forged"
        );
    }
    format!(
        "the RRSIG (key tag {tag}) verifies, but the DNSKEY set of {zone} has no valid chain to a trust anchor (DS or anchor mismatch)"
    )
}

/// An RRSIG time as RFC 3339.
fn stamp(secs: u32) -> String {
    time::OffsetDateTime::from_unix_timestamp(i64::from(secs))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

//! Table tests of how the validator's verdict becomes a [`Validated`]: proofs per record,
//! denials, bogus answers kept with their records, and the positive answer that an unrelated
//! NSEC3 in the authority section must not turn bogus.

use hickory_resolver::proto::dnssec::Algorithm;
use hickory_resolver::proto::dnssec::rdata::sig::SigInput;
use hickory_resolver::proto::dnssec::rdata::{DNSSECRData, RRSIG};
use hickory_resolver::proto::op::{Message, OpCode};
use hickory_resolver::proto::rr::SerialNumber;
use hickory_resolver::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
use hickory_resolver::proto::rr::rdata::{CNAME, MX, SOA, TLSA};

use super::*;

fn name(n: &str) -> Name {
    Name::from_ascii(n).unwrap()
}

fn rec(owner: &str, data: RData, proof: Proof) -> Record {
    let mut r = Record::from_rdata(name(owner), 300, data);
    r.proof = proof;
    r
}

fn mx(owner: &str, pref: u16, host: &str, proof: Proof) -> Record {
    rec(owner, RData::MX(MX::new(pref, name(host))), proof)
}

fn tlsa(owner: &str, proof: Proof) -> Record {
    let t = TLSA::new(
        CertUsage::DaneEe,
        Selector::Spki,
        Matching::Sha256,
        vec![7; 32],
    );
    rec(owner, RData::TLSA(t), proof)
}

fn soa(proof: Proof) -> Record {
    let s = SOA::new(
        name("ns1.example.test."),
        name("h.example.test."),
        1,
        2,
        3,
        4,
        5,
    );
    rec("example.test.", RData::SOA(s), proof)
}

/// An RRSIG over `covered` at `owner` with `labels` in its label count.
fn rrsig(owner: &str, covered: RecordType, labels: u8) -> Record {
    let input = SigInput {
        type_covered: covered,
        algorithm: Algorithm::ED25519,
        num_labels: labels,
        original_ttl: 300,
        sig_expiration: SerialNumber::new(2),
        sig_inception: SerialNumber::new(1),
        key_tag: 1,
        signer_name: name("example.test."),
    };
    let sig = RRSIG::from_sig(input, vec![0; 64]);
    rec(
        owner,
        RData::DNSSEC(DNSSECRData::RRSIG(sig)),
        Proof::Indeterminate,
    )
}

fn response(code: ResponseCode, answers: Vec<Record>, authorities: Vec<Record>) -> DnsResponse {
    let mut m = Message::response(1, OpCode::Query);
    m.metadata.response_code = code;
    m.add_answers(answers);
    m.add_authorities(authorities);
    DnsResponse::from_message(m).unwrap()
}

#[test]
fn answers_take_the_weakest_proof_of_their_records() {
    use DnssecStatus::*;
    let cases = [
        (vec![Proof::Secure, Proof::Secure], Secure),
        (vec![Proof::Secure, Proof::Insecure], Insecure),
        (vec![Proof::Insecure, Proof::Indeterminate], Indeterminate),
        (vec![Proof::Secure, Proof::Bogus], Bogus),
    ];
    for (proofs, want) in cases {
        let answers = proofs
            .iter()
            .enumerate()
            .map(|(i, p)| mx("example.test.", i as u16, "mx.example.test.", *p))
            .collect();
        let v = classify(
            "example.test",
            QueryType::Mx,
            Ok(response(ResponseCode::NoError, answers, vec![])),
        );
        assert_eq!(v.status, want, "{proofs:?}");
        // Bogus records stay visible: a bogus answer is never "no records".
        assert_eq!(v.mx().len(), 2, "{proofs:?}");
        assert_eq!(v.denial, None);
        assert_eq!(v.error.is_some(), want == Indeterminate, "{v:?}");
    }
}

#[test]
fn a_cname_on_the_way_counts_and_is_listed() {
    let answers = vec![
        rec(
            "_25._tcp.mx.example.test.",
            RData::CNAME(CNAME(name("tlsa.example.test."))),
            Proof::Insecure,
        ),
        tlsa("tlsa.example.test.", Proof::Secure),
    ];
    let v = classify(
        "_25._tcp.mx.example.test.",
        QueryType::Tlsa,
        Ok(response(ResponseCode::NoError, answers, vec![])),
    );
    assert_eq!(v.status, DnssecStatus::Insecure);
    assert_eq!(v.name, "_25._tcp.mx.example.test");
    assert_eq!(v.tlsa()[0].usage, 3);
    assert!(
        matches!(&v.records[0], ValidatedRecord::Cname { target, .. } if target == "tlsa.example.test")
    );
}

#[test]
fn denials_tell_nxdomain_from_nodata_and_carry_the_proof_of_their_authority_records() {
    let cases = [
        (
            ResponseCode::NXDomain,
            vec![soa(Proof::Secure)],
            Denial::NxDomain,
            DnssecStatus::Secure,
        ),
        (
            ResponseCode::NoError,
            vec![soa(Proof::Secure)],
            Denial::NoData,
            DnssecStatus::Secure,
        ),
        (
            ResponseCode::NXDomain,
            vec![soa(Proof::Insecure)],
            Denial::NxDomain,
            DnssecStatus::Insecure,
        ),
        // No authority at all: the validator accepted it only as provably unsigned.
        (
            ResponseCode::NoError,
            vec![],
            Denial::NoData,
            DnssecStatus::Insecure,
        ),
    ];
    for (code, auth, denial, status) in cases {
        let v = classify(
            "x.example.test",
            QueryType::Tlsa,
            Ok(response(code, vec![], auth)),
        );
        assert_eq!((v.denial, v.status), (Some(denial), status), "{code:?}");
        assert!(v.records.is_empty());
    }
}

#[test]
fn failures_are_indeterminate_with_a_reason() {
    let v = classify(
        "example.test",
        QueryType::Mx,
        Ok(response(ResponseCode::ServFail, vec![], vec![])),
    );
    assert_eq!(v.status, DnssecStatus::Indeterminate);
    assert!(v.error.unwrap().contains("example.test"));
    let v = classify("example.test", QueryType::Mx, Err(NetError::Timeout));
    assert_eq!(v.status, DnssecStatus::Indeterminate);
    assert!(v.error.unwrap().contains("timeout"));
    let v = classify(
        "example.test",
        QueryType::Mx,
        Err(NetError::Dns(HDnsError::DnssecBogus)),
    );
    assert_eq!(v.status, DnssecStatus::Bogus);
}

#[test]
fn a_failed_denial_proof_beside_a_signed_positive_answer() {
    // The owner's own signature proves a non-wildcard answer (RFC 4035 §5.3.4).
    let plain = vec![
        mx("example.test.", 10, "mx.example.test.", Proof::Secure),
        rrsig("example.test.", RecordType::MX, 2),
    ];
    let mut v = classify("example.test", QueryType::Mx, Err(NetError::Timeout));
    judge_nsec(
        &mut v,
        &response(ResponseCode::NoError, plain, vec![]),
        Proof::Bogus,
    );
    assert_eq!(
        (v.status, v.mx().len(), v.denial),
        (DnssecStatus::Secure, 1, None)
    );
    // A wildcard expansion (label count 2 < 3) needs the proof: bogus it stays.
    let wild = vec![
        mx("a.example.test.", 10, "mx.example.test.", Proof::Secure),
        rrsig("a.example.test.", RecordType::MX, 2),
    ];
    let mut v = classify("a.example.test", QueryType::Mx, Err(NetError::Timeout));
    judge_nsec(
        &mut v,
        &response(ResponseCode::NoError, wild, vec![]),
        Proof::Bogus,
    );
    assert_eq!((v.status, v.mx().len()), (DnssecStatus::Bogus, 1));
    // No answer: the denial's own verdict.
    let mut v = classify("b.example.test", QueryType::Mx, Err(NetError::Timeout));
    judge_nsec(
        &mut v,
        &response(ResponseCode::NXDomain, vec![], vec![]),
        Proof::Insecure,
    );
    assert_eq!(
        (v.status, v.denial),
        (DnssecStatus::Insecure, Some(Denial::NxDomain))
    );
}

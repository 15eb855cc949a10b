//! The record types the inbound audit reads besides MX/SRV/A/AAAA: TXT (SPF, DMARC, DKIM,
//! MTA-STS, TLS-RPT), CNAME (an MX target must not be an alias, RFC 2181 §10.3) and PTR
//! (forward-confirmed reverse DNS).

use std::net::IpAddr;

use hickory_resolver::proto::rr::{RData, Record, RecordType};

use super::{DnsError, Resolver, fqdn, name_str};

/// Cap on the text of one TXT record set: real SPF/DKIM answers are a few KiB at most.
const MAX_TXT: usize = 64 * 1024;

impl Resolver {
    /// TXT records of `name`, each record's character-strings concatenated without separator
    /// (RFC 7208 §3.3, RFC 6376 §3.6.2.2), in answer order. Non-UTF-8 bytes become U+FFFD.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let lookup = self
            .bounded(name, "TXT", self.inner.txt_lookup(fqdn(name)))
            .await?;
        let out = txt_answers(lookup.answers());
        if out.is_empty() {
            return Err(DnsError::NoRecords(name.to_string(), "TXT"));
        }
        Ok(out)
    }

    /// The CNAME target of `name`, when `name` is an alias; `Ok(None)` when it is not.
    pub async fn cname(&self, name: &str) -> Result<Option<String>, DnsError> {
        let r = self
            .bounded(
                name,
                "CNAME",
                self.inner.lookup(fqdn(name), RecordType::CNAME),
            )
            .await;
        match r {
            Ok(lookup) => Ok(lookup.answers().iter().find_map(|r| match &r.data {
                RData::CNAME(c) => Some(name_str(&c.0.to_ascii())),
                _ => None,
            })),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// PTR names of `ip` (reverse DNS), lowercase without the root dot.
    pub async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, DnsError> {
        let name = reverse_name(ip);
        let lookup = self
            .bounded(
                &name,
                "PTR",
                self.inner.lookup(name.clone(), RecordType::PTR),
            )
            .await?;
        let out: Vec<String> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::PTR(p) => Some(name_str(&p.0.to_ascii())),
                _ => None,
            })
            .collect();
        if out.is_empty() {
            return Err(DnsError::NoRecords(name, "PTR"));
        }
        Ok(out)
    }
}

/// The TXT records among `answers`, each record's strings concatenated; records past
/// [`MAX_TXT`] bytes of text in all are dropped.
fn txt_answers(answers: &[Record]) -> Vec<String> {
    let mut total = 0usize;
    answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => {
                let bytes: Vec<u8> = t.txt_data.iter().flat_map(|s| s.iter().copied()).collect();
                total += bytes.len();
                (total <= MAX_TXT).then(|| String::from_utf8_lossy(&bytes).into_owned())
            }
            _ => None,
        })
        .collect()
}

/// `in-addr.arpa.` / `ip6.arpa.` name of an address (RFC 1035 §3.5, RFC 3596 §2.5).
pub(crate) fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::new();
            for b in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s + "ip6.arpa."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::op::{Message, OpCode};
    use hickory_resolver::proto::rr::Name;
    use hickory_resolver::proto::rr::rdata::TXT;
    use proptest::prelude::*;

    /// A DNS response with one TXT record per entry (each a list of character-strings).
    fn response(recs: &[Vec<Vec<u8>>]) -> Vec<u8> {
        let mut m = Message::response(1, OpCode::Query);
        let owner = Name::from_ascii("_dmarc.example.test.").unwrap();
        for strings in recs {
            let rdata = RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()));
            m.add_answer(Record::from_rdata(owner.clone(), 60, rdata));
        }
        m.to_vec().unwrap()
    }

    proptest! {
        /// Well-formed TXT answers of any bytes, then damaged: what decodes gives at most one
        /// string per answer and never more than [`MAX_TXT`] bytes of text in all (each
        /// non-UTF-8 byte may become a 3-byte U+FFFD).
        #[test]
        fn txt_answer_handling_is_total_and_bounded(
            recs in prop::collection::vec(
                prop::collection::vec(prop::collection::vec(any::<u8>(), 0..255), 0..4),
                0..12,
            ),
            flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            cut in any::<usize>(),
        ) {
            let mut bytes = response(&recs);
            for (at, b) in flips {
                let n = bytes.len();
                bytes[at % n] ^= b;
            }
            bytes.truncate(cut % (bytes.len() + 1) + 12);
            let Ok(msg) = Message::from_vec(&bytes) else { return Ok(()) };
            let txt = txt_answers(&msg.answers);
            prop_assert!(txt.len() <= msg.answers.len());
            prop_assert!(txt.iter().map(String::len).sum::<usize>() <= 3 * MAX_TXT);
        }
    }

    #[test]
    fn txt_text_past_the_cap_is_dropped() {
        let big = vec![vec![b'a'; 255]; 200];
        let recs: Vec<Vec<Vec<u8>>> = (0..3).map(|_| big.clone()).collect();
        let answers: Vec<Record> = recs
            .iter()
            .map(|r| {
                let rdata = RData::TXT(TXT::from_bytes(r.iter().map(Vec::as_slice).collect()));
                Record::from_rdata(Name::root(), 60, rdata)
            })
            .collect();
        // 51,000 bytes a record: the second would pass 64 KiB.
        assert_eq!(txt_answers(&answers).len(), 1);
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.1".parse().unwrap()),
            "1.2.0.192.in-addr.arpa."
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
        );
    }
}

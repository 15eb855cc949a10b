//! DNSSEC-validated lookups (RFC 4033–4035) for DANE (RFC 7672 §2.2: TLSA and the MX records
//! that lead to them count only when validated). A resolver of its own, apart from
//! [`Resolver`](super::Resolver): it asks the same servers (`--dns` or the system's) with the
//! DO bit and validates every answer itself, with hickory's validator, from the trust anchors:
//! the root KSKs built into hickory plus the zones of `--trust-anchor` ([`AnchorSet`]).
//!
//! A DS or DNSKEY anchor for a zone below the root is turned into trusted keys once, before the
//! first lookup ("priming", RFC 7958 §1.1 / unbound's `trust-anchor-file`): the zone's DNSKEY
//! set is fetched, the anchor must match one of its keys, and that key must sign the set; then
//! every key of the set is trusted for that zone and names below it validate from there.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::{DnsHandle, FirstAnswer, RetryDnsHandle};
use hickory_resolver::net::{DnsError as HDnsError, NetError};
use hickory_resolver::proto::dnssec::Proof;
use hickory_resolver::proto::dnssec::rdata::DNSSECRData;
use hickory_resolver::proto::op::{DnsRequestOptions, DnsResponse, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::{NameServerPool, PoolContext, TlsConfig};
use tokio::sync::OnceCell;

use super::anchor::AnchorSet;
use super::{DnsError, Mx, name_str};
use crate::model::DnssecStatus;

mod diagnose;
mod prime;

/// The plain (non-validating) path to the servers: retries over the pool.
type Raw = RetryDnsHandle<NameServerPool<TokioRuntimeProvider>>;

/// The record types a validated lookup asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryType {
    A,
    Aaaa,
    Mx,
    Tlsa,
    Txt,
    Cname,
    Ns,
    Ds,
    Dnskey,
}

impl QueryType {
    fn rtype(self) -> RecordType {
        match self {
            QueryType::A => RecordType::A,
            QueryType::Aaaa => RecordType::AAAA,
            QueryType::Mx => RecordType::MX,
            QueryType::Tlsa => RecordType::TLSA,
            QueryType::Txt => RecordType::TXT,
            QueryType::Cname => RecordType::CNAME,
            QueryType::Ns => RecordType::NS,
            QueryType::Ds => RecordType::DS,
            QueryType::Dnskey => RecordType::DNSKEY,
        }
    }

    /// The mnemonic: `MX`, `TLSA`, …
    pub fn as_str(self) -> &'static str {
        match self {
            QueryType::A => "A",
            QueryType::Aaaa => "AAAA",
            QueryType::Mx => "MX",
            QueryType::Tlsa => "TLSA",
            QueryType::Txt => "TXT",
            QueryType::Cname => "CNAME",
            QueryType::Ns => "NS",
            QueryType::Ds => "DS",
            QueryType::Dnskey => "DNSKEY",
        }
    }
}

/// One TLSA record (RFC 6698 §2.1), as numbers and bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tlsa {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 7218).
    pub usage: u8,
    /// 0 the whole certificate, 1 its SubjectPublicKeyInfo.
    pub selector: u8,
    /// 0 exact, 1 SHA-256, 2 SHA-512.
    pub matching: u8,
    /// The certificate association data.
    pub data: Vec<u8>,
}

/// One record of a validated answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidatedRecord {
    Mx(Mx),
    Tlsa(Tlsa),
    /// A or AAAA.
    Ip(IpAddr),
    /// The strings of one TXT record, concatenated (RFC 7208 §3.3).
    Txt(String),
    /// An alias on the way to the answer: owner and target, lowercase, without the root dot.
    Cname {
        owner: String,
        target: String,
    },
    /// Any other type, in presentation format.
    Other {
        rtype: String,
        text: String,
    },
}

/// Why an answer holds no record of the type asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// NXDOMAIN: the name does not exist.
    NxDomain,
    /// NODATA: the name exists without a record of this type.
    NoData,
}

/// A validated answer: its DNSSEC status, the records (of the type asked, and any CNAME that
/// led there), or the denial; `error` says why the status is `bogus` or `indeterminate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    /// The name asked, lowercase, without the root dot.
    pub name: String,
    pub qtype: QueryType,
    pub status: DnssecStatus,
    /// Also filled when `bogus`: a bogus answer is reported, never taken for "no records".
    pub records: Vec<ValidatedRecord>,
    /// Set when the answer holds no record of the type asked.
    pub denial: Option<Denial>,
    pub error: Option<String>,
}

impl Validated {
    pub(crate) fn is_secure(&self) -> bool {
        self.status == DnssecStatus::Secure
    }

    /// The MX records, lowest preference first.
    pub fn mx(&self) -> Vec<Mx> {
        let mut out: Vec<Mx> = self
            .records
            .iter()
            .filter_map(|r| match r {
                ValidatedRecord::Mx(m) => Some(m.clone()),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
        out
    }

    /// The TLSA records, in answer order.
    pub fn tlsa(&self) -> Vec<Tlsa> {
        self.records
            .iter()
            .filter_map(|r| match r {
                ValidatedRecord::Tlsa(t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    /// The A/AAAA addresses, in answer order.
    pub fn ips(&self) -> Vec<IpAddr> {
        self.records
            .iter()
            .filter_map(|r| match r {
                ValidatedRecord::Ip(ip) => Some(*ip),
                _ => None,
            })
            .collect()
    }

    fn failed(name: &str, qtype: QueryType, status: DnssecStatus, error: String) -> Validated {
        Validated {
            name: name_str(name),
            qtype,
            status,
            records: Vec::new(),
            denial: None,
            error: Some(error),
        }
    }
}

/// The validating resolver. Cheap to clone; validations are cached for the run.
#[derive(Clone)]
pub struct ValidatingResolver {
    raw: Raw,
    anchors: Arc<AnchorSet>,
    primed: Arc<OnceCell<prime::Primed>>,
    /// Bound on one validated lookup, the chain of trust included.
    limit: Duration,
}

impl ValidatingResolver {
    /// `servers` empty: the system's name servers (/etc/resolv.conf), which must then be a
    /// validating-capable recursive resolver passing DNSSEC records through. `anchors`: the
    /// zones of `--trust-anchor`, on top of the root anchors built into hickory.
    pub fn new(
        servers: &[SocketAddr],
        timeout: Duration,
        anchors: AnchorSet,
    ) -> Result<Self, DnsError> {
        let setup = |e: String| DnsError::Setup(e);
        let (ns, mut opts): (Vec<NameServerConfig>, ResolverOpts) = if servers.is_empty() {
            let (cfg, opts) = hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| setup(e.to_string()))?;
            (cfg.name_servers().to_vec(), opts)
        } else {
            let ns = servers
                .iter()
                .map(|sa| {
                    let mut c = NameServerConfig::udp_and_tcp(sa.ip());
                    for conn in &mut c.connections {
                        conn.port = sa.port();
                    }
                    c
                })
                .collect();
            (ns, ResolverOpts::default())
        };
        // As the plain resolver: two tries per server within the step timeout.
        opts.timeout = timeout / 2;
        opts.attempts = 2;
        opts.validate = true;
        // DNSKEY and RRSIG answers outgrow 512 bytes: EDNS0 with a 1232-byte buffer
        // (DNS flag day 2020), then TCP on truncation.
        opts.edns0 = true;
        let attempts = opts.attempts;
        let tls = TlsConfig {
            config: super::unused_tls_config(),
        };
        let cx = Arc::new(PoolContext::new(opts, tls));
        let pool = NameServerPool::from_config(ns, cx, TokioRuntimeProvider::default());
        Ok(ValidatingResolver {
            raw: RetryDnsHandle::new(pool, attempts),
            anchors: Arc::new(anchors),
            primed: Arc::new(OnceCell::new()),
            limit: timeout,
        })
    }

    /// The zones of `--trust-anchor` (absolute, lowercase); empty with the root alone.
    pub(crate) fn anchored_zones(&self) -> Vec<String> {
        self.anchors.zones()
    }

    /// Look `name` up and validate the answer. Never fails: a lookup that cannot be validated
    /// is `indeterminate` (timeout, SERVFAIL) or `bogus`, with the reason in `error`.
    pub async fn lookup_validated(&self, name: &str, qtype: QueryType) -> Validated {
        let Ok(qname) = Name::from_ascii(super::fqdn(name)) else {
            return Validated::failed(
                name,
                qtype,
                DnssecStatus::Indeterminate,
                format!("{name}: not a valid DNS name"),
            );
        };
        let run = async {
            let primed = self
                .primed
                .get_or_init(|| prime::prime(&self.raw, &self.anchors))
                .await;
            let query = Query::query(qname.clone(), qtype.rtype());
            let result = primed
                .handle
                .lookup(query, request_options())
                .first_answer()
                .await;
            let mut v = classify(name, qtype, result);
            if v.status == DnssecStatus::Bogus {
                let why = diagnose::bogus_reason(&self.raw, &qname, qtype.rtype(), primed).await;
                v.error = Some(why);
            }
            v
        };
        match tokio::time::timeout(self.limit, run).await {
            Ok(v) => v,
            Err(_) => Validated::failed(
                name,
                qtype,
                DnssecStatus::Indeterminate,
                format!("{}: DNS timeout", name_str(name)),
            ),
        }
    }

    /// The MX records of `domain`, validated.
    pub async fn mx(&self, domain: &str) -> Validated {
        self.lookup_validated(domain, QueryType::Mx).await
    }

    /// The TLSA records of a TCP service: `_PORT._tcp.HOST` (RFC 6698 §3, RFC 7672 §2.2).
    pub async fn tlsa(&self, host: &str, port: u16) -> Validated {
        let host = host.trim_end_matches('.');
        self.lookup_validated(&format!("_{port}._tcp.{host}"), QueryType::Tlsa)
            .await
    }
}

/// Recursion desired, EDNS0 with the DO bit (RFC 4035 §3.2.1).
fn request_options() -> DnsRequestOptions {
    let mut o = DnsRequestOptions::default();
    o.recursion_desired = true;
    o.use_edns = true;
    o.edns_set_dnssec_ok = true;
    o
}

/// The weakest proof among `records` (RRSIGs aside): bogus, then indeterminate, then insecure;
/// secure only when every record is; `None` without records.
fn weakest<'a>(records: impl Iterator<Item = &'a Record>) -> Option<DnssecStatus> {
    let rank = |s: DnssecStatus| match s {
        DnssecStatus::Bogus => 0,
        DnssecStatus::Indeterminate => 1,
        DnssecStatus::Insecure => 2,
        DnssecStatus::Secure => 3,
    };
    records
        .filter(|r| r.record_type() != RecordType::RRSIG)
        .map(|r| status_of(r.proof))
        .min_by_key(|s| rank(*s))
}

fn status_of(p: Proof) -> DnssecStatus {
    match p {
        Proof::Secure => DnssecStatus::Secure,
        Proof::Insecure => DnssecStatus::Insecure,
        Proof::Bogus => DnssecStatus::Bogus,
        Proof::Indeterminate => DnssecStatus::Indeterminate,
    }
}

fn denial_of(code: ResponseCode) -> Denial {
    if code == ResponseCode::NXDomain {
        Denial::NxDomain
    } else {
        Denial::NoData
    }
}

/// Turn the validator's verdict into a [`Validated`].
fn classify(name: &str, qtype: QueryType, result: Result<DnsResponse, NetError>) -> Validated {
    let mut v = Validated {
        name: name_str(name),
        qtype,
        status: DnssecStatus::Indeterminate,
        records: Vec::new(),
        denial: None,
        error: None,
    };
    match result {
        Ok(resp) => {
            v.records = records_of(&resp.answers, qtype);
            if let Some(status) = answer_status(&resp.answers, qtype) {
                v.status = status;
            } else if resp.response_code == ResponseCode::NoError
                || resp.response_code == ResponseCode::NXDomain
            {
                // A denial the validator accepted: its proof is in the authority section; an
                // empty one was proven insecure by the absence of a DS above.
                v.denial = Some(denial_of(resp.response_code));
                let answered = resp.answers.iter().chain(resp.authorities.iter());
                v.status = weakest(answered).unwrap_or(DnssecStatus::Insecure);
            } else {
                v.error = Some(format!("{}: {}", v.name, resp.response_code));
            }
        }
        Err(NetError::Dns(HDnsError::Nsec {
            response, proof, ..
        })) => judge_nsec(&mut v, &response, proof),
        Err(NetError::Dns(HDnsError::NoRecordsFound(nr))) => {
            v.denial = Some(denial_of(nr.response_code));
            v.status = nr
                .authorities
                .as_deref()
                .and_then(|a| weakest(a.iter()))
                .unwrap_or(DnssecStatus::Indeterminate);
        }
        Err(NetError::Dns(HDnsError::DnssecBogus)) => v.status = DnssecStatus::Bogus,
        Err(NetError::Timeout) => v.error = Some(format!("{}: DNS timeout", v.name)),
        Err(e) => v.error = Some(format!("{}: {e}", v.name)),
    }
    if v.status == DnssecStatus::Indeterminate && v.error.is_none() {
        v.error = Some(format!("{}: the answer could not be validated", v.name));
    }
    v
}

/// The validator's denial verdict `proof` on `response`. A positive answer that is not a
/// wildcard expansion stands on its own signatures (RFC 4035 §5.3.4 asks a denial proof only of
/// wildcard answers): an NSEC3 some server adds to the authority section does not make it bogus.
fn judge_nsec(v: &mut Validated, response: &DnsResponse, proof: Proof) {
    let qtype = v.qtype;
    v.error = None;
    match answer_status(&response.answers, qtype) {
        Some(status) if !wildcard_expanded(&response.answers) => {
            v.records = records_of(&response.answers, qtype);
            v.status = status;
        }
        Some(_) => {
            v.records = records_of(&response.answers, qtype);
            v.status = status_of(proof);
        }
        None => {
            v.denial = Some(denial_of(response.response_code));
            v.status = status_of(proof);
        }
    }
}

/// The weakest proof of the records of the type asked and the CNAMEs leading there; `None`
/// when there is no record of the type asked.
fn answer_status(answers: &[Record], qtype: QueryType) -> Option<DnssecStatus> {
    let wanted =
        |r: &&Record| r.record_type() == qtype.rtype() || r.record_type() == RecordType::CNAME;
    if !answers.iter().any(|r| r.record_type() == qtype.rtype()) {
        return None;
    }
    weakest(answers.iter().filter(wanted))
}

/// Whether an RRSIG in `answers` was made over a wildcard (its label count is below the
/// owner's, RFC 4034 §3.1.3).
fn wildcard_expanded(answers: &[Record]) -> bool {
    answers.iter().any(|r| match &r.data {
        RData::DNSSEC(DNSSECRData::RRSIG(sig)) => sig.input().num_labels < r.name.num_labels(),
        _ => false,
    })
}

/// The records of the type asked (and the CNAMEs leading there) among `answers`.
fn records_of(answers: &[Record], qtype: QueryType) -> Vec<ValidatedRecord> {
    answers
        .iter()
        .filter(|r| r.record_type() == qtype.rtype() || r.record_type() == RecordType::CNAME)
        .map(|r| match &r.data {
            RData::MX(mx) => ValidatedRecord::Mx(Mx {
                preference: mx.preference,
                exchange: name_str(&mx.exchange.to_ascii()),
            }),
            RData::TLSA(t) => ValidatedRecord::Tlsa(Tlsa {
                usage: u8::from(t.cert_usage),
                selector: u8::from(t.selector),
                matching: u8::from(t.matching),
                data: t.cert_data.clone(),
            }),
            RData::A(a) => ValidatedRecord::Ip(IpAddr::V4(a.0)),
            RData::AAAA(a) => ValidatedRecord::Ip(IpAddr::V6(a.0)),
            RData::TXT(t) => {
                let bytes: Vec<u8> = t.txt_data.iter().flat_map(|s| s.iter().copied()).collect();
                ValidatedRecord::Txt(String::from_utf8_lossy(&bytes).into_owned())
            }
            RData::CNAME(c) => ValidatedRecord::Cname {
                owner: name_str(&r.name.to_ascii()),
                target: name_str(&c.0.to_ascii()),
            },
            other => ValidatedRecord::Other {
                rtype: r.record_type().to_string(),
                text: other.to_string(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests;

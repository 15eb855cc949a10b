//! DNS: the only module that imports hickory. Everything else asks [`Resolver`] for plain data
//! (MX, SRV, addresses) and gets a [`DnsError`] that says *not found* apart from *broken*.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, Record};
use thiserror::Error;

pub mod anchor;
pub mod dnssec;
mod records;
pub use anchor::{AnchorError, AnchorSet};
pub use dnssec::{Denial, QueryType, Tlsa, Validated, ValidatedRecord, ValidatingResolver};

/// A failed lookup.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DnsError {
    /// NXDOMAIN: the name does not exist.
    #[error("{0}: no such domain (NXDOMAIN)")]
    NxDomain(String),
    /// The name exists but has no record of the type asked (NODATA).
    #[error("{0}: no {1} record")]
    NoRecords(String, &'static str),
    #[error("{0}: DNS timeout")]
    Timeout(String),
    #[error("{0}: {1}")]
    Failed(String, String),
    #[error("cannot set up the resolver: {0}")]
    Setup(String),
}

impl DnsError {
    /// True when the answer was a clean "does not exist" rather than a failure.
    pub fn is_not_found(&self) -> bool {
        matches!(self, DnsError::NxDomain(_) | DnsError::NoRecords(..))
    }
}

/// One MX record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mx {
    pub preference: u16,
    /// Lowercase, without the trailing dot; empty for a null MX (RFC 7505).
    pub exchange: String,
}

/// One SRV record (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// Lowercase, without the trailing dot; `.` (RFC 2782: "service not available") stays `.`.
    pub target: String,
}

/// The TLS configuration hickory wants for DNS over TLS, which mailprobe never uses (every
/// lookup is UDP with TCP fallback, RFC 7766). Given explicitly so that building a resolver
/// never loads the system's CA store: hickory's default does, and fails on a host or container
/// without `/etc/ssl/certs` ("No CA certificates were loaded from the system"). Built once;
/// each resolver takes a copy.
pub(crate) fn unused_tls_config() -> rustls::ClientConfig {
    static CONFIG: std::sync::OnceLock<rustls::ClientConfig> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("ring supports TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth()
        })
        .clone()
}

/// Resolver over either the system configuration or the servers given with `--dns`.
#[derive(Clone)]
pub struct Resolver {
    inner: TokioResolver,
    /// Bound on one lookup, retries included: hickory's own timeout is per attempt.
    limit: Duration,
    /// Who answers, for messages: the `--dns` servers, or the system resolver.
    servers: String,
}

impl Resolver {
    /// `servers` empty: the system resolver (/etc/resolv.conf). Otherwise exactly those servers,
    /// UDP with TCP fallback, and no hosts file, so that a test or a migration check sees only
    /// what those servers say.
    pub fn new(servers: &[SocketAddr], timeout: Duration) -> Result<Self, DnsError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = if servers.is_empty() {
            TokioResolver::builder(provider).map_err(|e| DnsError::Setup(e.to_string()))?
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
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(ns), provider)
        };
        let opts: &mut ResolverOpts = builder.options_mut();
        // Two tries per server within the step timeout (UDP loss happens), never more in total.
        opts.timeout = timeout / 2;
        opts.attempts = 2;
        opts.ndots = 0;
        if !servers.is_empty() {
            opts.use_hosts_file = ResolveHosts::Never;
        }
        let inner = builder
            .with_tls_config(unused_tls_config())
            .build()
            .map_err(|e| DnsError::Setup(e.to_string()))?;
        let described = if servers.is_empty() {
            "the system resolver (/etc/resolv.conf)".to_string()
        } else {
            servers
                .iter()
                .map(SocketAddr::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        Ok(Resolver {
            inner,
            limit: timeout,
            servers: described,
        })
    }

    /// The servers asked, for messages: `127.0.0.1:5353` (from `--dns`) or the system resolver.
    pub fn servers(&self) -> &str {
        &self.servers
    }

    /// MX records, lowest preference first.
    pub async fn mx(&self, domain: &str) -> Result<Vec<Mx>, DnsError> {
        let lookup = self
            .bounded(domain, "MX", self.inner.mx_lookup(fqdn(domain)))
            .await?;
        let mut out: Vec<Mx> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(mx) => Some(Mx {
                    preference: mx.preference,
                    exchange: name_str(&mx.exchange.to_ascii()),
                }),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| {
            a.preference
                .cmp(&b.preference)
                .then(a.exchange.cmp(&b.exchange))
        });
        if out.is_empty() {
            return Err(DnsError::NoRecords(domain.to_string(), "MX"));
        }
        Ok(out)
    }

    /// SRV records, sorted by priority, then weight (heaviest first; RFC 2782's weighted random
    /// choice is replaced by a stable order so reports are reproducible).
    pub async fn srv(&self, name: &str) -> Result<Vec<Srv>, DnsError> {
        let lookup = self
            .bounded(name, "SRV", self.inner.srv_lookup(fqdn(name)))
            .await?;
        let out = srv_answers(lookup.answers());
        if out.is_empty() {
            return Err(DnsError::NoRecords(name.to_string(), "SRV"));
        }
        Ok(out)
    }

    /// A records.
    pub async fn ipv4(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        let lookup = self
            .bounded(host, "A", self.inner.ipv4_lookup(fqdn(host)))
            .await?;
        let v: Vec<IpAddr> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                _ => None,
            })
            .collect();
        if v.is_empty() {
            Err(DnsError::NoRecords(host.to_string(), "A"))
        } else {
            Ok(v)
        }
    }

    /// AAAA records.
    pub async fn ipv6(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        let lookup = self
            .bounded(host, "AAAA", self.inner.ipv6_lookup(fqdn(host)))
            .await?;
        let v: Vec<IpAddr> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect();
        if v.is_empty() {
            Err(DnsError::NoRecords(host.to_string(), "AAAA"))
        } else {
            Ok(v)
        }
    }

    /// A and AAAA, asked concurrently; IPv6 first (RFC 8305 §4). Fails only when both fail.
    pub async fn ips(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(vec![ip]);
        }
        let (v6, v4) = tokio::join!(self.ipv6(host), self.ipv4(host));
        match (v6, v4) {
            (Err(e6), Err(e4)) => Err(if e4.is_not_found() { e6 } else { e4 }),
            (v6, v4) => Ok(v6
                .unwrap_or_default()
                .into_iter()
                .chain(v4.unwrap_or_default())
                .collect()),
        }
    }
}

impl Resolver {
    async fn bounded<F>(
        &self,
        name: &str,
        rtype: &'static str,
        fut: F,
    ) -> Result<hickory_resolver::lookup::Lookup, DnsError>
    where
        F: std::future::Future<Output = Result<hickory_resolver::lookup::Lookup, NetError>>,
    {
        match tokio::time::timeout(self.limit, fut).await {
            Ok(r) => r.map_err(|e| map_err(name, rtype, e)),
            Err(_) => Err(DnsError::Timeout(name.to_string())),
        }
    }
}

/// The SRV records among `answers` (a CNAME may come along), sorted by priority, then weight.
fn srv_answers(answers: &[Record]) -> Vec<Srv> {
    let mut out: Vec<Srv> = answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(s) => {
                let t = s.target.to_ascii();
                let target = if t == "." {
                    ".".to_string()
                } else {
                    name_str(&t)
                };
                Some(Srv {
                    priority: s.priority,
                    weight: s.weight,
                    port: s.port,
                    target,
                })
            }
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(b.weight.cmp(&a.weight))
            .then(a.target.cmp(&b.target))
    });
    out
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

fn name_str(s: &str) -> String {
    s.trim_end_matches('.').to_ascii_lowercase()
}

fn map_err(name: &str, rtype: &'static str, e: NetError) -> DnsError {
    if e.is_nx_domain() {
        DnsError::NxDomain(name.to_string())
    } else if e.is_no_records_found() {
        DnsError::NoRecords(name.to_string(), rtype)
    } else if matches!(e, NetError::Timeout) {
        DnsError::Timeout(name.to_string())
    } else {
        DnsError::Failed(name.to_string(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::op::{Message, OpCode};
    use hickory_resolver::proto::rr::Name;
    use hickory_resolver::proto::rr::rdata::SRV;
    use proptest::prelude::*;

    /// A DNS response carrying these SRV records, as bytes.
    fn response(recs: &[(u16, u16, u16, Vec<String>)]) -> Vec<u8> {
        let mut m = Message::response(1, OpCode::Query);
        let owner = Name::from_ascii("_imaps._tcp.example.test.").unwrap();
        for (p, w, port, labels) in recs {
            let target = Name::from_labels(labels.iter().map(String::as_bytes)).unwrap_or_default();
            let rdata = RData::SRV(SRV::new(*p, *w, *port, target));
            m.add_answer(Record::from_rdata(owner.clone(), 60, rdata));
        }
        m.to_vec().unwrap()
    }

    fn records() -> impl Strategy<Value = Vec<(u16, u16, u16, Vec<String>)>> {
        let label = "[a-z0-9-]{1,20}|[\\x00-\\xff]{1,8}|\\.";
        prop::collection::vec(
            (
                any::<u16>(),
                any::<u16>(),
                any::<u16>(),
                prop::collection::vec(label, 0..4),
            ),
            0..40,
        )
    }

    proptest! {
        /// Well-formed answers, then the same bytes damaged: decoding may fail, but what is
        /// decoded becomes at most one Srv per answer, each target a bounded DNS name, sorted.
        #[test]
        fn srv_answer_handling_is_total_and_bounded(
            recs in records(),
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
            let srv = srv_answers(&msg.answers);
            prop_assert!(srv.len() <= msg.answers.len());
            for s in &srv {
                // A name is at most 255 octets; escaping may quadruple a binary label's bytes.
                prop_assert!(s.target.len() <= 4 * 255, "{}", s.target.len());
            }
            prop_assert!(srv.windows(2).all(|w| (w[0].priority, std::cmp::Reverse(w[0].weight))
                <= (w[1].priority, std::cmp::Reverse(w[1].weight))));
        }
    }
}

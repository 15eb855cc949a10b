//! The DNS side of DANE and the per-address verdicts: the MX answer validated by mailprobe
//! itself (RFC 7672 §2.2.1), the TLSA records of each MX host at `_25._tcp.<host>` (§2.2.3: of
//! the CNAME target first when the host is an alias), then each address's presented chain
//! matched against them. The TLSA lookups run while the port-25 probes do.

use crate::dns::{QueryType, Validated, ValidatingResolver};
use crate::model::{
    Dane, DaneAddress, DaneHost, DaneOutcome, DnssecStatus, MxHost, Port25, TlsaRecord,
};

/// What the TLSA lookups of one host found, before the addresses are judged.
#[derive(Debug, Clone)]
pub struct HostTlsa {
    pub host: DaneHost,
    /// Reference identifiers for DANE-TA (RFC 7672 §3.2.2).
    pub names: Vec<String>,
}

/// The validated MX answer of `domain`: its status (`None` when no chain of trust can reach
/// the domain through these servers) and, when not secure, why.
///
/// A bogus or failed answer only blames the domain when validation works at all: the root's
/// keys validate (asked at the same time), or a `--trust-anchor` zone covers the domain. A
/// resolver that serves no signed root (a lab server on `--dns`) makes DANE uncheckable.
pub async fn mx_status(
    v: &ValidatingResolver,
    domain: &str,
) -> (Option<DnssecStatus>, Option<String>) {
    let anchored = v.anchored_zones().iter().any(|z| under(domain, z));
    let root = async {
        if anchored {
            return true;
        }
        v.lookup_validated(".", QueryType::Dnskey).await.is_secure()
    };
    let (a, root_ok) = tokio::join!(v.mx(domain), root);
    match a.status {
        DnssecStatus::Bogus | DnssecStatus::Indeterminate if !root_ok => (
            None,
            Some(format!(
                "no chain of trust reaches {domain}: the DNS servers asked serve no validated root and no --trust-anchor covers the domain"
            )),
        ),
        s => (Some(s), a.error),
    }
}

/// Is `name` at or below `zone` (either with or without the root dot)?
fn under(name: &str, zone: &str) -> bool {
    let (n, z) = (name.trim_end_matches('.'), zone.trim_end_matches('.'));
    z.is_empty() || n.eq_ignore_ascii_case(z) || {
        let n = n.to_ascii_lowercase();
        n.ends_with(&format!(".{}", z.to_ascii_lowercase()))
    }
}

/// The TLSA answer of MX `host` (alias of `cname` when it is one): of `_25._tcp.<target>`
/// first, then of `_25._tcp.<host>` when the target has none (RFC 7672 §2.2.3).
pub async fn tlsa(v: &ValidatingResolver, host: &str, cname: Option<&str>) -> HostTlsa {
    let mut names = vec![host.to_string()];
    let mut answer = None;
    if let Some(target) = cname {
        names.push(target.to_string());
        let a = v.tlsa(target, 25).await;
        if !(a.is_secure() && a.tlsa().is_empty()) {
            answer = Some(a);
        }
    }
    let a = match answer {
        Some(a) => a,
        None => v.tlsa(host, 25).await,
    };
    HostTlsa {
        host: host_of(host, &a),
        names,
    }
}

fn host_of(host: &str, a: &Validated) -> DaneHost {
    DaneHost {
        host: host.to_string(),
        mx_dnssec: DnssecStatus::Indeterminate,
        tlsa_name: a.name.clone(),
        tlsa_dnssec: a.status,
        tlsa: a
            .tlsa()
            .iter()
            .map(|t| super::record(t.usage, t.selector, t.matching, &t.data))
            .collect(),
        error: a.error.clone(),
        addresses: Vec::new(),
    }
}

/// The `policies.dane` object: the MX status on every host, and per address of a host with
/// usable records below a secure MX answer, the verdict on the chain it presented. `chains`
/// holds, per MX host and address (the order of `hosts`), the DER chain the probe saw.
pub fn assess(
    mx: (Option<DnssecStatus>, Option<String>),
    tlsa: Vec<HostTlsa>,
    hosts: &[MxHost],
    chains: &[Vec<Vec<Vec<u8>>>],
) -> Dane {
    let (mx_dnssec, mx_error) = mx;
    let mut out = Dane {
        mx_dnssec,
        mx_error,
        hosts: Vec::new(),
    };
    let Some(mx_dnssec) = mx_dnssec else {
        return out;
    };
    for HostTlsa { mut host, names } in tlsa {
        host.mx_dnssec = mx_dnssec;
        let applies = mx_dnssec == DnssecStatus::Secure
            && host.tlsa_dnssec == DnssecStatus::Secure
            && host.tlsa.iter().any(|r| r.usable);
        if let Some(hi) = hosts.iter().position(|h| h.host == host.host)
            && applies
        {
            host.addresses = hosts[hi]
                .addresses
                .iter()
                .enumerate()
                .map(|(ai, a)| {
                    let chain = chains
                        .get(hi)
                        .and_then(|c| c.get(ai))
                        .map(Vec::as_slice)
                        .unwrap_or(&[]);
                    let mut v = address(&host.tlsa, a.probe.as_ref(), chain, &names);
                    v.ip = a.ip.clone();
                    v
                })
                .collect();
        }
        out.hosts.push(host);
    }
    out
}

/// The verdict of one address: not probed or unreachable, no TLS, or the chain's match.
fn address(
    records: &[TlsaRecord],
    probe: Option<&Port25>,
    chain: &[Vec<u8>],
    names: &[String],
) -> DaneAddress {
    let not = |outcome, detail: &str| DaneAddress {
        outcome,
        detail: Some(detail.to_string()),
        ..DaneAddress::default()
    };
    let Some(p) = probe else {
        return not(DaneOutcome::NotChecked, "not probed");
    };
    if let Some(e) = &p.error {
        return not(DaneOutcome::NotChecked, e);
    }
    if p.banner.as_ref().is_none_or(|b| b.code != 220) {
        return not(DaneOutcome::NotChecked, "no SMTP session");
    }
    if !p.starttls_offered {
        return not(DaneOutcome::NoTls, "STARTTLS not offered");
    }
    if !p.starttls_ok || chain.is_empty() {
        let e = p.starttls_error.as_deref().unwrap_or("STARTTLS failed");
        return not(DaneOutcome::NoTls, e);
    }
    super::check_chain(records, chain, names)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_under_zones() {
        for (name, zone, want) in [
            ("mx.example.test", "example.test.", true),
            ("example.test", "example.test", true),
            ("Example.Test.", "example.test.", true),
            ("badexample.test", "example.test.", false),
            ("example.test", "mx.example.test.", false),
            ("anything", ".", true),
        ] {
            assert_eq!(super::under(name, zone), want, "{name} under {zone}");
        }
    }
}

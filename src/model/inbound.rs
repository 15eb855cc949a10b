//! Report data of `mailprobe audit`: the receiving side of a domain — its MX set and the
//! policies senders apply to it (MTA-STS, TLS-RPT, DANE, SPF, DMARC, DKIM). Findings go to the
//! report's shared `findings[]`; these types carry the evidence behind them.

use serde::{Deserialize, Serialize};

/// The `inbound` object of the report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Inbound {
    /// The mail exchangers, lowest preference first; for an implicit MX (RFC 5321 §5.1) the
    /// domain itself with preference 0.
    pub mx: Vec<MxHost>,
    /// No MX record: mail goes to the domain's own A/AAAA (RFC 5321 §5.1).
    #[serde(default)]
    pub implicit_mx: bool,
    /// The domain publishes a null MX (RFC 7505): it accepts no mail.
    #[serde(default)]
    pub null_mx: bool,
    /// Why the MX list is incomplete: in `check`, the MX lookup had not finished when the
    /// verdict was ready (port 25 never holds it more than 0.5 s). Absent when complete.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub incomplete: Option<String>,
    pub policies: Policies,
}

/// One MX host.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MxHost {
    pub preference: u16,
    /// Lowercase, without the root dot.
    pub host: String,
    /// The host is an alias (CNAME) of this name: RFC 2181 §10.3 forbids it for an MX target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    /// IPv6 first, then IPv4; every address is probed on its own.
    pub addresses: Vec<MxAddress>,
    /// Why the host has no address, when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One address of an MX host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MxAddress {
    pub ip: String,
    /// The port-25 probe of this address (`audit`); null when it was not probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<Port25>,
}

/// What one address of an MX says on port 25 (RFC 5321, RFC 3207).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Port25 {
    /// `ip:port` actually connected to, when `--connect-to` changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_to: Option<String>,
    pub connect_ms: Option<u64>,
    /// The greeting: code, text, the host name it starts with, and how long it took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<Banner>,
    /// The EHLO answer before TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ehlo: Option<Ehlo>,
    pub starttls_offered: bool,
    /// STARTTLS was offered and the handshake completed.
    pub starttls_ok: bool,
    /// Why STARTTLS failed (the reply or the handshake error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starttls_error: Option<String>,
    /// Version, cipher, key exchange, chain, names and expiry of the TLS session; `verified`
    /// is the WebPKI check of the MX host name (RFC 8461 §4.2 asks exactly this).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<super::TlsInfo>,
    /// The EHLO answer after TLS (RFC 3207 §4.2: the client forgets the first one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ehlo_tls: Option<Ehlo>,
    /// The safe relay test: `MAIL FROM:<>`, `RCPT TO:` a foreign address, never DATA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay_test: Option<RelayTest>,
    /// PTR names of the address.
    pub ptr: Vec<String>,
    /// Some PTR name resolves back to the address (forward-confirmed reverse DNS).
    pub fcrdns: bool,
    /// The step that failed (`connect`, `banner`, `ehlo`) and why; null when the dialogue ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The probe was cut before it finished (in `check`, when the verdict was ready and the
    /// port-25 hold had passed): what it had reached, e.g. `no TCP answer within 500 ms: port 25 looks filtered from here`. The
    /// fields above keep what it saw until then; absent when the probe ran to its end.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cut: Option<String>,
    pub elapsed_ms: u64,
}

/// An SMTP greeting (RFC 5321 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Banner {
    pub code: u16,
    pub text: String,
    /// The first word of a 220 greeting: the server's name for itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// From the connection to the greeting.
    pub delay_ms: u64,
}

/// An EHLO answer (RFC 5321 §4.1.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ehlo {
    pub name: String,
    pub extensions: Vec<String>,
    /// RFC 1870 SIZE, when announced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// The safe open-relay test.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RelayTest {
    pub rcpt: String,
    /// The reply to `RCPT TO:` (or to `MAIL FROM:` when that was refused).
    pub reply: String,
    /// The server accepted the foreign recipient (2xx).
    pub accepted: bool,
}

/// The policies a sender looks up for the domain.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Policies {
    pub mta_sts: Option<MtaSts>,
    pub tls_rpt: Option<TlsRpt>,
    /// DANE for SMTP (RFC 7672): TLSA records per MX host and their match per address.
    #[serde(default)]
    pub dane: Option<super::Dane>,
    pub spf: Option<Spf>,
    pub dmarc: Option<Dmarc>,
    /// DKIM keys found (and any selector named with `--dkim-selector`).
    pub dkim: Vec<DkimKey>,
    /// What `_domainkey.<domain>` answered: `exists` (records or NODATA) or `nxdomain`
    /// (internet.nl's test: NXDOMAIN there means no DKIM key at all, RFC 8020).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dkim_domainkey: Option<String>,
}

/// MTA-STS (RFC 8461).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MtaSts {
    /// The `_mta-sts` TXT record(s) starting with `v=STSv1`.
    pub records: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub policy_url: String,
    /// The policy as fetched and parsed; null when it could not be fetched or parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<MtaStsPolicy>,
    /// RFC 8460 result type of a failed fetch (`sts-policy-fetch-error`, `sts-webpki-invalid`,
    /// `sts-policy-invalid`) with the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// MX hosts no `mx` pattern of the policy covers (RFC 8461 §4.1).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub uncovered_mx: Vec<String>,
}

impl MtaSts {
    /// Whether senders apply the policy: exactly one `v=STSv1` record, valid, and a policy
    /// fetched (RFC 8461 §3.1: otherwise they "MUST assume the recipient domain does not have
    /// an available MTA-STS Policy").
    pub fn in_effect(&self) -> bool {
        self.records.len() == 1 && self.id.is_some() && self.policy.is_some()
    }
}

/// A parsed MTA-STS policy (RFC 8461 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MtaStsPolicy {
    pub version: String,
    /// `enforce`, `testing` or `none`.
    pub mode: String,
    pub mx: Vec<String>,
    pub max_age: u64,
}

/// SMTP TLS reporting (RFC 8460).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsRpt {
    pub records: Vec<String>,
    /// Report destinations (`mailto:` or `https:` URIs).
    pub rua: Vec<String>,
}

/// SPF (RFC 7208): the record and its include/redirect tree.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Spf {
    pub record: Option<String>,
    /// DNS-querying terms of the whole tree (RFC 7208 §4.6.4: at most 10).
    pub lookups: u32,
    /// Lookups that found nothing (RFC 7208 §4.6.4: at most 2).
    pub void_lookups: u32,
    /// The `all` mechanism of the top record with its qualifier (`-all`, `~all`, `?all`, `+all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<String>,
    pub tree: Option<SpfNode>,
}

/// One record of the SPF tree.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SpfNode {
    pub domain: String,
    /// How this record was reached: `top`, `include` or `redirect`.
    pub via: String,
    pub record: Option<String>,
    /// DNS lookups counted up to and including this record's own terms (running total).
    pub lookups_total: u32,
    /// This record's own DNS-querying terms.
    pub lookups_here: u32,
    /// This record pushes the running count past the limit of 10.
    #[serde(default)]
    pub exceeds_limit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub children: Vec<SpfNode>,
}

/// DMARC (RFC 7489).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Dmarc {
    /// The domain whose `_dmarc` record applies: the domain itself or its organisational
    /// domain (RFC 7489 §6.6.3).
    pub record_domain: String,
    pub record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sp: Option<String>,
    pub pct: u8,
    pub adkim: String,
    pub aspf: String,
    pub rua: Vec<DmarcUri>,
    pub ruf: Vec<DmarcUri>,
}

/// One DMARC report destination.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmarcUri {
    pub uri: String,
    /// The destination lies outside the organisational domain (RFC 7489 §7.1).
    pub external: bool,
    /// For an external destination: whether `<domain>._report._dmarc.<host>` authorises it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorized: Option<bool>,
}

/// One DKIM selector looked up (RFC 6376 §3.6).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DkimKey {
    pub selector: String,
    /// The key record was found.
    pub found: bool,
    /// `rsa` or `ed25519`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_bits: Option<u32>,
    /// Empty `p=`: the key was revoked (RFC 6376 §3.6.1).
    #[serde(default)]
    pub revoked: bool,
    /// `t=y`: verifiers treat signatures as unsigned (RFC 6376 §3.6.1).
    #[serde(default)]
    pub testing: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Inbound {
    /// One line for the Nagios status and batch tables, e.g.
    /// `2 MX, MTA-STS enforce, DANE, SPF 7/10 lookups, DMARC p=reject, DKIM 2 keys`.
    pub fn summary(&self) -> String {
        let mut parts = vec![if self.null_mx {
            "null MX".to_string()
        } else if self.implicit_mx {
            "implicit MX".to_string()
        } else {
            format!("{} MX", self.mx.len())
        }];
        let p = &self.policies;
        if let Some(m) = p.mta_sts.as_ref().and_then(|m| m.policy.as_ref()) {
            parts.push(format!("MTA-STS {}", m.mode));
        }
        if p.dane.as_ref().is_some_and(|d| {
            d.hosts.iter().any(|h| {
                !h.addresses.is_empty()
                    && h.addresses
                        .iter()
                        .all(|a| a.outcome == super::DaneOutcome::Valid)
            })
        }) {
            parts.push("DANE".to_string());
        }
        if let Some(s) = &p.spf {
            parts.push(format!("SPF {}/10 lookups", s.lookups));
        }
        if let Some(d) = &p.dmarc {
            parts.push(format!("DMARC p={}", d.p.as_deref().unwrap_or("?")));
        }
        let keys = p.dkim.iter().filter(|k| k.found && !k.revoked).count();
        if keys > 0 {
            parts.push(format!("DKIM {keys} key(s)"));
        }
        parts.join(", ")
    }
}

/// What DNSSEC validation (RFC 4035 §4.3) said of one answer, records or a denial of existence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DnssecStatus {
    /// A chain of signatures from a trust anchor proves the answer (or its non-existence).
    Secure,
    /// Provably unsigned: a signed parent proves there is no DS for the zone (RFC 4035 §5.2),
    /// or no trust anchor lies above the name.
    Insecure,
    /// Signatures or proofs are missing or do not verify although the chain says they must:
    /// an attack or a broken zone (RFC 4033 §5). Never to be used.
    Bogus,
    /// No validated answer at all: the lookup failed or timed out.
    Indeterminate,
}

impl DnssecStatus {
    /// The JSON value: `secure`, `insecure`, `bogus`, `indeterminate`.
    pub fn as_str(self) -> &'static str {
        match self {
            DnssecStatus::Secure => "secure",
            DnssecStatus::Insecure => "insecure",
            DnssecStatus::Bogus => "bogus",
            DnssecStatus::Indeterminate => "indeterminate",
        }
    }
}

//! Report data of DANE for SMTP (RFC 7672, RFC 6698, RFC 7671): per MX host the TLSA base
//! name, the TLSA records found at `_25._tcp.<host>` and, per address, whether a usable record
//! matched the certificate chain that address presented. The `dane-…` findings carry the
//! verdicts; these types carry the evidence.

use serde::{Deserialize, Serialize};

use super::DnssecStatus;

/// `policies.dane` of the `inbound` object: one entry per MX host with a name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Dane {
    /// DNSSEC status of the domain's MX answer (RFC 7672 §2.2.1); null when not looked up.
    pub mx_dnssec: Option<DnssecStatus>,
    /// Why the MX answer is `bogus` or `indeterminate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mx_error: Option<String>,
    pub hosts: Vec<DaneHost>,
}

/// DANE of one MX host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DaneHost {
    pub host: String,
    /// DNSSEC status of the MX answer that named the host (RFC 7672 §2.2.1: DANE applies only
    /// when it is `secure`); for an implicit MX, of the denial of the MX record.
    pub mx_dnssec: DnssecStatus,
    /// DNSSEC status of the TLSA answer (records or their denial).
    pub tlsa_dnssec: DnssecStatus,
    /// The TLSA base name queried: `_25._tcp.<host>` (RFC 7672 §2.2.3; the CNAME target
    /// when the host is an alias whose expansion is secure).
    pub tlsa_name: String,
    /// The TLSA records found (empty when there are none).
    pub tlsa: Vec<TlsaRecord>,
    /// Why the TLSA lookup failed, when it did (not for a clean "no record").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Per address of the host: the DANE verdict on the chain it presented.
    pub addresses: Vec<DaneAddress>,
}

/// One TLSA record (RFC 6698 §2.1) in the order of the DNS answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsaRecord {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 7218 names).
    pub usage: u8,
    /// 0 the full certificate, 1 its SubjectPublicKeyInfo.
    pub selector: u8,
    /// 0 the data itself, 1 SHA-256, 2 SHA-512.
    pub matching: u8,
    /// The certificate association data, lowercase hex.
    pub data: String,
    /// Usable for SMTP (RFC 7672 §3.1: usage 2 or 3, known selector and matching type, digest
    /// of the right length).
    pub usable: bool,
}

/// The DANE verdict of one address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DaneAddress {
    pub ip: String,
    pub outcome: DaneOutcome,
    /// The record that matched, in presentation form (`3 1 1 <hex>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
    /// For DANE-TA: the reference identifier the leaf certificate was valid for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Why no record matched, or why the address was not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What DANE says of one address.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DaneOutcome {
    /// A usable TLSA record matched (and, for DANE-TA, the name checked out).
    Valid,
    /// No usable record matches the chain the address presented.
    Mismatch,
    /// A DANE-TA record matched, but the certificate names none of the reference identifiers.
    NameMismatch,
    /// The address offers no working STARTTLS: a DANE sender does not deliver to it.
    NoTls,
    /// Not checked: no usable TLSA record, or the address was not probed.
    #[default]
    NotChecked,
}

impl Dane {
    /// The DANE verdict of address `ip` of MX `host`, when one was reached.
    pub fn address(&self, host: &str, ip: &str) -> Option<&DaneAddress> {
        self.hosts
            .iter()
            .filter(|h| h.host == host)
            .flat_map(|h| &h.addresses)
            .find(|a| a.ip == ip)
    }
}

impl TlsaRecord {
    /// Presentation form: `3 1 1 <hex>`.
    pub fn presentation(&self) -> String {
        format!(
            "{} {} {} {}",
            self.usage, self.selector, self.matching, self.data
        )
    }
}

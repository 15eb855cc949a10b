//! DNSSEC for the harness's DNS server: zone keys made at test time (Ed25519, RFC 8080), zones
//! signed by hickory-server (RRSIG over every RRset, NSEC or NSEC3 chains for denials), the
//! trust-anchor text a test passes with `--trust-anchor`, and one RRset's signature made bogus
//! on purpose.
//!
//! Build a world with [`super::dns::Zone`]: `.signed()` signs a zone with a fresh key (NSEC
//! denials; `.nsec3()` for NSEC3, see [`Signing::nsec3`] for what each cannot do),
//! `.bogus(name, "TLSA")` breaks one RRset's signature after signing, `.delegate(&child)`
//! puts the child's NS (and, when the child is signed, its DS) into the parent, so an unsigned
//! child of a signed parent is provably insecure (RFC 4035 §5.2: NSEC without DS at the cut).
//! [`super::dns::Zone::trust_anchor`] gives the DS line for the test's anchor file.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::dnssec::NxProofKind;
use hickory_server::proto::dnssec::crypto::Ed25519SigningKey;
use hickory_server::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_server::proto::dnssec::{
    DigestType, DnssecSigner, Nsec3HashAlgorithm, PublicKey, SigningKey,
};
use hickory_server::proto::rr::{LowerName, Name, RData, RecordType, RrKey};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, ZoneType};

use super::dns::Zone;
use rustls_pki_types::PrivatePkcs8KeyDer;

/// A zone's signing key (one key signs everything: a CSK with flags 257).
#[derive(Clone)]
pub struct ZoneKey {
    pkcs8: Arc<Vec<u8>>,
}

impl std::fmt::Debug for ZoneKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZoneKey(tag {})", self.key_tag())
    }
}

impl ZoneKey {
    /// A fresh Ed25519 key.
    pub fn generate() -> ZoneKey {
        let der = Ed25519SigningKey::generate_pkcs8().expect("generate an Ed25519 key");
        ZoneKey {
            pkcs8: Arc::new(der.secret_pkcs8_der().to_vec()),
        }
    }

    fn signing_key(&self) -> Ed25519SigningKey {
        let der = PrivatePkcs8KeyDer::from(self.pkcs8.as_slice());
        Ed25519SigningKey::from_pkcs8(&der).expect("our own PKCS#8 key")
    }

    /// The DNSKEY as the signed zone publishes it (zone key + SEP, RFC 4034 §2.1.1).
    pub fn dnskey(&self) -> DNSKEY {
        DNSKEY::from_key(&self.signing_key().to_public_key().expect("public key"))
    }

    pub fn key_tag(&self) -> u16 {
        self.dnskey().calculate_key_tag().expect("key tag")
    }

    /// The DS RDATA of this key for `zone` (SHA-256): `TAG 15 2 HEX`.
    pub fn ds_rdata(&self, zone: &str) -> String {
        let name = Name::from_ascii(fqdn(zone)).expect("zone name");
        let public = self.signing_key().to_public_key().expect("public key");
        let ds = DS::from_key(&public, &name, DigestType::SHA256).expect("DS");
        let hex: String = ds.digest().iter().map(|b| format!("{b:02X}")).collect();
        format!("{} {} 2 {hex}", ds.key_tag(), u8::from(ds.algorithm()))
    }

    /// A trust-anchor file line with this key's DS for `zone`.
    pub fn ds_anchor(&self, zone: &str) -> String {
        format!("{} 3600 IN DS {}\n", fqdn(zone), self.ds_rdata(zone))
    }

    /// A trust-anchor file line with this key's DNSKEY for `zone`.
    pub fn dnskey_anchor(&self, zone: &str) -> String {
        let k = self.dnskey();
        let b64 = base64_encode(k.public_key().public_bytes());
        let mut s = String::new();
        let _ = writeln!(s, "{} 3600 IN DNSKEY {} 3 15 {b64}", fqdn(zone), k.flags());
        s
    }
}

/// How a signed zone is signed.
#[derive(Debug, Clone)]
pub struct Signing {
    pub key: ZoneKey,
    /// NSEC3 (RFC 5155, SHA-1, no salt, 0 iterations as RFC 9276 asks) instead of NSEC, the
    /// default. Two hickory-server 0.26.3 quirks decide the default and the limits:
    /// - with NSEC, the denial of a name two or more labels below its closest encloser lacks
    ///   the NSEC covering the wildcard there (it takes the wildcard below the name's parent),
    ///   so validators rightly call it bogus (`_25._tcp.mx` under an existing `mx` is fine);
    /// - with NSEC3, every positive answer carries the NSEC3 of its owner in the authority
    ///   section, and hickory's validator then finds a DS answer bogus ("type map covers DS"):
    ///   no signed delegation below an NSEC3 zone.
    pub nsec3: bool,
    /// RRsets (absolute name, type) whose RRSIG is broken after signing.
    pub bogus: Vec<(String, String)>,
}

impl Signing {
    pub fn new(key: ZoneKey) -> Signing {
        Signing {
            key,
            nsec3: false,
            bogus: Vec::new(),
        }
    }

    /// The denial-of-existence flavour for hickory-server.
    pub fn nx_proof_kind(&self) -> NxProofKind {
        if self.nsec3 {
            NxProofKind::Nsec3 {
                algorithm: Nsec3HashAlgorithm::SHA1,
                salt: Arc::from(Vec::new()),
                iterations: 0,
                opt_out: false,
            }
        } else {
            NxProofKind::Nsec
        }
    }

    /// Sign `handler` (its zone `origin`) and then break the RRSIGs of the bogus RRsets.
    pub fn sign(&self, origin: &Name, handler: &mut InMemoryZoneHandler) {
        let signer = DnssecSigner::new(
            self.key.dnskey(),
            Box::new(self.key.signing_key()),
            origin.clone(),
            Duration::from_secs(7 * 86400),
        );
        handler
            .add_zone_signing_key_mut(signer)
            .unwrap_or_else(|e| panic!("add the key of {origin}: {e}"));
        handler
            .secure_zone_mut()
            .unwrap_or_else(|e| panic!("sign {origin}: {e}"));
        for (name, rtype) in &self.bogus {
            let key = RrKey::new(
                LowerName::from(Name::from_ascii(fqdn(name)).expect("bogus name")),
                rtype.parse::<RecordType>().expect("record type"),
            );
            let rrset = handler
                .records_get_mut()
                .get_mut(&key)
                .unwrap_or_else(|| panic!("bogus: no {rtype} RRset at {name} in {origin}"));
            let rrset = Arc::make_mut(rrset);
            let sigs: Vec<_> = rrset.rrsigs().to_vec();
            assert!(!sigs.is_empty(), "bogus: {name} {rtype} is not signed");
            rrset.clear_rrsigs();
            for mut rec in sigs {
                if let RData::DNSSEC(DNSSECRData::RRSIG(sig)) = &rec.data {
                    let mut bytes = sig.sig().to_vec();
                    bytes[0] ^= 0xff;
                    rec.data = RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(
                        sig.input().clone(),
                        bytes,
                    )));
                }
                rrset.insert_rrsig(rec);
            }
        }
    }
}

fn fqdn(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    if n.ends_with('.') { n } else { format!("{n}.") }
}

/// Standard base64 with padding (RFC 4648 §4), as DNSKEY presentation format writes keys.
fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The DNSSEC side of the [`Zone`] builder.
impl Zone {
    /// DNSSEC-sign the zone with a fresh key when the server starts (NSEC denials).
    pub fn signed(self) -> Zone {
        self.signed_with(&ZoneKey::generate())
    }

    /// Sign the zone with `key`.
    pub fn signed_with(mut self, key: &ZoneKey) -> Zone {
        self.signing = Some(Signing::new(key.clone()));
        self
    }

    /// Deny with NSEC3 (RFC 5155) instead of NSEC; see [`Signing::nsec3`] for what each
    /// cannot do. Needs [`Zone::signed`] first.
    pub fn nsec3(mut self) -> Zone {
        self.signing
            .as_mut()
            .expect("nsec3: sign the zone first")
            .nsec3 = true;
        self
    }

    /// Break the signature of the `rtype` RRset at `name` (relative or absolute, as for the
    /// records) after signing: validators must find it bogus. Needs [`Zone::signed`] first.
    pub fn bogus(mut self, name: &str, rtype: &str) -> Zone {
        let owner = self.owner(name);
        let abs = match owner.as_str() {
            "@" => format!("{}.", self.origin),
            o if o.ends_with('.') => o.to_string(),
            o => format!("{o}.{}.", self.origin),
        };
        let signing = self.signing.as_mut().expect("bogus: sign the zone first");
        signing.bogus.push((abs, rtype.to_ascii_uppercase()));
        self
    }

    /// The signing key; panics when the zone is not signed.
    pub fn key(&self) -> &ZoneKey {
        &self.signing.as_ref().expect("the zone is not signed").key
    }

    /// A trust-anchor file (DS of this zone's key) for `--trust-anchor`.
    pub fn trust_anchor(&self) -> String {
        self.key().ds_anchor(&self.origin)
    }

    /// The same anchor as a DNSKEY record.
    pub fn trust_anchor_dnskey(&self) -> String {
        self.key().dnskey_anchor(&self.origin)
    }

    /// Delegate `child` (a zone below this one) from here: its NS and glue, and its DS when
    /// the child is signed. A signed parent without DS proves the child insecure.
    pub fn delegate(self, child: &Zone) -> Zone {
        let c = &child.origin;
        let mut z = self.raw(&format!("{c}. NS ns1.{c}.\nns1.{c}. A 127.0.0.1"));
        if child.signing.is_some() {
            z = z.raw(&format!("{c}. DS {}", child.key().ds_rdata(c)));
        }
        z
    }
}

/// One [`Zone`] as a zone handler, signed when the zone is.
pub(super) fn zone_handler(z: &Zone) -> InMemoryZoneHandler {
    let text = z.text();
    let (_, records) = Parser::new(text.as_str(), None, None)
        .parse()
        .unwrap_or_else(|e| panic!("zone text does not parse: {e}\n{text}"));
    let origin = Name::from_ascii(format!("{}.", z.origin)).unwrap();
    let mut handler = InMemoryZoneHandler::new(
        origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
        z.signing.as_ref().map(Signing::nx_proof_kind),
    )
    .unwrap_or_else(|e| panic!("zone {origin}: {e}"));
    if let Some(signing) = &z.signing {
        signing.sign(&origin, &mut handler);
    }
    handler
}

/// `text` (trust-anchor records, e.g. [`Zone::trust_anchor`]) in a temporary file, for
/// `--trust-anchor PATH`; the file lives as long as the handle.
pub fn anchor_file(text: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(f.path(), text).expect("write the trust anchor file");
    f
}

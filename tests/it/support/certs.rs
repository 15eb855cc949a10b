//! Test PKI: an rcgen CA that issues leaf certificates (valid, expired, not yet valid), plain
//! self-signed certificates, and rustls server configs built from them. Everything is ECDSA P-256
//! (rcgen's default), which Dovecot, Postfix and rustls all accept.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

/// When a leaf certificate is valid, relative to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Validity {
    /// From yesterday for 398 days (the CA/Browser Forum maximum), so no expiry warning fires.
    #[default]
    Valid,
    /// Expired yesterday (issued 60 days ago).
    Expired,
    /// Valid from tomorrow on.
    NotYetValid,
}

impl Validity {
    fn window(self) -> (OffsetDateTime, OffsetDateTime) {
        let now = OffsetDateTime::now_utc();
        match self {
            Validity::Valid => (now - Duration::days(1), now + Duration::days(397)),
            Validity::Expired => (now - Duration::days(60), now - Duration::days(1)),
            Validity::NotYetValid => (now + Duration::days(1), now + Duration::days(60)),
        }
    }
}

/// Which TLS versions a test server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersions {
    /// TLS 1.2 and 1.3 (rustls defaults).
    #[default]
    Default,
    /// TLS 1.2 only (a server that has not enabled 1.3).
    Tls12Only,
    /// TLS 1.3 only.
    Tls13Only,
}

/// A leaf certificate with its key, all PEM.
#[derive(Debug, Clone)]
pub struct Cert {
    pub cert_pem: String,
    pub key_pem: String,
    /// Leaf followed by the issuing CA and any CA above it (self-signed: the leaf alone).
    pub chain_pem: String,
}

/// A throwaway certificate authority ("Example Test CA <random id>"), root or intermediate.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    /// Certificates above this CA (intermediate: its issuer and up, root included), PEM.
    above_pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCa {
    /// A fresh root CA, valid from yesterday for ten years.
    pub fn new() -> TestCa {
        Self::make(None)
    }

    /// An intermediate CA signed by this one. Its leaves' `chain_pem` is leaf + intermediate +
    /// root; trust the root. [`Cert::leaf_only`] gives the "server forgot the intermediate" case.
    pub fn intermediate(&self) -> TestCa {
        Self::make(Some(self))
    }

    fn make(parent: Option<&TestCa>) -> TestCa {
        let key = KeyPair::generate().expect("generate CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "mailprobe tests");
        // A unique name per CA: with equal names, webpki would pick another test CA as the issuer
        // and report BadSignature instead of UnknownIssuer.
        let id: u32 = rand::random();
        let kind = if parent.is_some() {
            "Intermediate"
        } else {
            "CA"
        };
        let cn = format!("Example Test {kind} {id:08x}");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let (cert, above_pem) = match parent {
            None => (params.self_signed(&key), String::new()),
            Some(p) => (
                params.signed_by(&key, &p.issuer),
                format!("{}{}", p.pem, p.above_pem),
            ),
        };
        let pem = cert.expect("sign CA").pem();
        TestCa {
            issuer: Issuer::new(params, key),
            pem,
            above_pem,
        }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate as DER (for a rustls `RootCertStore`).
    pub fn der(&self) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(self.pem.as_bytes()).expect("CA PEM")
    }

    /// A root store holding only this CA.
    pub fn root_store(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.der()).expect("add CA");
        roots
    }

    /// Write the CA certificate to `dir/ca.pem` and return that path.
    pub fn write_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.pem).expect("write ca.pem");
        path
    }

    /// A server certificate for `names` (DNS names or IP addresses), signed by this CA.
    pub fn issue(&self, names: &[&str], validity: Validity) -> Cert {
        let (params, key) = leaf_params(names, validity);
        let cert = params.signed_by(&key, &self.issuer).expect("sign leaf");
        let cert_pem = cert.pem();
        Cert {
            chain_pem: format!("{cert_pem}{}{}", self.pem, self.above_pem),
            cert_pem,
            key_pem: key.serialize_pem(),
        }
    }
}

fn leaf_params(names: &[&str], validity: Validity) -> (CertificateParams, KeyPair) {
    let key = KeyPair::generate().expect("generate leaf key");
    let sans: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).expect("leaf params");
    if let Some(first) = names.first() {
        params.distinguished_name.push(DnType::CommonName, *first);
    }
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    (params.not_before, params.not_after) = validity.window();
    (params, key)
}

impl Cert {
    /// A self-signed certificate for `names` (trusted by nobody).
    pub fn self_signed(names: &[&str]) -> Cert {
        let (params, key) = leaf_params(names, Validity::Valid);
        let cert = params.self_signed(&key).expect("self-sign leaf");
        let cert_pem = cert.pem();
        Cert {
            chain_pem: cert_pem.clone(),
            cert_pem,
            key_pem: key.serialize_pem(),
        }
    }

    /// The same certificate served without its CA certificates (an incomplete chain when the
    /// issuer is an intermediate).
    pub fn leaf_only(&self) -> Cert {
        Cert {
            chain_pem: self.cert_pem.clone(),
            ..self.clone()
        }
    }

    /// The chain (leaf first) as DER.
    pub fn chain_der(&self) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(self.chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("chain PEM")
    }

    /// The private key as DER.
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).expect("key PEM")
    }

    /// Write `NAME.crt` (leaf), `NAME-chain.crt` and `NAME.key` into `dir`; returns
    /// (chain path, key path).
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let chain = dir.join(format!("{name}-chain.crt"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(dir.join(format!("{name}.crt")), &self.cert_pem).expect("write cert");
        std::fs::write(&chain, &self.chain_pem).expect("write chain");
        std::fs::write(&key, &self.key_pem).expect("write key");
        (chain, key)
    }
}

/// A rustls server config (ring provider) presenting `cert`'s chain.
pub fn server_config(cert: &Cert, versions: TlsVersions) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider);
    let builder = match versions {
        TlsVersions::Default => builder.with_safe_default_protocol_versions(),
        TlsVersions::Tls12Only => builder.with_protocol_versions(&[&rustls::version::TLS12]),
        TlsVersions::Tls13Only => builder.with_protocol_versions(&[&rustls::version::TLS13]),
    }
    .expect("ring supports the protocol versions");
    let cfg = builder
        .with_no_client_auth()
        .with_single_cert(cert.chain_der(), cert.key_der())
        .expect("server cert and key match");
    Arc::new(cfg)
}

/// A rustls client config (ring provider) that trusts only `ca`.
pub fn client_config(ca: &TestCa) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(ca.root_store())
        .with_no_client_auth();
    Arc::new(cfg)
}

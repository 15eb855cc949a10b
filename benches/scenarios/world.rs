//! The benchmark's network: the real mail stack (Dovecot + Postfix), in-process DNS and HTTP(S)
//! servers and three black-holed TCP servers, every one of them behind a latency proxy.
//!
//! Names resolve through our DNS (via its proxy) to 127.0.0.1, and `--connect-to :PORT::PPORT`
//! sends every connection to a standard port to the proxy of that service, keeping the host
//! name. So the tool pays a DNS round trip for each new name, then TCP, TLS and the protocol's
//! own round trips, all delayed like on a network.
//!
//! Zones:
//! - `example.test`: the mail provider. MX → `mx.mailhost.test` (so the MX source chains to
//!   `autoconfig.mailhost.test` and the ISPDB), SRV `_imaps`/`_submissions`, an autoconfig
//!   document at `autoconfig.example.test`, and `imap.`/`smtp.` hosts that guessing finds too.
//! - `blackhole.example.test` variant (second DNS server): the same plus three lower-ranked SRV
//!   candidates whose servers accept and never answer (`bh1` IMAP 143, `bh2` submission 587,
//!   `bh3` IMAP 993 at lower SRV priority).
//! - `dNNNN.test` for batches: hosted domains, SRV pointing at the provider's hosts, MX at the
//!   hoster, nothing else (like most customer domains).

use std::fmt::Write as _;
use std::time::Duration;

use crate::proxy::{Delay, Proxy};
use crate::support::dns::{DnsServer, Zone};
use crate::support::filtered::FilteredPort;
use crate::support::http::{HttpServer, Reply, Routes};
use crate::support::mailstack::{MailStack, StackOptions};
use crate::support::scripted::ScriptedServer;

/// Hosts with an autoconfig / ISPDB / MTA-STS HTTPS endpoint; all on the one HTTP server's
/// certificate.
pub const WEB_HOSTS: [&str; 4] = [
    "autoconfig.example.test",
    "autoconfig.mailhost.test",
    "ispdb.bench.test",
    "mta-sts.audit.test",
];

/// The audited domain: 3 MX hosts × 2 addresses, every policy published.
pub const AUDIT_DOMAIN: &str = "audit.test";
/// (MX host, its two addresses): port 25 of each address goes to the stack's Postfix proxy.
pub const AUDIT_MX: [(&str, [&str; 2]); 3] = [
    ("mx1.audit.test", ["127.0.1.1", "127.0.1.2"]),
    ("mx2.audit.test", ["127.0.1.3", "127.0.1.4"]),
    ("mx3.audit.test", ["127.0.1.5", "127.0.1.6"]),
];
const AUDIT_POLICY: &str = "version: STSv1\nmode: enforce\nmx: *.audit.test\nmax_age: 604800\n";

/// `audit.test`, DNSSEC-signed (its key is the `--trust-anchor`): MX, DANE-EE TLSA records
/// (`tlsa`: the SHA-256 of the Postfix key, hex) for every MX host, MTA-STS, TLS-RPT, an SPF
/// tree two includes deep, DMARC, one DKIM key.
fn audit_zone(tlsa: &str) -> Zone {
    let mut z = Zone::new(AUDIT_DOMAIN)
        .signed()
        .a("mta-sts", "127.0.0.1")
        .txt("_mta-sts", "v=STSv1; id=1")
        .txt("_smtp._tls", "v=TLSRPTv1; rua=mailto:tls@audit.test")
        .txt("@", "v=spf1 mx include:_spf.audit.test -all")
        .txt("_spf", "v=spf1 include:_spf2.audit.test -all")
        .txt("_spf2", "v=spf1 ip4:192.0.2.0/24 -all")
        .txt("_dmarc", "v=DMARC1; p=reject; rua=mailto:dmarc@audit.test")
        .txt(
            "default._domainkey",
            "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        );
    for (k, (host, ips)) in AUDIT_MX.iter().enumerate() {
        z = z.mx(10 * (k as u16 + 1), host).tlsa(
            &format!("_25._tcp.{}", host.trim_end_matches(".audit.test")),
            3,
            1,
            1,
            tlsa,
        );
        for ip in ips {
            z = z.a(host, ip);
        }
    }
    z
}
/// ISPDB base URL (HTTPS, port 443 → proxy).
pub const ISPDB_URL: &str = "https://ispdb.bench.test/v1.1/";

const AUTOCONFIG: &str = r#"<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="imap">
      <hostname>imap.example.test</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname><port>465</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>"#;

/// The provider's autoconfig document (also restored after the hang scenario).
pub fn autoconfig_reply() -> Reply {
    Reply::xml(AUTOCONFIG)
}

/// Which DNS view a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Plain,
    Blackholes,
    /// The plain world with port 25 silently filtered (SYNs dropped), as on home and cloud
    /// networks.
    Port25Filtered,
}

pub struct World {
    pub stack: MailStack,
    pub http: HttpServer,
    /// The one-way delay the world was started with.
    pub delay: Duration,
    /// The delay the proxies apply now ([`World::set_delay`]).
    live_delay: Delay,
    _dns_plain: DnsServer,
    _dns_bh: DnsServer,
    proxy_dns_plain: Proxy,
    proxy_dns_bh: Proxy,
    /// (standard port, proxy) for 80, 443 and the seven mail ports.
    proxies: Vec<(u16, Proxy)>,
    /// (host, port, proxy) of the black holes.
    bh_proxies: Vec<(String, u16, Proxy)>,
    _blackholes: Vec<ScriptedServer>,
    /// Port 25 of the [`View::Port25Filtered`] view: it drops every SYN.
    filtered25: FilteredPort,
    /// Batch domains served by the plain view.
    pub batch_domains: Vec<String>,
    /// The `--trust-anchor` file of the signed `audit.test`.
    audit_anchor: tempfile::NamedTempFile,
}

/// The DANE-EE association (`3 1 1`) of the certificate Postfix presents, hex.
fn postfix_key_sha256(stack: &MailStack) -> String {
    use rustls_pki_types::pem::PemObject;
    let pem = stack.dir.join("tls/mail.crt");
    let der =
        rustls_pki_types::CertificateDer::from_pem_file(&pem).expect("the Postfix certificate");
    let digest = mailprobe::audit::dane::association(&der, 1, 1).expect("its key");
    mailprobe::audit::dane::hex(&digest)
}

fn provider_zone() -> Zone {
    Zone::new("example.test")
        .mx(10, "mx.mailhost.test")
        .srv("_imaps._tcp", 0, 1, 993, "imap.example.test")
        .srv("_submissions._tcp", 0, 1, 465, "smtp.example.test")
        .a("imap", "127.0.0.1")
        .a("smtp", "127.0.0.1")
        .a("autoconfig", "127.0.0.1")
}

fn other_zones(batch: usize) -> (Vec<Zone>, Vec<String>) {
    let mut zones = vec![
        Zone::new("mailhost.test")
            .a("mx", "127.0.0.1")
            .a("autoconfig", "127.0.0.1"),
        Zone::new("bench.test").a("ispdb", "127.0.0.1"),
    ];
    let mut names = Vec::new();
    for i in 0..batch {
        let d = format!("d{i:04}.test");
        zones.push(
            Zone::new(&d)
                .mx(10, "mx.mailhost.test")
                .srv("_imaps._tcp", 0, 1, 993, "imap.example.test")
                .srv("_submissions._tcp", 0, 1, 465, "smtp.example.test"),
        );
        names.push(d);
    }
    (zones, names)
}

impl World {
    /// Start everything; `batch` hosted domains for the batch scenarios.
    pub fn start(delay: Duration, batch: usize) -> World {
        let live_delay = Delay::new(delay);
        let stack = MailStack::start(StackOptions {
            extra_sans: AUDIT_MX.iter().map(|(h, _)| h.to_string()).collect(),
            ..StackOptions::default()
        });
        let routes = Routes::new()
            .route(
                "autoconfig.example.test",
                "/mail/config-v1.1.xml",
                autoconfig_reply(),
            )
            .route(
                "mta-sts.audit.test",
                "/.well-known/mta-sts.txt",
                Reply::text(AUDIT_POLICY),
            );
        let http = HttpServer::start(&stack.ca, &WEB_HOSTS, routes);

        let (others, batch_domains) = other_zones(batch);
        let audit = audit_zone(&postfix_key_sha256(&stack));
        let audit_anchor = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(audit_anchor.path(), audit.trust_anchor()).expect("write the trust anchor");
        let mut plain = vec![provider_zone(), audit];
        plain.extend(others.iter().cloned());
        let bh_zone = provider_zone()
            .srv("_imap._tcp", 0, 1, 143, "bh1.example.test")
            .srv("_submission._tcp", 0, 1, 587, "bh2.example.test")
            .srv("_imaps._tcp", 10, 1, 993, "bh3.example.test")
            .a("bh1", "127.0.0.1")
            .a("bh2", "127.0.0.1")
            .a("bh3", "127.0.0.1");
        let mut bh = vec![bh_zone];
        bh.extend(others);
        let dns_plain = DnsServer::start_zones(&plain);
        let dns_bh = DnsServer::start_zones(&bh);
        let proxy_dns_plain = Proxy::dns(dns_plain.addr(), live_delay.clone());
        let proxy_dns_bh = Proxy::dns(dns_bh.addr(), live_delay.clone());

        let mut proxies = vec![
            (80, Proxy::tcp(http.http_addr(), live_delay.clone())),
            (443, Proxy::tcp(http.https_addr(), live_delay.clone())),
        ];
        for (std_port, port) in stack.ports.standard_map() {
            proxies.push((std_port, Proxy::tcp(stack.sock(port), live_delay.clone())));
        }
        let mut blackholes = Vec::new();
        let mut bh_proxies = Vec::new();
        for (host, port) in [
            ("bh1.example.test", 143),
            ("bh2.example.test", 587),
            ("bh3.example.test", 993),
        ] {
            let s = ScriptedServer::blackhole();
            bh_proxies.push((
                host.to_string(),
                port,
                Proxy::tcp(s.addr(), live_delay.clone()),
            ));
            blackholes.push(s);
        }
        World {
            stack,
            http,
            delay,
            live_delay,
            _dns_plain: dns_plain,
            _dns_bh: dns_bh,
            proxy_dns_plain,
            proxy_dns_bh,
            proxies,
            bh_proxies,
            _blackholes: blackholes,
            filtered25: FilteredPort::start(),
            batch_domains,
            audit_anchor,
        }
    }

    /// Change the proxies' one-way delay for the next connections (0: plain loopback).
    pub fn set_delay(&self, d: Duration) {
        self.live_delay.set(d);
    }

    /// RTT the proxies inject.
    pub fn rtt(&self) -> Duration {
        self.delay * 2
    }

    /// Hermetic global options: our DNS (through its proxy), the CA, the ISPDB on loopback, and
    /// `--connect-to` for every standard port (black holes first: the first match wins).
    pub fn args(&self, view: View) -> Vec<String> {
        let dns = match view {
            View::Plain | View::Port25Filtered => &self.proxy_dns_plain,
            View::Blackholes => &self.proxy_dns_bh,
        };
        let mut a = vec![
            "--dns".to_string(),
            dns.addr.to_string(),
            "--ca-file".to_string(),
            self.stack.ca_file.display().to_string(),
            "--ispdb-url".to_string(),
            ISPDB_URL.to_string(),
        ];
        if view == View::Port25Filtered {
            a.push("--connect-to".into());
            a.push(format!(":25:127.0.0.1:{}", self.filtered25.port()));
        }
        if view == View::Blackholes {
            for (host, port, p) in &self.bh_proxies {
                a.push("--connect-to".into());
                a.push(format!("{host}:{port}::{}", p.port()));
            }
        }
        for (std_port, p) in &self.proxies {
            a.push("--connect-to".into());
            a.push(format!(":{std_port}::{}", p.port()));
        }
        a
    }

    /// `--connect-to IP:25:127.0.0.1:PORT` for every audited MX address, onto the port-25 proxy
    /// (the generic `:25::PORT` would keep the address, where nothing listens).
    pub fn audit_args(&self) -> Vec<String> {
        let port = self
            .proxies
            .iter()
            .find(|(p, _)| *p == 25)
            .map(|(_, proxy)| proxy.port())
            .unwrap_or(0);
        let mut args: Vec<String> = AUDIT_MX
            .iter()
            .flat_map(|(_, ips)| ips.iter())
            .flat_map(|ip| {
                [
                    "--connect-to".to_string(),
                    format!("{ip}:25:127.0.0.1:{port}"),
                ]
            })
            .collect();
        args.extend([
            "--trust-anchor".to_string(),
            self.audit_anchor.path().display().to_string(),
        ]);
        args
    }

    /// A batch file of `n` addresses over the hosted domains (one per line).
    pub fn batch_file(&self, dir: &std::path::Path, n: usize) -> std::path::PathBuf {
        let mut text = String::new();
        for i in 0..n {
            let d = &self.batch_domains[i % self.batch_domains.len().max(1)];
            let _ = writeln!(text, "user{i}@{d}");
        }
        let path = dir.join(format!("batch-{n}.txt"));
        std::fs::write(&path, text).expect("write batch file");
        path
    }
}

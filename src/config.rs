//! Run configuration as plain data: what the CLI parsed, before anything touches the network.
//!
//! `--resolve` and `--connect-to` follow curl's syntax and semantics (curl(1) `--resolve`,
//! `--connect-to`): a `--resolve` entry pins the addresses of one host *and port*; a
//! `--connect-to` entry sends a connection for HOST1:PORT1 to HOST2:PORT2 while the original
//! name is kept for SNI, the certificate check and the HTTP `Host`.

pub mod file;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

/// The ISPDB base URL Thunderbird itself uses today: its `mailnews.auto_config_url` default
/// (comm-central `mailnews/mailnews.js`). The autoconfig draft's `https://v1.ispdb.net/` is not
/// what clients query; `--ispdb-url` overrides it.
pub const DEFAULT_ISPDB_URL: &str = "https://live.thunderbird.net/autoconfig/v1.1/";

/// An invalid option value.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("invalid --dns value '{0}': expected IP or IP:PORT (IPv6 as [IP]:PORT)")]
    Dns(String),
    #[error("invalid --resolve value '{0}': expected HOST:PORT:ADDR[,ADDR...]")]
    Resolve(String),
    #[error(
        "invalid --connect-to value '{0}': expected HOST1:PORT1:HOST2:PORT2 (any part may be empty)"
    )]
    ConnectTo(String),
}

/// `--resolve HOST:PORT:ADDR[,ADDR]`: `host` `*` matches every host; port 0 never occurs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveEntry {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

/// `--connect-to HOST1:PORT1:HOST2:PORT2`: empty parts are `None` and mean "any" (source side)
/// or "unchanged" (target side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    pub from_host: Option<String>,
    pub from_port: Option<u16>,
    pub to_host: Option<String>,
    pub to_port: Option<u16>,
}

/// Everything that decides where traffic goes and how long it may take.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// DNS servers replacing the system resolver for every lookup (HTTP included). Empty: system.
    pub dns: Vec<SocketAddr>,
    pub resolve: Vec<ResolveEntry>,
    pub connect_to: Vec<ConnectTo>,
    /// Extra trust anchors (PEM), added to the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// DNSSEC trust anchors (DS or DNSKEY records, zone-file format), added to the root KSK
    /// built in (`--trust-anchor`).
    pub trust_anchor: Option<PathBuf>,
    pub ispdb_url: String,
    /// No network at all: built-in provider database only.
    pub offline: bool,
    /// Per network step.
    pub timeout: Duration,
    /// Whole run.
    pub deadline: Duration,
    /// Lookups, fetches and connections at once (`--concurrency`; 1 = strictly one at a time).
    pub concurrency: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            dns: Vec::new(),
            resolve: Vec::new(),
            connect_to: Vec::new(),
            ca_file: None,
            trust_anchor: None,
            ispdb_url: DEFAULT_ISPDB_URL.to_string(),
            offline: false,
            timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(30),
            concurrency: 16,
        }
    }
}

impl NetConfig {
    /// Where a connection for `host:port` really goes (curl: `--connect-to` first, first match).
    pub fn connect_target(&self, host: &str, port: u16) -> (String, u16) {
        for c in &self.connect_to {
            let host_ok = c
                .from_host
                .as_deref()
                .is_none_or(|h| h.eq_ignore_ascii_case(host));
            let port_ok = c.from_port.is_none_or(|p| p == port);
            if host_ok && port_ok {
                let h = c.to_host.clone().unwrap_or_else(|| host.to_string());
                return (h, c.to_port.unwrap_or(port));
            }
        }
        (host.to_string(), port)
    }

    /// Addresses pinned by `--resolve` for `host:port`, if any.
    pub fn pinned(&self, host: &str, port: u16) -> Option<Vec<IpAddr>> {
        let host = host.trim_end_matches('.');
        self.resolve
            .iter()
            .find(|r| r.port == port && (r.host == "*" || r.host.eq_ignore_ascii_case(host)))
            .map(|r| r.addrs.clone())
    }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    s.parse().ok()
}

/// `IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address; port 53 by default.
pub fn parse_dns(s: &str) -> Result<SocketAddr, ConfigError> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Some(ip) = parse_ip(s) {
        return Ok(SocketAddr::new(ip, 53));
    }
    if let Some((ip, port)) = s.rsplit_once(':')
        && let (Some(ip), Ok(port)) = (parse_ip(ip), port.parse::<u16>())
    {
        return Ok(SocketAddr::new(ip, port));
    }
    Err(ConfigError::Dns(s.to_string()))
}

/// Split `a:b:c` where an IPv6 part may be bracketed (`[::1]`).
fn split_colon_bracketed(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for ch in s.chars() {
        match ch {
            '[' => {
                depth += 1;
                cur.push(ch)
            }
            ']' => {
                depth -= 1;
                cur.push(ch)
            }
            ':' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    parts.push(cur);
    parts
}

/// `HOST:PORT:ADDR[,ADDR...]` (curl `--resolve`); IPv6 addresses in brackets.
pub fn parse_resolve(s: &str) -> Result<ResolveEntry, ConfigError> {
    let err = || ConfigError::Resolve(s.to_string());
    let (host, rest) = s.split_once(':').ok_or_else(err)?;
    let (port, addrs) = rest.split_once(':').ok_or_else(err)?;
    let port: u16 = port.parse().map_err(|_| err())?;
    if host.is_empty() || port == 0 {
        return Err(err());
    }
    let addrs = addrs
        .split(',')
        .map(|a| parse_ip(a).ok_or_else(err))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ResolveEntry {
        host: host.trim_end_matches('.').to_ascii_lowercase(),
        port,
        addrs,
    })
}

/// `HOST1:PORT1:HOST2:PORT2` (curl `--connect-to`); any part may be empty.
pub fn parse_connect_to(s: &str) -> Result<ConnectTo, ConfigError> {
    let err = || ConfigError::ConnectTo(s.to_string());
    let parts = split_colon_bracketed(s);
    if parts.len() != 4 {
        return Err(err());
    }
    let host = |p: &str| {
        let p = p.trim_start_matches('[').trim_end_matches(']');
        (!p.is_empty()).then(|| p.trim_end_matches('.').to_ascii_lowercase())
    };
    let port = |p: &str| -> Result<Option<u16>, ConfigError> {
        if p.is_empty() {
            Ok(None)
        } else {
            p.parse().map(Some).map_err(|_| err())
        }
    };
    Ok(ConnectTo {
        from_host: host(&parts[0]),
        from_port: port(&parts[1])?,
        to_host: host(&parts[2]),
        to_port: port(&parts[3])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_forms() {
        assert_eq!(
            parse_dns("127.0.0.1").unwrap(),
            "127.0.0.1:53".parse().unwrap()
        );
        assert_eq!(
            parse_dns("127.0.0.1:5300").unwrap(),
            "127.0.0.1:5300".parse().unwrap()
        );
        assert_eq!(parse_dns("::1").unwrap(), "[::1]:53".parse().unwrap());
        assert_eq!(
            parse_dns("[::1]:5300").unwrap(),
            "[::1]:5300".parse().unwrap()
        );
        assert!(parse_dns("dns.example").is_err());
    }

    #[test]
    fn resolve_forms() {
        let r = parse_resolve("mail.example.com:993:127.0.0.1,[::1]").unwrap();
        assert_eq!(r.port, 993);
        assert_eq!(r.addrs.len(), 2);
        assert!(parse_resolve("mail.example.com:993").is_err());
        assert!(parse_resolve("mail.example.com:x:127.0.0.1").is_err());
    }

    #[test]
    fn connect_to_semantics() {
        let cfg = NetConfig {
            connect_to: vec![
                parse_connect_to("mail.example.com:993:127.0.0.1:10993").unwrap(),
                parse_connect_to("::new.example.com:").unwrap(),
            ],
            ..NetConfig::default()
        };
        assert_eq!(
            cfg.connect_target("mail.example.com", 993),
            ("127.0.0.1".into(), 10993)
        );
        assert_eq!(
            cfg.connect_target("MAIL.example.com", 143),
            ("new.example.com".into(), 143)
        );
        assert!(parse_connect_to("a:b:c:d").is_err());
        assert!(parse_connect_to("a:1:b").is_err());
        let v6 = parse_connect_to("h:25:[::1]:2525").unwrap();
        assert_eq!(v6.to_host.as_deref(), Some("::1"));
    }
}

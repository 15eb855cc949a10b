//! `mailprobe audit` end to end, hermetic: an in-process DNS server serves the domains, an
//! HTTPS server (test CA) the MTA-STS policies; `--dns`, `--connect-to` and `--ca-file` point
//! the binary at them, and a fence refuses every other port of every name.

mod batch;
mod dane;
mod dane_edges;
mod keys;
mod policies;
mod port25;

use serde_json::Value;

use crate::support::certs::TestCa;
use crate::support::cmd::mailprobe;
use crate::support::dns::{DnsServer, Zone};
use crate::support::fence::Fence;
use crate::support::http::{HttpServer, Routes};

/// A test world: DNS, one HTTPS server per certificate, the CA file, the fence. Port 25 of
/// every address in the zones goes to the server [`World::smtp`] maps it to, or is refused.
pub struct World {
    pub dns: DnsServer,
    pub https: Vec<(Vec<String>, HttpServer)>,
    ca_file: tempfile::NamedTempFile,
    fence: Fence,
    names: Vec<String>,
    ips: Vec<String>,
    smtp: Vec<(String, u16)>,
}

/// Every A-record address in the zones' text.
fn zone_ips(zones: &[Zone]) -> Vec<String> {
    let mut ips: Vec<String> = zones
        .iter()
        .flat_map(|z| {
            z.text()
                .lines()
                .filter_map(|l| {
                    let mut t = l.split_whitespace();
                    let (_, kind, ip) = (t.next()?, t.next()?, t.next()?);
                    (kind == "A").then(|| ip.to_string())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

impl World {
    /// `servers`: for each HTTPS server, the names its certificate holds, the names it serves
    /// (mapped with `--connect-to`) and its routes.
    pub fn new(zones: &[Zone], servers: Vec<(&[&str], &[&str], Routes)>) -> World {
        Self::with_ca(&TestCa::new(), zones, servers)
    }

    /// [`World::new`] with certificates from `ca` (e.g. the mail stack's).
    pub fn with_ca(ca: &TestCa, zones: &[Zone], servers: Vec<(&[&str], &[&str], Routes)>) -> World {
        let ca_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca_file.path(), ca.pem()).unwrap();
        let https = servers
            .into_iter()
            .map(|(cert, serves, routes)| {
                let srv = HttpServer::start(ca, cert, routes);
                (serves.iter().map(|s| s.to_string()).collect(), srv)
            })
            .collect();
        let mut names: Vec<String> = zones.iter().flat_map(Zone::hosts).collect();
        names.sort();
        names.dedup();
        World {
            dns: DnsServer::start_zones(zones),
            https,
            ca_file,
            fence: Fence::new(),
            names,
            ips: zone_ips(zones),
            smtp: Vec::new(),
        }
    }

    /// Send port 25 of `ip` to `127.0.0.1:port`.
    pub fn smtp(mut self, ip: &str, port: u16) -> World {
        self.smtp.push((ip.to_string(), port));
        self
    }

    pub fn args(&self) -> Vec<String> {
        let mut a = vec![
            "--dns".to_string(),
            self.dns.addr().to_string(),
            "--ca-file".to_string(),
            self.ca_file.path().display().to_string(),
            "--timeout".to_string(),
            "3".to_string(),
        ];
        for (serves, srv) in &self.https {
            for h in serves {
                a.extend(srv.connect_to_args(h));
            }
        }
        for (ip, port) in &self.smtp {
            a.extend([
                "--connect-to".to_string(),
                format!("{ip}:25:127.0.0.1:{port}"),
            ]);
        }
        let mut names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        names.extend(self.ips.iter().map(String::as_str));
        a.extend(self.fence.args(&names));
        a
    }

    /// `mailprobe audit TARGET --json` plus `extra`: the JSON and the exit code.
    pub fn audit(&self, target: &str, extra: &[&str]) -> (Value, i32) {
        let out = mailprobe()
            .args(["audit", target, "--json"])
            .args(self.args())
            .args(extra)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (v, out.status.code().unwrap_or(-1))
    }

    /// The human output and the exit code.
    pub fn audit_human(&self, target: &str, extra: &[&str]) -> (String, i32) {
        let out = mailprobe()
            .args(["audit", target])
            .args(self.args())
            .args(extra)
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }
}

/// `(severity, code)` of every finding.
pub fn findings(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn has(v: &Value, severity: &str, code: &str) -> bool {
    findings(v).iter().any(|(s, c)| s == severity && c == code)
}

pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

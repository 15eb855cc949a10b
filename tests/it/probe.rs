//! Integration tests: probe. Parsers over the transcript fixtures and scripted replays of them
//! ([`fixtures`]), the real Dovecot + Postfix stack ([`stack`]), misbehaving scripted servers
//! ([`misbehave`]), certificates and TLS versions ([`certs`]), concurrency, cancellation and the
//! login hook ([`run`]), pipelining with discovery ([`pipeline`]).
//!
//! Every candidate uses the name `mail.example.test` (the name on the test certificates);
//! `--connect-to` style mappings send the connections to 127.0.0.1, so SNI and the certificate
//! check see the real name. Lookups go to a closed local port: nothing reaches a real resolver.

mod certs;
mod fixtures;
mod misbehave;
mod pipeline;
mod run;
mod stack;
mod stop;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mailprobe::config::{NetConfig, parse_connect_to};
use mailprobe::model::{Candidate, Outcome, Probe, Protocol, Security, Source};
use mailprobe::net::Net;
use mailprobe::probe::{ProbeOptions, ProbeRun};

use crate::support::certs::{TestCa, TlsVersions, Validity, server_config};
use crate::support::scripted::{ScriptedServer, Step, closed_port};

pub const HOST: &str = "mail.example.test";

/// A network context: `maps` sends `HOST:from` to `to`; every other host:port goes to
/// 127.0.0.1 on the same port. DNS points at a closed local port.
pub fn net_with(maps: &[(u16, SocketAddr)], timeout: Duration, ca_file: Option<&Path>) -> Arc<Net> {
    let mut connect_to: Vec<_> = maps
        .iter()
        .map(|(from, to)| {
            parse_connect_to(&format!("{HOST}:{from}:{}:{}", to.ip(), to.port())).unwrap()
        })
        .collect();
    connect_to.push(parse_connect_to("::127.0.0.1:").unwrap());
    let cfg = NetConfig {
        dns: vec![closed_port()],
        connect_to,
        ca_file: ca_file.map(Path::to_path_buf),
        timeout,
        deadline: Duration::from_secs(30),
        ..NetConfig::default()
    };
    Net::new(cfg).expect("net")
}

pub fn cand(protocol: Protocol, port: u16, security: Security) -> Candidate {
    cand_from(protocol, port, security, Source::User)
}

pub fn cand_from(protocol: Protocol, port: u16, security: Security, source: Source) -> Candidate {
    Candidate {
        protocol,
        host: HOST.to_string(),
        port,
        security,
        username: None,
        auth: vec![],
        sources: vec![source],
    }
}

/// Options for tests: the test certificates live 30 days, so warn only below a week.
pub fn opts() -> ProbeOptions {
    ProbeOptions {
        warn_cert_days: 7,
        transcript: true,
        ..ProbeOptions::default()
    }
}

pub fn phase(p: &Probe) -> Option<&str> {
    match &p.outcome {
        Outcome::Failed { phase, .. } => Some(phase.as_str()),
        Outcome::Working { .. } => None,
    }
}

pub fn error(p: &Probe) -> String {
    match &p.outcome {
        Outcome::Failed { error, .. } => error.clone(),
        Outcome::Working { .. } => String::new(),
    }
}

/// Finding codes of a run, without the verdict-level `no-incoming` / `no-outgoing`.
pub fn codes(run: &ProbeRun) -> Vec<String> {
    let mut v: Vec<String> = run
        .findings
        .iter()
        .map(|f| f.code.as_str().to_string())
        .filter(|c| c != "no-incoming" && c != "no-outgoing")
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The transcript as `dir line` strings.
pub fn transcript(p: &Probe) -> Vec<String> {
    p.transcript
        .as_ref()
        .map(|t| t.iter().map(|l| format!("{} {}", l.dir, l.line)).collect())
        .unwrap_or_default()
}

pub fn dump(p: &Probe) -> String {
    serde_json::to_string_pretty(p).unwrap_or_default()
}

/// An IMAPS server with a valid certificate for [`HOST`] from `ca`: greeting with capabilities,
/// then LOGOUT.
pub fn imaps_server(ca: &TestCa) -> ScriptedServer {
    let cfg = server_config(&ca.issue(&[HOST], Validity::Valid), TlsVersions::Default);
    ScriptedServer::start_tls(
        cfg,
        vec![
            Step::line("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready"),
            Step::expect("a1 LOGOUT"),
            Step::line("a1 OK bye"),
        ],
    )
}

//! Network context shared by every stage: the resolver, the trust anchors, the overrides
//! (`--resolve`, `--connect-to`) and the one deadline of the run.

pub mod connect;
pub mod http;
#[cfg(feature = "serve")]
pub mod listen;
pub mod loopback;
pub mod redirect;
pub mod tls;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::config::NetConfig;
use crate::dns::{AnchorError, AnchorSet, DnsError, Resolver, ValidatingResolver};

/// Setting up the network context failed (a usage or system error, not a finding).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NetSetupError {
    #[error(transparent)]
    Dns(#[from] DnsError),
    #[error("cannot read --ca-file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error(transparent)]
    TrustAnchor(#[from] AnchorError),
}

/// Everything a network step needs; cheap to share (`Arc<Net>`).
pub struct Net {
    pub cfg: NetConfig,
    /// `None` with `--offline`: nothing may touch the network.
    pub dns: Option<Resolver>,
    /// The DNSSEC-validating resolver (DANE): same servers, its own validation; `None` with
    /// `--offline`.
    pub dnssec: Option<ValidatingResolver>,
    /// Built-in roots (webpki-roots) plus `--ca-file`.
    pub roots: Arc<rustls::RootCertStore>,
    /// Strict client config for HTTPS discovery, built once (cloning it is cheap).
    pub http_tls: rustls::ClientConfig,
    pub started: Instant,
}

impl Net {
    pub fn new(cfg: NetConfig) -> Result<Arc<Net>, NetSetupError> {
        tls::install_crypto_provider();
        let roots = Arc::new(tls::root_store(cfg.ca_file.as_deref())?);
        let anchors = match &cfg.trust_anchor {
            Some(path) => AnchorSet::load(path)?,
            None => AnchorSet::default(),
        };
        let (dns, dnssec) = if cfg.offline {
            (None, None)
        } else {
            (
                Some(Resolver::new(&cfg.dns, cfg.timeout)?),
                Some(ValidatingResolver::new(&cfg.dns, cfg.timeout, anchors)?),
            )
        };
        let http_tls = tls::strict_client_config(roots.clone());
        Ok(Arc::new(Net {
            cfg,
            dns,
            dnssec,
            roots,
            http_tls,
            started: Instant::now(),
        }))
    }

    /// The same context with the deadline starting now: batch mode gives every address its
    /// own `--deadline` (the resolver and its cache are shared).
    pub fn rearmed(&self) -> Arc<Net> {
        Arc::new(Net {
            cfg: self.cfg.clone(),
            dns: self.dns.clone(),
            dnssec: self.dnssec.clone(),
            roots: self.roots.clone(),
            http_tls: self.http_tls.clone(),
            started: Instant::now(),
        })
    }

    /// Time left before the run's deadline.
    pub fn remaining(&self) -> Duration {
        self.cfg.deadline.saturating_sub(self.started.elapsed())
    }

    /// Timeout for one step: the per-step timeout, cut to what is left of the deadline.
    pub fn step_timeout(&self) -> Duration {
        self.cfg.timeout.min(self.remaining())
    }

    /// The resolver, or a clear error under `--offline`.
    pub fn resolver(&self) -> Result<&Resolver, DnsError> {
        self.dns
            .as_ref()
            .ok_or_else(|| DnsError::Setup("--offline: no DNS lookups".into()))
    }

    /// The DNSSEC-validating resolver, or a clear error under `--offline`.
    pub fn validating(&self) -> Result<&ValidatingResolver, DnsError> {
        self.dnssec
            .as_ref()
            .ok_or_else(|| DnsError::Setup("--offline: no DNS lookups".into()))
    }

    /// Socket addresses for a connection to `host:port`, after `--connect-to` and `--resolve`
    /// (curl order: connect-to rewrites the target, resolve pins the rewritten target).
    pub async fn socket_addrs(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, DnsError> {
        Ok(self.route(host, port).await?.addrs)
    }

    /// [`Net::socket_addrs`], saying whether the user chose those addresses: a `--connect-to`
    /// or `--resolve` rule matched, or the name was resolved by the servers given with `--dns`.
    /// An IP literal in a URL, or a system-resolver answer, is the network's choice.
    pub async fn route(&self, host: &str, port: u16) -> Result<redirect::Route, DnsError> {
        let (thost, tport) = self.cfg.connect_target(host, port);
        let rewritten = (thost.as_str(), tport) != (host, port);
        let route = |ips: Vec<IpAddr>, users_choice: bool| redirect::Route {
            addrs: ips
                .into_iter()
                .map(|ip| SocketAddr::new(ip, tport))
                .collect(),
            users_choice,
        };
        if let Some(ips) = self.cfg.pinned(&thost, tport) {
            return Ok(route(ips, true));
        }
        if let Ok(ip) = thost
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(route(vec![ip], rewritten));
        }
        let ips = self.resolver()?.ips(&thost).await?;
        Ok(route(ips, rewritten || !self.cfg.dns.is_empty()))
    }

    /// Await `futs` with at most `--concurrency` running at once, results in input order;
    /// `--concurrency 1` runs every lookup and fetch one after another (the baseline the
    /// benchmark compares against).
    pub async fn join_bounded<F: std::future::Future>(&self, futs: Vec<F>) -> Vec<F::Output> {
        use futures::StreamExt;
        futures::stream::iter(futs)
            .buffered(self.cfg.concurrency.max(1))
            .collect()
            .await
    }
}

//! The one serde [`Report`] every command fills and every renderer reads: its findings, the
//! status they add up to, and the monitoring thresholds that add findings of their own.
//!
//! Key names are public (see the README's JSON section): monitoring jobs parse them, so fields
//! are only ever *added* within a `schema_version`; renaming or removing one bumps
//! [`SCHEMA_VERSION`].

use serde::{Deserialize, Serialize};

use super::discovery::Discovery;
use super::finding::{Finding, FindingCode, Severity};
use super::inbound::Inbound;
use super::roundtrip::RoundtripReport;
use super::servers::{Probe, Settings};

/// Version of the JSON document. Fields may be added within a version, never renamed or removed.
pub const SCHEMA_VERSION: u32 = 1;

/// Overall verdict, mapped one to one to the Nagios exit codes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Status {
    /// 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (monitoring-plugins guidelines).
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
        }
    }
}

/// The whole result of one command run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub schema_version: u32,
    /// `discover`, `check`, `probe` or `roundtrip`.
    pub command: String,
    /// The address as given, domain in punycode; null for `probe`, which is given servers, not an
    /// address.
    // Always present, null when there is none: required and nullable in the schema.
    #[schemars(required, extend("type" = ["string", "null"]))]
    pub address: Option<String>,
    /// ASCII (punycode) domain; null for `probe`.
    #[schemars(required, extend("type" = ["string", "null"]))]
    pub domain: Option<String>,
    /// The domain in Unicode, when it differs from `domain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_unicode: Option<String>,
    pub discovery: Discovery,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub probes: Vec<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
    /// The send-and-fetch-back test (`mailprobe roundtrip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roundtrip: Option<RoundtripReport>,
    /// The receiving side of the domain (`mailprobe audit`; `check`'s Receiving section fills
    /// only `mx`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound: Option<Inbound>,
    pub findings: Vec<Finding>,
    pub status: Status,
    pub elapsed_ms: u64,
}

impl Report {
    pub fn new(command: &str, address: &str, domain: &str) -> Self {
        Report {
            address: Some(address.to_string()),
            domain: Some(domain.to_string()),
            ..Report::for_servers(command)
        }
    }

    /// A report about servers the user named (`probe`): no address, no domain.
    pub fn for_servers(command: &str) -> Self {
        Report {
            schema_version: SCHEMA_VERSION,
            command: command.to_string(),
            address: None,
            domain: None,
            domain_unicode: None,
            discovery: Discovery::default(),
            probes: Vec::new(),
            settings: None,
            roundtrip: None,
            inbound: None,
            findings: Vec::new(),
            status: Status::Ok,
            elapsed_ms: 0,
        }
    }

    /// Submit→arrival latency of the round trip, the inbound audit, when one ran and the message arrived.
    pub fn roundtrip_latency_ms(&self) -> Option<u64> {
        self.roundtrip.as_ref().and_then(|r| r.latency_ms)
    }

    /// Worst severity among the findings, as a status (no finding: OK).
    pub fn status_from_findings(&self) -> Status {
        match self.findings.iter().map(|f| f.severity).max() {
            Some(Severity::Critical) => Status::Critical,
            Some(Severity::Warning) => Status::Warning,
            _ => Status::Ok,
        }
    }
}

/// Monitoring thresholds (`--warn-cert-days`, `--crit-cert-days`, `--warn-latency`,
/// `--crit-latency`, `--warn-time`, `--crit-time`): they add findings and so feed the status and
/// the exit code in every output format, not only nagios. `None` means "not set".
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub warn_cert_days: i64,
    pub crit_cert_days: i64,
    pub warn_latency_s: Option<f64>,
    pub crit_latency_s: Option<f64>,
    pub warn_time_s: Option<f64>,
    pub crit_time_s: Option<f64>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            warn_cert_days: 30,
            crit_cert_days: 7,
            warn_latency_s: None,
            crit_latency_s: None,
            warn_time_s: None,
            crit_time_s: None,
        }
    }
}

fn level(value: f64, warn: Option<f64>, crit: Option<f64>) -> Option<Severity> {
    if crit.is_some_and(|c| value > c) {
        Some(Severity::Critical)
    } else if warn.is_some_and(|w| value > w) {
        Some(Severity::Warning)
    } else {
        None
    }
}

impl Report {
    /// Add threshold findings to the report and recompute its status from all findings.
    pub fn apply_thresholds(&mut self, t: &Thresholds) {
        let r = self;
        // Certificate days: a critical finding below crit_cert_days. (The probe stage already warns
        // below warn_cert_days and reports expired certificates.)
        let mut seen: Vec<&str> = Vec::new();
        let mut add = Vec::new();
        for p in &r.probes {
            let Some(d) = p.tls.as_ref().and_then(|t| t.days_left) else {
                continue;
            };
            if d >= 0 && d < t.crit_cert_days && !seen.contains(&p.host.as_str()) {
                seen.push(&p.host);
                add.push(
                    Finding::new(
                        Severity::Critical,
                        FindingCode::CertificateExpiresCritical,
                        format!(
                            "the certificate of {} expires in {d} day(s) (critical below {})",
                            p.host, t.crit_cert_days
                        ),
                    )
                    .hint("Renew the certificate now."),
                );
            }
        }
        r.findings.extend(add);
        if let Some(ms) = r.roundtrip_latency_ms() {
            let s = ms as f64 / 1000.0;
            if let Some(sev) = level(s, t.warn_latency_s, t.crit_latency_s) {
                r.findings.push(Finding::new(
                    sev,
                    FindingCode::LatencyThreshold,
                    format!("round trip took {s:.1} s"),
                ));
            }
        }
        let s = r.elapsed_ms as f64 / 1000.0;
        if let Some(sev) = level(s, t.warn_time_s, t.crit_time_s) {
            r.findings.push(Finding::new(
                sev,
                FindingCode::TimeThreshold,
                format!("the check took {s:.1} s"),
            ));
        }
        let from_findings = r.status_from_findings();
        r.status = r.status.max(from_findings);
    }
}

/// What a batch (`mailprobe check --batch`) adds up to: counts by status and every check's time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Checks by status, indexed by [`Status::exit_code`].
    pub counts: [usize; 4],
    /// (address, elapsed ms) of every check, in completion order.
    pub checks: Vec<(String, u64)>,
}

impl BatchSummary {
    /// Count one finished check.
    pub fn add(&mut self, r: &Report) {
        self.counts[r.status.exit_code() as usize] += 1;
        let who = r.address.as_ref().or(r.domain.as_ref());
        self.checks
            .push((who.cloned().unwrap_or_default(), r.elapsed_ms));
    }
    /// The worst status of any check (OK for an empty batch): the batch's exit code.
    pub fn worst(&self) -> Status {
        [
            Status::Unknown,
            Status::Critical,
            Status::Warning,
            Status::Ok,
        ]
        .into_iter()
        .find(|s| self.counts[s.exit_code() as usize] > 0)
        .unwrap_or(Status::Ok)
    }
}

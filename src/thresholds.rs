//! Monitoring thresholds (`--warn-cert-days`, `--crit-cert-days`, `--warn-latency`,
//! `--crit-latency`, `--warn-time`, `--crit-time`): they add findings and so feed the status and
//! the exit code in every output format, not only nagios.

use crate::report::{Finding, Report, Severity, nagios::PerfThresholds};

/// Threshold values; `None` means "not set".
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

impl Thresholds {
    pub fn perf(&self) -> PerfThresholds {
        PerfThresholds {
            warn_cert_days: Some(self.warn_cert_days),
            crit_cert_days: Some(self.crit_cert_days),
            warn_latency_s: self.warn_latency_s,
            crit_latency_s: self.crit_latency_s,
            warn_time_s: self.warn_time_s,
            crit_time_s: self.crit_time_s,
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

/// Add threshold findings to the report and recompute its status from all findings.
pub fn apply(r: &mut Report, t: &Thresholds) {
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
                    "cert-expires-critical",
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
                "latency-threshold",
                format!("round trip took {s:.1} s"),
            ));
        }
    }
    let s = r.elapsed_ms as f64 / 1000.0;
    if let Some(sev) = level(s, t.warn_time_s, t.crit_time_s) {
        r.findings.push(Finding::new(
            sev,
            "time-threshold",
            format!("the check took {s:.1} s"),
        ));
    }
    let from_findings = r.status_from_findings();
    r.status = r.status.max(from_findings);
}

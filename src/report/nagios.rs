//! Nagios / monitoring-plugins renderer (Monitoring Plugins Development Guidelines, "Plugin
//! Output" and "Performance data"): one status line `MAILPROBE <STATUS> - <summary> | <perfdata>`,
//! then long text, one finding a line. Perfdata: `'label'=value[UOM];[warn];[crit];[min];[max]`.

use std::fmt::Write;

use super::safe;
use crate::model::*;

/// One perfdata item.
#[derive(Debug, Clone, PartialEq)]
pub struct Perf {
    pub label: String,
    pub value: f64,
    pub uom: &'static str,
    pub warn: Option<f64>,
    pub crit: Option<f64>,
    pub min: Option<f64>,
}

impl Perf {
    fn secs(label: String, ms: u64, warn: Option<f64>, crit: Option<f64>) -> Perf {
        Perf {
            label,
            value: ms as f64 / 1000.0,
            uom: "s",
            warn,
            crit,
            min: Some(0.0),
        }
    }
    /// `'label'=value[UOM];[warn];[crit];[min];[max]`; single quotes in labels are doubled.
    pub fn render(&self) -> String {
        let num = |v: Option<f64>| v.map(fmt_num).unwrap_or_default();
        let s = format!(
            "'{}'={}{};{};{};{};",
            self.label.replace('\'', "''"),
            fmt_num(self.value),
            self.uom,
            num(self.warn),
            num(self.crit),
            num(self.min)
        );
        s.trim_end_matches(';').to_string()
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

fn step_ms(p: &Probe, names: &[&str]) -> Option<u64> {
    let ms: Vec<u64> = p
        .steps
        .iter()
        .filter(|s| names.contains(&s.name.as_str()))
        .map(|s| s.elapsed_ms)
        .collect();
    (!ms.is_empty()).then(|| ms.iter().sum())
}

/// Perfdata for a report.
pub fn perfdata(r: &Report, t: &Thresholds) -> Vec<Perf> {
    let mut out = Vec::new();
    // Per protocol: the probe behind the chosen setting, else the first working probe.
    let chosen = |proto: Protocol| -> Option<&Probe> {
        let setting = r.settings.as_ref().and_then(|s| {
            if proto.is_incoming() {
                s.incoming.as_ref()
            } else {
                s.outgoing.as_ref()
            }
        });
        let by_setting = setting.and_then(|s| {
            r.probes.iter().find(|p| {
                p.protocol == proto && p.host == s.host && p.port == s.port && s.protocol == proto
            })
        });
        by_setting.or_else(|| {
            r.probes
                .iter()
                .find(|p| p.protocol == proto && matches!(p.outcome, Outcome::Working { .. }))
        })
    };
    for proto in [Protocol::Imap, Protocol::Pop3, Protocol::Smtp] {
        let Some(p) = chosen(proto) else { continue };
        let name = proto.as_str();
        if let Some(ms) = step_ms(p, &["connect"]) {
            out.push(Perf::secs(format!("{name}_connect"), ms, None, None));
        }
        if let Some(ms) = step_ms(p, &["tls", "starttls"]) {
            out.push(Perf::secs(format!("{name}_tls"), ms, None, None));
        }
        if let Some(ms) = step_ms(p, &["auth"]) {
            out.push(Perf::secs(format!("{name}_login"), ms, None, None));
        }
    }
    let mut hosts: Vec<(&str, i64)> = Vec::new();
    for p in &r.probes {
        if let Some(d) = p.tls.as_ref().and_then(|t| t.days_left) {
            match hosts.iter_mut().find(|(h, _)| *h == p.host) {
                Some(e) => e.1 = e.1.min(d),
                None => hosts.push((&p.host, d)),
            }
        }
    }
    for (h, d) in hosts {
        out.push(Perf {
            label: format!("cert_days_{h}"),
            value: d as f64,
            uom: "",
            warn: Some(t.warn_cert_days as f64),
            crit: Some(t.crit_cert_days as f64),
            min: None,
        });
    }
    if let Some(ms) = r.roundtrip_latency_ms() {
        out.push(Perf::secs(
            "roundtrip_latency".into(),
            ms,
            t.warn_latency_s,
            t.crit_latency_s,
        ));
    }
    out.push(Perf::secs(
        "time".into(),
        r.elapsed_ms,
        t.warn_time_s,
        t.crit_time_s,
    ));
    out
}

/// A one-line summary of the verdict.
pub fn summary(r: &Report) -> String {
    let worst = r
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        // The first of the worst: findings are listed most telling first.
        .min_by_key(|f| std::cmp::Reverse(f.severity));
    let settings = r.settings.as_ref().map(|s| {
        let one = |x: Option<&Setting>| x.map(|s| s.summary()).unwrap_or_else(|| "none".into());
        format!(
            "in {}, out {}",
            one(s.incoming.as_ref()),
            one(s.outgoing.as_ref())
        )
    });
    let settings = if r.command == "probe" {
        let working = r
            .probes
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Working { .. }))
            .count();
        Some(format!("{working} of {} server(s) working", r.probes.len()))
    } else if let (None, Some(i)) = (&settings, &r.inbound) {
        // `audit`; `check`'s Receiving section does not replace its settings.
        Some(i.summary())
    } else {
        settings
    };
    let who = super::subject(r);
    let base = settings.unwrap_or_else(|| {
        format!(
            "{} candidate(s) from {} attempt(s)",
            r.discovery.candidates.len(),
            r.discovery.attempts.len()
        )
    });
    match worst {
        Some(f) => format!("{who}: {} ({base})", f.message),
        None => format!("{who}: {base}"),
    }
}

/// Render the plugin output. Every string is shown escaped ([`safe`]), so no control character
/// (newline included) reaches the output from the report; `|` would start the perfdata: replaced.
pub fn render(r: &Report, t: &Thresholds) -> String {
    let r = &safe::report(r);
    let clean = |s: &str| s.replace(['\n', '\r'], " ").replace('|', "/");
    let perf: Vec<String> = perfdata(r, t).iter().map(Perf::render).collect();
    let mut o = format!(
        "MAILPROBE {} - {} | {}\n",
        r.status.as_str().to_uppercase(),
        clean(&summary(r)),
        perf.join(" ")
    );
    for f in &r.findings {
        let _ = writeln!(
            o,
            "{}: {}: {}",
            f.severity_label(),
            f.code,
            clean(&f.message)
        );
    }
    o
}

/// The status line and long text for a run that could not start (always UNKNOWN, exit 3).
pub fn render_error(message: &str) -> String {
    format!(
        "MAILPROBE UNKNOWN - {}\n",
        safe::escape(&message.replace(['\n', '\r'], " ")).replace('|', "/")
    )
}

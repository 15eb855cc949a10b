//! Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text: the metrics of one or
//! many reports (`--format openmetrics`, for node_exporter's textfile collector) and of the
//! exporter's `/probe` answers.
//!
//! Every family is a gauge, so the two formats differ only in the content type and the
//! closing `# EOF` line (OpenMetrics 1.0 §"Overall structure"). Label values are escaped as
//! both formats require (`\\`, `\"`, `\n`), and every label comes from a bounded set — protocol,
//! host, port, IP, step name, severity, finding code, TLS version, source — never message text.
//! Families are written grouped, HELP and TYPE once each, however many reports contribute.

use std::collections::HashMap;
use std::fmt::Write;

use crate::model::{Inbound, Probe, Report, Severity, Status, TlsInfo};

/// Content type of the Prometheus text format.
pub(crate) const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of the OpenMetrics text format.
pub(crate) const OPENMETRICS_TEXT: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Which of the two text formats to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Prometheus,
    OpenMetrics,
}

/// Kind of a family (`# TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Gauge,
    /// Samples carry the `_total` suffix; the family name does not in OpenMetrics.
    Counter,
}

struct Family {
    help: &'static str,
    kind: Kind,
    samples: Vec<String>,
}

/// Families in first-use order, each with its samples.
#[derive(Default)]
pub(crate) struct Metrics {
    order: Vec<&'static str>,
    families: HashMap<&'static str, Family>,
}

/// A label value escaped for both text formats.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

impl Metrics {
    /// Add one sample to family `name` (declared on first use).
    pub fn add(
        &mut self,
        name: &'static str,
        kind: Kind,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let fam = self.families.entry(name).or_insert_with(|| Family {
            help,
            kind,
            samples: Vec::new(),
        });
        if fam.samples.is_empty() && !self.order.contains(&name) {
            self.order.push(name);
        }
        let mut s = String::from(name);
        if !labels.is_empty() {
            s.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                let _ = write!(s, "{k}=\"{}\"", escape(v));
            }
            s.push('}');
        }
        let _ = write!(s, " {}", num(value));
        fam.samples.push(s);
    }

    /// A gauge sample.
    pub fn gauge(&mut self, name: &'static str, help: &'static str, l: &[(&str, &str)], v: f64) {
        self.add(name, Kind::Gauge, help, l, v);
    }

    /// The whole exposition.
    pub fn render(&self, flavor: Flavor) -> String {
        let mut out = String::new();
        for name in &self.order {
            let f = &self.families[name];
            let family = match (f.kind, flavor) {
                (Kind::Counter, Flavor::OpenMetrics) => name.trim_end_matches("_total"),
                _ => name,
            };
            let kind = match f.kind {
                Kind::Gauge => "gauge",
                Kind::Counter => "counter",
            };
            let _ = writeln!(out, "# HELP {family} {}", f.help);
            let _ = writeln!(out, "# TYPE {family} {kind}");
            for s in &f.samples {
                out.push_str(s);
                out.push('\n');
            }
        }
        if flavor == Flavor::OpenMetrics {
            out.push_str("# EOF\n");
        }
        out
    }
}

/// Does the report count as a success (`mailprobe_success` 1)? OK or WARNING: the settings work.
pub fn success(r: &Report) -> bool {
    matches!(r.status, Status::Ok | Status::Warning)
}

/// The metrics of one report; `base` labels go on every sample (empty for `/probe`, where the
/// scraper adds `instance`; `target` for a textfile of many reports).
pub(crate) fn report_metrics(m: &mut Metrics, r: &Report, base: &[(&str, &str)]) {
    let with = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
        base.iter()
            .chain(extra.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let add = |m: &mut Metrics, name, help, extra: &[(&str, &str)], v: f64| {
        let owned = with(extra);
        let l: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        m.gauge(name, help, &l, v);
    };
    add(
        m,
        "mailprobe_success",
        "1 when the run's status is OK or WARNING",
        &[],
        f64::from(u8::from(success(r))),
    );
    add(
        m,
        "mailprobe_status",
        "Status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
        &[],
        f64::from(r.status.exit_code()),
    );
    add(
        m,
        "mailprobe_duration_seconds",
        "Duration of the whole run",
        &[],
        r.elapsed_ms as f64 / 1000.0,
    );
    if let Some(ms) = r.roundtrip_latency_ms() {
        add(
            m,
            "mailprobe_roundtrip_latency_seconds",
            "Submission to arrival of the test message",
            &[],
            ms as f64 / 1000.0,
        );
    }
    source_metrics(m, r, &add);
    for p in &r.probes {
        probe_metrics(m, p, &add);
    }
    if let Some(i) = &r.inbound {
        mx_metrics(m, i, &add);
    }
    for (sev, code, n) in finding_counts(r) {
        add(
            m,
            "mailprobe_findings",
            "Findings by severity and code",
            &[("severity", sev), ("code", code)],
            n as f64,
        );
    }
}

type Add<'a> = dyn Fn(&mut Metrics, &'static str, &'static str, &[(&str, &str)], f64) + 'a;

/// The discovery source that named each chosen setting.
fn source_metrics(m: &mut Metrics, r: &Report, add: &Add<'_>) {
    for (dir, setting) in r
        .settings
        .iter()
        .flat_map(|s| [("incoming", &s.incoming), ("outgoing", &s.outgoing)])
    {
        let Some(s) = setting else { continue };
        let winner = r.probes.iter().find(|p| {
            p.protocol == s.protocol
                && p.host == s.host
                && p.port == s.port
                && p.security == s.security
        });
        if let Some(src) = winner.and_then(|p| p.sources.first()) {
            add(
                m,
                "mailprobe_discovery_source_info",
                "The discovery source of the chosen setting",
                &[("direction", dir), ("source", src.as_str())],
                1.0,
            );
        }
    }
}

fn probe_metrics(m: &mut Metrics, p: &Probe, add: &Add<'_>) {
    let port = p.port.to_string();
    let ip = p
        .addresses
        .iter()
        .find(|a| a.result == "connected")
        .map(|a| a.address.as_str())
        .unwrap_or("");
    let id = [
        ("protocol", p.protocol.as_str()),
        ("host", p.host.as_str()),
        ("port", port.as_str()),
        ("security", p.security.as_str()),
    ];
    let ok = matches!(p.outcome, crate::model::Outcome::Working { .. });
    add(
        m,
        "mailprobe_probe_success",
        "1 when every step of the server's probe worked",
        &id,
        f64::from(u8::from(ok)),
    );
    for s in &p.steps {
        let l = [&id[..], &[("step", s.name.as_str())]].concat();
        add(
            m,
            "mailprobe_step_duration_seconds",
            "Duration of one probe step (connect, tls, starttls, auth, ...)",
            &l,
            s.elapsed_ms as f64 / 1000.0,
        );
    }
    if let Some(t) = &p.tls {
        let l = [&id[..], &[("version", t.version.as_str())]].concat();
        add(
            m,
            "mailprobe_tls_version_info",
            "TLS version the server negotiated",
            &l,
            1.0,
        );
        let at = [
            ("host", p.host.as_str()),
            ("ip", ip),
            ("port", port.as_str()),
        ];
        cert_metrics(
            m,
            add,
            t,
            &at,
            [
                (
                    "mailprobe_cert_expiry_timestamp_seconds",
                    "Leaf certificate notAfter, Unix time",
                ),
                (
                    "mailprobe_cert_remaining_seconds",
                    "Time until the leaf certificate expires: days left x 86400, negative once expired",
                ),
            ],
        );
    }
}

/// The leaf certificate's notAfter (Unix time) and its days left under `names` (expiry, then
/// remaining, each with its help). "Days left" goes out in the base unit Prometheus naming asks
/// for (promtool rejects `_days`): whole days as the report counts them, times 86400.
fn cert_metrics(
    m: &mut Metrics,
    add: &Add<'_>,
    t: &TlsInfo,
    at: &[(&str, &str)],
    names: [(&'static str, &'static str); 2],
) {
    let [(expiry, expiry_help), (remaining, remaining_help)] = names;
    if let Some(ts) = t.not_after.as_deref().and_then(unix_time) {
        add(m, expiry, expiry_help, at, ts as f64);
    }
    if let Some(d) = t.days_left {
        add(m, remaining, remaining_help, at, (d * 86_400) as f64);
    }
}

/// Port 25 of every MX address (`audit`, and `check`'s Receiving section): reached, STARTTLS,
/// the TLS version and the certificate's expiry, per host and IP. A probe cut at the verdict
/// proves nothing and gives no sample; an MX listed twice, one series.
fn mx_metrics(m: &mut Metrics, i: &Inbound, add: &Add<'_>) {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for h in &i.mx {
        for a in &h.addresses {
            let Some(p) = a.probe.as_ref().filter(|p| p.cut.is_none()) else {
                continue;
            };
            if seen.contains(&(h.host.as_str(), a.ip.as_str())) {
                continue;
            }
            seen.push((h.host.as_str(), a.ip.as_str()));
            let at = [("host", h.host.as_str()), ("ip", a.ip.as_str())];
            let greeted = p.banner.as_ref().is_some_and(|b| b.code == 220);
            add(
                m,
                "mailprobe_mx_reachable",
                "1 when the MX address greeted with 220 on port 25",
                &at,
                f64::from(u8::from(greeted)),
            );
            if p.ehlo.is_some() {
                add(
                    m,
                    "mailprobe_mx_starttls",
                    "1 when the MX address offered STARTTLS and the handshake worked",
                    &at,
                    f64::from(u8::from(p.starttls_ok)),
                );
            }
            let Some(t) = &p.tls else { continue };
            let l = [&at[..], &[("version", t.version.as_str())]].concat();
            add(
                m,
                "mailprobe_mx_tls_version_info",
                "TLS version the MX address negotiated after STARTTLS",
                &l,
                1.0,
            );
            cert_metrics(
                m,
                add,
                t,
                &at,
                [
                    (
                        "mailprobe_mx_cert_expiry_timestamp_seconds",
                        "MX leaf certificate notAfter, Unix time",
                    ),
                    (
                        "mailprobe_mx_cert_remaining_seconds",
                        "Time until the MX leaf certificate expires: days left x 86400",
                    ),
                ],
            );
        }
    }
}

fn unix_time(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Findings counted by (severity, code), in a stable order.
fn finding_counts(r: &Report) -> Vec<(&'static str, &str, usize)> {
    let mut counts: Vec<(&'static str, &str, usize)> = Vec::new();
    for f in &r.findings {
        let sev = match f.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        };
        match counts
            .iter_mut()
            .find(|(s, c, _)| *s == sev && *c == f.code.as_str())
        {
            Some(e) => e.2 += 1,
            None => counts.push((sev, f.code.as_str(), 1)),
        }
    }
    counts
}

/// One report as a whole exposition, labelled with its target (`--format openmetrics`).
pub fn render(r: &Report) -> String {
    render_many(std::slice::from_ref(r))
}

/// Many reports as one exposition (a batch): every sample labelled `target`.
pub(crate) fn render_many(reports: &[Report]) -> String {
    let mut m = Metrics::default();
    for r in reports {
        let target = r.address.as_deref().or(r.domain.as_deref()).unwrap_or("");
        report_metrics(&mut m, r, &[("target", target)]);
    }
    m.render(Flavor::OpenMetrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, FindingCode};

    #[test]
    fn families_once_labels_escaped_eof_last() {
        let mut a = Report::new("check", "a@x.example", "x.example");
        a.findings.push(Finding::new(
            Severity::Warning,
            FindingCode::CertificateExpired,
            "m",
        ));
        a.findings.push(Finding::new(
            Severity::Warning,
            FindingCode::CertificateExpired,
            "m",
        ));
        a.status = Status::Warning;
        let mut b = Report::new("check", "b\"\\\n@y.example", "y.example");
        b.status = Status::Critical;
        let text = render_many(&[a, b]);
        assert_eq!(text.matches("# TYPE mailprobe_success gauge").count(), 1);
        assert!(
            text.contains("mailprobe_success{target=\"a@x.example\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("mailprobe_success{target=\"b\\\"\\\\\\n@y.example\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("mailprobe_status{target=\"a@x.example\"} 1\n"));
        assert!(text.contains(
            "mailprobe_findings{target=\"a@x.example\",severity=\"warning\",code=\"certificate-expired\"} 2\n"
        ));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn counters_lose_total_in_openmetrics_family_names() {
        let mut m = Metrics::default();
        m.add(
            "mailprobe_exporter_runs_total",
            Kind::Counter,
            "Runs",
            &[],
            3.0,
        );
        let om = m.render(Flavor::OpenMetrics);
        assert!(
            om.contains(
                "# TYPE mailprobe_exporter_runs counter\nmailprobe_exporter_runs_total 3\n"
            )
        );
        let prom = m.render(Flavor::Prometheus);
        assert!(prom.contains("# TYPE mailprobe_exporter_runs_total counter\n"));
        assert!(!prom.contains("# EOF"));
    }
}

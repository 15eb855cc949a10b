//! The exporter's own metrics (`GET /metrics`): probes run and answered from the cache per
//! module and status, probe durations, HTTP answers by code, probes and requests in flight.
//! Labels are module names (from the configuration), statuses and HTTP codes: all bounded.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::model::Status;
use crate::report::openmetrics::{Flavor, Kind, Metrics};

#[derive(Default)]
struct Counts {
    /// (module, status) → probes run.
    probes: BTreeMap<(String, &'static str), u64>,
    /// module → answers served from the cache.
    cached: BTreeMap<String, u64>,
    /// module → (sum of seconds, count).
    durations: BTreeMap<String, (f64, u64)>,
    /// HTTP status → answers.
    http: BTreeMap<u16, u64>,
    /// module → probes that ran out of time.
    timeouts: BTreeMap<String, u64>,
}

/// Counters and gauges, updated by the exporter and the HTTP layer.
#[derive(Default)]
pub struct Stats {
    counts: Mutex<Counts>,
    pub probes_in_flight: AtomicI64,
    pub requests_in_flight: AtomicI64,
    /// Connections accepted and not yet closed.
    pub connections_open: AtomicI64,
    /// Connections closed because the request head (or TLS handshake) was not done in time.
    pub slow_clients: AtomicI64,
}

impl Stats {
    fn with<R>(&self, f: impl FnOnce(&mut Counts) -> R) -> R {
        f(&mut self.counts.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn probed(&self, module: &str, status: Status, secs: f64) {
        self.with(|c| {
            *c.probes
                .entry((module.to_string(), status.as_str()))
                .or_default() += 1;
            let d = c.durations.entry(module.to_string()).or_default();
            d.0 += secs;
            d.1 += 1;
        });
    }

    pub fn cached(&self, module: &str) {
        self.with(|c| *c.cached.entry(module.to_string()).or_default() += 1);
    }

    pub fn timed_out(&self, module: &str) {
        self.with(|c| *c.timeouts.entry(module.to_string()).or_default() += 1);
    }

    pub fn answered(&self, code: u16) {
        self.with(|c| *c.http.entry(code).or_default() += 1);
    }

    /// The exposition of `GET /metrics`.
    pub fn render(&self, flavor: Flavor) -> String {
        let mut m = Metrics::default();
        self.with(|c| c.counters(&mut m));
        let g = |a: &AtomicI64| a.load(Ordering::Relaxed) as f64;
        m.gauge(
            "mailprobe_exporter_probes_in_flight",
            "Probes running now",
            &[],
            g(&self.probes_in_flight),
        );
        m.gauge(
            "mailprobe_exporter_requests_in_flight",
            "HTTP requests being answered now",
            &[],
            g(&self.requests_in_flight),
        );
        m.gauge(
            "mailprobe_exporter_connections_open",
            "HTTP connections open now (at most max-connections)",
            &[],
            g(&self.connections_open),
        );
        m.add(
            "mailprobe_exporter_header_timeouts_total",
            Kind::Counter,
            "Connections closed because the request head was not complete within header-timeout",
            &[],
            g(&self.slow_clients),
        );
        m.gauge(
            "mailprobe_exporter_build_info",
            "1, with the version",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        m.render(flavor)
    }
}

impl Counts {
    /// The counters by module, status and HTTP code.
    fn counters(&self, m: &mut Metrics) {
        for ((module, status), n) in &self.probes {
            m.add(
                "mailprobe_exporter_probes_total",
                Kind::Counter,
                "Probes run, by module and status",
                &[("module", module), ("status", status)],
                *n as f64,
            );
        }
        for (module, n) in &self.cached {
            m.add(
                "mailprobe_exporter_cache_hits_total",
                Kind::Counter,
                "Scrapes answered from a result younger than min-interval",
                &[("module", module)],
                *n as f64,
            );
        }
        for (module, n) in &self.timeouts {
            m.add(
                "mailprobe_exporter_probe_timeouts_total",
                Kind::Counter,
                "Probes stopped at their time budget",
                &[("module", module)],
                *n as f64,
            );
        }
        for (module, (sum, _)) in &self.durations {
            m.add(
                "mailprobe_exporter_probe_duration_seconds_total",
                Kind::Counter,
                "Seconds spent probing",
                &[("module", module)],
                *sum,
            );
        }
        for (code, n) in &self.http {
            let code = code.to_string();
            m.add(
                "mailprobe_exporter_http_responses_total",
                Kind::Counter,
                "HTTP answers by status code",
                &[("code", &code)],
                *n as f64,
            );
        }
    }
}

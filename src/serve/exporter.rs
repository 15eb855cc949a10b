//! The exporter's state and its one operation, [`Exporter::probe`]: the module's run for a
//! target, at most once per `min-interval` (later scrapes get the same result, and concurrent
//! scrapes of one target wait for the one run instead of starting their own), at most
//! `concurrency` runs at once, every run within its module's time budget, every result kept in a
//! bounded list of recent probes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;

use super::stats::Stats;
use super::{Module, ServeOptions};
use crate::model::{Finding, FindingCode, Report, Severity, Status};
use crate::probe::limits::Limits;

/// The most (module, target) results kept; beyond it the oldest are forgotten.
pub(crate) const MAX_CACHED: usize = 10_000;

/// Why `/probe` cannot answer with metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// No such module: `404`.
    UnknownModule(String),
    /// The target is not one the module takes: `400` with the reason.
    BadTarget(String),
}

/// One finished probe, for `/` and `/report`.
#[derive(Debug, Clone)]
pub struct Recent {
    pub id: u64,
    pub module: String,
    pub target: String,
    pub at: SystemTime,
    pub report: Arc<Report>,
}

type Slot = Arc<tokio::sync::Mutex<Option<(Instant, Arc<Report>)>>>;

/// The running exporter.
pub struct Exporter {
    pub options: ServeOptions,
    modules: BTreeMap<String, Module>,
    limits: Arc<Limits>,
    permits: Arc<Semaphore>,
    slots: Mutex<HashMap<(String, String), Slot>>,
    recent: Mutex<VecDeque<Recent>>,
    next_id: AtomicU64,
    pub stats: Stats,
}

impl Exporter {
    /// An exporter over resolved modules; `per_host` connections to one server at once and
    /// `connections` at once overall, across every probe.
    pub fn new(
        options: ServeOptions,
        modules: Vec<Module>,
        connections: usize,
        per_host: usize,
    ) -> Exporter {
        let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
        Exporter {
            modules: modules.into_iter().map(|m| (m.name.clone(), m)).collect(),
            limits: Limits::new(connections.max(1), per_host.max(1)),
            permits,
            slots: Mutex::new(HashMap::new()),
            recent: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(1),
            stats: Stats::default(),
            options,
        }
    }

    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.modules.values()
    }

    /// The report for `target` under `module`: from the cache when younger than the module's
    /// min-interval, else a new run. The run is a task of its own: a scraper that gives up
    /// (its scrape timeout) does not cancel it, and the next scrape finds its result.
    pub async fn probe(
        self: &Arc<Self>,
        module: &str,
        target: &str,
    ) -> Result<Arc<Report>, ProbeError> {
        let m = self
            .modules
            .get(module)
            .ok_or_else(|| ProbeError::UnknownModule(module.to_string()))?;
        let target = target.trim().to_string();
        m.check_target(&target).map_err(ProbeError::BadTarget)?;
        let (me, module) = (self.clone(), module.to_string());
        let task = tokio::spawn(async move { me.cached_or_run(&module, &target).await });
        task.await
            .map_err(|e| ProbeError::BadTarget(format!("the probe failed: {e}")))
    }

    async fn cached_or_run(&self, module: &str, target: &str) -> Arc<Report> {
        let m = &self.modules[module];
        let slot = self.slot(module, target);
        let mut cached = slot.lock().await;
        if let Some((at, r)) = cached.as_ref()
            && at.elapsed() < m.min_interval
        {
            self.stats.cached(module);
            return r.clone();
        }
        let report = Arc::new(self.run(m, target).await);
        *cached = Some((Instant::now(), report.clone()));
        self.remember(module, target, report.clone());
        report
    }

    /// The run itself, within the global limit and the module's budget.
    async fn run(&self, m: &Module, target: &str) -> Report {
        let _permit = self.permits.acquire().await;
        self.stats.probes_in_flight.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let r = tokio::time::timeout(m.budget(), m.run(target, &self.limits)).await;
        self.stats.probes_in_flight.fetch_sub(1, Ordering::Relaxed);
        let r = match r {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => failed(m, target, FindingCode::InvalidInput, e),
            Err(_) => {
                self.stats.timed_out(&m.name);
                let msg = format!("no result within {} s", m.budget().as_secs());
                failed(m, target, FindingCode::ExporterTimeout, msg)
            }
        };
        self.stats
            .probed(&m.name, r.status, started.elapsed().as_secs_f64());
        r
    }

    fn slot(&self, module: &str, target: &str) -> Slot {
        let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_CACHED {
            // Forget finished results only; a slot in use stays (its holder keeps it alive).
            map.retain(|_, s| Arc::strong_count(s) > 1);
        }
        map.entry((module.to_string(), target.to_string()))
            .or_default()
            .clone()
    }

    fn remember(&self, module: &str, target: &str, report: Arc<Report>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut list = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        list.push_front(Recent {
            id,
            module: module.to_string(),
            target: target.to_string(),
            at: SystemTime::now(),
            report,
        });
        list.truncate(self.options.recent.max(1));
    }

    /// The recent probes, newest first.
    pub fn recent(&self) -> Vec<Recent> {
        let list = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        list.iter().cloned().collect()
    }

    /// One recent probe by id.
    pub fn report(&self, id: u64) -> Option<Recent> {
        let list = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        list.iter().find(|r| r.id == id).cloned()
    }

    /// Longest time any module's probe may take (the HTTP layer's request timeout builds on it).
    pub fn max_budget(&self) -> Duration {
        self.modules
            .values()
            .map(Module::budget)
            .max()
            .unwrap_or(Duration::from_secs(60))
    }
}

/// A report for a run that produced none: UNKNOWN with the reason.
fn failed(m: &Module, target: &str, code: FindingCode, msg: String) -> Report {
    let mut r = Report::new(m.settings.task.name(), target, "");
    r.command = format!("{:?}", m.command).to_lowercase();
    r.findings.push(Finding::new(Severity::Critical, code, msg));
    r.status = Status::Unknown;
    r
}

//! Batch mode: `mailprobe check --batch FILE` checks many addresses with bounded concurrency,
//! one discovery per domain, results in input order (JSON Lines with `--format json`, a table
//! otherwise), progress through the run's [`Reporter`], and an aggregated summary.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use futures::future::{BoxFuture, FutureExt, Shared};
use tokio::sync::oneshot;

use super::check::{check_address, check_with, probe_options};
use super::{AppError, Format, Io, Reporter, Settings};
use crate::address::{self, Address};
use crate::auth::{Credentials, PasswordSource, read_secret};
use crate::discover::{self, Discovered};
use crate::model::{BatchSummary, FindingCode, Report, Status};
use crate::net::Net;
use crate::report::batch;

pub mod input;
pub use input::{Entry, parse_entries};

/// Read FILE or standard input (`-`), at most [`input::MAX_INPUT`] bytes: a larger input
/// (`/dev/zero`, an endless pipe) is refused before anything is checked.
pub(crate) fn read_input(path: &str, stdin: &mut dyn Read) -> Result<Vec<u8>, AppError> {
    let mut buf = Vec::new();
    let cap = input::MAX_INPUT + 1;
    let res = if path == "-" {
        stdin.take(cap).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path)
            .map_err(|e| AppError::Usage(format!("cannot read --batch {path}: {e}")))?
            .take(cap)
            .read_to_end(&mut buf)
    };
    res.map_err(|e| AppError::Usage(format!("cannot read --batch {path}: {e}")))?;
    if buf.len() as u64 > input::MAX_INPUT {
        return Err(AppError::Usage(format!(
            "--batch {path} is larger than {} MiB: split it into smaller batches",
            input::MAX_INPUT / (1024 * 1024)
        )));
    }
    Ok(buf)
}

/// The entries of the batch input; an input without any address (empty, only comments) or with
/// more than [`input::MAX_ENTRIES`] is a usage error: a monitor must not go green on an empty list.
fn entries(path: &str, env_prefix: &str, stdin: &mut dyn Read) -> Result<Vec<Entry>, AppError> {
    if env_prefix.is_empty() {
        return Err(AppError::Usage(
            "--password-env-prefix must not be empty: it limits which variables a batch file may name".into(),
        ));
    }
    let entries = parse_entries(&read_input(path, stdin)?, env_prefix);
    if entries.is_empty() {
        return Err(AppError::Usage(format!(
            "--batch {path} holds no address: every line is blank, a comment or the header"
        )));
    }
    if entries.len() > input::MAX_ENTRIES {
        return Err(AppError::Usage(format!(
            "--batch {path} holds {} addresses; at most {} in one batch",
            entries.len(),
            input::MAX_ENTRIES
        )));
    }
    Ok(entries)
}

/// A domain's discovery, once its first address has it (None: that check ended without it).
type SharedDiscovery = Shared<BoxFuture<'static, Option<Arc<(Address, Discovered)>>>>;

/// What the cache has for an address's domain.
enum Slot {
    /// An earlier address of the domain runs (or ran) its discovery: wait for it.
    Known(SharedDiscovery),
    /// This is the domain's first address: its own check discovers, pipelined into its probes,
    /// and publishes the discovery here as soon as it is complete.
    First(oneshot::Sender<Arc<(Address, Discovered)>>),
}

/// One discovery per domain within a batch; the candidates' user names are rewritten for each
/// address (they were resolved for the first address of the domain).
#[derive(Default)]
struct DiscoveryCache {
    by_domain: Mutex<HashMap<String, SharedDiscovery>>,
}

impl DiscoveryCache {
    fn slot(&self, addr: &Address) -> Slot {
        let mut map = self.by_domain.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = map.get(&addr.domain) {
            return Slot::Known(f.clone());
        }
        let (tx, rx) = oneshot::channel();
        map.insert(
            addr.domain.clone(),
            async move { rx.await.ok() }.boxed().shared(),
        );
        Slot::First(tx)
    }

    /// The domain's discovery for `addr`: the shared one, or its own if that never came.
    async fn known(f: SharedDiscovery, net: &Arc<Net>, addr: &Address) -> Discovered {
        let Some(shared) = f.await else {
            return discover::discover(net, addr).await;
        };
        let (first, d) = (&shared.0, &shared.1);
        let mut d = d.clone();
        if first.local != addr.local {
            for c in &mut d.discovery.candidates {
                if let Some(u) = &c.username {
                    if *u == first.ascii() {
                        c.username = Some(addr.ascii());
                    } else if *u == first.local {
                        c.username = Some(addr.local.clone());
                    }
                }
            }
        }
        d
    }
}

fn error_report(e: &Entry, err: &str) -> Report {
    let mut r = Report::new(
        "check",
        &e.address,
        e.address.rsplit_once('@').map(|x| x.1).unwrap_or(""),
    );
    r.findings.push(crate::model::Finding::new(
        crate::model::Severity::Critical,
        FindingCode::InvalidInput,
        format!("line {}: {err}", e.line),
    ));
    r.status = Status::Unknown;
    r
}

/// Run the batch from `path` (`-`: `io.stdin`), whose password variables must start with
/// `env_prefix`, writing results in input order as they complete.
pub async fn run(
    s: &Settings,
    (path, env_prefix): (&str, &str),
    base_creds: &Credentials,
    net: &Arc<Net>,
    io: &mut Io<'_>,
    out: &mut dyn Write,
) -> Result<Status, AppError> {
    let mut entries = entries(path, env_prefix, &mut io.stdin)?;
    // Sharded after the checks of the whole file, so every worker refuses the same bad file.
    if let Some(shard) = s.shard {
        entries.retain(|e| shard.takes(&e.address));
    }
    let reporter: &dyn Reporter = io.reporter;
    reporter.on_batch_start(entries.len());
    let concurrency = s.net.concurrency.max(1);
    let shared = &Batch {
        s,
        base_creds,
        cache: DiscoveryCache::default(),
        // One set of connection limits for the whole batch: --per-host holds across addresses.
        limits: crate::probe::limits::Limits::new(concurrency * 4, s.per_host),
    };
    let jobs = entries.iter().map(|e| async move {
        let r = shared.check_entry(net, e).await;
        reporter.on_address_done(&r);
        r
    });
    let layout = Layout {
        header: batch::table_header(),
        row: batch::table_row,
        json_line: crate::report::json::render_line,
        what: "addresses",
    };
    Ok(emit(jobs, concurrency, s.output.format, &layout, reporter, out).await)
}

/// How one kind of batch writes itself: its table, its JSON lines and what the Nagios summary
/// counts.
pub(super) struct Layout {
    pub header: String,
    pub row: fn(&Report) -> String,
    pub json_line: fn(&Report) -> String,
    pub what: &'static str,
}

/// Writes the reports in input order as they complete (up to `concurrency` jobs at once), then
/// the closing summary, and tells the reporter; returns the worst status.
pub(super) async fn emit(
    jobs: impl Iterator<Item = impl Future<Output = Report>>,
    concurrency: usize,
    format: Format,
    layout: &Layout,
    reporter: &dyn Reporter,
    out: &mut dyn Write,
) -> Status {
    let mut summary = BatchSummary::default();
    let mut metrics = Vec::new();
    if format == Format::Human {
        let _ = out.write_all(layout.header.as_bytes());
    }
    // `buffered` keeps input order while running up to --concurrency checks at once.
    let mut stream = futures::stream::iter(jobs).buffered(concurrency);
    while let Some(r) = stream.next().await {
        summary.add(&r);
        let text = match format {
            Format::Json => (layout.json_line)(&r),
            Format::Human => (layout.row)(&r),
            Format::Nagios => String::new(),
            Format::OpenMetrics => {
                metrics.push(r);
                String::new()
            }
        };
        let _ = out.write_all(text.as_bytes());
    }
    write_summary(format, &summary, &metrics, layout.what, out);
    // With JSON Lines the summary is not part of the output: stdout stays pure JSON.
    let side =
        matches!(format, Format::Json | Format::OpenMetrics).then(|| batch::summary(&summary));
    reporter.on_batch_complete(side.as_deref());
    summary.worst()
}

/// What every address of one batch shares: settings, credentials, discovery per domain and
/// connection limits.
struct Batch<'a> {
    s: &'a Settings,
    base_creds: &'a Credentials,
    cache: DiscoveryCache,
    limits: Arc<crate::probe::limits::Limits>,
}

impl Batch<'_> {
    /// Checks one line of the batch: its own credentials, the domain's discovery (done once,
    /// by the first address of the domain) and the probes; a bad line is a report saying why.
    async fn check_entry(&self, net: &Arc<Net>, e: &Entry) -> Report {
        let started = Instant::now();
        // Each address gets the whole --deadline from when its check starts.
        let net = net.rearmed();
        let parsed = match &e.problem {
            Some(p) => Err(p.clone()),
            None => address::parse(&e.address).map_err(|err| err.to_string()),
        };
        let addr = match parsed {
            Ok(addr) => addr,
            Err(err) => return error_report(e, &err),
        };
        let mut creds = match entry_credentials(e, self.base_creds) {
            Ok(c) => c,
            Err(msg) => return error_report(e, &msg),
        };
        // `--oauth`: each address logs in with its own stored token.
        let refused = match super::with_stored_token(self.s, &net, Some(&addr), &mut creds).await {
            Ok(refused) => refused,
            Err(err) => return error_report(e, &err.to_string()),
        };
        let mut opts = probe_options(self.s, &creds, Some(&addr), &net);
        // A batch table has no room for transcripts.
        opts.transcript = false;
        opts.limits = Some(self.limits.clone());
        let mut r = match self.cache.slot(&addr) {
            Slot::Known(f) => {
                let d = DiscoveryCache::known(f, &net, &addr).await;
                check_address(&net, &addr, d, &opts, started).await
            }
            Slot::First(tx) => {
                let a = addr.clone();
                let publish = move |d: &Discovered| {
                    let _ = tx.send(Arc::new((a, d.clone())));
                };
                check_with(&net, &addr, &opts, started, publish).await
            }
        };
        r.apply_thresholds(&self.s.thresholds);
        super::with_finding(r, refused)
    }
}

/// The batch's closing lines: the summary table, the Nagios line or the OpenMetrics exposition.
fn write_summary(
    format: Format,
    summary: &BatchSummary,
    metrics: &[Report],
    what: &str,
    out: &mut dyn Write,
) {
    let text = match format {
        Format::Human => batch::summary(summary),
        Format::Nagios => batch::nagios_summary(summary, what),
        // One exposition: each family's samples must stay together.
        Format::OpenMetrics => crate::report::openmetrics::render_many(metrics),
        Format::Json => return,
    };
    let _ = out.write_all(text.as_bytes());
}

/// Per-line credentials: the CSV's user and password variable override the command line's.
fn entry_credentials(e: &Entry, base: &Credentials) -> Result<Credentials, String> {
    let mut c = base.clone();
    if let Some(u) = &e.user {
        c.user = Some(u.clone());
    }
    if let Some(v) = &e.password_env {
        c.password = Some(read_secret(&PasswordSource::Env(v.clone())).map_err(|e| e.to_string())?);
    }
    Ok(c)
}

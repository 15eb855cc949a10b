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
use crate::net::Net;
use crate::report::{Report, Status};

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

/// Summary of a batch: counts by status and the slowest checks.
#[derive(Debug, Default)]
pub struct Summary {
    pub counts: [usize; 4],
    pub slowest: Vec<(String, u64)>,
}

impl Summary {
    pub fn add(&mut self, r: &Report) {
        self.counts[r.status.exit_code() as usize] += 1;
        self.slowest.push((r.address.clone(), r.elapsed_ms));
    }
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
    pub fn render(&mut self) -> String {
        self.slowest.sort_by_key(|s| std::cmp::Reverse(s.1));
        let c = self.counts;
        let mut s = format!(
            "\n{} checked: {} OK, {} WARNING, {} CRITICAL, {} UNKNOWN\n",
            c.iter().sum::<usize>(),
            c[0],
            c[1],
            c[2],
            c[3]
        );
        if !self.slowest.is_empty() {
            s.push_str("Slowest:\n");
            for (a, ms) in self.slowest.iter().take(5) {
                let a = crate::report::safe::Safe(a);
                s.push_str(&format!("  {ms:>7} ms  {a}\n"));
            }
        }
        s
    }
}

fn error_report(e: &Entry, err: &str) -> Report {
    let mut r = Report::new(
        "check",
        &e.address,
        e.address.rsplit_once('@').map(|x| x.1).unwrap_or(""),
    );
    r.findings.push(crate::report::Finding::new(
        crate::report::Severity::Critical,
        "invalid-input",
        format!("line {}: {err}", e.line),
    ));
    r.status = Status::Unknown;
    r
}

fn table_row(r: &Report) -> String {
    let one =
        |s: Option<&crate::report::Setting>| s.map(|s| s.summary()).unwrap_or_else(|| "-".into());
    let (inc, out) = match &r.settings {
        Some(s) => (one(s.incoming.as_ref()), one(s.outgoing.as_ref())),
        None => ("-".into(), "-".into()),
    };
    // A rejected line says why (`line 9: environment variable DAVE_PW is not set`); a checked
    // one names its worst finding.
    let why = r
        .findings
        .iter()
        .filter(|f| f.severity != crate::report::Severity::Info)
        .max_by_key(|f| f.severity)
        .map(|f| match f.code.as_str() {
            "invalid-input" => f.message.as_str(),
            code => code,
        })
        .unwrap_or("");
    format!(
        "{:<8} {:<36} {:<40} {:<40} {:>7} ms  {why}\n",
        r.status.as_str().to_uppercase(),
        r.address,
        inc,
        out,
        r.elapsed_ms
    )
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
    let entries = entries(path, env_prefix, &mut io.stdin)?;
    let format = s.output.format;
    let reporter: &dyn Reporter = io.reporter;
    let cache = Arc::new(DiscoveryCache::default());
    reporter.on_batch_start(entries.len());
    let thresholds = s.thresholds;
    let concurrency = s.net.concurrency.max(1);
    // One set of connection limits for the whole batch: --per-host holds across addresses.
    let limits = crate::probe::limits::Limits::new(concurrency * 4, s.per_host);
    let jobs = entries.iter().map(|e| {
        let cache = cache.clone();
        let net = net.clone();
        let limits = limits.clone();
        async move {
            let started = Instant::now();
            // Each address gets the whole --deadline from when its check starts.
            let net = net.rearmed();
            let parsed = match &e.problem {
                Some(p) => Err(p.clone()),
                None => address::parse(&e.address).map_err(|err| err.to_string()),
            };
            let r = match parsed {
                Err(err) => error_report(e, &err),
                Ok(addr) => {
                    let creds = match entry_credentials(e, base_creds) {
                        Ok(c) => c,
                        Err(msg) => return error_report(e, &msg),
                    };
                    let mut opts = probe_options(s, &creds, Some(&addr), &net);
                    // A batch table has no room for transcripts.
                    opts.transcript = false;
                    opts.limits = Some(limits.clone());
                    let mut r = match cache.slot(&addr) {
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
                    crate::thresholds::apply(&mut r, &thresholds);
                    r
                }
            };
            reporter.on_address_done(&r);
            r
        }
    });
    let mut summary = Summary::default();
    if format == Format::Human {
        let _ = writeln!(
            out,
            "{:<8} {:<36} {:<40} {:<40} {:>10}  finding",
            "STATUS", "ADDRESS", "INCOMING", "OUTGOING", "TIME"
        );
    }
    // `buffered` keeps input order while running up to --concurrency checks at once.
    let mut stream = futures::stream::iter(jobs).buffered(concurrency);
    while let Some(r) = stream.next().await {
        summary.add(&r);
        let text = match format {
            Format::Json => crate::report::json::render_line(&r),
            // The table shows network strings (host names): escaped like every text renderer.
            Format::Human => table_row(&crate::report::safe::report(&r)),
            Format::Nagios => String::new(),
        };
        let _ = out.write_all(text.as_bytes());
    }
    let worst = summary.worst();
    match format {
        Format::Human => {
            let _ = out.write_all(summary.render().as_bytes());
        }
        Format::Nagios => {
            let c = summary.counts;
            let _ = writeln!(
                out,
                "MAILPROBE {} - {} addresses: {} OK, {} WARNING, {} CRITICAL, {} UNKNOWN | 'ok'={};;;0 'warning'={};;;0 'critical'={};;;0 'unknown'={};;;0",
                worst.as_str().to_uppercase(),
                c.iter().sum::<usize>(),
                c[0],
                c[1],
                c[2],
                c[3],
                c[0],
                c[1],
                c[2],
                c[3]
            );
        }
        Format::Json => {}
    }
    // With JSON Lines the summary is not part of the output: stdout stays pure JSON.
    let side = (format == Format::Json).then(|| summary.render());
    reporter.on_batch_complete(side.as_deref());
    Ok(worst)
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

//! Running all probes: concurrently (at most `concurrency` connections, `per_host` per host),
//! every candidate started the moment it is known, the whole run within `--deadline`.
//!
//! Pipelined with discovery ([`probe_feed`]): candidates arrive as each discovery source answers
//! ([`Feed::Found`]) and each is probed at once, so a probe never waits for a slower source it
//! does not need; [`Feed::Settled`] brings the final merged, ranked list, which orders the probes,
//! decides the cancellations and gives the login its final user name. [`probe_all`] is the same
//! with every candidate known up front.
//!
//! The verdict the moment it is known: within one group (incoming: IMAP and POP3; submission),
//! once the ranking is settled and a probe [`rules::wins`] (works with a valid certificate, and
//! its login, if tried, succeeded), every still-pending probe the verdict would rank below it
//! ([`verdict::preference`]) can no longer change the verdict and is stopped at once: one still
//! waiting for a connection slot is dropped, one in flight is cut, keeping the steps and
//! transcript lines it has. It is recorded as `Failed{phase: "cancelled"}` with a `cancelled`
//! step (status `skipped`); probes that would rank higher keep running and the verdict waits for
//! them. Candidates the user named (`Source::User`, from `mailprobe probe URL…`) run to their end.
//!
//! Port-25 probes are information (is port 25 reachable from here?), not the verdict: once
//! nothing else can change the verdict ([`rules::verdict_ready`]), one that has connected is cut
//! at once and recorded as reachable, and one that has not connected is held until
//! [`rules::hold_until`], then recorded as "no TCP answer within N ms: port 25 looks filtered
//! from here" (filtered is what most home and cloud networks do): with what the run does after
//! it, at most [`rules::PORT25_HOLD`] past the verdict. When the deadline
//! passes, whatever is still pending is recorded as `Failed{phase: "deadline"}`.

mod rules;
mod task;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, watch};

use super::limits::Limits;
use super::{LoginHook, ProbeOptions, ProbeRun, findings, verdict};
use crate::model::{AuthAttempt, Candidate, Probe};
use crate::net::Net;
use crate::proto::Session;
use crate::proto::open::Facts;
use rules::{Cancel, Why, not_run, verdict_ready, wins};
pub use rules::{PORT25_HOLD, group, hold_until, outranked};

/// What discovery tells the scheduler.
#[derive(Debug, Clone)]
pub enum Feed {
    /// Candidates one source found (merged within the source); ones already known are not
    /// probed again.
    Found(Vec<Candidate>),
    /// Discovery is complete: every candidate, merged and ranked. The probes come back in this
    /// order; nothing more is accepted after it.
    Settled(Vec<Candidate>),
}

/// The final candidate list, once settled; what a deferred login waits for.
type Board = watch::Receiver<Option<Arc<Vec<Candidate>>>>;

/// The login hook of a pipelined run: the login waits until discovery is complete, then uses the
/// candidate as finally merged (an autoconfig user name may arrive after the probe started from a
/// guess), so credentials only ever go out with the user name the sources publish.
struct Deferred {
    inner: Arc<dyn LoginHook>,
    board: Board,
}

impl LoginHook for Deferred {
    fn settled<'a>(
        &'a self,
        candidate: &'a Candidate,
    ) -> Pin<Box<dyn Future<Output = Option<Candidate>> + Send + 'a>> {
        Box::pin(async move {
            let mut rx = self.board.clone();
            let list = rx.wait_for(|v| v.is_some()).await.ok()?.clone()?;
            let k = candidate.key();
            list.iter().find(|c| c.key() == k).cloned()
        })
    }

    fn login<'a>(
        &'a self,
        session: &'a mut Session,
        candidate: &'a Candidate,
        caps: &'a [String],
        sasl: &'a [String],
    ) -> Pin<Box<dyn Future<Output = Vec<AuthAttempt>> + Send + 'a>> {
        self.inner.login(session, candidate, caps, sasl)
    }
}

/// Probe every candidate, then choose the settings and collect the findings. Probes come back
/// in candidate order (see the module docs for cancellation).
pub async fn probe_all(net: Arc<Net>, candidates: &[Candidate], opts: &ProbeOptions) -> ProbeRun {
    let (tx, rx) = mpsc::unbounded_channel();
    let _ = tx.send(Feed::Settled(candidates.to_vec()));
    probe_feed(net, rx, opts).await
}

/// Probe candidates as they arrive from `feed` (see the module docs). If the feed closes without
/// [`Feed::Settled`], the candidates seen so far, in arrival order, are the final list.
pub async fn probe_feed(
    net: Arc<Net>,
    mut feed: mpsc::UnboundedReceiver<Feed>,
    opts: &ProbeOptions,
) -> ProbeRun {
    let started = Instant::now();
    let limits = opts
        .limits
        .clone()
        .unwrap_or_else(|| Limits::new(opts.concurrency, opts.per_host));
    let (board_tx, board) = watch::channel(None);
    let opts = &ProbeOptions {
        login: opts.login.clone().map(|inner| {
            Arc::new(Deferred {
                inner,
                board: board.clone(),
            }) as Arc<dyn LoginHook>
        }),
        ..opts.clone()
    };
    let (net_ref, limits_ref): (&Net, &Limits) = (&net, &limits);
    let mut run = Scheduler::default();
    let mut futs = FuturesUnordered::new();
    let deadline = tokio::time::sleep(net.remaining());
    tokio::pin!(deadline);
    while run.settled.is_none() || !futs.is_empty() {
        tokio::select! {
            msg = feed.recv(), if run.settled.is_none() => {
                let (list, is_final) = match msg {
                    Some(Feed::Found(v)) => (v, false),
                    Some(Feed::Settled(v)) => (v, true),
                    None => (run.known.clone(), true),
                };
                let ids = run.known_ids(&list, is_final);
                let mut new_ids = Vec::new();
                for (c, _) in list.iter().zip(&ids).filter(|(_, id)| id.is_none()) {
                    let (id, stop) = run.add(c);
                    new_ids.push(id);
                    futs.push(task::run(id, net_ref, c.clone(), opts, limits_ref, stop));
                }
                if is_final {
                    board_tx.send_replace(Some(Arc::new(list.clone())));
                    run.settle(list, ids, new_ids);
                }
            }
            next = futs.next(), if !futs.is_empty() => {
                let Some((id, probe, facts)) = next else { continue };
                run.finished(id, probe, facts);
            }
            _ = &mut deadline, if !run.deadline_hit => run.deadline(),
        }
        run.check_verdict(opts, started);
    }
    drop(futs);
    if let Some(tx) = &opts.verdict_ready {
        tx.send_replace(true);
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "probes done");
    run.into_run(opts, started)
}

/// The state of one run: every probe spawned (by spawn id: its candidate, the sender that
/// stops it, its result once done) and, once discovery is complete, the final list.
#[derive(Default)]
struct Scheduler {
    known: Vec<Candidate>,
    cancel: Vec<watch::Sender<Option<Cancel>>>,
    results: Vec<Option<(Probe, Facts)>>,
    /// The final list and, per entry, the spawn id of its probe.
    settled: Option<(Vec<Candidate>, Vec<usize>)>,
    verdict_known: bool,
    deadline_hit: bool,
}

impl Scheduler {
    /// A new probe of `c`: its spawn id and what stops it (at once, past the deadline).
    fn add(&mut self, c: &Candidate) -> (usize, watch::Receiver<Option<Cancel>>) {
        let id = self.known.len();
        let (tx, rx) = watch::channel(None::<Cancel>);
        if self.deadline_hit {
            tx.send_replace(Some(stop_now(Why::Deadline)));
        }
        self.cancel.push(tx);
        self.results.push(None);
        self.known.push(c.clone());
        (id, rx)
    }

    /// The probe already spawned for each entry of `list`, if any: one known from an earlier
    /// source is the same probe. Only the final list pairs each entry with one probe (the same
    /// URL given twice runs twice).
    fn known_ids(&self, list: &[Candidate], is_final: bool) -> Vec<Option<usize>> {
        let known = &self.known;
        let mut taken = vec![false; known.len()];
        list.iter()
            .map(|c| {
                let k = c.key();
                let id = (0..known.len()).find(|&j| !taken[j] && known[j].key() == k)?;
                taken[id] = is_final;
                Some(id)
            })
            .collect()
    }

    /// Discovery is complete: each entry of `list` gets its probe (known, or just spawned as
    /// `new_ids`, in order), and probes that already work may now cancel what ranks below.
    fn settle(&mut self, list: Vec<Candidate>, ids: Vec<Option<usize>>, new_ids: Vec<usize>) {
        let mut new_ids = new_ids.into_iter();
        let ids: Vec<usize> = ids
            .into_iter()
            .map(|id| id.or_else(|| new_ids.next()).unwrap_or_default())
            .collect();
        for w in 0..list.len() {
            if winning(&self.results[ids[w]]) {
                cancel_outranked(&list, &ids, w, &self.results, &self.cancel);
            }
        }
        self.settled = Some((list, ids));
    }

    /// Probe `id` is done; if it wins, what it outranks is stopped.
    fn finished(&mut self, id: usize, probe: Probe, facts: Facts) {
        self.results[id] = Some((probe, facts));
        if let Some((list, ids)) = &self.settled
            && winning(&self.results[id])
        {
            for w in (0..list.len()).filter(|&w| ids[w] == id) {
                cancel_outranked(list, ids, w, &self.results, &self.cancel);
            }
        }
    }

    /// The deadline passed: every pending probe stops now (one already being stopped keeps its
    /// reason).
    fn deadline(&mut self) {
        self.deadline_hit = true;
        for (j, tx) in self.cancel.iter().enumerate() {
            if self.results[j].is_none() {
                tx.send_modify(|v| {
                    *v = Some(match v.take() {
                        Some(c) => Cancel {
                            at: tokio::time::Instant::now(),
                            ..c
                        },
                        None => stop_now(Why::Deadline),
                    })
                });
            }
        }
    }

    /// Once nothing still pending can change the verdict ([`verdict_ready`]): says so, and every
    /// pending probe not yet being stopped gets until the port-25 hold ends.
    fn check_verdict(&mut self, opts: &ProbeOptions, started: Instant) {
        let stopping: Vec<bool> = self.cancel.iter().map(|tx| tx.borrow().is_some()).collect();
        let results = &self.results;
        let Some((list, ids)) = &self.settled else {
            return;
        };
        if self.verdict_known
            || !verdict_ready(list, |j| results[ids[j]].is_none() && !stopping[ids[j]])
        {
            return;
        }
        self.verdict_known = true;
        if let Some(tx) = &opts.verdict_ready {
            tx.send_replace(true);
        }
        let at = hold_until(tokio::time::Instant::now());
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "verdict ready");
        for &id in ids {
            if results[id].is_none() {
                self.cancel[id].send_if_modified(|v| {
                    v.is_none()
                        .then(|| {
                            *v = Some(Cancel {
                                why: Why::VerdictReady,
                                at,
                            })
                        })
                        .is_some()
                });
            }
        }
    }

    /// The probes in the order of the final list (one never run is recorded as stopped by the
    /// deadline), the settings chosen and the findings.
    fn into_run(self, opts: &ProbeOptions, started: Instant) -> ProbeRun {
        let (list, ids) = self.settled.unwrap_or_default();
        let results = self.results;
        let (probes, facts): (Vec<Probe>, Vec<Facts>) = list
            .iter()
            .zip(&ids)
            .map(|(c, &id)| match results.get(id).cloned().flatten() {
                Some((mut p, f)) => {
                    // A later source may have confirmed it: the probe names every source.
                    p.sources = c.sources.clone();
                    (p, f)
                }
                None => (
                    not_run(c, &Why::Deadline, started.elapsed()),
                    Facts::default(),
                ),
            })
            .unzip();
        let settings = verdict::choose(&probes, &list);
        let findings = findings::findings(&probes, &facts, &list, &settings, opts);
        ProbeRun {
            probes,
            settings,
            findings,
        }
    }
}

fn stop_now(why: Why) -> Cancel {
    Cancel {
        why,
        at: tokio::time::Instant::now(),
    }
}

fn winning(r: &Option<(Probe, Facts)>) -> bool {
    r.as_ref().is_some_and(|(p, _)| wins(p))
}

/// Entry `w` of the settled list [`wins`]: stop, at once, every pending probe it outranks.
fn cancel_outranked(
    list: &[Candidate],
    ids: &[usize],
    w: usize,
    results: &[Option<(Probe, Facts)>],
    cancel: &[watch::Sender<Option<Cancel>>],
) {
    let pending: Vec<usize> = (0..list.len())
        .filter(|&j| results[ids[j]].is_none())
        .collect();
    let c = &list[w];
    for j in outranked(list, w, &pending) {
        let why = format!(
            "not needed: {}:{} ({}) already works and ranks higher",
            c.host,
            c.port,
            c.security.as_str()
        );
        cancel[ids[j]].send_if_modified(|v| {
            if v.is_some() {
                return false;
            }
            *v = Some(stop_now(Why::Outranked(why.clone())));
            true
        });
    }
}

//! One scheduled probe: it waits for a connection slot, runs its dialogue, and stops the moment
//! the scheduler says so — at once when it never started, keeping the steps and transcript lines
//! it already has when it did ([`open_until`]).

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::super::ProbeOptions;
use super::super::limits::Limits;
use super::rules::{self, Cancel, Why};
use crate::model::{Candidate, Probe};
use crate::net::Net;
use crate::proto::open::{Facts, open_until};

/// A finished probe: its spawn id, the probe record and the facts the findings need.
pub(crate) type Done = (usize, Probe, Facts);

/// Probe `c` under `limits` until it ends or `rx` brings a [`Cancel`].
pub async fn run(
    id: usize,
    net: &Net,
    c: Candidate,
    opts: &ProbeOptions,
    limits: &Limits,
    rx: watch::Receiver<Option<Cancel>>,
) -> Done {
    let started = Instant::now();
    let hard = hard_stop(rx.clone());
    tokio::pin!(hard);
    let global = limits.global();
    let host = limits.host(&c.host);
    let permits = async {
        let g = global.acquire_owned().await.ok();
        let h = host.acquire_owned().await.ok();
        (g, h)
    };
    // Not started yet: dropped at once.
    let _permits = tokio::select! {
        biased;
        why = &mut hard => return (id, rules::not_run(&c, &why, started.elapsed()), Facts::default()),
        p = permits => p,
    };
    let o = opts.open_options();
    let (probe, facts, stopped) = open_until(net, &c, &o, &mut hard, soft_stop(rx)).await;
    match stopped {
        None => (id, probe, facts),
        Some(why) => {
            let ran = Duration::from_millis(probe.elapsed_ms);
            (id, rules::stopped(probe, &why, ran, true), facts)
        }
    }
}

/// Completes with the reason when a [`Cancel`] arrives and its moment has come (a newer one,
/// e.g. the deadline, may bring the moment forward).
async fn hard_stop(mut rx: watch::Receiver<Option<Cancel>>) -> Why {
    loop {
        let Some(c) = rx
            .wait_for(|v| v.is_some())
            .await
            .ok()
            .and_then(|r| r.clone())
        else {
            // The sender is gone: nobody can cancel any more.
            return std::future::pending().await;
        };
        // A timer, even one already due, fires only at the timer's next tick: stop now.
        if c.at <= tokio::time::Instant::now() {
            return c.why;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(c.at) => return c.why,
            r = rx.changed() => if r.is_err() {
                tokio::time::sleep_until(c.at).await;
                return c.why;
            },
        }
    }
}

/// Completes as soon as the verdict is ready (for a port-25 probe: stop once connected).
async fn soft_stop(mut rx: watch::Receiver<Option<Cancel>>) -> Why {
    let ready = rx
        .wait_for(|v| matches!(v, Some(c) if c.why == Why::VerdictReady))
        .await
        .is_ok();
    if !ready {
        return std::future::pending().await;
    }
    Why::VerdictReady
}

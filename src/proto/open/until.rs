//! A dialogue stopped from outside: the scheduler cuts a probe the verdict no longer needs (a
//! lower-ranked candidate once a better one works, a port-25 probe once the verdict is ready),
//! and the record keeps the steps and transcript lines it already had.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Facts, OpenOptions, Run};
use crate::model::{Candidate, Probe};
use crate::net::Net;

impl Run<'_> {
    /// LOGOUT/QUIT as a `logout` step when the session is open, then close it.
    pub(super) async fn end(&mut self) {
        if self.session.is_some() {
            self.logout().await;
            self.settle_outcome();
        }
        self.close().await;
    }

    /// Stopped from outside: the connection is dropped without a goodbye; the steps and the
    /// transcript lines so far stay.
    fn cut(&mut self) {
        self.probe.elapsed_ms = self.started.elapsed().as_millis() as u64;
        let transcript = self.session.take().map(|mut s| s.take_transcript());
        if self.opts.transcript && self.probe.transcript.is_none() {
            self.probe.transcript = Some(transcript.unwrap_or_default());
        }
    }
}

/// [`open_and_login`](super::open_and_login) then [`Opened::finish`](super::Opened::finish), stopped from outside: when `stop` completes, or
/// when `once_connected` completes after the TCP connection is up (the verdict no longer needs
/// the dialogue; a port-25 probe is cut once it has connected). A dialogue stopped before its
/// outcome was known comes back with `Some(T)`, its steps and (with `opts.transcript`) its
/// transcript lines so far, the outcome left to the caller; one stopped during its goodbye
/// keeps its outcome (`None`).
pub async fn open_until<T>(
    net: &Net,
    c: &Candidate,
    opts: &OpenOptions<'_>,
    stop: impl Future<Output = T>,
    once_connected: impl Future<Output = T>,
) -> (Probe, Facts, Option<T>) {
    let mut run = Run::new(net, c, opts);
    let mut is_connected = run.connected.subscribe();
    let decided = AtomicBool::new(false);
    let soft = async {
        let t = once_connected.await;
        let _ = is_connected.wait_for(|c| *c).await;
        t
    };
    let whole = async {
        run.open().await;
        decided.store(true, Ordering::Relaxed);
        run.end().await;
    };
    let stopped = tokio::select! {
        biased;
        t = stop => Some(t),
        t = soft => Some(t),
        () = whole => None,
    };
    if stopped.is_some() {
        run.cut();
    }
    let stopped = stopped.filter(|_| !decided.load(Ordering::Relaxed));
    (run.probe, run.facts, stopped)
}

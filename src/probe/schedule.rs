//! Running all probes: concurrently (at most `concurrency` connections, `per_host` per host),
//! guesses staggered by `stagger_guesses` (Thunderbird's guessConfig does the same so a fast
//! good answer can win), the whole run within `--deadline`.
//!
//! Cancellation: within one group (IMAP, POP3, submission SMTP), as soon as a probe is working
//! with a valid certificate, every still-pending probe the verdict would rank below it
//! ([`verdict::preference`]) can no longer change the verdict and is cancelled. Such a probe is
//! kept in the report as `Failed{phase: "cancelled"}` with a `cancelled` step (status
//! `skipped`); probes that would rank higher keep running and the verdict waits for them. Port 25
//! probes are never cancelled (they are not part of the verdict but tell whether port 25 is
//! blocked, and they are bounded by the step timeout like everything else). When the deadline
//! passes, whatever is still pending is recorded as `Failed{phase: "deadline"}`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{Semaphore, watch};

use super::dialogue::{Facts, blank_probe, probe_with_facts};
use super::{ProbeOptions, ProbeRun, findings, verdict};
use crate::net::Net;
use crate::report::{Candidate, Outcome, Probe, Protocol, Source, Step, StepStatus};

/// Which candidates compete with each other for the verdict.
fn group(c: &Candidate) -> Option<u8> {
    match c.protocol {
        Protocol::Imap => Some(0),
        Protocol::Pop3 => Some(1),
        Protocol::Smtp if c.port == 25 => None,
        Protocol::Smtp => Some(2),
    }
}

/// Delay before each candidate starts: 0 for sourced ones, k × stagger for the k-th guess.
pub fn start_delays(candidates: &[Candidate], stagger: Duration) -> Vec<Duration> {
    let mut k = 0u32;
    candidates
        .iter()
        .map(|c| {
            if !c.sources.is_empty() && c.sources.iter().all(|s| *s == Source::Guess) {
                let d = stagger * k;
                k += 1;
                d
            } else {
                Duration::ZERO
            }
        })
        .collect()
}

/// Pending candidates (indices) that can no longer win once candidate `winner` works with a
/// valid certificate.
pub fn outranked(candidates: &[Candidate], winner: usize, pending: &[usize]) -> Vec<usize> {
    let Some(g) = group(&candidates[winner]) else {
        return Vec::new();
    };
    let w = verdict::preference(&candidates[winner], winner);
    pending
        .iter()
        .copied()
        .filter(|&j| group(&candidates[j]) == Some(g) && verdict::preference(&candidates[j], j) > w)
        .collect()
}

fn stopped(c: &Candidate, phase: &str, reason: String, elapsed: Duration) -> Probe {
    let mut p = blank_probe(c);
    let ms = elapsed.as_millis() as u64;
    p.steps.push(Step {
        name: phase.to_string(),
        status: StepStatus::Skipped,
        elapsed_ms: ms,
        detail: Some(reason.clone()),
    });
    p.outcome = Outcome::Failed {
        phase: phase.to_string(),
        error: reason,
        hint: None,
    };
    p.elapsed_ms = ms;
    p
}

/// Probe every candidate, then choose the settings and collect the findings. Probes come back
/// in candidate order (see the module docs for cancellation).
pub async fn probe_all(net: Arc<Net>, candidates: &[Candidate], opts: &ProbeOptions) -> ProbeRun {
    let started = Instant::now();
    let global = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut per_host: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let delays = start_delays(candidates, opts.stagger_guesses);
    let cancel: Vec<watch::Sender<Option<String>>> =
        candidates.iter().map(|_| watch::channel(None).0).collect();
    let net_ref: &Net = &net;

    let mut futs = FuturesUnordered::new();
    for (i, c) in candidates.iter().enumerate() {
        let host_sem = per_host
            .entry(c.host.to_ascii_lowercase())
            .or_insert_with(|| Arc::new(Semaphore::new(opts.per_host.max(1))))
            .clone();
        let global = global.clone();
        let mut rx = cancel[i].subscribe();
        let delay = delays[i];
        futs.push(async move {
            let work = async {
                tokio::time::sleep(delay).await;
                let _g = global.acquire_owned().await.ok();
                let _h = host_sem.acquire_owned().await.ok();
                probe_with_facts(net_ref, c, opts).await
            };
            tokio::select! {
                r = work => (i, Ok(r)),
                reason = rx.wait_for(|v| v.is_some()) => {
                    let reason = reason.ok().and_then(|r| r.clone()).unwrap_or_default();
                    (i, Err(reason))
                }
            }
        });
    }

    let mut results: Vec<Option<(Probe, Facts)>> = candidates.iter().map(|_| None).collect();
    let deadline = tokio::time::sleep(net.remaining());
    tokio::pin!(deadline);
    let mut deadline_hit = false;
    loop {
        tokio::select! {
            next = futs.next() => {
                let Some((i, r)) = next else { break };
                let (probe, facts) = match r {
                    Ok(pf) => pf,
                    Err(reason) => {
                        let phase = if deadline_hit { "deadline" } else { "cancelled" };
                        (stopped(&candidates[i], phase, reason, started.elapsed()), Facts::default())
                    }
                };
                let valid = matches!(probe.outcome, Outcome::Working { tls_valid: true });
                results[i] = Some((probe, facts));
                if valid {
                    let pending: Vec<usize> = (0..candidates.len()).filter(|j| results[*j].is_none()).collect();
                    let c = &candidates[i];
                    for j in outranked(candidates, i, &pending) {
                        let why = format!("not needed: {}:{} ({}) already works and ranks higher", c.host, c.port, c.security.as_str());
                        cancel[j].send_replace(Some(why));
                    }
                }
            }
            _ = &mut deadline, if !deadline_hit => {
                deadline_hit = true;
                for (j, tx) in cancel.iter().enumerate() {
                    if results[j].is_none() {
                        tx.send_replace(Some("the run's --deadline passed".to_string()));
                    }
                }
            }
        }
    }

    let (probes, facts): (Vec<Probe>, Vec<Facts>) = results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| {
                (
                    stopped(
                        &candidates[i],
                        "deadline",
                        "not run".into(),
                        started.elapsed(),
                    ),
                    Facts::default(),
                )
            })
        })
        .unzip();
    let settings = verdict::choose(&probes, candidates);
    let findings = findings::findings(&probes, &facts, candidates, &settings, opts);
    ProbeRun {
        probes,
        settings,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Security;

    fn cand(protocol: Protocol, port: u16, security: Security, source: Source) -> Candidate {
        Candidate {
            protocol,
            host: "h".into(),
            port,
            security,
            username: None,
            auth: vec![],
            sources: vec![source],
        }
    }

    #[test]
    fn stagger_only_guesses() {
        let cs = vec![
            cand(Protocol::Imap, 993, Security::Tls, Source::ProviderDb),
            cand(Protocol::Imap, 993, Security::Tls, Source::Guess),
            cand(Protocol::Imap, 143, Security::Starttls, Source::Guess),
            cand(Protocol::Smtp, 465, Security::Tls, Source::Srv),
        ];
        let d = start_delays(&cs, Duration::from_millis(100));
        assert_eq!(
            d,
            vec![
                Duration::ZERO,
                Duration::ZERO,
                Duration::from_millis(100),
                Duration::ZERO
            ]
        );
    }

    #[test]
    fn outranked_by_group_and_preference() {
        let cs = vec![
            cand(Protocol::Imap, 993, Security::Tls, Source::ProviderDb),
            cand(Protocol::Imap, 143, Security::Starttls, Source::Guess),
            cand(Protocol::Pop3, 995, Security::Tls, Source::Guess),
            cand(Protocol::Smtp, 587, Security::Starttls, Source::Guess),
            cand(Protocol::Smtp, 465, Security::Tls, Source::Guess),
            cand(Protocol::Smtp, 25, Security::Starttls, Source::Guess),
        ];
        assert_eq!(outranked(&cs, 0, &[1, 2, 3, 4, 5]), vec![1]);
        // 143 working does not cancel 993, which ranks higher.
        assert!(outranked(&cs, 1, &[0]).is_empty());
        // 587 working does not cancel 465; 465 working cancels 587 but never port 25.
        assert!(outranked(&cs, 3, &[4, 5]).is_empty());
        assert_eq!(outranked(&cs, 4, &[3, 5]), vec![3]);
        assert!(outranked(&cs, 5, &[3, 4]).is_empty());
    }
}

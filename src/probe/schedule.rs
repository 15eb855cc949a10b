//! Running all probes: concurrently (at most `concurrency` connections, `per_host` per host),
//! guesses staggered by `stagger_guesses` (Thunderbird's guessConfig does the same so a fast
//! good answer can win), the whole run within `--deadline`.
//!
//! Cancellation: within one group (IMAP, POP3, submission SMTP), as soon as a probe is working
//! with a valid certificate, every still-pending probe the verdict would rank below it
//! ([`verdict::preference`]) can no longer change the verdict and is cancelled after
//! `cancel_grace` (default 300 ms: probes about to answer still make it into the report, a black
//! hole costs at most the grace, never its timeout). Such a probe is
//! kept in the report as `Failed{phase: "cancelled"}` with a `cancelled` step (status
//! `skipped`); probes that would rank higher keep running and the verdict waits for them. Port 25
//! probes are never cancelled, nor are candidates the user named (`Source::User`, from
//! `mailprobe probe URL…`: each was asked for) (they are not part of the verdict but tell whether port 25 is
//! blocked, and they are bounded by the step timeout like everything else). When the deadline
//! passes, whatever is still pending is recorded as `Failed{phase: "deadline"}`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::watch;

use super::dialogue::{Facts, blank_probe, probe_with_facts};
use super::limits::Limits;
use super::{ProbeOptions, ProbeRun, findings, verdict};
use crate::net::Net;
use crate::report::{Candidate, Outcome, Probe, Protocol, Source, Step, StepStatus};

/// A request to stop a pending probe at `at` (after the grace, or now at the deadline).
#[derive(Debug, Clone)]
struct Cancel {
    phase: &'static str,
    reason: String,
    at: tokio::time::Instant,
}

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
        .filter(|&j| {
            group(&candidates[j]) == Some(g)
                && verdict::preference(&candidates[j], j) > w
                && !candidates[j].sources.contains(&Source::User)
        })
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
    let limits = opts
        .limits
        .clone()
        .unwrap_or_else(|| Limits::new(opts.concurrency, opts.per_host));
    let global = limits.global();
    let delays = start_delays(candidates, opts.stagger_guesses);
    let cancel: Vec<watch::Sender<Option<Cancel>>> =
        candidates.iter().map(|_| watch::channel(None).0).collect();
    let net_ref: &Net = &net;

    let mut futs = FuturesUnordered::new();
    for (i, c) in candidates.iter().enumerate() {
        let host_sem = limits.host(&c.host);
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
            let cancelled = async {
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
                    // The work keeps running during the grace; a newer value (the deadline)
                    // may bring the moment forward.
                    tokio::select! {
                        _ = tokio::time::sleep_until(c.at) => return (c.phase, c.reason),
                        _ = rx.changed() => {}
                    }
                }
            };
            tokio::select! {
                r = work => (i, Ok(r)),
                (phase, reason) = cancelled => (i, Err((phase, reason))),
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
                    Err((phase, reason)) => {
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
                        let at = tokio::time::Instant::now() + opts.cancel_grace;
                        cancel[j].send_if_modified(|v| {
                            if v.is_some() {
                                return false;
                            }
                            *v = Some(Cancel { phase: "cancelled", reason: why.clone(), at });
                            true
                        });
                    }
                }
            }
            _ = &mut deadline, if !deadline_hit => {
                deadline_hit = true;
                for (j, tx) in cancel.iter().enumerate() {
                    if results[j].is_none() {
                        let now = tokio::time::Instant::now();
                        tx.send_modify(|v| {
                            *v = Some(match v.take() {
                                // Already outranked: keep that reason, stop now.
                                Some(c) => Cancel { at: now, ..c },
                                None => Cancel {
                                    phase: "deadline",
                                    reason: "the run's --deadline passed".to_string(),
                                    at: now,
                                },
                            })
                        });
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
        // A URL the user named is always probed to the end.
        let mut user = cs.clone();
        user[1].sources = vec![Source::User];
        assert!(outranked(&user, 0, &[1, 2]).is_empty());
    }
}

//! The scheduler's pure rules: which candidates compete (groups), which pending ones a working
//! candidate makes pointless (outranked), when the verdict is ready, and the record of a probe
//! stopped before it finished (cancelled, past the deadline, a port-25 probe cut at the
//! verdict).

use std::time::Duration;

use super::super::verdict;
use crate::model::{Candidate, Outcome, Phase, Probe, Protocol, Source, Step, StepStatus};
use crate::proto::open::blank_probe;

/// How long port-25 probes may hold the run once the verdict is ready: they are information
/// (is port 25 reachable from here?), not part of the verdict. The budget covers everything up
/// to the process's exit, so the hold itself ends [`FINISH`] earlier ([`hold_until`]).
pub const PORT25_HOLD: Duration = Duration::from_millis(500);

/// What the run still does once the hold ends: the port-25 probe's record, the findings, the
/// report's rendering and writing, the runtime's shutdown (which waits for nothing) and the
/// process's exit, plus the timer's rounding up to its next millisecond tick. Measured at `-vv`
/// on two busy cores: a few milliseconds; this leaves room for a loaded machine.
pub(crate) const FINISH: Duration = Duration::from_millis(25);

/// When port-25 probes that have not connected are given up, the verdict having been ready at
/// `verdict`: the run is then over by `verdict` + [`PORT25_HOLD`].
pub fn hold_until(verdict: tokio::time::Instant) -> tokio::time::Instant {
    verdict + PORT25_HOLD.saturating_sub(FINISH)
}

/// Why a probe is stopped before it finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A working candidate that ranks higher makes it pointless (the text says which).
    Outranked(String),
    /// The run's `--deadline` passed.
    Deadline,
    /// The verdict is ready and this port-25 probe is information only.
    VerdictReady,
}

/// A request to stop a pending probe at `at` (now, or at [`hold_until`] for a port-25 probe).
#[derive(Debug, Clone)]
pub(crate) struct Cancel {
    pub why: Why,
    pub at: tokio::time::Instant,
}

/// Which candidates compete with each other for the verdict: the incoming servers (IMAP and
/// POP3: the verdict names one of them) and the submission servers. Port 25 competes with
/// nothing: it is relay, not submission (RFC 8314 §3.3), probed only to tell whether it is
/// blocked.
pub fn group(c: &Candidate) -> Option<u8> {
    match c.protocol {
        Protocol::Imap | Protocol::Pop3 => Some(0),
        Protocol::Smtp if c.port == 25 => None,
        Protocol::Smtp => Some(1),
    }
}

/// A URL the user named (`mailprobe probe URL…`): each was asked for, so it runs to its end.
pub(crate) fn user_named(c: &Candidate) -> bool {
    c.sources.contains(&Source::User)
}

/// A probe that settles its group: it works with a valid certificate and, when a login was
/// tried, the login succeeded (else another server's login may still change the verdict).
pub fn wins(p: &Probe) -> bool {
    matches!(p.outcome, Outcome::Working { tls_valid: true })
        && (p.auth.is_empty() || p.auth.iter().any(|a| a.success))
}

/// Pending candidates (indices) that can no longer win once candidate `winner` [`wins`].
/// Indices are positions in the final ranked list: the ranking is only known once discovery is
/// complete, so nothing is cancelled before.
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
                && !user_named(&candidates[j])
        })
        .collect()
}

/// The verdict is ready when nothing still running can change it: every candidate of the
/// settled list has a result or is being stopped, except port-25 probes the user did not name.
pub(crate) fn verdict_ready(candidates: &[Candidate], running: impl Fn(usize) -> bool) -> bool {
    (0..candidates.len())
        .all(|j| !running(j) || (group(&candidates[j]).is_none() && !user_named(&candidates[j])))
}

/// The record of a probe stopped before it finished: `p` holds the steps it had (`started`:
/// it had begun its dialogue; else it never got a connection slot).
pub fn stopped(mut p: Probe, why: &Why, elapsed: Duration, started: bool) -> Probe {
    let ms = elapsed.as_millis() as u64;
    let connected = p
        .steps
        .iter()
        .any(|s| s.name == "connect" && s.status == StepStatus::Ok);
    let (step, status, phase, error, hint) = match why {
        Why::Outranked(reason) => ("cancelled", StepStatus::Skipped, Phase::Cancelled, reason.clone(), None),
        Why::Deadline => (
            "deadline",
            StepStatus::Skipped,
            Phase::Deadline,
            if started { "the run's --deadline passed" } else { "not run: the run's --deadline passed" }.to_string(),
            None,
        ),
        Why::VerdictReady if connected => (
            "cancelled",
            StepStatus::Skipped,
            Phase::Cancelled,
            if p.greeting.is_some() {
                "port 25 is reachable: the server greeted (the rest was not awaited once the verdict was ready)"
            } else {
                "port 25 is reachable: TCP connected (the banner was not awaited once the verdict was ready)"
            }
            .to_string(),
            None,
        ),
        Why::VerdictReady if !started => (
            "cancelled",
            StepStatus::Skipped,
            Phase::Cancelled,
            "not run: the verdict was ready and port 25 is not part of it".to_string(),
            None,
        ),
        Why::VerdictReady => (
            "connect",
            StepStatus::Failed,
            Phase::Connect,
            format!("no TCP answer within {ms} ms: port 25 looks filtered from here"),
            Some(
                "Home Internet providers and cloud networks (AWS, Google Cloud, Azure, …) commonly \
                 drop outgoing connections to port 25 against spam. Mail programs send on 465 or \
                 587, so this matters only for running a mail server from here."
                    .to_string(),
            ),
        ),
    };
    p.steps.push(Step {
        name: step.to_string(),
        status,
        elapsed_ms: ms,
        detail: Some(error.clone()),
    });
    p.outcome = Outcome::Failed { phase, error, hint };
    p.elapsed_ms = ms;
    p
}

/// [`stopped`] for a probe that never started.
pub(crate) fn not_run(c: &Candidate, why: &Why, elapsed: Duration) -> Probe {
    stopped(blank_probe(c), why, elapsed, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Security;

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
    fn key_ignores_case_and_the_root_dot() {
        let mut a = cand(Protocol::Imap, 993, Security::Tls, Source::Srv);
        a.host = "IMAP.Example.test.".into();
        let mut b = cand(Protocol::Imap, 993, Security::Tls, Source::Guess);
        b.host = "imap.example.test".into();
        assert_eq!(a.key(), b.key());
        b.security = Security::Starttls;
        assert_ne!(a.key(), b.key());
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
        // A working IMAP server settles the incoming verdict: POP3 can no longer change it.
        assert_eq!(outranked(&cs, 0, &[1, 2, 3, 4, 5]), vec![1, 2]);
        // 143 working does not cancel 993, which ranks higher.
        assert!(outranked(&cs, 1, &[0]).is_empty());
        // 587 working does not cancel 465; 465 working cancels 587 but never port 25.
        assert!(outranked(&cs, 3, &[4, 5]).is_empty());
        assert_eq!(outranked(&cs, 4, &[3, 5]), vec![3]);
        assert!(outranked(&cs, 5, &[3, 4]).is_empty());
        // A URL the user named is always probed to the end.
        let mut user = cs.clone();
        user[1].sources = vec![Source::User];
        assert_eq!(outranked(&user, 0, &[1, 2]), vec![2]);
    }

    #[test]
    fn an_untrusted_winner_never_cancels_a_trusted_candidate() {
        let cs = vec![
            cand(Protocol::Imap, 993, Security::Tls, Source::AutoconfigHttp),
            cand(Protocol::Imap, 143, Security::Starttls, Source::Srv),
            cand(Protocol::Imap, 143, Security::Starttls, Source::Guess),
        ];
        assert_eq!(outranked(&cs, 0, &[1, 2]), vec![2]);
        assert_eq!(outranked(&cs, 1, &[0, 2]), vec![0, 2]);
    }

    #[test]
    fn a_failed_login_does_not_settle_the_group() {
        let c = cand(Protocol::Imap, 993, Security::Tls, Source::Srv);
        let mut p = blank_probe(&c);
        p.outcome = Outcome::Working { tls_valid: true };
        assert!(wins(&p));
        let attempt = |success| crate::model::AuthAttempt {
            mechanism: "PLAIN".into(),
            username: "a".into(),
            success,
            elapsed_ms: 1,
            response: None,
        };
        p.auth = vec![attempt(false)];
        assert!(!wins(&p));
        p.auth.push(attempt(true));
        assert!(wins(&p));
        p.outcome = Outcome::Working { tls_valid: false };
        assert!(!wins(&p));
    }

    #[test]
    fn the_verdict_does_not_wait_for_port_25() {
        let cs = vec![
            cand(Protocol::Imap, 993, Security::Tls, Source::Srv),
            cand(Protocol::Smtp, 25, Security::Starttls, Source::Guess),
        ];
        assert!(verdict_ready(&cs, |j| j == 1));
        assert!(!verdict_ready(&cs, |j| j == 0));
        let mut user = cs.clone();
        user[1].sources = vec![Source::User];
        assert!(!verdict_ready(&user, |j| j == 1));
    }

    #[test]
    fn the_hold_leaves_room_to_finish_within_its_budget() {
        let verdict = tokio::time::Instant::now();
        let until = hold_until(verdict);
        assert!(FINISH > Duration::ZERO && FINISH < PORT25_HOLD);
        assert_eq!(until + FINISH, verdict + PORT25_HOLD);
    }

    #[test]
    fn port_25_cut_at_the_verdict_says_what_was_seen() {
        let c = cand(Protocol::Smtp, 25, Security::Starttls, Source::Guess);
        let ms = Duration::from_millis(640);
        let filtered = stopped(blank_probe(&c), &Why::VerdictReady, ms, true);
        let Outcome::Failed { phase, error, hint } = &filtered.outcome else {
            panic!("{filtered:?}")
        };
        assert_eq!(*phase, Phase::Connect);
        assert_eq!(
            error,
            "no TCP answer within 640 ms: port 25 looks filtered from here"
        );
        assert!(hint.as_deref().unwrap().contains("465 or 587"));
        assert_eq!(filtered.steps.last().unwrap().status, StepStatus::Failed);

        let mut up = blank_probe(&c);
        up.steps.push(Step {
            name: "connect".into(),
            status: StepStatus::Ok,
            elapsed_ms: 1,
            detail: None,
        });
        let reachable = stopped(up, &Why::VerdictReady, ms, true);
        assert!(
            matches!(&reachable.outcome, Outcome::Failed { phase, error, .. }
                if *phase == Phase::Cancelled && error.contains("reachable: TCP connected")),
            "{reachable:?}"
        );
        assert_eq!(reachable.steps.len(), 2, "the connect step is kept");

        let never = not_run(&c, &Why::VerdictReady, ms);
        assert!(
            matches!(&never.outcome, Outcome::Failed { error, .. } if error.starts_with("not run"))
        );
    }
}

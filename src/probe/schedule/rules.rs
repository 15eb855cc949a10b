//! The scheduler's pure rules: which candidates compete (groups), when each starts (staggered
//! guesses), which pending ones a working candidate makes pointless (outranked), and the record
//! of a probe stopped before it finished.

use std::time::Duration;

use super::super::verdict;
use crate::model::{Candidate, Outcome, Phase, Probe, Protocol, Source, Step, StepStatus};
use crate::proto::open::blank_probe;

/// A request to stop a pending probe at `at` (after the grace, or now at the deadline).
#[derive(Debug, Clone)]
pub struct Cancel {
    pub phase: Phase,
    pub reason: String,
    pub at: tokio::time::Instant,
}

/// Which candidates compete with each other for the verdict. Port 25 competes with nothing: it
/// is relay, not submission (RFC 8314 §3.3), probed only to tell whether it is blocked.
pub fn group(c: &Candidate) -> Option<u8> {
    match c.protocol {
        Protocol::Imap => Some(0),
        Protocol::Pop3 => Some(1),
        Protocol::Smtp if c.port == 25 => None,
        Protocol::Smtp => Some(2),
    }
}

fn guess_only(c: &Candidate) -> bool {
    !c.sources.is_empty() && c.sources.iter().all(|s| *s == Source::Guess)
}

/// Delay before each candidate of a batch (one source's answer, or the settled list) starts: 0
/// for sourced ones, k × stagger for the k-th guess of its group, in the batch's ranked order. The stagger exists so that a fast good answer can win over the guesses it competes
/// with (Thunderbird's guessConfig staggers the same way); guesses of different groups never
/// compete, so each group has its own sequence. Port 25 is never cancelled, so waiting would only
/// delay the run: it starts at once.
pub fn start_delays(candidates: &[Candidate], stagger: Duration) -> Vec<Duration> {
    let mut k = [0u32; 3];
    candidates
        .iter()
        .map(|c| match group(c) {
            Some(g) if guess_only(c) => {
                let d = stagger * k[usize::from(g)];
                k[usize::from(g)] += 1;
                d
            }
            _ => Duration::ZERO,
        })
        .collect()
}

/// Pending candidates (indices) that can no longer win once candidate `winner` works with a
/// valid certificate. Indices are positions in the final ranked list: the ranking is only known
/// once discovery is complete, so nothing is cancelled before.
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

/// The record of a probe stopped before it finished (`cancelled`, `deadline`).
pub fn stopped(c: &Candidate, phase: Phase, reason: String, elapsed: Duration) -> Probe {
    let mut p = blank_probe(c);
    let ms = elapsed.as_millis() as u64;
    p.steps.push(Step {
        name: phase.to_string(),
        status: StepStatus::Skipped,
        elapsed_ms: ms,
        detail: Some(reason.clone()),
    });
    p.outcome = Outcome::Failed {
        phase,
        error: reason,
        hint: None,
    };
    p.elapsed_ms = ms;
    p
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
    fn stagger_only_guesses_and_per_group() {
        let cs = vec![
            cand(Protocol::Imap, 993, Security::Tls, Source::ProviderDb),
            cand(Protocol::Imap, 993, Security::Tls, Source::Guess),
            cand(Protocol::Imap, 143, Security::Starttls, Source::Guess),
            cand(Protocol::Smtp, 465, Security::Tls, Source::Srv),
            cand(Protocol::Smtp, 587, Security::Starttls, Source::Guess),
            cand(Protocol::Smtp, 465, Security::Tls, Source::Guess),
            cand(Protocol::Smtp, 25, Security::Starttls, Source::Guess),
            cand(Protocol::Imap, 143, Security::Plain, Source::Guess),
        ];
        let ms = |n| Duration::from_millis(n);
        let d = start_delays(&cs, ms(100));
        assert_eq!(
            d,
            vec![
                ms(0),
                ms(0),
                ms(100),
                ms(0),
                // the first SMTP guess does not wait for the IMAP ones
                ms(0),
                ms(100),
                // port 25 competes with nothing
                ms(0),
                ms(200),
            ]
        );
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

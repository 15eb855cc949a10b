//! The discovery sources. Each is an async function returning a [`SourceResult`]: candidates,
//! the attempts it made (with timing), and findings. None returns an `Err`: a source that fails
//! is an attempt with outcome `error`.

pub mod autoconfig;
pub mod autodiscover;
pub mod guess;
pub mod mx;
pub mod provider;
pub mod srv;

use std::time::Instant;

use crate::model::{Attempt, AttemptOutcome, Candidate, Finding, ProviderInfo, Source};

/// What one source contributed.
#[derive(Debug, Default)]
pub struct SourceResult {
    pub candidates: Vec<Candidate>,
    /// Candidates from a provider-database entry no source confirmed (`verified = false`): they
    /// rank below every candidate another source names (see [`crate::discover::candidate`]).
    pub unverified: Vec<Candidate>,
    pub attempts: Vec<Attempt>,
    pub findings: Vec<Finding>,
    pub provider: Option<ProviderInfo>,
}

impl SourceResult {
    /// Every candidate, merged and ranked (see [`crate::discover::candidate::merge`]).
    pub fn ranked(&self) -> Vec<Candidate> {
        crate::discover::candidate::merge_weighed(self.candidates.clone(), self.unverified.clone())
    }

    pub fn has_candidates(&self) -> bool {
        !self.candidates.is_empty() || !self.unverified.is_empty()
    }

    pub fn extend(&mut self, other: SourceResult) {
        self.candidates.extend(other.candidates);
        self.unverified.extend(other.unverified);
        self.attempts.extend(other.attempts);
        self.findings.extend(other.findings);
        if self.provider.is_none() {
            self.provider = other.provider;
        }
    }
}

/// A lookup or fetch error that can say "nothing there" apart from "broken".
pub trait SourceError: std::fmt::Display {
    fn is_not_found(&self) -> bool;
}

impl SourceError for crate::dns::DnsError {
    fn is_not_found(&self) -> bool {
        crate::dns::DnsError::is_not_found(self)
    }
}

impl SourceError for crate::net::http::HttpError {
    fn is_not_found(&self) -> bool {
        crate::net::http::HttpError::is_not_found(self)
    }
}

/// The attempt for a failed lookup or fetch: `not_found` for a clean "nothing there", else
/// `error`, with the error text as the reason.
pub fn failed(
    source: Source,
    target: impl Into<String>,
    e: &dyn SourceError,
    started: Instant,
) -> Attempt {
    let outcome = if e.is_not_found() {
        AttemptOutcome::NotFound
    } else {
        AttemptOutcome::Error
    };
    attempt(source, target, outcome, Some(e.to_string()), started)
}

/// Build an attempt record timed from `started`.
pub fn attempt(
    source: Source,
    target: impl Into<String>,
    outcome: AttemptOutcome,
    reason: Option<String>,
    started: Instant,
) -> Attempt {
    Attempt {
        source,
        target: target.into(),
        outcome,
        reason,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}

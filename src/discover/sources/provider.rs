//! Source 1: the built-in provider database, by the address's own domain.

use std::time::Instant;

use super::{SourceResult, attempt};
use crate::address::Address;
use crate::model::{AttemptOutcome, Source};
use crate::provider_db::{self, Provider};

pub fn lookup(addr: &Address) -> SourceResult {
    let started = Instant::now();
    let mut r = SourceResult::default();
    let target = format!("provider-db:{}", addr.domain);
    let found = provider_db::by_domain(&addr.domain);
    record(
        &mut r,
        found,
        addr,
        Source::ProviderDb,
        "domain",
        target,
        started,
    );
    r
}

/// Record a provider-database answer (the address's own domain, or an MX match): its
/// candidates tagged `source` (kept apart when the entry is unverified), its findings, the
/// provider info, and the attempt.
pub fn record(
    out: &mut SourceResult,
    found: Option<&Provider>,
    addr: &Address,
    source: Source,
    matched_by: &str,
    target: String,
    started: Instant,
) {
    match found {
        Some(p) => {
            let cands = p.candidates(addr, source);
            match p.verified {
                Some(_) => out.candidates.extend(cands),
                None => out.unverified.extend(cands),
            }
            out.findings.extend(p.findings());
            out.provider = Some(p.info(matched_by));
            out.attempts.push(attempt(
                source,
                target,
                AttemptOutcome::Found,
                Some(p.name.clone()),
                started,
            ));
        }
        None => out.attempts.push(attempt(
            source,
            target,
            AttemptOutcome::NotFound,
            None,
            started,
        )),
    }
}

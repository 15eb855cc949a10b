//! Source 1: the built-in provider database, by the address's own domain.

use std::time::Instant;

use super::{SourceResult, attempt};
use crate::address::Address;
use crate::provider_db;
use crate::report::{AttemptOutcome, Source};

pub fn lookup(addr: &Address) -> SourceResult {
    let started = Instant::now();
    let mut r = SourceResult::default();
    let target = format!("provider-db:{}", addr.domain);
    match provider_db::by_domain(&addr.domain) {
        Some(p) => {
            r.candidates = p.candidates(addr, Source::ProviderDb);
            r.findings = p.findings();
            r.provider = Some(p.info("domain"));
            r.attempts.push(attempt(
                Source::ProviderDb,
                target,
                AttemptOutcome::Found,
                Some(p.name.clone()),
                started,
            ));
        }
        None => r.attempts.push(attempt(
            Source::ProviderDb,
            target,
            AttemptOutcome::NotFound,
            None,
            started,
        )),
    }
    r
}

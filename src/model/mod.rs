//! The report's data, the ground floor every other module builds on: discovery's candidates
//! and attempts, the probes with their steps and TLS facts, the settings verdict, the round
//! trip, the inbound audit, findings, status and thresholds. Plain serde types (their JSON is
//! public, see `schema/report.schema.json`); this module imports nothing else of the crate.

mod dane;
mod discovery;
mod finding;
mod inbound;
mod report;
mod roundtrip;
mod servers;

pub use dane::*;
pub use discovery::*;
pub use finding::*;
pub use inbound::*;
pub use report::*;
pub use roundtrip::*;
pub use servers::*;

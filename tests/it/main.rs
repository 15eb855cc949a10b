//! One integration-test binary (one link, one harness): each module is one capability.

mod support;

mod audit;
mod auth;
mod batch_input;
mod check;
mod cli;
mod config_file;
mod discover;
mod dnssec;
mod export;
mod hostile_text;
mod monitoring;
mod newcomer;
mod oauth;
mod packaging;
mod parsers;
mod probe;
mod properties;
mod provenance;
mod provider_db;
mod roundtrip;
mod serve;
mod shape;
mod usage;
mod verdict;

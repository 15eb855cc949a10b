//! mailprobe: find, probe and verify the mail server settings of an email address.
//!
//! Data flows one way: [`cli`] → [`app`] → [`address`] → [`discover`] → probe → auth →
//! roundtrip → [`report`] → renderers. [`dns`] is the only module that imports hickory.

pub mod address;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod discover;
pub mod dns;
pub mod net;
pub mod probe;
pub mod proto;
pub mod provider_db;
pub mod report;
pub mod roundtrip;
pub mod thresholds;

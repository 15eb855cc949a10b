//! mailprobe: find, probe and verify the mail server settings of an email address.
//!
//! Data flows one way: [`app::Settings`] (resolved by the binary from the command line) →
//! [`app`] → [`address`] → [`discover`] → probe → auth → roundtrip → [`report`] → renderers.
//! [`dns`] is the only module that imports hickory. Nothing here prints, prompts or draws
//! progress: the binary does, through [`app::Io`].

pub mod address;
pub mod app;
pub mod audit;
pub mod auth;
pub mod config;
pub mod discover;
pub mod dns;
pub mod model;
pub mod net;
pub mod probe;
pub mod proto;
pub mod provider_db;
pub mod report;
pub mod roundtrip;

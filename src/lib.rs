//! mailprobe: find, probe and verify the mail server settings of an email address.
//!
//! Layers, each importing only those below it: [`model`] (the report's data, importing nothing
//! of ours) → [`dns`], [`net`] (the only modules touching hickory, sockets and TLS) → [`proto`]
//! (sessions and typed IMAP/POP3/SMTP commands and replies) → [`discover`], [`probe`],
//! [`auth`], [`roundtrip`], [`audit`] → [`app`] (orchestration, from [`app::Settings`] resolved
//! by the binary from the command line) → [`report`] (renderers) → `serve` (the Prometheus
//! exporter: runs and renders per scrape) → the binary. Nothing here
//! prints, prompts or draws progress: the binary does, through [`app::Io`].

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
#[cfg(feature = "serve")]
pub mod serve;

//! Test harness: real servers on loopback, each stopped when its handle drops.
//!
//! - [`certs`]: test CA, leaf certificates (valid/expired/not yet valid), rustls configs.
//! - [`mailstack`]: real Dovecot + Postfix on loopback ([`mailstack::shared`] for the default).
//! - [`dns`]: in-process authoritative DNS (hickory-server) on 127.0.0.1, UDP + TCP.
//! - [`http`]: in-process HTTP + HTTPS server with scripted routes and a request log.
//! - [`scripted`]: scripted (mis)behaving TCP/TLS servers for failure cases.
//! - [`cmd`]: the `mailprobe` binary as an `assert_cmd::Command`.
//!
//! Every server binds port 0 on loopback; every daemon lives in its own temp folder and is
//! stopped on drop and at process exit (see [`watchdog`]).

// A shared harness: not every test module uses every helper.
#![allow(dead_code)]

pub mod certs;
pub mod cmd;
pub mod dns;
pub mod http;
mod mailconf;
pub mod mailstack;
pub mod rt;
pub mod scripted;
pub mod watchdog;

mod selftest;

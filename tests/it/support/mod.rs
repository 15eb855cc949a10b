//! Test harness: real servers on loopback, each stopped when its handle drops.
//!
//! - [`certs`]: test CA (+ intermediates), leaf certificates (valid / expired / not yet valid,
//!   self-signed, leaf-only chains), rustls server and client configs.
//! - [`mailstack`]: real Dovecot (IMAP, POP3, LMTP + Sieve) and Postfix (25, 587, 465) on
//!   loopback; [`mailstack::shared`] is the default stack of the test process.
//! - [`dns`]: in-process authoritative DNS (hickory-server) on 127.0.0.1, UDP + TCP, query log;
//!   [`dns::BlackholeDns`] never answers.
//! - [`dnssec`]: DNSSEC-signed zones for that server (test keys, trust-anchor text, bogus RRsets).
//! - [`http`]: in-process HTTP + HTTPS server with routes, misbehaving replies, request log.
//! - [`scripted`]: scripted (mis)behaving TCP / TLS servers, legacy-TLS peers, connection counts.
//! - [`filtered`]: a port whose SYNs are dropped (port 25 as home and cloud networks filter it).
//! - [`fence`]: `--connect-to` fences so a world's names never reach other local software.
//! - [`fixtures`]: DNS zone and autoconfig / Autodiscover XML pointing at a mail stack.
//! - [`corpus`]: reference corpora outside the repository (`MAILPROBE_ISPDB_DIR`).
//! - [`cmd`]: the `mailprobe` binary as an `assert_cmd::Command` with a clean environment.
//! - [`prometheus`]: a real Prometheus server and the `mailprobe serve` process under test.
//!
//! Every server binds port 0 on loopback; every daemon lives in its own temp folder and is
//! stopped on drop and at process exit, even when the process is killed (see [`watchdog`]).
//! Tests run in parallel against the shared stack: use unique subjects / Message-IDs and
//! [`mailstack::MailStack::wait_for_message`] rather than exact mailbox counts, and start a
//! private stack (`MailStack::start`) for anything that changes server state or behaviour.
//! Set `MAILPROBE_KEEP_TEST_DIRS=1` to keep the stacks' folders (configs, logs, Maildirs).

// A shared harness: not every test module uses every helper.
#![allow(dead_code)]

pub mod certs;
pub mod cmd;
pub mod corpus;
pub mod dns;
pub mod dnssec;
pub mod fence;
pub mod filtered;
pub mod fixtures;
pub mod http;
mod mailconf;
pub mod mailstack;
pub mod oauth;
pub mod prometheus;
pub mod rt;
pub mod scripted;
pub mod watchdog;

mod selftest;

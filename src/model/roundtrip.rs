//! The round trip's data (`mailprobe roundtrip`): what happened to the test message, the relay
//! hops and `Authentication-Results` verdicts read from its header (RFC 5321 §4.4, RFC 8601
//! §2.2), the SMTP steps and login attempts, and whether it was deleted again.
//!
//! `latency_ms` is a plain field for monitoring.

use serde::{Deserialize, Serialize};

use super::finding::Finding;
use super::servers::{AuthAttempt, Step};

/// Result of the round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RoundtripResult {
    /// Submitted, found in the mailbox.
    Delivered,
    /// Submitted and accepted; not fetched back (`--to` without its credentials).
    Accepted,
    /// Submitted but not found within `--wait`.
    NotArrived,
    SubmitFailed,
    /// Submitted, but the mailbox could not be opened or searched.
    FetchFailed,
}

/// What `mailprobe roundtrip` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RoundtripReport {
    pub result: RoundtripResult,
    pub from: String,
    pub to: String,
    /// With angle brackets.
    pub message_id: String,
    pub token: String,
    /// `smtp://host:port` (security) the message went through.
    pub submit_server: String,
    /// Each SMTP step with its time and the server's reply.
    pub submit_steps: Vec<Step>,
    /// From the final `250` (Postfix `queued as …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetch_server: Option<String>,
    /// `IDLE` or `polling`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetch_method: Option<String>,
    /// `INBOX` or the Junk folder's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// IMAP INTERNALDATE as the server gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_date: Option<String>,
    /// From the final 250 of the submission to the message being found.
    pub latency_ms: Option<u64>,
    /// The whole round trip, connect to delete.
    pub total_ms: u64,
    /// Relay steps from `Received:`, oldest first.
    pub hops: Vec<Hop>,
    /// `Authentication-Results` verdicts (SPF, DKIM, DMARC...).
    pub auth_results: Vec<AuthResult>,
    /// What happened to the test message; null when it was not found.
    pub deleted: Option<Deletion>,
    /// Login attempts on the outgoing server.
    pub submit_auth: Vec<AuthAttempt>,
    /// Login attempts on the incoming server (the first poll's, over POP3).
    pub fetch_auth: Vec<AuthAttempt>,
    pub findings: Vec<Finding>,
}

/// What happened to the test message afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Deletion {
    Deleted,
    /// `--keep`.
    Kept,
    /// Flagged `\Deleted` but not expunged: without UIDPLUS an EXPUNGE would also have removed
    /// the other messages flagged `\Deleted`.
    LeftOthersDeleted,
    Failed,
}

/// One relay step, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Hop {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// `ESMTPSA`, `LMTP`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Seconds since the previous hop (by the two hosts' clocks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_s: Option<i64>,
}

/// One method's verdict, e.g. `spf=pass`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuthResult {
    /// The authserv-id (the host that evaluated).
    pub authserv_id: String,
    pub method: String,
    pub result: String,
    /// The rest of the resinfo (`smtp.mailfrom=...`, `header.d=...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

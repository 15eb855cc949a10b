//! Round trip (README, `roundtrip`): build a test message,
//! submit it through the working outgoing server (authenticated), wait for it in the mailbox
//! over IMAP (or POP3), report latency, hops and authentication verdicts, and delete it again.
//!
//! Entry point: [`run`] → [`RoundtripReport`] (its data lives in [`crate::model`]).

mod error;
pub mod headers;
pub mod imap_fetch;
pub mod message;
pub mod pop3_fetch;
pub mod submit;

pub use error::RoundtripError;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::address::Address;
use crate::auth::{Authenticator, Credentials, Secret, refusal};
use crate::model::{
    AuthAttempt, Candidate, Deletion, Finding, FindingCode, Probe, Protocol, RoundtripReport,
    RoundtripResult, Setting, Severity,
};
use crate::net::Net;
use crate::proto::session::MAILBOX_MAX_TOTAL;
use crate::proto::{OpenOptions, Session, open_and_login};

/// `mailprobe roundtrip` options.
#[derive(Debug, Clone)]
pub struct RoundtripOptions {
    /// `--to`: another mailbox (outbound delivery test). Default: the address itself.
    pub to: Option<String>,
    /// `--from`: envelope and header sender. Default: the address itself.
    pub from: Option<String>,
    /// `--keep`: leave the test message in the mailbox.
    pub keep: bool,
    /// `--wait`: how long to wait for the message to arrive.
    pub wait: Duration,
    /// `--to-user`: login of the `--to` mailbox (default: the `--to` address).
    pub to_user: Option<String>,
    /// `--to-password-env`: password of the `--to` mailbox; without it the report stops at
    /// "accepted for delivery".
    pub to_password: Option<Secret>,
}

impl Default for RoundtripOptions {
    fn default() -> Self {
        RoundtripOptions {
            to: None,
            from: None,
            keep: false,
            wait: Duration::from_secs(60),
            to_user: None,
            to_password: None,
        }
    }
}

fn url(s: &Setting) -> String {
    format!(
        "{}://{}:{} ({})",
        s.protocol.as_str(),
        s.host,
        s.port,
        s.security.as_str()
    )
}

/// Run the round trip for `addr`: submit through `outgoing`, fetch from `incoming`.
pub async fn run(
    net: Arc<Net>,
    addr: &Address,
    outgoing: &Setting,
    incoming: &Setting,
    creds: &Credentials,
    opts: &RoundtripOptions,
) -> RoundtripReport {
    let start = Instant::now();
    let auth = Authenticator::new(creds.clone(), addr).with_net(net.clone());
    let own = addr.ascii();
    let from = opts.from.clone().unwrap_or_else(|| own.clone());
    let to = opts.to.clone().unwrap_or_else(|| own.clone());
    let msg = message::build(&from, &to, &message::new_token(), unix_now());
    let mut rep = blank_report(&msg, &from, &to, outgoing);
    if let Some(accepted_at) = submit_step(&net, outgoing, &auth, &msg, &mut rep).await {
        match fetcher(&net, auth, &own, &to, creds, opts) {
            Some(fetch_auth) => {
                let fetch = Fetch {
                    incoming,
                    auth: &fetch_auth,
                    accepted_at,
                };
                fetch_step(&net, fetch, &msg, opts, &mut rep).await;
            }
            None => accepted_only(&to, &mut rep),
        }
    }
    rep.total_ms = start.elapsed().as_millis() as u64;
    rep
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The report before anything was sent: a failed submission until the server accepts.
fn blank_report(
    msg: &message::TestMessage,
    from: &str,
    to: &str,
    outgoing: &Setting,
) -> RoundtripReport {
    RoundtripReport {
        result: RoundtripResult::SubmitFailed,
        from: from.to_string(),
        to: to.to_string(),
        message_id: msg.message_id.clone(),
        token: msg.token.clone(),
        submit_server: url(outgoing),
        submit_steps: Vec::new(),
        queue_id: None,
        fetch_server: None,
        fetch_method: None,
        folder: None,
        uid: None,
        internal_date: None,
        latency_ms: None,
        total_ms: 0,
        hops: Vec::new(),
        auth_results: Vec::new(),
        deleted: None,
        submit_auth: Vec::new(),
        fetch_auth: Vec::new(),
        findings: Vec::new(),
    }
}

/// Submits the test message; returns when the server accepted it, or records why it did not.
async fn submit_step(
    net: &Arc<Net>,
    outgoing: &Setting,
    auth: &Authenticator,
    msg: &message::TestMessage,
    rep: &mut RoundtripReport,
) -> Option<Instant> {
    let sub = submit::submit(net, outgoing, auth, &rep.from, &rep.to, &msg.bytes).await;
    rep.submit_steps = sub.steps;
    rep.queue_id = sub.queue_id;
    refusal_findings(&sub.auth, &rep.submit_server, &mut rep.findings);
    rep.submit_auth = sub.auth;
    if sub.accepted_at.is_none() {
        rep.findings.push(
            Finding::new(
                Severity::Critical,
                FindingCode::RoundtripSubmitFailed,
                format!(
                    "the test message was not accepted by {}: {}",
                    rep.submit_server,
                    sub.error.map(|e| e.to_string()).unwrap_or_default()
                ),
            )
            .hint("See the submit steps: the failing SMTP command and the server's reply."),
        );
    }
    sub.accepted_at
}

/// Who fetches: the address itself, or the `--to` mailbox with its own credentials (none when
/// its password was not given).
fn fetcher(
    net: &Arc<Net>,
    own_auth: Authenticator,
    own: &str,
    to: &str,
    creds: &Credentials,
    opts: &RoundtripOptions,
) -> Option<Authenticator> {
    if to.eq_ignore_ascii_case(own) {
        return Some(own_auth);
    }
    let (Some(pw), Ok(to_addr)) = (&opts.to_password, crate::address::parse(to)) else {
        return None;
    };
    let c = Credentials {
        user: opts.to_user.clone(),
        password: Some(pw.clone()),
        oauth_token: None,
        mech: None,
        ..creds.clone()
    };
    Some(Authenticator::new(c, &to_addr).with_net(net.clone()))
}

/// Accepted, and nobody to fetch it back with.
fn accepted_only(to: &str, rep: &mut RoundtripReport) {
    rep.result = RoundtripResult::Accepted;
    rep.findings.push(
        Finding::new(
            Severity::Info,
            FindingCode::RoundtripAcceptedOnly,
            format!("the message to {to} was accepted for delivery; it was not fetched back"),
        )
        .hint("Give --to-user and --to-password-env to check that it arrives."),
    );
}

/// Where and as whom the message is fetched back, and when it was accepted.
struct Fetch<'a> {
    incoming: &'a Setting,
    auth: &'a Authenticator,
    accepted_at: Instant,
}

/// Waits for the message in the mailbox, records what was found (or why not) and deletes it.
async fn fetch_step(
    net: &Arc<Net>,
    fetch: Fetch<'_>,
    msg: &message::TestMessage,
    opts: &RoundtripOptions,
    rep: &mut RoundtripReport,
) {
    let incoming = fetch.incoming;
    rep.fetch_server = Some(url(incoming));
    let ours = imap_fetch::Ours {
        message_id: &msg.message_id,
        token: &msg.token,
    };
    let (wait, keep) = (opts.wait, opts.keep);
    let found = match incoming.protocol {
        Protocol::Pop3 => {
            pop3_fetch::wait_and_fetch(net, incoming, fetch.auth, ours, wait, keep).await
        }
        _ => imap_fetch::wait_and_fetch(net, incoming, fetch.auth, ours, wait, keep).await,
    };
    refusal_findings(
        &found.auth,
        rep.fetch_server.as_deref().unwrap_or(""),
        &mut rep.findings,
    );
    rep.fetch_auth = found.auth;
    rep.fetch_method = found.method;
    rep.internal_date = found.internal_date;
    rep.uid = found.uid;
    rep.deleted = found.deletion;
    rep.hops = headers::hops(&found.header);
    rep.auth_results = headers::auth_results(&found.header);
    match found.found_at {
        Some(t) => {
            rep.result = RoundtripResult::Delivered;
            let latency = t.saturating_duration_since(fetch.accepted_at);
            rep.latency_ms = Some(latency.as_millis() as u64);
            rep.folder = found.folder;
        }
        None => not_found(found.error, opts.wait, rep),
    }
    outcome_findings(rep);
}

/// The message was not fetched: it did not arrive in time, or the mailbox could not be read.
fn not_found(error: Option<RoundtripError>, wait: Duration, rep: &mut RoundtripReport) {
    if matches!(error, Some(RoundtripError::NotArrived(_))) {
        rep.result = RoundtripResult::NotArrived;
        rep.findings.push(
            Finding::new(Severity::Critical, FindingCode::RoundtripNotArrived, format!("the test message did not arrive within {} s (searched INBOX and Junk)", wait.as_secs()))
                .hint("Check the server's mail log for the queue id; delivery may be delayed or the message filtered."),
        );
    } else {
        rep.result = RoundtripResult::FetchFailed;
        rep.findings.push(Finding::new(
            Severity::Critical,
            FindingCode::RoundtripFetchFailed,
            format!(
                "cannot check the mailbox: {}",
                error.map(|e| e.to_string()).unwrap_or_default()
            ),
        ));
    }
}

fn refusal_findings(attempts: &[AuthAttempt], server: &str, out: &mut Vec<Finding>) {
    if attempts.iter().any(|a| a.success) {
        return;
    }
    if let Some(a) = attempts.last() {
        let resp = a.response.as_deref().unwrap_or("");
        out.push(refusal::finding(&refusal::decode(resp), server, resp));
    }
}

fn outcome_findings(rep: &mut RoundtripReport) {
    let folder = rep.folder.clone().unwrap_or_default();
    if rep.result == RoundtripResult::Delivered && !folder.eq_ignore_ascii_case("INBOX") {
        rep.findings.push(
            Finding::new(
                Severity::Warning,
                FindingCode::RoundtripJunk,
                format!("the test message arrived in '{folder}', not in INBOX"),
            )
            .hint(
                "A spam filter classified it as junk: check SPF/DKIM/DMARC and the filter rules.",
            ),
        );
    }
    match rep.deleted {
        Some(Deletion::LeftOthersDeleted) => rep.findings.push(
            Finding::new(Severity::Info, FindingCode::RoundtripMessageLeft, "the test message was flagged \\Deleted but not expunged: other messages in the folder are flagged \\Deleted too and the server lacks UIDPLUS (RFC 4315), so an EXPUNGE would have removed them")
                .hint("Your mail client removes it at its next expunge (or delete it by hand: its subject contains the token)."),
        ),
        Some(Deletion::Failed) => rep.findings.push(Finding::new(Severity::Warning, FindingCode::RoundtripDeleteFailed, "the test message could not be deleted")),
        _ => {}
    }
    for r in rep
        .auth_results
        .iter()
        .filter(|r| matches!(r.result.as_str(), "fail" | "permerror" | "softfail"))
    {
        rep.findings.push(
            Finding::new(Severity::Warning, FindingCode::RoundtripAuthResults, format!("{} says {}={}", r.authserv_id, r.method, r.result))
                .hint("Receivers may reject or junk this domain's mail: check its SPF, DKIM and DMARC records."),
        );
    }
}

/// The candidate a setting names, with its user name for the login.
fn candidate(s: &Setting) -> Candidate {
    Candidate {
        protocol: s.protocol,
        host: s.host.clone(),
        port: s.port,
        security: s.security,
        username: s.username.clone(),
        auth: Vec::new(),
        sources: Vec::new(),
    }
}

/// Open `server` and log in with `auth`, as every caller does ([`open_and_login`]); the login
/// sends nothing over TLS whose certificate did not verify unless `--allow-invalid-cert-auth`
/// (`crate::auth`).
async fn open_with_login<'a>(
    net: &'a Net,
    c: &'a Candidate,
    auth: &'a Authenticator,
    max_total: usize,
) -> (Probe, Result<Session, RoundtripError>) {
    let opts = OpenOptions {
        max_total,
        login: Some(auth),
        ..OpenOptions::default()
    };
    let opened = open_and_login(net, c, &opts).await;
    let error = opened.error.clone().unwrap_or_default();
    let (probe, session) = opened.into_session();
    (probe, session.ok_or(RoundtripError::Open(error)))
}

/// Open the mailbox server (IMAP or POP3, the protocol of `server`) and log in, with a larger
/// read cap for fetching messages. Returns the logged-in session and the login attempts, or
/// the attempts and the reason when it could not be opened or no login succeeded.
pub(crate) async fn open_mailbox(
    net: &Arc<Net>,
    server: &Setting,
    auth: &Authenticator,
) -> Result<(Session, Vec<AuthAttempt>), (Vec<AuthAttempt>, RoundtripError)> {
    let c = candidate(server);
    let (probe, opened) = open_with_login(net, &c, auth, MAILBOX_MAX_TOTAL).await;
    let session = opened.map_err(|e| (Vec::new(), e))?;
    let attempts = probe.auth;
    if attempts.iter().any(|a| a.success) {
        Ok((session, attempts))
    } else {
        let why = attempts
            .last()
            .and_then(|a| a.response.clone())
            .unwrap_or_default();
        let protocol = server.protocol.as_str().to_uppercase();
        Err((
            attempts,
            RoundtripError::MailboxLogin {
                protocol,
                reply: why,
            },
        ))
    }
}

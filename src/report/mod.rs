//! The renderers: each turns a [`crate::model::Report`] into text for one output format. The text
//! renderers show network strings only through [`safe`].

pub mod batch;
pub mod export;
pub mod human;
pub mod json;
pub mod nagios;
pub mod openmetrics;
pub mod roundtrip;
pub mod safe;
pub mod schema;

use crate::model::{Candidate, Protocol, Report, Security};

/// What a report is about, for its header and one-line summaries: the address (or the domain),
/// or for `probe`, which has neither, the servers it was given as URLs.
pub fn subject(r: &Report) -> String {
    match r.address.as_deref().or(r.domain.as_deref()) {
        Some(a) => a.to_string(),
        None => r
            .discovery
            .candidates
            .iter()
            .map(server_url)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A candidate as the URL `mailprobe probe` takes for it (`imaps://mail.example.com:993`,
/// `submission://mail.example.com:587`; `?security=plain` for a plain one).
pub(crate) fn server_url(c: &Candidate) -> String {
    let scheme = match (c.protocol, c.security) {
        (Protocol::Imap, Security::Tls) => "imaps",
        (Protocol::Imap, _) => "imap",
        (Protocol::Pop3, Security::Tls) => "pop3s",
        (Protocol::Pop3, _) => "pop3",
        (Protocol::Smtp, Security::Tls) => "submissions",
        (Protocol::Smtp, Security::Starttls) if c.port != 25 => "submission",
        (Protocol::Smtp, _) => "smtp",
    };
    let plain = if c.security == Security::Plain {
        "?security=plain"
    } else {
        ""
    };
    format!("{scheme}://{}:{}{plain}", c.host, c.port)
}

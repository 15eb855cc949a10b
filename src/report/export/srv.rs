//! `--to srv`: zone-file lines for the SRV records that let clients find the servers (RFC 6186
//! §3: `_imap`, `_imaps`, `_pop3`, `_pop3s`, `_submission`; RFC 8314 §5.1: `_submissions` for
//! implicit-TLS submission). Implicit TLS maps to the `s` services, STARTTLS and plain to the
//! others. Priority 0, weight 1, TTL one hour.

use super::Export;
use crate::model::{Protocol, Security, Setting};

/// The zone lines for `e`, with `;` comments saying where they come from.
pub fn render(e: &Export<'_>) -> String {
    let mut out = format!("; SRV records for {} (RFC 6186, RFC 8314)\n", e.domain);
    out += &format!("; {}\n", e.origin.comment());
    out += &format!("$ORIGIN {}.\n", e.domain.trim_end_matches('.'));
    for s in e.servers() {
        if s.security == Security::Plain {
            out += &format!(
                "; {} sends passwords without TLS; clients that follow RFC 8314 will refuse it\n",
                s.summary()
            );
        }
        out += &line(s);
    }
    out
}

/// The service label of a setting (RFC 6186 §3.1, §3.2; RFC 8314 §5.1).
pub fn service(s: &Setting) -> &'static str {
    let tls = s.security == Security::Tls;
    match (s.protocol, tls) {
        (Protocol::Imap, true) => "_imaps",
        (Protocol::Imap, false) => "_imap",
        (Protocol::Pop3, true) => "_pop3s",
        (Protocol::Pop3, false) => "_pop3",
        (Protocol::Smtp, true) => "_submissions",
        (Protocol::Smtp, false) => "_submission",
    }
}

fn line(s: &Setting) -> String {
    format!(
        "{}._tcp 3600 IN SRV 0 1 {} {}.\n",
        service(s),
        s.port,
        s.host.trim_end_matches('.')
    )
}

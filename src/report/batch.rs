//! Batch renderers (`mailprobe check --batch`): one table row per address in human mode (every
//! string escaped, [`super::safe::report`]), one JSON document a line (JSON Lines, [`super::json::render_line`]) in json mode, and the aggregated summary: a few lines of
//! counts and the slowest checks, or one Nagios status line with a perfdata item per status.

use std::cmp::Reverse;

use super::safe::Safe;
use crate::model::{BatchSummary, FindingCode, Report, Setting, Severity};

/// The table's heading, printed once before the first row.
pub(crate) fn table_header() -> String {
    format!(
        "{:<8} {:<36} {:<40} {:<40} {:>10}  finding\n",
        "STATUS", "ADDRESS", "INCOMING", "OUTGOING", "TIME"
    )
}

/// One address: status, address, chosen settings, time and the code of its worst finding.
pub fn table_row(r: &Report) -> String {
    let r = &super::safe::report(r);
    let one = |s: Option<&Setting>| s.map(|s| s.summary()).unwrap_or_else(|| "-".into());
    let (inc, out) = match &r.settings {
        Some(s) => (one(s.incoming.as_ref()), one(s.outgoing.as_ref())),
        None => ("-".into(), "-".into()),
    };
    // A rejected line says why (`line 9: environment variable DAVE_PW is not set`); a checked
    // one names its worst finding.
    let why = r
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .max_by_key(|f| f.severity)
        .map(|f| match f.code {
            FindingCode::InvalidInput => f.message.as_str(),
            code => code.as_str(),
        })
        .unwrap_or("");
    format!(
        "{:<8} {:<36} {:<40} {:<40} {:>7} ms  {why}\n",
        r.status.as_str().to_uppercase(),
        super::subject(r),
        inc,
        out,
        r.elapsed_ms
    )
}

/// The `mailprobe audit` table's heading.
pub(crate) fn audit_table_header() -> String {
    format!(
        "{:<8} {:<36} {:<64} {:>10}  finding\n",
        "STATUS", "DOMAIN", "RECEIVING", "TIME"
    )
}

/// One audited domain: status, domain, its receiving side in a few words, time, worst finding.
pub fn audit_table_row(r: &Report) -> String {
    let r = &super::safe::report(r);
    let why = r
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .max_by_key(|f| f.severity)
        .map(|f| f.code.as_str())
        .unwrap_or("");
    let inbound = r
        .inbound
        .as_ref()
        .map(|i| i.summary())
        .unwrap_or_else(|| "-".into());
    format!(
        "{:<8} {:<36} {:<64} {:>7} ms  {why}\n",
        r.status.as_str().to_uppercase(),
        super::subject(r),
        inbound,
        r.elapsed_ms
    )
}

/// Counts by status and the five slowest checks, after a blank line.
pub fn summary(s: &BatchSummary) -> String {
    let c = s.counts;
    let mut out = format!(
        "\n{} checked: {} OK, {} WARNING, {} CRITICAL, {} UNKNOWN\n",
        c.iter().sum::<usize>(),
        c[0],
        c[1],
        c[2],
        c[3]
    );
    let mut slowest: Vec<&(String, u64)> = s.checks.iter().collect();
    slowest.sort_by_key(|x| Reverse(x.1));
    if !slowest.is_empty() {
        out.push_str("Slowest:\n");
        for (a, ms) in slowest.into_iter().take(5) {
            let a = Safe(a);
            out.push_str(&format!("  {ms:>7} ms  {a}\n"));
        }
    }
    out
}

/// The batch as one Nagios status line: the worst status, counts of `what` (`addresses`,
/// `domains`), and a perfdata item per status.
pub(crate) fn nagios_summary(s: &BatchSummary, what: &str) -> String {
    let c = s.counts;
    format!(
        "MAILPROBE {} - {} {what}: {} OK, {} WARNING, {} CRITICAL, {} UNKNOWN | 'ok'={};;;0 'warning'={};;;0 'critical'={};;;0 'unknown'={};;;0\n",
        s.worst().as_str().to_uppercase(),
        c.iter().sum::<usize>(),
        c[0],
        c[1],
        c[2],
        c[3],
        c[0],
        c[1],
        c[2],
        c[3]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    #[test]
    fn summary_lists_the_slowest_first() {
        let mut s = BatchSummary::default();
        for (a, ms, st) in [("a@x", 10, Status::Ok), ("b@x", 30, Status::Critical)] {
            let mut r = Report::new("check", a, "x");
            r.elapsed_ms = ms;
            r.status = st;
            s.add(&r);
        }
        let text = summary(&s);
        assert!(text.starts_with("\n2 checked: 1 OK, 0 WARNING, 1 CRITICAL, 0 UNKNOWN\n"));
        assert!(text.find("b@x").unwrap() < text.find("a@x").unwrap());
        assert!(nagios_summary(&s, "addresses").starts_with("MAILPROBE CRITICAL - 2 addresses"));
    }
}

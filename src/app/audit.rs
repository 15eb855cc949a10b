//! `mailprobe audit DOMAIN|ADDRESS`: the receiving side of a domain, one report (or, with
//! `--batch`, one per input line, in input order, `--concurrency` at once).

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use super::{AppError, Io, Settings, batch};
use crate::address;
use crate::audit::{self, AuditOptions};
use crate::model::{Finding, FindingCode, Report, Severity, Status, Thresholds};
use crate::net::Net;
use crate::report;

/// The ASCII domain of a target (a domain, or an address whose domain counts), and its
/// Unicode form when it differs.
pub(crate) fn parse_target(target: &str) -> Result<(String, Option<String>), AppError> {
    let t = target.trim();
    if t.contains('@') {
        let a = address::parse(t)?;
        return Ok((a.domain.clone(), a.domain_unicode.clone()));
    }
    address::normalise_domain(t)
        .map_err(|e| AppError::Usage(format!("'{t}' is not a domain or an address: {e}")))
}

/// The audit options from the settings.
pub fn options(
    s: &Settings,
    dkim_selectors: &[String],
    relay_test_rcpt: &str,
) -> Result<AuditOptions, AppError> {
    for sel in dkim_selectors {
        let ok = !sel.is_empty()
            && sel.len() <= 63 * 4
            && sel.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !ok {
            return Err(AppError::Usage(format!(
                "--dkim-selector '{sel}' is not a selector (letters, digits, '-', '_', dot-separated)"
            )));
        }
    }
    let rcpt = address::parse(relay_test_rcpt)
        .map_err(|e| AppError::Usage(format!("--relay-test-rcpt '{relay_test_rcpt}': {e}")))?;
    Ok(AuditOptions {
        dkim_selectors: dkim_selectors.to_vec(),
        probe: crate::audit::port25::ProbeOptions {
            relay_rcpt: rcpt.ascii(),
            ..Default::default()
        },
        per_host: s.per_host.max(1),
        warn_cert_days: s.thresholds.warn_cert_days,
        crit_cert_days: s.thresholds.crit_cert_days,
    })
}

/// Audit one target into a report.
pub(crate) async fn audit_report(
    net: &Arc<Net>,
    target: &str,
    domain: &str,
    unicode: Option<String>,
    opts: &AuditOptions,
) -> Report {
    let started = Instant::now();
    let mut r = Report::new("audit", target, domain);
    r.domain_unicode = unicode;
    let (inbound, findings) = audit::audit(net, domain, opts).await;
    r.inbound = Some(inbound);
    r.findings = findings;
    r.status = r.status_from_findings();
    r.elapsed_ms = started.elapsed().as_millis() as u64;
    r
}

/// The lines of an `audit --batch` input, parsed as `check --batch` parses its own
/// ([`batch::parse_entries`]: BOM, `#` comments, CSV quoting, a header line, size caps, a bad
/// line a line-numbered entry with its problem). The first field is the domain or address; a
/// `user` or `password-env` column is ignored (an audit logs in nowhere), so one list serves
/// both commands.
fn batch_entries(path: &str, bytes: &[u8]) -> Result<Vec<batch::Entry>, AppError> {
    // No variable is ever read: any name passes the prefix check.
    let entries = batch::parse_entries(bytes, "");
    if entries.is_empty() {
        return Err(AppError::Usage(format!(
            "--batch {path} names no domain: one domain or address per line"
        )));
    }
    if entries.len() > batch::input::MAX_ENTRIES {
        return Err(AppError::Usage(format!(
            "--batch {path} has more than {} lines: split it",
            batch::input::MAX_ENTRIES
        )));
    }
    Ok(entries)
}

/// `--batch`: one audit per line, JSON Lines / a table / one Nagios line, like `check --batch`.
pub(crate) async fn run_batch(
    s: &Settings,
    path: &str,
    opts: &AuditOptions,
    net: &Arc<Net>,
    io: &mut Io<'_>,
    out: &mut dyn Write,
) -> Result<Status, AppError> {
    let entries = batch_entries(path, &batch::read_input(path, &mut io.stdin)?)?;
    let mut lines = entries;
    if let Some(shard) = s.shard {
        lines.retain(|e| shard.takes(&e.address));
    }
    let reporter = io.reporter;
    reporter.on_batch_start(lines.len());
    let jobs = lines.iter().map(|e| async move {
        let r = audit_line(&net.rearmed(), e, opts, &s.thresholds).await;
        reporter.on_address_done(&r);
        r
    });
    let layout = batch::Layout {
        header: report::batch::audit_table_header(),
        row: report::batch::audit_table_row,
        json_line: report::json::render_line,
        what: "domains",
    };
    let concurrency = s.net.concurrency.max(1);
    Ok(batch::emit(jobs, concurrency, s.output.format, &layout, reporter, out).await)
}

/// The audit of one line of the batch, or a report saying why the line is not a target.
async fn audit_line(
    net: &Arc<Net>,
    e: &batch::Entry,
    opts: &AuditOptions,
    thresholds: &Thresholds,
) -> Report {
    let line = e.address.as_str();
    let target = match &e.problem {
        Some(p) => Err(p.clone()),
        None => parse_target(line).map_err(|e| e.to_string()),
    };
    match target {
        Ok((domain, uni)) => {
            let mut r = audit_report(net, line, &domain, uni, opts).await;
            r.apply_thresholds(thresholds);
            r
        }
        Err(err) => {
            let mut r = Report::new("audit", line, "");
            r.findings.push(Finding::new(
                Severity::Critical,
                FindingCode::InvalidInput,
                format!("line {}: {err}", e.line),
            ));
            r.status = Status::Unknown;
            r
        }
    }
}

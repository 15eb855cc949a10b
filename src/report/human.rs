//! Human renderer: a verdict first, then the evidence (settings, probes, candidates, attempts,
//! findings), aligned for a terminal and pasteable into a ticket. Color only marks status words.

use std::fmt::Write;

use colored::Colorize;

use super::safe;
use crate::model::*;

mod inbound;

/// What to include besides the default sections.
#[derive(Debug, Clone, Copy, Default)]
pub struct HumanOptions {
    /// Every attempt, not only the ones that found something or failed.
    pub all_attempts: bool,
}

fn status_word(s: Status) -> String {
    let w = s.as_str().to_uppercase();
    match s {
        Status::Ok => w.green().bold().to_string(),
        Status::Warning => w.yellow().bold().to_string(),
        Status::Critical => w.red().bold().to_string(),
        Status::Unknown => w.magenta().bold().to_string(),
    }
}

fn severity_word(s: Severity) -> String {
    match s {
        Severity::Info => "info    ".blue().to_string(),
        Severity::Warning => "warning ".yellow().to_string(),
        Severity::Critical => "critical".red().to_string(),
    }
}

fn outcome_word(o: AttemptOutcome) -> String {
    match o {
        AttemptOutcome::Found => "found    ".green().to_string(),
        AttemptOutcome::NotFound => "not found".normal().to_string(),
        AttemptOutcome::Error => "error    ".red().to_string(),
        AttemptOutcome::Skipped => "skipped  ".dimmed().to_string(),
    }
}

fn proto_label(p: Protocol) -> &'static str {
    match p {
        Protocol::Imap => "IMAP",
        Protocol::Pop3 => "POP3",
        Protocol::Smtp => "SMTP",
    }
}

fn sources_list(s: &[Source]) -> String {
    s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// Render one report; every string in it is shown escaped ([`safe`]).
pub fn render(r: &Report, opts: HumanOptions) -> String {
    let r = &safe::report(r);
    let mut o = String::new();
    heading(&mut o, r);
    settings_section(&mut o, r);
    if let Some(i) = &r.inbound {
        inbound::render(&mut o, i, r.command != "check");
    }
    if let Some(rt) = &r.roundtrip {
        o.push_str("\nRound trip\n");
        for line in super::roundtrip::summary_lines(rt) {
            let _ = writeln!(o, "  {line}");
        }
    }
    if !r.probes.is_empty() {
        o.push_str("\nProbes\n");
        for p in &r.probes {
            probe_block(&mut o, p);
        }
    }
    candidates_section(&mut o, &r.discovery.candidates);
    attempts_section(&mut o, &r.discovery.attempts, opts.all_attempts);
    findings_section(&mut o, &r.findings);
    let _ = writeln!(
        o,
        "\nStatus: {} ({} ms)",
        status_word(r.status),
        r.elapsed_ms
    );
    o
}

/// The command and its subject, then the provider the database matched, with its hints.
fn heading(o: &mut String, r: &Report) {
    let _ = write!(o, "{} {}", r.command.bold(), super::subject(r));
    if let Some(u) = &r.domain_unicode {
        let _ = write!(o, "  ({u})");
    }
    o.push('\n');
    if let Some(p) = &r.discovery.provider {
        let unverified = if p.verified { "" } else { " (unverified)" };
        let _ = writeln!(
            o,
            "Provider: {}{unverified} (matched by {})",
            p.name, p.matched_by
        );
        for h in &p.hints {
            let _ = writeln!(o, "  hint: {h}");
        }
        if let Some(d) = &p.documentation {
            let _ = writeln!(o, "Documentation: {d}");
        }
    }
}

/// The verdict: the working incoming and outgoing settings.
fn settings_section(o: &mut String, r: &Report) {
    let Some(s) = &r.settings else { return };
    o.push_str("\nWorking settings\n");
    // `probe` may name servers of one direction only: the other one was not asked about.
    let asked = |incoming: bool| {
        r.address.is_some()
            || r.discovery
                .candidates
                .iter()
                .any(|c| c.protocol.is_incoming() == incoming)
    };
    setting_line(o, "Incoming", s.incoming.as_ref(), asked(true));
    setting_line(o, "Outgoing", s.outgoing.as_ref(), asked(false));
}

/// One aligned line per candidate: protocol, host, port, security, user name, sources.
fn candidates_section(o: &mut String, candidates: &[Candidate]) {
    if candidates.is_empty() {
        return;
    }
    o.push_str("\nCandidates\n");
    let hw = candidates.iter().map(|c| c.host.len()).max().unwrap_or(0);
    for c in candidates {
        let _ = writeln!(
            o,
            "  {}  {:<hw$}  {:>5}  {:<8}  {:<28}  {}",
            proto_label(c.protocol),
            c.host,
            c.port,
            c.security.client_label(),
            c.username
                .as_deref()
                .map(|u| format!("username: {u}"))
                .unwrap_or_default(),
            sources_list(&c.sources).dimmed(),
        );
    }
}

/// Each finding: severity, code and message, and its hint below.
fn findings_section(o: &mut String, findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    o.push_str("\nFindings\n");
    for f in findings {
        let _ = writeln!(
            o,
            "  {}  {}: {}",
            severity_word(f.severity),
            f.code.as_str().bold(),
            f.message
        );
        if let Some(h) = &f.hint {
            let _ = writeln!(o, "            hint: {h}");
        }
    }
}

/// The attempts that found something or failed (every one with `all`), then one line for those
/// that found nothing and one per reason for the skipped ones (`… and 6 skipped (--offline)`):
/// a source that was never asked must not read as one that found nothing.
fn attempts_section(o: &mut String, all_attempts: &[Attempt], all: bool) {
    let hide = |a: &Attempt| {
        !all && matches!(
            a.outcome,
            AttemptOutcome::NotFound | AttemptOutcome::Skipped
        )
    };
    let shown: Vec<&Attempt> = all_attempts.iter().filter(|a| !hide(a)).collect();
    let nothing = all_attempts
        .iter()
        .filter(|a| hide(a) && a.outcome == AttemptOutcome::NotFound)
        .count();
    let mut skipped: Vec<(&str, usize)> = Vec::new();
    for a in all_attempts
        .iter()
        .filter(|a| hide(a) && a.outcome == AttemptOutcome::Skipped)
    {
        let why = a.reason.as_deref().unwrap_or("not needed");
        match skipped.iter_mut().find(|(w, _)| *w == why) {
            Some((_, n)) => *n += 1,
            None => skipped.push((why, 1)),
        }
    }
    if shown.is_empty() && nothing == 0 && skipped.is_empty() {
        return;
    }
    o.push_str("\nAttempts\n");
    let tw = shown
        .iter()
        .map(|a| a.target.len())
        .max()
        .unwrap_or(0)
        .min(72);
    for a in &shown {
        let _ = writeln!(
            o,
            "  {}  {:<20}  {:<tw$}  {:>6} ms  {}",
            outcome_word(a.outcome),
            a.source.as_str(),
            a.target,
            a.elapsed_ms,
            a.reason.as_deref().unwrap_or(""),
        );
    }
    let lead = if shown.is_empty() { "  " } else { "  … and " };
    if nothing > 0 {
        let _ = writeln!(
            o,
            "{lead}{nothing} that found nothing (-v or --json lists them)"
        );
    }
    for (why, n) in skipped {
        let _ = writeln!(o, "{lead}{n} skipped ({why})");
    }
}

fn setting_line(o: &mut String, label: &str, s: Option<&Setting>, asked: bool) {
    match s {
        Some(s) => {
            let _ = writeln!(
                o,
                "  {label}  {}  {}  {}  {}   username: {}",
                proto_label(s.protocol),
                s.host,
                s.port,
                s.security.client_label(),
                s.username.as_deref().unwrap_or("(your address)"),
            );
        }
        None if asked => {
            let _ = writeln!(o, "  {label}  {}", "none works".red());
        }
        None => {
            let _ = writeln!(o, "  {label}  none named");
        }
    }
}

/// The server's answer to a login, without an IMAP `[CAPABILITY …]` response code (RFC 9051
/// §7.1): the status and the text are what a person reads; the capability list is in the JSON.
fn login_reply(r: &str) -> String {
    let Some(start) = r.find('[') else {
        return r.to_string();
    };
    let code = &r[start + 1..];
    if !code
        .get(..10)
        .is_some_and(|w| w.eq_ignore_ascii_case("CAPABILITY"))
    {
        return r.to_string();
    }
    match code.find(']') {
        Some(end) => format!("{}{}", &r[..start], code[end + 1..].trim_start()),
        None => r[..start].trim_end().to_string(),
    }
}

/// One probe: its verdict line, the steps with their timings, TLS, logins and transcript.
fn probe_block(o: &mut String, p: &Probe) {
    let _ = writeln!(
        o,
        "  {} {}:{} {}  {}  [{}]",
        proto_label(p.protocol),
        p.host,
        p.port,
        p.security.client_label(),
        probe_verdict(&p.outcome),
        sources_list(&p.sources).dimmed()
    );
    if let Some(t) = &p.connected_to {
        let _ = writeln!(o, "      connected to {t}");
    }
    let steps: Vec<String> = p
        .steps
        .iter()
        .map(|s| {
            let mark = match s.status {
                StepStatus::Ok => "ok",
                StepStatus::Warning => "warn",
                StepStatus::Failed => "FAIL",
                StepStatus::Skipped => "skip",
            };
            format!("{} {} {}ms", s.name, mark, s.elapsed_ms)
        })
        .collect();
    if !steps.is_empty() {
        let _ = writeln!(o, "      {}", steps.join(" · "));
    }
    if let Some(t) = &p.tls {
        tls_line(o, t);
    }
    login_lines(o, &p.auth);
    if let Some(lines) = &p.transcript {
        for l in lines {
            let _ = writeln!(o, "      {:>6} {} {}", l.t_ms, l.dir, l.line);
        }
    }
}

/// Working (with a valid certificate or not), stopped by the scheduler, or failed at a phase.
fn probe_verdict(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Working { tls_valid: true } => "working".green().to_string(),
        Outcome::Working { tls_valid: false } => {
            "working, certificate not valid".yellow().to_string()
        }
        // Stopped by the scheduler, not failed: the verdict no longer needed it.
        Outcome::Failed { phase, error, .. } if *phase == Phase::Cancelled => {
            format!("{}: {error}", "stopped".dimmed())
        }
        Outcome::Failed { phase, error, .. } => format!("{} at {phase}: {error}", "failed".red()),
    }
}

/// TLS version and cipher, whether the certificate verified, and when it expires.
fn tls_line(o: &mut String, t: &TlsInfo) {
    let cert = if t.verified {
        "certificate valid".to_string()
    } else {
        format!(
            "certificate NOT valid: {}",
            t.verify_error.as_deref().unwrap_or("unknown")
        )
    };
    let _ = writeln!(
        o,
        "      {} {}  {}  expires {} ({} days)",
        t.version,
        t.cipher,
        cert,
        t.not_after.as_deref().unwrap_or("?"),
        t.days_left
            .map(|d| d.to_string())
            .unwrap_or_else(|| "?".into())
    );
}

/// Each login attempt (mechanism, user, accepted or refused, the server's reply), or why none
/// was tried.
fn login_lines(o: &mut String, attempts: &[AuthAttempt]) {
    for a in attempts {
        if a.is_note() {
            let why = a.response.as_deref().unwrap_or("");
            let _ = writeln!(o, "      login {}: {why}", "skipped".yellow());
            continue;
        }
        let res = if a.success {
            "ok".green().to_string()
        } else {
            "refused".red().to_string()
        };
        let _ = writeln!(
            o,
            "      login {} as {}: {} {}",
            a.mechanism,
            a.username,
            res,
            login_reply(a.response.as_deref().unwrap_or(""))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::login_reply;

    #[test]
    fn login_reply_drops_the_capability_list() {
        let cases = [
            (
                "a2 OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE SORT] Logged in",
                "a2 OK Logged in",
            ),
            (
                "a2 NO [AUTHENTICATIONFAILED] Authentication failed.",
                "a2 NO [AUTHENTICATIONFAILED] Authentication failed.",
            ),
            (
                "235 2.7.0 Authentication successful",
                "235 2.7.0 Authentication successful",
            ),
            ("+OK Logged in.", "+OK Logged in."),
            ("a2 OK [capability IMAP4rev1", "a2 OK"),
        ];
        for (raw, shown) in cases {
            assert_eq!(login_reply(raw), shown, "{raw}");
        }
    }
}

//! Plain-text lines summarising a [`RoundtripReport`] for the human renderer (no colour, no
//! I/O: the renderer decides how to print them).

use crate::model::{Deletion, RoundtripReport, RoundtripResult, StepStatus};

/// A few lines a helpdesk can read: outcome and latency, where it went, the SMTP steps, where
/// it was found, the hops, the authentication verdicts and the clean-up.
pub(crate) fn summary_lines(rep: &RoundtripReport) -> Vec<String> {
    let mut out = vec![format!("Round trip: {}", headline(rep))];
    let queue = rep
        .queue_id
        .as_deref()
        .map(|q| format!(", queue id {q}"))
        .unwrap_or_default();
    out.push(format!(
        "  sent     {} → {} via {}{queue}",
        rep.from, rep.to, rep.submit_server
    ));
    out.extend(steps_line(rep));
    out.extend(found_line(rep));
    for (i, h) in rep.hops.iter().enumerate() {
        let delay = h.delay_s.map(|d| format!(" (+{d} s)")).unwrap_or_default();
        out.push(format!(
            "  hop {}    {} → {} {} {}{delay}",
            i + 1,
            h.from.as_deref().unwrap_or("?"),
            h.by.as_deref().unwrap_or("?"),
            h.with.as_deref().unwrap_or(""),
            h.date.as_deref().unwrap_or("")
        ));
    }
    if !rep.auth_results.is_empty() {
        let v: Vec<String> = rep
            .auth_results
            .iter()
            .map(|a| format!("{}={}", a.method, a.result))
            .collect();
        out.push(format!("  checks   {}", v.join(" ")));
    }
    out.extend(rep.deleted.map(cleanup_line));
    out
}

/// The outcome in a few words, with the latency when the message arrived.
fn headline(rep: &RoundtripReport) -> String {
    match rep.result {
        RoundtripResult::Delivered => format!(
            "delivered in {} ms (round trip {} ms)",
            rep.latency_ms.unwrap_or(0),
            rep.total_ms
        ),
        RoundtripResult::Accepted => "accepted for delivery (not fetched back)".to_string(),
        RoundtripResult::NotArrived => "submitted, but it did not arrive".to_string(),
        RoundtripResult::SubmitFailed => "the test message was not accepted".to_string(),
        RoundtripResult::FetchFailed => {
            "submitted, but the mailbox could not be checked".to_string()
        }
    }
}

/// The SMTP steps with their times, when there were any.
fn steps_line(rep: &RoundtripReport) -> Option<String> {
    if rep.submit_steps.is_empty() {
        return None;
    }
    let steps: Vec<String> = rep
        .submit_steps
        .iter()
        .map(|s| {
            format!(
                "{} {} ms{}",
                s.name,
                s.elapsed_ms,
                if s.status == StepStatus::Failed {
                    " FAILED"
                } else {
                    ""
                }
            )
        })
        .collect();
    Some(format!("  steps    {}", steps.join(", ")))
}

/// Where the message was found, how, and its INTERNALDATE.
fn found_line(rep: &RoundtripReport) -> Option<String> {
    let folder = rep.folder.as_ref()?;
    let how = rep.fetch_method.as_deref().unwrap_or("?");
    let date = rep
        .internal_date
        .as_deref()
        .map(|d| format!(", INTERNALDATE {d}"))
        .unwrap_or_default();
    Some(format!(
        "  found    in {folder} ({how}) on {}{date}",
        rep.fetch_server.as_deref().unwrap_or("?")
    ))
}

/// What became of the test message.
fn cleanup_line(d: Deletion) -> String {
    let text = match d {
        Deletion::Deleted => "the test message was deleted",
        Deletion::Kept => "the test message was kept (--keep)",
        Deletion::LeftOthersDeleted => {
            "the test message was flagged \\Deleted, not expunged (see findings)"
        }
        Deletion::Failed => "deleting the test message failed",
    };
    format!("  cleanup  {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_a_delivery() {
        let r = RoundtripReport {
            result: RoundtripResult::Delivered,
            from: "a@x".into(),
            to: "a@x".into(),
            message_id: "<m@x>".into(),
            token: "t".into(),
            submit_server: "smtp://s:587 (starttls)".into(),
            submit_steps: vec![],
            queue_id: Some("Q1".into()),
            fetch_server: Some("imap://i:993 (tls)".into()),
            fetch_method: Some("IDLE".into()),
            folder: Some("Junk".into()),
            uid: Some(4),
            internal_date: None,
            latency_ms: Some(61),
            total_ms: 300,
            hops: vec![],
            auth_results: vec![],
            deleted: Some(Deletion::Deleted),
            submit_auth: vec![],
            fetch_auth: vec![],
            findings: vec![],
        };
        let l = summary_lines(&r);
        assert_eq!(l[0], "Round trip: delivered in 61 ms (round trip 300 ms)");
        assert!(l[1].contains("queue id Q1"));
        assert!(l.iter().any(|x| x.contains("found    in Junk (IDLE)")));
        assert!(l.last().unwrap().contains("deleted"));
    }
}

//! SMTP TLS reporting (RFC 8460 §3): the `_smtp._tls` TXT record, exactly one, `v=TLSRPTv1`
//! with `rua` destinations that are `mailto:` or `https:` URIs.

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::mta_sts::ReportUri;

use super::{finding, tags, versioned_txt};
use crate::dns::Resolver;
use crate::model::TlsRpt;
use crate::model::{Finding, FindingCode, Severity};

/// Look up and lint the TLS-RPT record of `domain`.
pub async fn check(resolver: &Resolver, domain: &str) -> (Option<TlsRpt>, Vec<Finding>) {
    let name = format!("_smtp._tls.{domain}");
    let records = match versioned_txt(resolver, &name, "TLSRPTv1").await {
        Ok(r) => r,
        Err(e) => {
            let f = Finding::new(
                Severity::Warning,
                FindingCode::TlsRptLookupFailed,
                format!("the TLS-RPT record lookup failed: {e}"),
            );
            return (None, vec![f]);
        }
    };
    if records.is_empty() {
        let f = Finding::new(
            Severity::Info,
            FindingCode::TlsRptNone,
            format!("{domain} asks for no SMTP TLS reports (RFC 8460)"),
        )
        .hint("publish _smtp._tls TXT \"v=TLSRPTv1; rua=mailto:tls-reports@<domain>\" to hear about TLS failures");
        return (None, vec![f]);
    }
    let mut out = Vec::new();
    if records.len() > 1 {
        out.push(finding(
            Severity::Warning,
            FindingCode::TlsRptMultipleRecords,
            format!(
                "{name} has {} v=TLSRPTv1 records: senders send no report",
                records.len()
            ),
            "RFC 8460 §3: publish exactly one record",
        ));
    }
    let (rua, problem) = lint(&records[0]);
    if let Some(problem) = problem {
        out.push(finding(
            Severity::Warning,
            FindingCode::TlsRptInvalid,
            format!("the TLS-RPT record \"{}\" {problem}", records[0]),
            "RFC 8460 §3: \"v=TLSRPTv1; rua=mailto:addr\" or \"rua=https://…\", several separated by commas",
        ));
    }
    (Some(TlsRpt { records, rua }), out)
}

/// The `rua` URIs and, when something is wrong, what.
pub fn lint(record: &str) -> (Vec<String>, Option<String>) {
    let t = tags::parse(record);
    let raw: Vec<String> = tags::get(&t, "rua")
        .unwrap_or_default()
        .split(',')
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if raw.is_empty() {
        return (raw, Some("has no rua destination".into()));
    }
    if let Some(bad) = raw.iter().find(|u| {
        let l = u.to_ascii_lowercase();
        !(l.starts_with("mailto:") && u.contains('@') || l.starts_with("https://") && u.len() > 8)
    }) {
        return (
            raw.clone(),
            Some(format!("has the rua \"{bad}\", neither mailto: nor https:")),
        );
    }
    match mail_auth::mta_sts::TlsRpt::parse(record.as_bytes()) {
        Ok(r) => {
            let rua = r
                .rua
                .into_iter()
                .map(|u| match u {
                    ReportUri::Mail(m) => format!("mailto:{m}"),
                    ReportUri::Http(h) => h,
                })
                .collect();
            (rua, None)
        }
        Err(_) => (raw, Some("does not parse".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        let (rua, p) = lint("v=TLSRPTv1; rua=mailto:tls@example.com,https://r.example.com/x");
        assert_eq!(p, None);
        assert_eq!(rua, ["mailto:tls@example.com", "https://r.example.com/x"]);
        assert!(lint("v=TLSRPTv1;").1.is_some());
        assert!(lint("v=TLSRPTv1; rua=ftp://x.example.com").1.is_some());
        assert!(lint("v=TLSRPTv1; rua=http://x.example.com").1.is_some());
    }
}

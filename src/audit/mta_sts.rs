//! MTA-STS (RFC 8461): the `_mta-sts` TXT record (§3.1), the policy fetched over HTTPS with a
//! validated certificate, no redirects and a size cap (§3.3), its strict syntax (§3.2), and the
//! comparison with reality: every MX host covered by an `mx` pattern (§4.1). Fetch failures are
//! named with the result types of RFC 8460 §4.3.2.1.

use mail_auth::common::parse::TxtRecordParser;

use super::{finding, versioned_txt};
use crate::dns::Resolver;
use crate::model::{Finding, FindingCode, Severity};
use crate::model::{MtaSts, MtaStsPolicy, MxHost};
use crate::net::Net;
use crate::net::http::{self, HttpError, HttpRequest};

/// Cap on a policy body: RFC 8461 §3.3 lets senders limit it; real policies are a few lines.
pub(crate) const MAX_POLICY: usize = 64 * 1024;
/// Largest `max_age` (RFC 8461 §3.2: about one year).
pub(crate) const MAX_AGE_LIMIT: u64 = 31_557_600;

/// The record and the policy as fetched, before the comparison with the MX set.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub report: MtaSts,
}

/// Look up the record and, when there is one, fetch and parse the policy.
pub async fn fetch(
    net: &Net,
    resolver: &Resolver,
    domain: &str,
) -> (Option<Fetched>, Vec<Finding>) {
    let name = format!("_mta-sts.{domain}");
    let records = match versioned_txt(resolver, &name, "STSv1").await {
        Ok(r) => r,
        Err(e) => {
            let f = finding(
                Severity::Warning,
                FindingCode::MtaStsLookupFailed,
                format!("the MTA-STS record lookup failed: {e}"),
                "senders treat the domain as having no MTA-STS policy until this answers",
            );
            return (None, vec![f]);
        }
    };
    if records.is_empty() {
        let f = Finding::new(
            Severity::Info,
            FindingCode::MtaStsNone,
            format!("{domain} publishes no MTA-STS policy (RFC 8461)"),
        )
        .hint("publish _mta-sts TXT \"v=STSv1; id=…\" and a policy at https://mta-sts.<domain>/.well-known/mta-sts.txt, or use DANE");
        return (None, vec![f]);
    }
    let mut findings = Vec::new();
    let mut report = MtaSts {
        records: records.clone(),
        policy_url: format!("https://mta-sts.{domain}/.well-known/mta-sts.txt"),
        ..MtaSts::default()
    };
    if records.len() > 1 {
        findings.push(finding(
            Severity::Warning,
            FindingCode::MtaStsMultipleRecords,
            format!(
                "{name} has {} v=STSv1 records: senders ignore the policy",
                records.len()
            ),
            "RFC 8461 §3.1: publish exactly one record",
        ));
    }
    match mail_auth::mta_sts::MtaSts::parse(records[0].as_bytes()) {
        Ok(r) if valid_id(&r.id) => report.id = Some(r.id),
        _ => findings.push(finding(
            Severity::Warning,
            FindingCode::MtaStsRecordInvalid,
            format!("the MTA-STS record \"{}\" is not valid", records[0]),
            "RFC 8461 §3.1: \"v=STSv1; id=\" with an id of 1 to 32 letters and digits",
        )),
    }
    match get_policy(net, &report.policy_url).await {
        Ok(policy) => report.policy = Some(policy),
        Err((word, reason)) => {
            findings.push(finding(
                Severity::Warning,
                word,
                format!("the MTA-STS policy {}: {reason}", report.policy_url),
                match word {
                    FindingCode::StsWebpkiInvalid => "the policy host needs a certificate for mta-sts.<domain> from a public CA",
                    FindingCode::StsPolicyInvalid => "RFC 8461 §3.2: lines \"version: STSv1\", \"mode: enforce|testing|none\", \"mx: <pattern>\", \"max_age: <seconds>\"",
                    _ => "RFC 8461 §3.3: serve it with status 200, text/plain, without redirects",
                },
            ));
            report.error = Some(format!("{word}: {reason}"));
        }
    }
    (Some(Fetched { report }), findings)
}

/// RFC 8461 §3.1: `sts-id = 1*32(ALPHA / DIGIT)`.
fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Fetch and parse the policy; the error is an RFC 8460 result type and a reason.
async fn get_policy(net: &Net, url: &str) -> Result<MtaStsPolicy, (FindingCode, String)> {
    let req = HttpRequest {
        max_body: MAX_POLICY,
        max_redirects: 0,
        ..HttpRequest::get(url)
    };
    let resp = match http::fetch(net, &req).await {
        Ok(r) => r,
        Err(HttpError::Tls(e)) => return Err((FindingCode::StsWebpkiInvalid, e)),
        Err(e) => return Err((FindingCode::StsPolicyFetchError, e.to_string())),
    };
    if (300..400).contains(&resp.status) {
        return Err((
            FindingCode::StsPolicyFetchError,
            format!(
                "HTTP {} redirect to {} (RFC 8461 §3.3: redirects are not followed)",
                resp.status,
                resp.location.as_deref().unwrap_or("nowhere")
            ),
        ));
    }
    let ctype = resp.content_type.clone().unwrap_or_default();
    let media = ctype.split(';').next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("text/plain") {
        return Err((
            FindingCode::StsPolicyFetchError,
            format!("served as \"{ctype}\", not text/plain (RFC 8461 §3.2)"),
        ));
    }
    let body = String::from_utf8_lossy(&resp.body);
    parse_policy(&body).map_err(|e| (FindingCode::StsPolicyInvalid, e))
}

/// Parse a policy body (RFC 8461 §3.2): `key: value` lines ending in LF or CRLF; `version`,
/// `mode` and `max_age` required, `mx` required unless the mode is `none`; unknown keys ignored.
pub fn parse_policy(body: &str) -> Result<MtaStsPolicy, String> {
    let mut p = MtaStsPolicy::default();
    let (mut version, mut mode, mut age) = (None, None, None);
    for (n, line) in body.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| format!("line {}: \"{}\" is not \"key: value\"", n + 1, line.trim()))?;
        let v = v.trim();
        match k.trim() {
            "version" if version.is_none() => version = Some(v.to_string()),
            "mode" if mode.is_none() => mode = Some(v.to_string()),
            "max_age" if age.is_none() => age = Some(v.to_string()),
            "mx" => p.mx.push(v.to_ascii_lowercase()),
            "version" | "mode" | "max_age" => {
                return Err(format!("line {}: \"{}\" given twice", n + 1, k.trim()));
            }
            _ => {}
        }
    }
    p.version = version.ok_or("no \"version\" line")?;
    if p.version != "STSv1" {
        return Err(format!("version \"{}\" is not STSv1", p.version));
    }
    p.mode = mode.ok_or("no \"mode\" line")?;
    if !matches!(p.mode.as_str(), "enforce" | "testing" | "none") {
        return Err(format!(
            "mode \"{}\" is not enforce, testing or none",
            p.mode
        ));
    }
    let age = age.ok_or("no \"max_age\" line")?;
    p.max_age = age
        .parse::<u64>()
        .ok()
        .filter(|a| age.len() <= 10 && *a <= MAX_AGE_LIMIT)
        .ok_or_else(|| {
            format!("max_age \"{age}\" is not a number of seconds up to {MAX_AGE_LIMIT}")
        })?;
    if p.mx.is_empty() && p.mode != "none" {
        return Err("no \"mx\" line".into());
    }
    if let Some(bad) = p.mx.iter().find(|m| !valid_pattern(m)) {
        return Err(format!(
            "mx pattern \"{bad}\" is not a host name or *.domain"
        ));
    }
    Ok(p)
}

fn valid_pattern(p: &str) -> bool {
    let name = p.strip_prefix("*.").unwrap_or(p);
    !name.is_empty()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// RFC 8461 §4.1: an `mx` pattern matches a host exactly, or `*.` matches exactly one
/// left-most label (`*.example.com` covers `mx.example.com`, not `a.b.example.com`).
pub(crate) fn mx_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(base) => host
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && rest == base),
        None => host == pattern,
    }
}

/// Compare the policy with the MX set and the policy's own settings.
pub fn compare(fetched: Fetched, mx: &[MxHost]) -> (MtaSts, Vec<Finding>) {
    let mut report = fetched.report;
    let mut out = Vec::new();
    let Some(p) = report.policy.clone() else {
        return (report, out);
    };
    match p.mode.as_str() {
        "none" => out.push(Finding::new(
            Severity::Info,
            FindingCode::MtaStsModeNone,
            "the MTA-STS policy has mode none: it is being withdrawn and protects nothing",
        )),
        "testing" => out.push(
            Finding::new(
                Severity::Info,
                FindingCode::MtaStsTesting,
                "the MTA-STS policy is in testing mode: senders report failures but deliver anyway",
            )
            .hint("switch to \"mode: enforce\" once the TLS-RPT reports are clean"),
        ),
        _ => {}
    }
    if p.mode != "none" {
        report.uncovered_mx = mx
            .iter()
            .filter(|h| !p.mx.iter().any(|pat| mx_matches(pat, &h.host)))
            .map(|h| h.host.clone())
            .collect();
        if !report.uncovered_mx.is_empty() {
            let all = report.uncovered_mx.len() == mx.len();
            let sev = match (p.mode.as_str(), all) {
                ("enforce", true) => Severity::Critical,
                _ => Severity::Warning,
            };
            out.push(finding(
                sev,
                FindingCode::MtaStsMxNotCovered,
                format!(
                    "no mx pattern of the MTA-STS policy ({}) covers {}",
                    p.mx.join(", "),
                    report.uncovered_mx.join(", ")
                ),
                "RFC 8461 §4.1: senders applying the policy do not deliver to an MX it does not list; add the host (or *.its-domain)",
            ));
        }
        if p.max_age < 86_400 {
            out.push(finding(
                Severity::Warning,
                FindingCode::MtaStsMaxAgeShort,
                format!(
                    "the MTA-STS policy's max_age is {} s: senders forget it within a day",
                    p.max_age
                ),
                "RFC 8461 §3.2: use weeks (e.g. max_age: 604800 or more)",
            ));
        }
    }
    (report, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_strictly() {
        let ok = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n";
        let p = parse_policy(ok).unwrap();
        assert_eq!(p.mode, "enforce");
        assert_eq!(p.mx, ["mx1.example.com", "*.example.net"]);
        assert_eq!(p.max_age, 604800);
        assert!(parse_policy(&ok.replace("\r\n", "\n")).is_ok(), "LF only");
        assert!(parse_policy("version: STSv1\nmode: none\nmax_age: 0\n").is_ok());
        for bad in [
            "version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n",
            "version: STSv1\nmode: block\nmx: a.b\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmx: a.b\n",
            "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 99999999999\n",
            "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n",
            "version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 1\n",
            "<html>not a policy</html>",
            "",
        ] {
            assert!(parse_policy(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(mx_matches("mx.example.com", "MX.example.com."));
        assert!(mx_matches("*.example.com", "mx1.example.com"));
        assert!(!mx_matches("*.example.com", "example.com"));
        assert!(!mx_matches("*.example.com", "a.b.example.com"));
        assert!(!mx_matches("mx.example.com", "mx2.example.com"));
    }

    #[test]
    fn ids() {
        assert!(valid_id("20160831085700Z"));
        assert!(!valid_id(""));
        assert!(!valid_id("2016-08-31"));
        assert!(!valid_id(&"a".repeat(33)));
    }
}

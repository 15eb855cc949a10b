//! DMARC (RFC 7489): the `_dmarc` record of the domain, or of its organisational domain (§6.6.3,
//! public suffix list), its policy tags, and its report destinations: an address outside the
//! organisational domain must be authorised by `<domain>._report._dmarc.<host>` (§7.1).

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::dmarc::{Alignment, Policy};

use super::{finding, tags, versioned_txt};
use crate::dns::Resolver;
use crate::model::{Dmarc, DmarcUri, FindingCode};
use crate::model::{Finding, Severity};
use crate::net::Net;

/// The organisational domain (RFC 7489 §3.2) by the public suffix list; the domain itself when
/// the list knows no suffix for it.
pub(crate) fn org_domain(domain: &str) -> String {
    psl::domain_str(domain)
        .unwrap_or(domain)
        .to_ascii_lowercase()
}

/// Look up, parse and lint the DMARC record that applies to `domain`.
pub async fn check(net: &Net, resolver: &Resolver, domain: &str) -> (Option<Dmarc>, Vec<Finding>) {
    let org = org_domain(domain);
    let mut at = domain.to_string();
    let mut records = versioned_txt(resolver, &format!("_dmarc.{domain}"), "DMARC1").await;
    if matches!(&records, Ok(r) if r.is_empty()) && org != domain {
        at = org.clone();
        records = versioned_txt(resolver, &format!("_dmarc.{org}"), "DMARC1").await;
    }
    let records = match records {
        Ok(r) => r,
        Err(e) => {
            let f = Finding::new(
                Severity::Warning,
                FindingCode::DmarcLookupFailed,
                format!("the DMARC lookup failed: {e}"),
            );
            return (None, vec![f]);
        }
    };
    let mut out = Vec::new();
    match records.len() {
        0 => {
            out.push(finding(
                Severity::Warning,
                FindingCode::DmarcNone,
                format!("{domain} publishes no DMARC record: receivers apply no policy to forged mail"),
                "publish _dmarc TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc@<domain>\" (start with p=none only while reviewing reports)",
            ));
            return (None, out);
        }
        1 => {}
        n => {
            out.push(finding(
                Severity::Warning,
                FindingCode::DmarcMultipleRecords,
                format!("_dmarc.{at} has {n} v=DMARC1 records: receivers apply none of them"),
                "RFC 7489 §6.6.3: publish exactly one record",
            ));
            return (None, out);
        }
    }
    let record = records[0].clone();
    let (mut d, problems) = lint(&record, &at, domain);
    out.extend(problems);
    let ext = |u: &DmarcUri| u.external;
    if d.rua.iter().any(ext) || d.ruf.iter().any(ext) {
        authorise(net, resolver, &at, &mut d, &mut out).await;
    }
    (Some(d), out)
}

/// Parse and lint one record found at `_dmarc.<at>` for `domain`.
pub fn lint(record: &str, at: &str, domain: &str) -> (Dmarc, Vec<Finding>) {
    let t = tags::parse(record);
    let mut out = Vec::new();
    let mut d = Dmarc {
        record_domain: at.to_string(),
        record: Some(record.to_string()),
        pct: 100,
        adkim: "r".into(),
        aspf: "r".into(),
        ..Dmarc::default()
    };
    let org = org_domain(at);
    d.rua = uris(tags::get(&t, "rua"), &org);
    d.ruf = uris(tags::get(&t, "ruf"), &org);
    let invalid = |why: String| {
        finding(
            Severity::Warning,
            FindingCode::DmarcInvalid,
            format!("the DMARC record of {at} {why}: \"{record}\""),
            "RFC 7489 §6.3: \"v=DMARC1; p=none|quarantine|reject\" then optional tags",
        )
    };
    let parsed = match mail_auth::dmarc::Dmarc::parse(record.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            out.push(invalid(format!("does not parse ({e})")));
            return (d, out);
        }
    };
    if let Some(pct) = tags::get(&t, "pct") {
        match pct.parse::<u8>() {
            Ok(p) if p <= 100 => d.pct = p,
            _ => out.push(invalid(format!("has pct={pct}, not 0 to 100"))),
        }
    }
    d.adkim = align(parsed.adkim);
    d.aspf = align(parsed.aspf);
    d.p = policy(parsed.p);
    if at != domain || tags::get(&t, "sp").is_some() {
        d.sp = policy(parsed.sp);
    }
    out.extend(policy_findings(&parsed, &t, &d, at, domain, &invalid));
    (d, out)
}

/// What the policy in force for `domain` says: inherited from `at`, missing, `none`, `sp=none`,
/// partial (`pct`), and no aggregate reports (RFC 7489 §6.3, §6.6.3).
fn policy_findings(
    parsed: &mail_auth::dmarc::Dmarc,
    t: &[(String, String)],
    d: &Dmarc,
    at: &str,
    domain: &str,
    invalid: &dyn Fn(String) -> Finding,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if at != domain {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::DmarcInherited,
            format!("{domain} has no DMARC record of its own: the one of {at} applies (sp=)"),
        ));
    }
    let effective = if at != domain { parsed.sp } else { parsed.p };
    match effective {
        Policy::Unspecified => out.push(invalid("has no p= tag".into())),
        Policy::None => out.push(finding(
            Severity::Warning,
            FindingCode::DmarcPolicyNone,
            format!("the DMARC policy of {domain} is none: forged mail is only reported, never rejected"),
            "move to p=quarantine, then p=reject, once the aggregate reports show all real mail aligned",
        )),
        _ => {}
    }
    if at == domain
        && parsed.p != Policy::None
        && tags::get(t, "sp").is_some()
        && parsed.sp == Policy::None
    {
        out.push(finding(
            Severity::Warning,
            FindingCode::DmarcSubdomainPolicyNone,
            format!(
                "the DMARC record of {domain} has sp=none: its subdomains can be forged freely"
            ),
            "drop sp= (subdomains then inherit p=) or set sp=reject",
        ));
    }
    if d.pct < 100 && effective != Policy::None {
        out.push(finding(
            Severity::Warning,
            FindingCode::DmarcPctPartial,
            format!(
                "the DMARC policy applies to {}% of failing mail only (pct={})",
                d.pct, d.pct
            ),
            "raise pct to 100 (or drop it)",
        ));
    }
    if d.rua.is_empty() {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::DmarcNoRua,
            format!("the DMARC record of {at} asks for no aggregate reports (rua=)"),
        ));
    }
    out
}

fn align(a: Alignment) -> String {
    match a {
        Alignment::Strict => "s".into(),
        Alignment::Relaxed => "r".into(),
    }
}

fn policy(p: Policy) -> Option<String> {
    match p {
        Policy::None => Some("none".into()),
        Policy::Quarantine => Some("quarantine".into()),
        Policy::Reject => Some("reject".into()),
        Policy::Unspecified => None,
    }
}

/// `mailto:a@host!10m, mailto:b@other` → URIs with their externality to `org`.
fn uris(value: Option<&str>, org: &str) -> Vec<DmarcUri> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .map(|u| {
            let uri = u.split('!').next().unwrap_or(u).trim().to_string();
            let external = report_host(&uri).is_some_and(|h| org_domain(&h) != org);
            DmarcUri {
                uri,
                external,
                authorized: None,
            }
        })
        .collect()
}

/// The host of a `mailto:` report address.
fn report_host(uri: &str) -> Option<String> {
    let lower = uri.to_ascii_lowercase();
    let addr = lower.strip_prefix("mailto:")?;
    let host = addr.rsplit_once('@')?.1.trim_end_matches('.');
    (!host.is_empty()).then(|| host.to_string())
}

/// RFC 7489 §7.1: an external destination host must publish `<at>._report._dmarc.<host>`.
async fn authorise(
    net: &Net,
    resolver: &Resolver,
    at: &str,
    d: &mut Dmarc,
    out: &mut Vec<Finding>,
) {
    let hosts: Vec<String> = d
        .rua
        .iter()
        .chain(d.ruf.iter())
        .filter(|u| u.external)
        .filter_map(|u| report_host(&u.uri))
        .collect();
    let futs: Vec<_> = hosts
        .iter()
        .map(|h| async move {
            let name = format!("{at}._report._dmarc.{h}");
            (
                h.clone(),
                matches!(versioned_txt(resolver, &name, "DMARC1").await, Ok(v) if !v.is_empty()),
            )
        })
        .collect();
    let answers = net.join_bounded(futs).await;
    for u in d
        .rua
        .iter_mut()
        .chain(d.ruf.iter_mut())
        .filter(|u| u.external)
    {
        let host = report_host(&u.uri);
        let ok = answers
            .iter()
            .any(|(h, ok)| Some(h) == host.as_ref() && *ok);
        u.authorized = Some(ok);
        if !ok {
            let h = host.unwrap_or_default();
            out.push(finding(
                Severity::Warning,
                FindingCode::DmarcReportUnauthorized,
                format!(
                    "{h} does not agree to receive DMARC reports for {at}: {} is dropped",
                    u.uri
                ),
                &format!(
                    "RFC 7489 §7.1: {h} must publish TXT \"v=DMARC1\" at {at}._report._dmarc.{h}"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn policies() {
        let (d, f) = lint(
            "v=DMARC1; p=reject; rua=mailto:d@example.test",
            "example.test",
            "example.test",
        );
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(d.p.as_deref(), Some("reject"));
        assert_eq!((d.pct, d.adkim.as_str()), (100, "r"));
        let (_, f) = lint(
            "v=DMARC1; p=none; rua=mailto:d@example.test",
            "example.test",
            "example.test",
        );
        assert_eq!(codes(&f), ["dmarc-policy-none"]);
        let (d, f) = lint(
            "v=DMARC1; p=quarantine; pct=20; adkim=s",
            "example.test",
            "example.test",
        );
        assert_eq!(codes(&f), ["dmarc-pct-partial", "dmarc-no-rua"]);
        assert_eq!(d.adkim, "s");
        let (_, f) = lint(
            "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.test",
            "example.test",
            "example.test",
        );
        assert_eq!(codes(&f), ["dmarc-subdomain-policy-none"]);
        let (_, f) = lint("v=DMARC1; p=bogus", "example.test", "example.test");
        assert_eq!(codes(&f), ["dmarc-invalid"]);
    }

    /// RFC 7489 §6.6.3: a subdomain without a record of its own takes its organisational
    /// domain's, and its `sp=` (else `p=`) applies.
    #[test]
    fn a_subdomain_inherits_the_organisational_record() {
        assert_eq!(org_domain("sub.good.test"), "good.test");
        let (_, f) = lint(
            "v=DMARC1; p=reject; sp=none; rua=mailto:d@good.test",
            "good.test",
            "sub.good.test",
        );
        assert_eq!(codes(&f), ["dmarc-inherited", "dmarc-policy-none"]);
        assert!(
            f[0].message.contains("the one of good.test applies"),
            "{f:?}"
        );
        // Without sp= the subdomain policy is p= (RFC 7489 §6.3).
        let (_, f) = lint(
            "v=DMARC1; p=reject; rua=mailto:d@good.test",
            "good.test",
            "sub.good.test",
        );
        assert_eq!(codes(&f), ["dmarc-inherited"]);
    }

    #[test]
    fn external_destinations() {
        let (d, _) = lint(
            "v=DMARC1; p=reject; rua=mailto:a@example.test,mailto:b@reports.example.net!10m",
            "example.test",
            "example.test",
        );
        assert_eq!(d.rua.len(), 2);
        assert!(!d.rua[0].external);
        assert!(d.rua[1].external);
        assert_eq!(d.rua[1].uri, "mailto:b@reports.example.net");
        assert_eq!(org_domain("mx1.mail.example.co.uk"), "example.co.uk");
    }
}

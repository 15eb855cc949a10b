//! Counting an SPF tree against RFC 7208 §4.6.4 — at most 10 DNS-querying terms and at most 2
//! void lookups in one evaluation — in evaluation order, so the term that breaks a limit is
//! named; and the lint of what the records say (`all` qualifier, `ptr`, loops, missing
//! includes), and the per-mechanism limit of `mx`: at most 10 MX hosts, each needing an address
//! lookup, else a permerror. The `ptr` limit of the same section (at most 10 PTR names
//! checked, the rest ignored, no error) depends on the connecting address, which an audit does
//! not have: `ptr` is reported as such (`spf-ptr`, §5.5). Pure: the tree was fetched by
//! [`super::fetch`].

use super::{Raw, RawError};
use crate::audit::finding;
use crate::model::{Finding, FindingCode, Severity};
use crate::model::{Spf, SpfNode};

/// RFC 7208 §4.6.4.
pub(crate) const LOOKUP_LIMIT: u32 = 10;
pub(crate) const VOID_LIMIT: u32 = 2;
/// RFC 7208 §4.6.4: MX hosts one `mx` mechanism may look up (more: permerror).
pub(crate) const MX_LIMIT: usize = 10;

#[derive(Default)]
struct Count {
    total: u32,
    void: u32,
    /// The term that made it 11, and where.
    over: Option<String>,
    void_over: Option<String>,
    findings: Vec<Finding>,
}

/// The report and findings of a fetched tree; `None` when the domain has no SPF record.
pub(crate) fn evaluate(domain: &str, raw: &Raw) -> (Option<Spf>, Vec<Finding>) {
    let mut c = Count::default();
    match &raw.error {
        Some(RawError::Missing(_)) => {
            let f = finding(
                Severity::Warning,
                FindingCode::SpfNone,
                format!("{domain} publishes no SPF record: anyone may send as it"),
                "publish TXT \"v=spf1 mx -all\" (or your provider's include); \"v=spf1 -all\" if the domain sends no mail",
            );
            return (None, vec![f]);
        }
        Some(RawError::Lookup(e)) => {
            let f = finding(
                Severity::Warning,
                FindingCode::SpfLookupFailed,
                format!("the SPF lookup of {domain} failed: {e}"),
                "receivers get a temperror and may defer mail; check the name servers",
            );
            return (None, vec![f]);
        }
        _ => {}
    }
    let tree = walk(raw, &mut c, &[]);
    let spf = Spf {
        record: raw.record.clone(),
        lookups: c.total,
        void_lookups: c.void,
        all: raw.all.clone(),
        tree: Some(tree),
    };
    let mut out = c.findings;
    if let Some(term) = c.over {
        out.push(finding(
            Severity::Critical,
            FindingCode::SpfTooManyLookups,
            format!(
                "SPF needs {} DNS lookups, more than {LOOKUP_LIMIT}: lookup {} is {term}; receivers return permerror",
                spf.lookups,
                LOOKUP_LIMIT + 1
            ),
            "RFC 7208 §4.6.4: flatten includes into ip4:/ip6: ranges or drop unused ones",
        ));
    } else if spf.lookups + 1 >= LOOKUP_LIMIT {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::SpfLookupsNearLimit,
            format!(
                "SPF needs {} of at most {LOOKUP_LIMIT} DNS lookups",
                spf.lookups
            ),
        ));
    }
    if let Some(term) = c.void_over {
        out.push(finding(
            Severity::Critical,
            FindingCode::SpfTooManyVoidLookups,
            format!(
                "SPF has {} lookups that find nothing, more than {VOID_LIMIT}: the third is {term}; receivers may return permerror",
                spf.void_lookups
            ),
            "RFC 7208 §4.6.4: remove mechanisms naming domains without records",
        ));
    }
    out.extend(lint_all(domain, raw));
    (Some(spf), out)
}

fn walk(raw: &Raw, c: &mut Count, path: &[String]) -> SpfNode {
    let mut node = SpfNode {
        domain: raw.domain.clone(),
        via: raw.via.clone(),
        record: raw.record.clone(),
        error: raw.error.as_ref().map(ToString::to_string),
        ..SpfNode::default()
    };
    let mut here: Vec<String> = path.to_vec();
    here.push(raw.domain.clone());
    problems(raw, c, &here);
    for t in &raw.terms {
        c.total += 1;
        node.lookups_here += 1;
        let mut child_over = false;
        if c.total == LOOKUP_LIMIT + 1 {
            c.over = Some(format!("{} in the record of {}", t.label, where_(&here)));
            match t.child {
                Some(_) => child_over = true,
                None => node.exceeds_limit = true,
            }
        }
        if let Some(n) = t.mx_hosts.filter(|&n| n > MX_LIMIT) {
            c.findings.push(finding(
                Severity::Critical,
                FindingCode::SpfMxTooManyLookups,
                format!(
                    "{} in the record of {} names a domain with {n} MX hosts, more than {MX_LIMIT}: receivers return permerror",
                    t.label,
                    where_(&here)
                ),
                "RFC 7208 §4.6.4: an mx mechanism may look up at most 10 MX hosts; list the sending addresses with ip4:/ip6: instead",
            ));
        }
        if t.void {
            c.void += 1;
            if c.void == VOID_LIMIT + 1 {
                c.void_over = Some(format!("{} in the record of {}", t.label, where_(&here)));
            }
        }
        if let Some(child) = &t.child {
            let mut n = walk(child, c, &here);
            n.exceeds_limit |= child_over;
            node.children.push(n);
        }
    }
    node.lookups_total = c.total;
    node
}

/// `b.example (via a.example)` for a record reached through includes.
fn where_(path: &[String]) -> String {
    match path {
        [first, .., last] => format!("{last} (reached from {first})"),
        _ => path.join(""),
    }
}

/// Findings about one record of the tree (below the top, a missing record is an error too).
fn problems(raw: &Raw, c: &mut Count, path: &[String]) {
    let chain = path.join(" → ");
    let top = path.len() == 1;
    match &raw.error {
        None => {}
        Some(RawError::Loop(p)) => c.findings.push(finding(
            Severity::Critical,
            FindingCode::SpfLoop,
            format!("the SPF includes loop: {}", p.join(" → ")),
            "receivers stop at the lookup limit with permerror; remove the include that points back",
        )),
        Some(RawError::Missing(why)) if !top => c.findings.push(finding(
            Severity::Critical,
            FindingCode::SpfIncludeMissing,
            format!("{} via {chain}: {why}; receivers return permerror", raw.via),
            "RFC 7208 §5.2: an include of a domain without SPF record is a permerror; fix or remove it",
        )),
        Some(RawError::Multiple(n)) => c.findings.push(finding(
            Severity::Critical,
            FindingCode::SpfMultipleRecords,
            format!("{} has {n} SPF records ({chain}): receivers return permerror", raw.domain),
            "RFC 7208 §3.2: merge them into one v=spf1 record",
        )),
        Some(RawError::Syntax(e)) => c.findings.push(finding(
            Severity::Critical,
            FindingCode::SpfInvalid,
            format!(
                "the SPF record of {} does not parse ({e}): \"{}\"",
                raw.domain,
                raw.record.as_deref().unwrap_or_default()
            ),
            "RFC 7208 §4.6.1: receivers return permerror; correct the syntax",
        )),
        Some(RawError::Lookup(e)) => c.findings.push(Finding::new(
            Severity::Warning,
            FindingCode::SpfLookupFailed,
            format!("the SPF lookup of {} ({chain}) failed: {e}", raw.domain),
        )),
        Some(RawError::Missing(_)) | Some(RawError::NotFollowed) => {}
    }
    if raw.uses_ptr {
        c.findings.push(finding(
            Severity::Warning,
            FindingCode::SpfPtr,
            format!("the SPF record of {} uses the ptr mechanism", raw.domain),
            "RFC 7208 §5.5: ptr is slow and unreliable and SHOULD NOT be used; list the addresses",
        ));
    }
    if !top && raw.all.as_deref() == Some("all") {
        c.findings.push(finding(
            Severity::Critical,
            FindingCode::SpfAllPass,
            format!(
                "{} (included via {chain}) ends in +all: the include passes every sender",
                raw.domain
            ),
            "an included record with +all authorises the whole Internet; remove that include",
        ));
    }
}

/// The `all` of the top record (§5.1): `+all` lets anyone pass, `?all` says nothing, none
/// (without `redirect=`) falls back to neutral.
fn lint_all(domain: &str, raw: &Raw) -> Option<Finding> {
    let has_redirect = raw.terms.iter().any(|t| t.label.starts_with("redirect="));
    match raw.all.as_deref() {
        Some("all") => Some(finding(
            Severity::Critical,
            FindingCode::SpfAllPass,
            format!("the SPF record of {domain} ends in +all: every sender passes"),
            "end it in -all (or ~all while DMARC reports are reviewed)",
        )),
        Some("?all") => Some(finding(
            Severity::Warning,
            FindingCode::SpfAllNeutral,
            format!(
                "the SPF record of {domain} ends in ?all: it asserts nothing about other senders"
            ),
            "end it in -all (or ~all)",
        )),
        None if !has_redirect && raw.error.is_none() => Some(finding(
            Severity::Warning,
            FindingCode::SpfAllMissing,
            format!("the SPF record of {domain} has no all mechanism: other senders get neutral"),
            "end it in -all (or ~all)",
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

//! SPF (RFC 7208): the record of the domain and the tree of records its `include:` and
//! `redirect=` reach, fetched level by level with each level's lookups at once. Which terms
//! query the DNS and which of those found nothing is recorded here; counting them against the
//! limits (§4.6.4) is the pure function in [`tree`].

pub mod tree;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::{Macro, Mechanism, Qualifier};

use crate::dns::{DnsError, Resolver};
use crate::model::Finding;
use crate::model::Spf;
use crate::net::Net;

/// Records fetched at most for one tree: the limit of 10 lookups makes more pointless, and a
/// hostile tree must not make us query without end.
const MAX_RECORDS: u32 = 40;

/// One record of the tree as fetched.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Raw {
    pub domain: String,
    pub via: String,
    pub record: Option<String>,
    /// Why there is no usable record (none, several, syntax, loop, lookup failure).
    pub error: Option<RawError>,
    /// The terms that query the DNS, in evaluation order (§4.6.4), `redirect=` last.
    pub terms: Vec<Term>,
    /// `all` with its qualifier, when the record has one.
    pub all: Option<String>,
    /// The record uses the `ptr` mechanism (§5.5: SHOULD NOT).
    pub uses_ptr: bool,
}

/// Why a record of the tree is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawError {
    /// No SPF record (NXDOMAIN or none among the TXT records).
    Missing(String),
    Multiple(usize),
    Syntax(String),
    /// The domain is already on the include path.
    Loop(Vec<String>),
    /// Timeout or SERVFAIL (a temperror, §4.4).
    Lookup(String),
    /// Not fetched: the tree is already larger than any valid one.
    NotFollowed,
}

impl std::fmt::Display for RawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawError::Missing(why) => write!(f, "no SPF record ({why})"),
            RawError::Multiple(n) => write!(f, "{n} SPF records (RFC 7208 §4.5: permerror)"),
            RawError::Syntax(r) => write!(f, "the record does not parse: {r}"),
            RawError::Loop(path) => write!(f, "loop: {}", path.join(" → ")),
            RawError::Lookup(e) => write!(f, "lookup failed: {e}"),
            RawError::NotFollowed => write!(f, "not followed: the tree is over the limit already"),
        }
    }
}

/// One DNS-querying term.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Term {
    /// As written, e.g. `include:_spf.example.com`, `mx`, `redirect=example.net`.
    pub label: String,
    /// The lookup found nothing (NXDOMAIN or no record): a void lookup (§4.6.4).
    pub void: bool,
    /// The record an `include:` or `redirect=` leads to.
    pub child: Option<Box<Raw>>,
    /// For `mx`: how many MX records its domain has (RFC 7208 §4.6.4: each needs an address
    /// lookup, and more than 10 make the mechanism a permerror).
    pub mx_hosts: Option<usize>,
}

/// Fetch the tree of `domain` and lint it.
pub async fn check(net: &Net, resolver: &Resolver, domain: &str) -> (Option<Spf>, Vec<Finding>) {
    let budget = AtomicU32::new(MAX_RECORDS);
    let raw = fetch(
        net,
        resolver,
        domain.to_string(),
        "top".into(),
        Vec::new(),
        &budget,
    )
    .await;
    tree::evaluate(domain, &raw)
}

/// Does the published record say the domain sends no mail (`v=spf1 -all`)?
pub(crate) fn sends_no_mail(s: &Spf) -> bool {
    s.record
        .as_deref()
        .is_some_and(|r| r.split_whitespace().skip(1).collect::<Vec<_>>() == ["-all"])
}

/// The SPF records among the TXT records: `v=spf1` followed by a space or the end (§4.5).
pub fn spf_records(txt: Vec<String>) -> Vec<String> {
    txt.into_iter()
        .filter(|r| {
            let l = r.to_ascii_lowercase();
            l == "v=spf1" || l.starts_with("v=spf1 ")
        })
        .collect()
}

type Fut<'a> = Pin<Box<dyn Future<Output = Raw> + Send + 'a>>;

fn fetch<'a>(
    net: &'a Net,
    resolver: &'a Resolver,
    domain: String,
    via: String,
    path: Vec<String>,
    budget: &'a AtomicU32,
) -> Fut<'a> {
    Box::pin(async move {
        let mut raw = Raw {
            domain: domain.clone(),
            via,
            ..Raw::default()
        };
        let Some(record) = single_record(resolver, &domain, &path, budget, &mut raw).await else {
            return raw;
        };
        let parsed = match mail_auth::spf::Spf::parse(record.as_bytes()) {
            Ok(p) => p,
            Err(e) => {
                raw.error = Some(RawError::Syntax(e.to_string()));
                return raw;
            }
        };
        let mut path = path;
        path.push(domain.clone());
        let terms = terms(&parsed, &domain, &mut raw);
        let futs: Vec<_> = terms
            .into_iter()
            .map(|(term, probe)| resolve_term(net, resolver, term, probe, path.clone(), budget))
            .collect();
        raw.terms = net.join_bounded(futs).await;
        raw
    })
}

/// The domain's one SPF record, after the loop and lookup-budget checks (RFC 7208 §4.6.4)
/// and the lookup; `None` with `raw.error` set when there is not exactly one.
async fn single_record(
    resolver: &Resolver,
    domain: &str,
    path: &[String],
    budget: &AtomicU32,
    raw: &mut Raw,
) -> Option<String> {
    if path.iter().any(|p| p == domain) {
        let mut p = path.to_vec();
        p.push(domain.to_string());
        raw.error = Some(RawError::Loop(p));
        return None;
    }
    if budget
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
        .is_err()
    {
        raw.error = Some(RawError::NotFollowed);
        return None;
    }
    let records = match resolver.txt(domain).await {
        Ok(txt) => spf_records(txt),
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => {
            raw.error = Some(RawError::Lookup(e.to_string()));
            return None;
        }
    };
    match records.len() {
        0 => {
            raw.error = Some(RawError::Missing(format!(
                "{domain} has no v=spf1 TXT record"
            )));
            return None;
        }
        1 => {}
        n => {
            raw.error = Some(RawError::Multiple(n));
            raw.record = records.into_iter().next();
            return None;
        }
    }
    let record = records.into_iter().next().unwrap_or_default();
    raw.record = Some(record.clone());
    Some(record)
}

/// The record's terms that name another domain, each with the lookup it needs, in record
/// order; notes `all` and `ptr` in `raw`. `redirect=` only without an `all` (§6.1).
fn terms(parsed: &mail_auth::spf::Spf, domain: &str, raw: &mut Raw) -> Vec<(Term, Probe)> {
    let mut terms: Vec<(Term, Probe)> = Vec::new();
    for d in parsed.directives.iter() {
        let q = qualifier(&d.qualifier);
        let (label, probe) = match &d.mechanism {
            Mechanism::All => {
                raw.all = Some(format!("{q}all"));
                continue;
            }
            Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. } => continue,
            Mechanism::Include { macro_string } => {
                let t = literal(macro_string);
                (
                    format!("{q}include:{}", shown(macro_string)),
                    t.map(Probe::Record).unwrap_or(Probe::None),
                )
            }
            Mechanism::A { macro_string, .. } => {
                let t = target(macro_string, domain);
                (
                    mech_label(q, "a", macro_string),
                    t.map(Probe::Address).unwrap_or(Probe::None),
                )
            }
            Mechanism::Mx { macro_string, .. } => {
                let t = target(macro_string, domain);
                (
                    mech_label(q, "mx", macro_string),
                    t.map(Probe::Mx).unwrap_or(Probe::None),
                )
            }
            Mechanism::Ptr { macro_string } => {
                raw.uses_ptr = true;
                (mech_label(q, "ptr", macro_string), Probe::None)
            }
            Mechanism::Exists { macro_string } => {
                (format!("{q}exists:{}", shown(macro_string)), Probe::None)
            }
        };
        terms.push((
            Term {
                label,
                ..Term::default()
            },
            probe,
        ));
    }
    // §6.1: redirect= is ignored when the record has an `all`.
    if let (Some(r), None) = (&parsed.redirect, &raw.all) {
        let probe = literal(r).map(Probe::Redirect).unwrap_or(Probe::None);
        terms.push((
            Term {
                label: format!("redirect={}", shown(r)),
                ..Term::default()
            },
            probe,
        ));
    }
    terms
}

/// What a term's lookup is, when its target is known without a message (no macro).
enum Probe {
    None,
    Record(String),
    Redirect(String),
    Address(String),
    Mx(String),
}

async fn resolve_term<'a>(
    net: &'a Net,
    resolver: &'a Resolver,
    mut term: Term,
    probe: Probe,
    path: Vec<String>,
    budget: &'a AtomicU32,
) -> Term {
    let void = |r: Result<(), DnsError>| matches!(r, Err(e) if e.is_not_found());
    match probe {
        Probe::None => {}
        Probe::Record(d) | Probe::Redirect(d) => {
            let via = if term.label.contains("redirect=") {
                "redirect"
            } else {
                "include"
            };
            let child = fetch(net, resolver, d, via.into(), path, budget).await;
            term.void = matches!(child.error, Some(RawError::Missing(_)));
            term.child = Some(Box::new(child));
        }
        Probe::Address(d) => term.void = void(resolver.ips(&d).await.map(|_| ())),
        Probe::Mx(d) => match resolver.mx(&d).await {
            Ok(records) => term.mx_hosts = Some(records.len()),
            Err(e) => term.void = e.is_not_found(),
        },
    }
    term
}

fn qualifier(q: &Qualifier) -> &'static str {
    match q {
        Qualifier::Pass => "",
        Qualifier::Fail => "-",
        Qualifier::SoftFail => "~",
        Qualifier::Neutral => "?",
    }
}

/// The domain of a macro string without variables.
fn literal(m: &Macro) -> Option<String> {
    match m {
        Macro::Literal(b) => Some(
            String::from_utf8_lossy(b)
                .trim_end_matches('.')
                .to_ascii_lowercase(),
        ),
        _ => None,
    }
}

/// The target of `a`/`mx`: the literal domain, the current domain when none is written, or
/// unknown when it holds macros.
fn target(m: &Macro, current: &str) -> Option<String> {
    match m {
        Macro::None => Some(current.to_string()),
        other => literal(other),
    }
}

fn shown(m: &Macro) -> String {
    literal(m).unwrap_or_else(|| "(macro)".into())
}

fn mech_label(q: &str, name: &str, m: &Macro) -> String {
    match m {
        Macro::None => format!("{q}{name}"),
        other => format!("{q}{name}:{}", shown(other)),
    }
}

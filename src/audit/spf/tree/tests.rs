//! Table tests of the SPF limits: trees of 9, 10 and 11 lookups, void lookups, a loop, the MX
//! hosts of one `mx` mechanism.

use super::*;
use crate::audit::spf::Term;

fn leaf(domain: &str, lookups: usize) -> Raw {
    Raw {
        domain: domain.into(),
        via: "include".into(),
        record: Some("v=spf1 a ... -all".into()),
        terms: (0..lookups)
            .map(|i| Term {
                label: format!("a:h{i}.{domain}"),
                ..Term::default()
            })
            .collect(),
        all: Some("-all".into()),
        ..Raw::default()
    }
}

fn include(child: Raw) -> Term {
    Term {
        label: format!("include:{}", child.domain),
        child: Some(Box::new(child)),
        ..Term::default()
    }
}

/// top includes a (n_a own lookups) and b (n_b own lookups): 2 + n_a + n_b lookups.
fn tree(n_a: usize, n_b: usize) -> Raw {
    Raw {
        domain: "example.test".into(),
        via: "top".into(),
        record: Some("v=spf1 include:a include:b -all".into()),
        terms: vec![include(leaf("a.test", n_a)), include(leaf("b.test", n_b))],
        all: Some("-all".into()),
        ..Raw::default()
    }
}

fn codes(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn nine_and_ten_lookups_pass_eleven_fails_naming_the_include() {
    let (spf, f) = evaluate("example.test", &tree(3, 4));
    assert_eq!(spf.unwrap().lookups, 9);
    assert_eq!(codes(&f), ["spf-lookups-near-limit"]);
    let (spf, f) = evaluate("example.test", &tree(4, 4));
    assert_eq!(spf.unwrap().lookups, 10);
    assert_eq!(codes(&f), ["spf-lookups-near-limit"]);
    let (spf, f) = evaluate("example.test", &tree(4, 5));
    let spf = spf.unwrap();
    assert_eq!(spf.lookups, 11);
    assert_eq!(codes(&f), ["spf-too-many-lookups"]);
    assert!(
        f[0].message
            .contains("lookup 11 is a:h4.b.test in the record of b.test"),
        "{}",
        f[0].message
    );
    let t = spf.tree.unwrap();
    assert!(t.children[1].exceeds_limit && !t.children[0].exceeds_limit);
    // the include term itself is the 11th lookup: the included record is named
    let (_, f) = evaluate("example.test", &tree(9, 0));
    assert!(
        f[0].message
            .contains("include:b.test in the record of example.test"),
        "{}",
        f[0].message
    );
}

#[test]
fn loops_and_missing_includes_are_critical() {
    let mut t = tree(1, 1);
    t.terms[0].child.as_mut().unwrap().terms.push(include(Raw {
        domain: "example.test".into(),
        via: "include".into(),
        error: Some(RawError::Loop(vec![
            "example.test".into(),
            "a.test".into(),
            "example.test".into(),
        ])),
        ..Raw::default()
    }));
    t.terms[1].child.as_mut().unwrap().error = Some(RawError::Missing("none".into()));
    t.terms[1].void = true;
    let (spf, f) = evaluate("example.test", &t);
    assert_eq!(codes(&f), ["spf-loop", "spf-include-missing"]);
    assert_eq!(spf.unwrap().void_lookups, 1);
}

#[test]
fn three_void_lookups_exceed_the_limit() {
    let mut t = leaf("example.test", 3);
    t.via = "top".into();
    for term in &mut t.terms {
        term.void = true;
    }
    let (spf, f) = evaluate("example.test", &t);
    assert_eq!(spf.unwrap().void_lookups, 3);
    assert_eq!(codes(&f), ["spf-too-many-void-lookups"]);
    assert!(f[0].message.contains("a:h2.example.test"));
}

#[test]
fn all_qualifiers() {
    for (all, code) in [
        (Some("all"), Some("spf-all-pass")),
        (Some("?all"), Some("spf-all-neutral")),
        (None, Some("spf-all-missing")),
        (Some("~all"), None),
        (Some("-all"), None),
    ] {
        let mut t = leaf("example.test", 0);
        t.all = all.map(str::to_string);
        let (_, f) = evaluate("example.test", &t);
        assert_eq!(f.first().map(|f| f.code.as_str()), code, "{all:?}");
    }
}

#[test]
fn no_record_is_a_warning() {
    let raw = Raw {
        domain: "example.test".into(),
        error: Some(RawError::Missing("none".into())),
        ..Raw::default()
    };
    let (spf, f) = evaluate("example.test", &raw);
    assert!(spf.is_none());
    assert_eq!(codes(&f), ["spf-none"]);
    assert_eq!(f[0].severity, Severity::Warning);
}

#[test]
fn an_mx_mechanism_with_more_than_ten_mx_hosts_is_a_permerror() {
    for (hosts, found) in [
        (None, false),
        (Some(1), false),
        (Some(10), false),
        (Some(11), true),
    ] {
        let mut t = leaf("example.test", 0);
        t.terms.push(Term {
            label: "mx:many.example.test".into(),
            mx_hosts: hosts,
            ..Term::default()
        });
        let (spf, f) = evaluate("example.test", &t);
        // One lookup for the mechanism, whatever the number of hosts (§4.6.4).
        assert_eq!(spf.unwrap().lookups, 1);
        let mx: Vec<&Finding> = f
            .iter()
            .filter(|f| f.code == FindingCode::SpfMxTooManyLookups)
            .collect();
        assert_eq!(mx.len(), usize::from(found), "{hosts:?}: {f:?}");
        if found {
            assert_eq!(mx[0].severity, Severity::Critical);
            assert!(
                mx[0]
                    .message
                    .contains("mx:many.example.test in the record of example.test")
                    && mx[0].message.contains("11 MX hosts"),
                "{}",
                mx[0].message
            );
        }
    }
}

#[test]
fn two_records_and_a_syntax_error_are_permerrors_and_redirect_replaces_all() {
    let raw = Raw {
        domain: "example.test".into(),
        via: "top".into(),
        error: Some(RawError::Multiple(2)),
        ..Raw::default()
    };
    let (_, f) = evaluate("example.test", &raw);
    assert_eq!(codes(&f), ["spf-multiple-records"]);
    assert_eq!(f[0].severity, Severity::Critical);
    let raw = Raw {
        domain: "example.test".into(),
        via: "top".into(),
        record: Some("v=spf1 ip4:192.0.2.300 -all".into()),
        error: Some(RawError::Syntax("bad ip4".into())),
        ..Raw::default()
    };
    let (_, f) = evaluate("example.test", &raw);
    assert_eq!(codes(&f), ["spf-invalid"]);
    assert!(f[0].message.contains("ip4:192.0.2.300"), "{}", f[0].message);
    // RFC 7208 §6.1: a record ending in redirect= has no all of its own, and needs none.
    let mut t = leaf("example.test", 0);
    t.via = "top".into();
    t.all = None;
    t.terms.push(include(leaf("_spf.example.net", 1)));
    t.terms.last_mut().unwrap().label = "redirect=_spf.example.net".into();
    let (spf, f) = evaluate("example.test", &t);
    assert!(codes(&f).is_empty(), "{f:?}");
    assert_eq!(
        spf.unwrap().lookups,
        2,
        "the redirect and its record's own lookup"
    );
}

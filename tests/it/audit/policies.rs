//! The DNS and HTTPS policy checks of `audit`: a domain that does everything right comes out
//! clean; one that does everything wrong shows every finding; MTA-STS policy variants; SPF trees
//! of 9, 10 and 11 lookups and a loop; DMARC report authorisation; DKIM key lengths.

use super::keys::{RSA512, RSA1024, RSA2048};
use super::{POLICY_PATH, World, findings, has};
use crate::support::dns::Zone;
use crate::support::http::{Reply, Routes};

const GOOD_POLICY: &str = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\nmx: *.good.test\r\nmax_age: 604800\r\n";

fn good_zone() -> Zone {
    Zone::new("good.test")
        .mx(10, "mail.example.test")
        .a("mta-sts", "127.0.0.1")
        .txt("_mta-sts", "v=STSv1; id=20261206T0000")
        .txt("_smtp._tls", "v=TLSRPTv1; rua=mailto:tls@good.test")
        .txt("@", "v=spf1 mx include:_spf.good.test -all")
        .txt("_spf", "v=spf1 ip4:192.0.2.0/24 -all")
        .txt(
            "_dmarc",
            "v=DMARC1; p=reject; rua=mailto:dmarc@good.test,mailto:agg@reports.test",
        )
        .txt(
            "default._domainkey",
            &format!("v=DKIM1; k=rsa; p={RSA2048}"),
        )
}

fn reports_zone() -> Zone {
    Zone::new("reports.test").txt("good.test._report._dmarc", "v=DMARC1")
}

/// The real Postfix of the shared stack is `mail.example.test` (127.0.0.1). (The resolver
/// answers loopback PTR queries itself with `localhost`, RFC 6761 §6.3, so no reverse zone.)
fn stack_zones() -> [Zone; 1] {
    [Zone::new("example.test").a("mail", "127.0.0.1")]
}

fn bad_zone() -> Zone {
    Zone::new("bad.test")
        .raw("@ MX 0 .")
        .mx(10, "mx1.bad.test")
        .mx(20, "alias.bad.test")
        .mx(30, "dead.bad.test")
        .mx(40, "mx1.bad.test")
        .raw("@ MX 50 192.0.2.1.")
        .a("mx1", "127.0.3.1")
        .cname("alias", "mx1.bad.test")
        .a("mta-sts", "127.0.0.1")
        .txt("_mta-sts", "v=STSv1; id=not-valid!")
        .txt("_mta-sts", "v=STSv1; id=second")
        .txt("_smtp._tls", "v=TLSRPTv1; rua=ftp://reports.bad.test")
        .txt(
            "@",
            "v=spf1 ptr a:void1.bad.test a:void2.bad.test a:void3.bad.test include:loop.bad.test include:missing.bad.test ?all",
        )
        .txt("loop", "v=spf1 include:bad.test -all")
        .txt(
            "_dmarc",
            "v=DMARC1; p=none; sp=none; rua=mailto:d@bad.test,mailto:x@unauth.test",
        )
        .txt("default._domainkey", &format!("v=DKIM1; k=rsa; p={RSA1024}"))
        .txt("s1._domainkey", "v=DKIM1; k=rsa; p=")
        .txt("s2._domainkey", &format!("v=DKIM1; t=y; p={RSA2048}"))
        .txt("k1._domainkey", &format!("v=DKIM1; p={RSA512}"))
        .txt("mail._domainkey", "v=DKIM1; p=bm90IGEga2V5")
}

fn world() -> World {
    let routes = Routes::new()
        .route("mta-sts.good.test", POLICY_PATH, Reply::text(GOOD_POLICY))
        .route(
            "mta-sts.bad.test",
            POLICY_PATH,
            Reply::text("version: STSv1\nmode: enforce\nmx: mx1.bad.test\nmax_age: 3600\n"),
        );
    let stack = crate::support::mailstack::shared();
    let [example] = stack_zones();
    World::with_ca(
        &stack.ca,
        &[
            good_zone(),
            bad_zone(),
            reports_zone(),
            Zone::new("unauth.test"),
            example,
        ],
        vec![(
            &["mta-sts.good.test", "mta-sts.bad.test"],
            &["mta-sts.good.test", "mta-sts.bad.test"],
            routes,
        )],
    )
    .smtp("127.0.0.1", stack.ports.smtp)
}

#[test]
fn a_domain_that_does_everything_right_is_clean() {
    let w = world();
    let (v, code) = w.audit("good.test", &[]);
    let bad: Vec<_> = findings(&v)
        .into_iter()
        .filter(|(s, _)| s != "info")
        .collect();
    assert!(bad.is_empty(), "{:#}", v["findings"]);
    assert_eq!(code, 0);
    assert_eq!(v["command"], "audit");
    let i = &v["inbound"];
    assert_eq!(i["mx"][0]["host"], "mail.example.test");
    let p = &i["mx"][0]["addresses"][0]["probe"];
    assert_eq!(p["banner"]["code"], 220, "{p:#}");
    assert_eq!(p["banner"]["name"], "mail.example.test");
    assert_eq!(p["starttls_ok"], true, "{p:#}");
    assert_eq!(p["tls"]["verified"], true, "{p:#}");
    assert_eq!(p["relay_test"]["accepted"], false, "{p:#}");
    assert_eq!(i["policies"]["mta_sts"]["policy"]["mode"], "enforce");
    assert_eq!(i["policies"]["tls_rpt"]["rua"][0], "mailto:tls@good.test");
    assert_eq!(i["policies"]["spf"]["lookups"], 2);
    assert_eq!(i["policies"]["dmarc"]["p"], "reject");
    assert_eq!(i["policies"]["dmarc"]["rua"][1]["authorized"], true);
    assert_eq!(i["policies"]["dkim"][0]["key_bits"], 2048);
    // the same thresholds and exit codes as `check`, in Nagios form
    let out = crate::support::cmd::mailprobe()
        .args(["audit", "good.test", "--format", "nagios"])
        .args(w.args())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("MAILPROBE OK - good.test: 1 MX, MTA-STS enforce, SPF 2/10 lookups, DMARC p=reject, DKIM 1 key(s)"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(0));
    // an address audits its domain
    let (v, code) = w.audit("alice@good.test", &[]);
    assert_eq!((v["domain"].as_str(), code), (Some("good.test"), 0));
}

#[test]
fn a_domain_that_does_everything_wrong_shows_every_finding() {
    let w = world();
    let (v, code) = w.audit("bad.test", &["--dkim-selector", "gone"]);
    assert_eq!(code, 2, "{:#}", v["findings"]);
    for (sev, c) in [
        ("critical", "mx-null-mixed"),
        ("warning", "mx-cname"),
        ("warning", "mx-duplicate"),
        ("critical", "mx-ip-literal"),
        ("warning", "mx-unresolvable"),
        ("warning", "mta-sts-multiple-records"),
        ("warning", "mta-sts-record-invalid"),
        ("warning", "mta-sts-mx-not-covered"),
        ("warning", "mta-sts-max-age-short"),
        ("warning", "tls-rpt-invalid"),
        ("warning", "spf-ptr"),
        ("critical", "spf-loop"),
        ("critical", "spf-include-missing"),
        ("critical", "spf-too-many-void-lookups"),
        ("warning", "spf-all-neutral"),
        ("warning", "dmarc-policy-none"),
        ("warning", "dmarc-report-unauthorized"),
        ("warning", "dkim-key-short"),
        ("info", "dkim-key-revoked"),
        ("warning", "dkim-key-testing"),
        ("critical", "dkim-key-weak"),
        ("warning", "dkim-key-invalid"),
        ("warning", "dkim-selector-missing"),
    ] {
        assert!(has(&v, sev, c), "{sev} {c} missing: {:#}", v["findings"]);
    }
    let spf = &v["inbound"]["policies"]["spf"];
    assert_eq!(spf["void_lookups"], 4, "{spf:#}");
    let (human, _) = w.audit_human("bad.test", &[]);
    for s in [
        "Receiving (MX)",
        "alias.bad.test",
        "(alias of mx1.bad.test)",
        "include loop.bad.test",
        "NOT authorised",
    ] {
        assert!(human.contains(s), "{s}:\n{human}");
    }
}

#[test]
fn mx_edge_cases() {
    let zones = [
        Zone::new("implicit.test").a("@", "127.0.0.1"),
        Zone::new("nomail.test").raw("@ MX 0 ."),
        Zone::new("nothing.test"),
    ];
    let w = World::new(&zones, vec![]);
    let (v, _) = w.audit("implicit.test", &[]);
    assert!(has(&v, "warning", "mx-implicit"), "{:#}", v["findings"]);
    assert_eq!(v["inbound"]["implicit_mx"], true);
    assert_eq!(v["inbound"]["mx"][0]["host"], "implicit.test");
    let (v, _) = w.audit("nomail.test", &[]);
    assert!(has(&v, "info", "mx-null"), "{:#}", v["findings"]);
    assert_eq!(v["inbound"]["null_mx"], true);
    let (v, code) = w.audit("nothing.test", &[]);
    assert!(has(&v, "critical", "mx-none"), "{:#}", v["findings"]);
    assert!(has(&v, "warning", "dkim-none"), "{:#}", v["findings"]);
    assert_eq!(code, 2);
    let (v, _) = w.audit("absent.nothing.test", &[]);
    assert!(
        has(&v, "critical", "domain-not-found"),
        "{:#}",
        v["findings"]
    );
}

#[test]
fn mta_sts_policy_fetch_problems_use_rfc_8460_words() {
    let base = |d: &str| {
        Zone::new(d)
            .mx(10, &format!("mx.{d}"))
            .a("mx", "127.0.0.1")
            .a("mta-sts", "127.0.0.1")
            .txt("_mta-sts", "v=STSv1; id=1")
    };
    let cases: [(&str, Reply, &str); 6] = [
        (
            "mismatch.test",
            Reply::text("version: STSv1\nmode: enforce\nmx: other.example\nmax_age: 604800\n"),
            "mta-sts-mx-not-covered",
        ),
        (
            "syntax.test",
            Reply::text("version: STSv1\nmode: enforce\nmx mx.syntax.test\n"),
            "sts-policy-invalid",
        ),
        (
            "ctype.test",
            Reply::Ok {
                content_type: "text/html".into(),
                body: b"version: STSv1\n".to_vec(),
            },
            "sts-policy-fetch-error",
        ),
        (
            "redirect.test",
            Reply::Redirect(
                301,
                "https://mta-sts.good.test/.well-known/mta-sts.txt".into(),
            ),
            "sts-policy-fetch-error",
        ),
        ("huge.test", Reply::Huge(200_000), "sts-policy-fetch-error"),
        (
            "wrongcert.test",
            Reply::text(GOOD_POLICY),
            "sts-webpki-invalid",
        ),
    ];
    let zones: Vec<Zone> = cases.iter().map(|(d, _, _)| base(d)).collect();
    let mut routes = Routes::new();
    let mut names = Vec::new();
    for (d, reply, _) in &cases {
        let host = format!("mta-sts.{d}");
        routes = routes.route(&host, POLICY_PATH, reply.clone());
        names.push(host);
    }
    let certified: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.contains("wrongcert"))
        .collect();
    let served: Vec<&str> = names.iter().map(String::as_str).collect();
    let w = World::new(&zones, vec![(&certified, &served, routes)]);
    for (d, _, code) in &cases {
        let (v, exit) = w.audit(d, &[]);
        assert!(
            findings(&v).iter().any(|(_, c)| c == code),
            "{d}: {code} missing: {:#}",
            v["findings"]
        );
        let sev = if *code == "mta-sts-mx-not-covered" {
            "critical"
        } else {
            "warning"
        };
        assert!(has(&v, sev, code), "{d}: {:#}", v["findings"]);
        assert!(exit >= 1);
    }
}

/// `n` `a:` lookups through one include: top `include:inc` (1) + inc's `n - 1` terms.
fn spf_zone(d: &str, n: usize) -> Zone {
    let mut z = Zone::new(d)
        .raw("@ MX 0 .")
        .txt("@", &format!("v=spf1 include:inc.{d} -all"));
    let terms: Vec<String> = (0..n - 1).map(|k| format!("a:h{k}.{d}")).collect();
    z = z.txt("inc", &format!("v=spf1 {} -all", terms.join(" ")));
    for k in 0..n - 1 {
        z = z.a(&format!("h{k}"), "127.0.0.1");
    }
    z
}

#[test]
fn spf_trees_of_9_10_and_11_lookups_and_a_loop() {
    let zones = [
        spf_zone("spf9.test", 9),
        spf_zone("spf10.test", 10),
        spf_zone("spf11.test", 11),
        Zone::new("loop.test")
            .raw("@ MX 0 .")
            .txt("@", "v=spf1 include:a.loop.test -all")
            .txt("a", "v=spf1 include:loop.test -all"),
    ];
    let w = World::new(&zones, vec![]);
    for (d, n, over) in [
        ("spf9.test", 9, false),
        ("spf10.test", 10, false),
        ("spf11.test", 11, true),
    ] {
        let (v, _) = w.audit(d, &[]);
        assert_eq!(v["inbound"]["policies"]["spf"]["lookups"], n, "{d}");
        assert_eq!(
            has(&v, "critical", "spf-too-many-lookups"),
            over,
            "{d}: {:#}",
            v["findings"]
        );
    }
    let (v, _) = w.audit("spf11.test", &[]);
    let msg = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "spf-too-many-lookups")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("a:h9.spf11.test in the record of inc.spf11.test"),
        "{msg}"
    );
    assert_eq!(
        v["inbound"]["policies"]["spf"]["tree"]["children"][0]["exceeds_limit"],
        true
    );
    let (v, code) = w.audit("loop.test", &[]);
    assert!(has(&v, "critical", "spf-loop"), "{:#}", v["findings"]);
    assert_eq!(code, 2);
}

#[test]
fn batch_audits_each_line_in_order() {
    let w = world();
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), "# domains\ngood.test\nbad.test\n").unwrap();
    let out = crate::support::cmd::mailprobe()
        .args([
            "audit",
            "--batch",
            &input.path().display().to_string(),
            "--json",
        ])
        .args(w.args())
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["domain"], "good.test");
    assert_eq!(lines[1]["status"], "critical");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_spf_mx_mechanism_naming_eleven_mx_hosts_is_a_permerror() {
    // RFC 7208 §4.6.4: an `mx` mechanism may look up at most 10 MX hosts. The domain itself
    // takes no mail (null MX): no port-25 probe.
    let mut zone = Zone::new("mxspf.test")
        .raw("@ MX 0 .")
        .txt("@", "v=spf1 mx:many.mxspf.test mx:ten.mxspf.test -all");
    for k in 0..11 {
        zone = zone.mx_at("many", 10 + k, &format!("m{k}.mxspf.test"));
        if k < 10 {
            zone = zone.mx_at("ten", 10 + k, &format!("m{k}.mxspf.test"));
        }
        zone = zone.a(&format!("m{k}"), "127.0.8.1");
    }
    let w = World::new(&[zone], vec![]);
    let (v, code) = w.audit("mxspf.test", &[]);
    let mx: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "spf-mx-too-many-lookups")
        .collect();
    assert_eq!(mx.len(), 1, "{:#}", v["findings"]);
    assert_eq!(mx[0]["severity"], "critical");
    let msg = mx[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("mx:many.mxspf.test") && msg.contains("11 MX hosts"),
        "{msg}"
    );
    assert_eq!(v["inbound"]["policies"]["spf"]["lookups"], 2);
    assert_eq!(code, 2);
}

//! The critical path of a run: the longest chain of round trips that depend on each other, in
//! RTTs, plus the waits the design imposes on purpose (staggered guesses). Formulas in
//! bench/README.md ("Critical path").
//!
//! Discovery is modelled from the world ([`crate::world`]): which names resolve and which URLs
//! exist; every source runs concurrently, so discovery costs the longest source chain. Probing
//! starts when discovery ends (the tool's design: all candidates are known, merged and ranked
//! first); its cost is the longest chain among the probes the verdict waited for, i.e. every
//! probe of the report that was not cancelled, counted from the steps the dialogue performed.

use std::collections::HashSet;

use serde_json::Value;

/// Names with an A record in the plain view (everything else is NXDOMAIN: 1 RTT).
fn resolves(host: &str, extra: &[&str]) -> bool {
    const NAMES: [&str; 6] = [
        "imap.example.test",
        "smtp.example.test",
        "autoconfig.example.test",
        "mx.mailhost.test",
        "autoconfig.mailhost.test",
        "ispdb.bench.test",
    ];
    NAMES.contains(&host) || extra.contains(&host)
}

/// One HTTP(S) fetch on a fresh connection: DNS (A+AAAA concurrently: 1; 0 when `warm`, i.e.
/// the name is in the resolver's cache) → TCP (1) → TLS 1.3 (1, https only) → request/response
/// (1). A name that does not resolve ends after DNS.
pub fn fetch(host: &str, https: bool, warm: bool) -> u32 {
    if resolves(host, &[]) {
        u32::from(!warm) + 1 + u32::from(https) + 1
    } else {
        1
    }
}

/// Registrable domain of a `.test` name (two labels: `test` is not in the public suffix list, so
/// psl's default `*` rule makes `x.test` registrable).
fn registrable(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}

/// The discovery chain of one domain, per source: (source, RTTs). The ISPDB lives at
/// `ispdb.bench.test` over https. `warm`: the names every domain shares (provider, hoster,
/// ISPDB) are already cached, as in a batch after its first addresses; the domain's own names
/// (and the MX query) still cost their round trip.
pub fn discovery(domain: &str, mx: Option<&str>, warm: bool) -> Vec<(&'static str, u32)> {
    let fetch = |h: &str, https: bool| fetch(h, https, warm);
    let ispdb = fetch("ispdb.bench.test", true);
    let autoconfig = [
        fetch(&format!("autoconfig.{domain}"), true),
        fetch(domain, true),
        fetch(&format!("autoconfig.{domain}"), false),
        fetch(domain, false),
        ispdb,
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    // MX query (1), then autoconfig + ISPDB of the MX host's domain(s) concurrently.
    let mx_chain = 1 + mx
        .map(|h| {
            let d = registrable(h);
            if d == domain {
                0
            } else {
                fetch(&format!("autoconfig.{d}"), true).max(ispdb)
            }
        })
        .unwrap_or(0);
    // Autodiscover: POST to https://D and https://autodiscover.D, GET http://autodiscover.D,
    // SRV _autodiscover — concurrently; nothing there redirects in this world.
    let autodiscover = [
        fetch(domain, true),
        fetch(&format!("autodiscover.{domain}"), true),
        fetch(&format!("autodiscover.{domain}"), false),
        1,
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    vec![
        ("autoconfig", autoconfig),
        ("mx", mx_chain),
        ("srv", 1),
        ("autodiscover", autodiscover),
        ("guess", 1),
    ]
}

/// Round trips of one probe, from the steps its dialogue performed: `connect` (TCP, plus 1 for
/// DNS when the name was not looked up during discovery), `tls`, `greeting`, `capabilities`
/// (0 when taken from the greeting), `starttls`, `capabilities-tls`, `logout`, and one per
/// authentication exchange.
pub fn probe_rtts(probe: &Value, resolved_in_discovery: bool) -> u32 {
    let Some(steps) = probe["steps"].as_array() else {
        return 0;
    };
    let mut n = 0;
    for s in steps {
        let name = s["name"].as_str().unwrap_or("");
        let detail = s["detail"].as_str().unwrap_or("");
        n += match name {
            "connect" => 1 + u32::from(!resolved_in_discovery),
            "capabilities" | "capabilities-tls" if detail.starts_with("from greeting") => 0,
            "tls" | "greeting" | "capabilities" | "capabilities-tls" | "starttls" | "logout" => 1,
            "auth" => 1,
            _ => 0,
        };
    }
    n
}

/// Was this probe cancelled (the verdict did not wait for it)?
pub fn cancelled(probe: &Value) -> bool {
    probe["outcome"]["phase"] == "cancelled"
}

/// Critical path of a `check` report: (discovery RTTs, probing RTTs, staggered-start wait in
/// ms, a one-line explanation). `warm`: see [`discovery`].
pub fn check(report: &Value, stagger_ms: u64, rtt_ms: u64, warm: bool) -> (u32, u32, u64, String) {
    let domain = report["domain"].as_str().unwrap_or("");
    let disc = discovery(domain, Some("mx.mailhost.test"), warm);
    let (dname, drtt) = disc
        .iter()
        .max_by_key(|(_, r)| *r)
        .copied()
        .unwrap_or(("none", 0));
    // Guessing resolved imap./smtp./pop./pop3./mail./<domain> already (cached answers).
    let guessed = |h: &str| {
        (warm && resolves(h, &[]))
            || ["imap.", "smtp.", "pop.", "pop3.", "mail.", ""]
                .iter()
                .any(|p| format!("{p}{domain}") == h)
    };
    let empty = Vec::new();
    let probes = report["probes"].as_array().unwrap_or(&empty);
    let mut best = (0u32, 0u64, String::from("no probe"));
    let mut k = 0u64;
    for p in probes {
        let sources: Vec<&str> = p["sources"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let guess_only = !sources.is_empty() && sources.iter().all(|s| *s == "guess");
        let delay = if guess_only {
            k += 1;
            (k - 1) * stagger_ms
        } else {
            0
        };
        if cancelled(p) {
            continue;
        }
        let host = p["host"].as_str().unwrap_or("");
        let r = probe_rtts(p, guessed(host));
        let label = format!(
            "{}:{} {}",
            host,
            p["port"],
            p["security"].as_str().unwrap_or("")
        );
        // Compare in time, so that a staggered start counts.
        if u64::from(r) * rtt_ms + delay > u64::from(best.0) * rtt_ms + best.1 {
            best = (r, delay, label);
        }
    }
    let why = format!(
        "discovery {drtt} ({dname}) + probe {} ({}{})",
        best.0,
        best.2,
        if best.1 > 0 {
            format!(", starts {} ms late", best.1)
        } else {
            String::new()
        }
    );
    (drtt, best.0, best.1, why)
}

/// Round trips of the submission session, from its steps: `connect` covers TCP, TLS (implicit
/// TLS, else the STARTTLS exchanges), the greeting and EHLO; then one per SMTP command (`auth`,
/// `mail-from`, `rcpt-to`, `data`, `message`, `quit`).
pub fn submit_rtts(rt: &Value) -> u32 {
    let starttls = !rt["submit_server"].as_str().unwrap_or("").contains("(tls)");
    let Some(steps) = rt["submit_steps"].as_array() else {
        return 0;
    };
    steps
        .iter()
        .map(|s| match s["name"].as_str().unwrap_or("") {
            // TCP, greeting, EHLO, STARTTLS, TLS, EHLO again (RFC 3207 §4.2)
            "connect" if starttls => 6,
            // TCP, TLS, greeting, EHLO
            "connect" => 4,
            _ => 1,
        })
        .sum()
}

/// Round trips of the IMAP fetch session (src/roundtrip/imap_fetch.rs) when the message is
/// already there at the first search: TCP, TLS, greeting (capabilities in it), login,
/// CAPABILITY, LIST, then SELECT + UID SEARCH per folder (Junk, then INBOX), SELECT, UID FETCH,
/// UID STORE, UID EXPUNGE, LOGOUT.
pub fn fetch_rtts(folders: u32) -> u32 {
    3 + 1 + 1 + 1 + 2 * folders + 1 + 1 + 2 + 1
}

/// Critical path of a `roundtrip` report: the `check` part with logins (every probe's steps,
/// `auth` included), then submission, then the fetch session; the server's own delivery time
/// (Postfix → LMTP) is not a round trip and is not counted. (time, explanation, note).
pub fn roundtrip(
    report: &Value,
    stagger_ms: u64,
    rtt_ms: u64,
) -> (Option<std::time::Duration>, String, String) {
    let rt = &report["roundtrip"];
    let note = format!(
        "status {}; result {}; submit→found {} ms ({}); deleted {}",
        report["status"].as_str().unwrap_or("?"),
        rt["result"].as_str().unwrap_or("none"),
        rt["latency_ms"],
        rt["fetch_method"].as_str().unwrap_or("?"),
        rt["deleted"].as_str().unwrap_or("?"),
    );
    if rt.is_null() || !report["probes"].is_array() {
        return (None, "no round trip in the report".into(), note);
    }
    let (d, p, stagger, _) = check(report, stagger_ms, rtt_ms, false);
    let sub = submit_rtts(rt);
    let fetch = fetch_rtts(2);
    let n = d + p + sub + fetch;
    let t = std::time::Duration::from_millis(u64::from(n) * rtt_ms + stagger);
    let desc = format!(
        "{n} RTT: check {} (discovery {d} + probes with login {p}{}) + submit {sub} + fetch {fetch}",
        d + p,
        if stagger > 0 {
            format!(", +{stagger} ms staggered start")
        } else {
            String::new()
        }
    );
    (Some(t), desc, note)
}

/// Discovery with `--concurrency 1`: the sources, and the lookups and fetches inside each, one
/// after the other (`Net::join_bounded`), in the sources' order; a name looked up once is
/// answered from the resolver's cache afterwards (hickory caches negative answers too).
pub fn discovery_sequential(domain: &str, mx: Option<&str>) -> u32 {
    let mut seen: HashSet<String> = HashSet::new();
    let fetch = |seen: &mut HashSet<String>, host: &str, https: bool| -> u32 {
        let dns = u32::from(seen.insert(host.to_string()));
        if resolves(host, &[]) {
            dns + 1 + u32::from(https) + 1
        } else {
            dns
        }
    };
    let s = &mut seen;
    let ac = format!("autoconfig.{domain}");
    let ad = format!("autodiscover.{domain}");
    // autoconfig: 4 URLs and the ISPDB
    let mut n = fetch(s, &ac, true) + fetch(s, domain, true) + fetch(s, &ac, false);
    n += fetch(s, domain, false) + fetch(s, "ispdb.bench.test", true);
    // MX query, then autoconfig and ISPDB of the MX host's domain
    n += 1;
    if let Some(h) = mx {
        let d = registrable(h);
        if d != domain {
            n += fetch(s, &format!("autoconfig.{d}"), true) + fetch(s, "ispdb.bench.test", true);
        }
    }
    // SRV: six names
    n += 6;
    // Autodiscover: two POSTs, the http GET, the SRV query
    n += fetch(s, domain, true) + fetch(s, &ad, true) + fetch(s, &ad, false) + 1;
    // guessing: six address lookups (cached ones are free)
    for p in ["imap.", "pop.", "pop3.", "smtp.", "mail.", ""] {
        n += u32::from(s.insert(format!("{p}{domain}")));
    }
    n
}

/// Per host, the round trips its non-cancelled probes keep a connection slot busy, for one
/// address (`warm`: shared names cached). With `--per-host P` across a whole batch, N addresses
/// need at least N × this / P round trips on that host.
pub fn host_occupancy(report: &Value, warm: bool) -> Vec<(String, u32)> {
    let domain = report["domain"].as_str().unwrap_or("");
    let mut out: Vec<(String, u32)> = Vec::new();
    let empty = Vec::new();
    for p in report["probes"].as_array().unwrap_or(&empty) {
        if cancelled(p) {
            continue;
        }
        let host = p["host"].as_str().unwrap_or("").to_string();
        let cached = (warm && resolves(&host, &[])) || host.ends_with(&format!(".{domain}"));
        let r = probe_rtts(p, cached);
        match out.iter_mut().find(|(h, _)| *h == host) {
            Some(e) => e.1 += r,
            None => out.push((host, r)),
        }
    }
    out
}

/// Critical path of a `check --concurrency 1` report: [`discovery_sequential`] + every probe
/// that ran, one after the other. The best speed-up concurrency can buy is this divided by
/// [`check`]'s path.
pub fn check_sequential(report: &Value) -> u32 {
    let domain = report["domain"].as_str().unwrap_or("");
    let disc = discovery_sequential(domain, Some("mx.mailhost.test"));
    let guessed = |h: &str| {
        ["imap.", "smtp.", "pop.", "pop3.", "mail.", ""]
            .iter()
            .any(|p| format!("{p}{domain}") == h)
    };
    let empty = Vec::new();
    let probes: u32 = report["probes"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .filter(|p| !cancelled(p))
        .map(|p| probe_rtts(p, guessed(p["host"].as_str().unwrap_or(""))))
        .sum();
    disc + probes
}

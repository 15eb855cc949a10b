//! The critical path of a run: the longest chain of round trips that depend on each other, in
//! RTTs, plus the one wait the design imposes on purpose (the port-25 hold). Formulas in
//! bench/README.md ("Critical path"); each term follows a rule of the code:
//!
//! - Discovery is modelled from the world ([`crate::world`]): which names resolve and which URLs
//!   exist. Every source starts at once (`discover::run_network_sources`), so discovery costs
//!   the longest source chain ([`discovery`]).
//! - A `check` probes each candidate the moment the first source that reports it answers
//!   (`probe::schedule`, `Feed::Found`: discovery pipelined into probing), with no stagger
//!   between guesses and no grace: [`found_at`].
//! - A login waits until discovery is complete (`probe::schedule`, the `Deferred` login hook: it
//!   needs the user name the sources publish).
//! - A probe cut because a better-ranked one works (`cancel_outranked`, stopped at once) or a
//!   port-25 probe cut at the verdict after it connected (`rules::Why::VerdictReady`) never holds
//!   the run: it is not on the path ([`cancelled`]).
//! - A port-25 probe that has not connected when the verdict is ready holds the run at most
//!   [`PORT25_HOLD_MS`] more (`rules::PORT25_HOLD`), then is recorded as "no TCP answer within N
//!   ms" ([`held`]): the path is then the verdict's chain + that hold.
//! - `check`'s Receiving section (`app::check::check_receiving`) runs beside the probes from the
//!   start: MX query, the hosts' addresses, one port-25 dialogue per address
//!   ([`port25_dialogue`]); it is cut once the verdict is ready and the hold has passed, so it
//!   ends at its own chain or at the verdict's + [`PORT25_HOLD_MS`] ([`receiving_probes`]).
//!   Batch mode and `roundtrip` run none (their reports have no `inbound`).
//! - A probe's own round trips come from the steps its dialogue performed ([`probe_rtts`]).
//!
//! In a batch the first address of each domain does the same; later ones reuse its discovery.

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

/// How long port-25 probes may hold the run once the verdict is ready
/// (`probe::schedule::rules::PORT25_HOLD`).
pub const PORT25_HOLD_MS: u64 = 500;

/// Was this probe stopped at once (the verdict did not wait for it)? An outranked probe is cut
/// the moment a better one works; a port-25 probe that had connected is cut at the verdict.
pub fn cancelled(probe: &Value) -> bool {
    probe["outcome"]["phase"] == "cancelled"
}

/// Was this a port-25 probe the hold ended: not connected when the verdict was ready, given
/// [`PORT25_HOLD_MS`] more, then recorded as "no TCP answer within N ms" (`rules::stopped`)?
pub fn held(probe: &Value) -> bool {
    probe["protocol"] == "smtp"
        && probe["port"] == 25
        && probe["outcome"]["phase"] == "connect"
        && probe["outcome"]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("no TCP answer within "))
}

/// The critical path of a run: `rtt` round trips plus `wait_ms` of deliberate waiting (the
/// port-25 hold), and which chain it is.
#[derive(Debug, Clone, Default)]
pub struct Path {
    pub rtt: u32,
    pub wait_ms: u64,
    pub why: String,
}

impl Path {
    pub fn ms(&self, rtt_ms: u64) -> u64 {
        u64::from(self.rtt) * rtt_ms + self.wait_ms
    }
}

/// When a candidate found by `tag` can start, in RTTs after the start: the chain of the source
/// that reports it ([`discovery`]); autoconfig and ISPDB answers come from the autoconfig source
/// or from the MX source (at the MX host's domain), whichever is sooner. No stagger: a
/// candidate starts the moment it is found.
fn found_at(tag: &str, chains: &[(&'static str, u32)]) -> u32 {
    let chain = |name: &str| {
        chains
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, r)| *r)
    };
    match tag {
        "provider-db" | "user" => 0,
        "autoconfig" | "autoconfig-wellknown" | "autoconfig-http" | "ispdb" => {
            chain("autoconfig").min(chain("mx"))
        }
        "mx-provider" => chain("mx"),
        other => chain(other),
    }
}

/// Critical path of a `check` report (also the first address of each domain in a batch).
/// `warm`: see [`discovery`]. The verdict is ready at the longest of discovery and, over the
/// probes it waited for (neither [`cancelled`] nor [`held`]), the moment the first source that
/// reports the candidate answers + the probe's round trips (a login waiting for discovery to
/// end); a [`held`] port-25 probe adds [`PORT25_HOLD_MS`] to that.
pub fn check(report: &Value, warm: bool) -> Path {
    let domain = report["domain"].as_str().unwrap_or("");
    let chains = discovery(domain, Some("mx.mailhost.test"), warm);
    let (dname, drtt) = chains
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
    let tags = |p: &Value| -> Vec<String> {
        p["sources"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let empty = Vec::new();
    let probes = report["probes"].as_array().unwrap_or(&empty);
    let mut best = Path {
        rtt: drtt,
        wait_ms: 0,
        why: format!("discovery {drtt} ({dname})"),
    };
    for p in probes.iter().filter(|p| !cancelled(p) && !held(p)) {
        let host = p["host"].as_str().unwrap_or("");
        let start = tags(p)
            .iter()
            .map(|t| found_at(t, &chains))
            .min()
            .unwrap_or(0);
        let (pre, post) = probe_rtts_split(p, guessed(host));
        // A login waits for discovery to be complete (the user name it publishes).
        let waits = post > 0 && start + pre < drtt;
        let rtt = if waits {
            drtt + post
        } else {
            start + pre + post
        };
        if rtt > best.rtt {
            let login = if waits {
                ", its login waiting for discovery"
            } else {
                ""
            };
            best = Path {
                rtt,
                wait_ms: 0,
                why: format!(
                    "found after {start} RTT probe {} ({}:{} {}{login})",
                    pre + post,
                    host,
                    p["port"],
                    p["security"].as_str().unwrap_or("")
                ),
            };
        }
    }
    // The Receiving section (`app::check::check_receiving`): the MX lookup and a port-25
    // dialogue per MX address, from the start beside the check, cut once the verdict is ready
    // and the hold has passed.
    let (receiving, receiving_cut) = receiving_probes(report);
    if !receiving_cut
        && let Some(d) = receiving.iter().map(|p| port25_dialogue(p)).max()
        && 2 + d > best.rtt
    {
        best = Path {
            rtt: 2 + d,
            wait_ms: 0,
            why: format!("receiving: MX 2 DNS + port 25 {d}"),
        };
    }
    let hold = probes
        .iter()
        .find(|p| held(p))
        .map(|p| {
            format!(
                "{}:25 gave no TCP answer by the verdict",
                p["host"].as_str().unwrap_or("?")
            )
        })
        .or_else(|| receiving_cut.then(|| "the Receiving section's port 25 was cut".to_string()));
    if let Some(what) = hold {
        best.wait_ms += PORT25_HOLD_MS;
        best.why = format!(
            "{} + the port-25 hold ({PORT25_HOLD_MS} ms: {what})",
            best.why
        );
    }
    best
}

/// The port-25 probes of `check`'s Receiving section, and whether the hold cut the section
/// (a probe cut, or the MX lookup unanswered by then).
fn receiving_probes(report: &Value) -> (Vec<&Value>, bool) {
    let inbound = &report["inbound"];
    let probes: Vec<&Value> = inbound["mx"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|h| h["addresses"].as_array().into_iter().flatten())
        .map(|a| &a["probe"])
        .filter(|p| p.is_object())
        .collect();
    let cut = inbound["incomplete"].is_string() || probes.iter().any(|p| p["cut"].is_string());
    (probes, cut)
}

/// Round trips of one port-25 dialogue (`audit::port25`), from what its probe shows: TCP +
/// greeting (2), EHLO (1), STARTTLS (1) and its TLS 1.3 handshake (1), EHLO again (1), `MAIL
/// FROM`, `RCPT TO`, `RSET` (1 each, the audit's relay test only), `QUIT` (1).
fn port25_dialogue(p: &Value) -> u32 {
    let mut n = 2 + 1;
    if p["starttls_offered"] == true {
        n += 2;
        if p["ehlo_tls"].is_object() {
            n += 1;
        }
    }
    if p["relay_test"].is_object() {
        n += 3;
    }
    n + 1
}

/// [`probe_rtts`] split at the login: (round trips before `auth`, `auth` and after).
fn probe_rtts_split(probe: &Value, resolved_in_discovery: bool) -> (u32, u32) {
    let all = probe_rtts(probe, resolved_in_discovery);
    let Some(steps) = probe["steps"].as_array() else {
        return (all, 0);
    };
    match steps.iter().position(|s| s["name"] == "auth") {
        Some(i) => {
            let mut head = probe.clone();
            head["steps"] = Value::Array(steps[..i].to_vec());
            let pre = probe_rtts(&head, resolved_in_discovery);
            (pre, all - pre)
        }
        None => (all, 0),
    }
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
pub fn roundtrip(report: &Value, rtt_ms: u64) -> (Option<std::time::Duration>, String, String) {
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
    let c = check(report, false);
    let sub = submit_rtts(rt);
    let fetch = fetch_rtts(2);
    let n = c.rtt + sub + fetch;
    let t = std::time::Duration::from_millis(u64::from(n) * rtt_ms + c.wait_ms);
    let desc = format!(
        "{n} RTT: check {} ({}) + submit {sub} + fetch {fetch}",
        c.rtt, c.why
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
/// that ran, one after the other, then the Receiving section (src/app/check.rs: after the
/// verdict with one connection at a time: MX query, the hosts' addresses, each address's
/// port-25 dialogue in turn), which the hold cuts [`PORT25_HOLD_MS`] after the verdict. The best
/// speed-up concurrency can buy is this divided by [`check`]'s path.
pub fn check_sequential(report: &Value) -> Path {
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
    let (receiving, cut) = receiving_probes(report);
    let mut path = Path {
        rtt: disc + probes,
        wait_ms: 0,
        why: format!("discovery {disc} + probes {probes}"),
    };
    if cut {
        path.wait_ms = PORT25_HOLD_MS;
        path.why
            .push_str(" + the Receiving section cut by the hold");
    } else if !receiving.is_empty() {
        let r = 2 + receiving.iter().map(|p| port25_dialogue(p)).sum::<u32>();
        path.rtt += r;
        path.why.push_str(&format!(" + Receiving {r}"));
    }
    path
}

/// The critical path of an `audit` (bench/README.md "Critical path"), in RTTs, with what it is:
/// every part runs at once, so it is the longest of
/// - MX: the MX query (1), the hosts' A+AAAA+CNAME queries (1, concurrent), then the longest
///   port-25 dialogue of one address, counted from the steps its probe shows: TCP + greeting
///   (2), EHLO (1), STARTTLS (1) and its TLS 1.3 handshake (1), EHLO again (1), `MAIL FROM`,
///   `RCPT TO`, `RSET` (1 each), `QUIT` (1). Loopback PTR queries are answered by the resolver
///   itself (RFC 6761 §6.3): 0.
/// - MTA-STS: the TXT query (1), then the policy fetch (DNS, TCP, TLS, GET: 4).
/// - SPF: one TXT query per level of the tree, and the `a`/`mx` lookups of the deepest level.
/// - DMARC and DKIM: 1 each (selectors at once).
/// - DANE: the validated MX answer (the anchored zone's DNSKEY set, then the MX: 2), then the
///   TLSA answers of the hosts (1, concurrent, during the port-25 probes).
pub fn audit(report: &Value) -> (u32, String) {
    let mx = &report["inbound"]["mx"];
    let probe = mx
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|h| h["addresses"].as_array().into_iter().flatten())
        .map(|a| port25_dialogue(&a["probe"]))
        .max()
        .unwrap_or(0);
    let mx_chain = 2 + probe;
    let sts = if report["inbound"]["policies"]["mta_sts"].is_object() {
        1 + 4
    } else {
        1
    };
    fn depth(n: &Value) -> u32 {
        let kids = n["children"]
            .as_array()
            .map(|c| c.iter().map(depth).max().unwrap_or(0))
            .unwrap_or(0);
        1 + kids
    }
    let spf_tree = &report["inbound"]["policies"]["spf"]["tree"];
    let spf = if spf_tree.is_object() {
        depth(spf_tree) + 1
    } else {
        1
    };
    let dane = if report["inbound"]["policies"]["dane"].is_object() {
        2 + 1
    } else {
        0
    };
    let parts = [
        ("MX + port 25", mx_chain),
        ("DANE", dane),
        ("MTA-STS", sts),
        ("SPF", spf),
        ("DMARC", 1),
        ("DKIM", 1),
    ];
    let (name, n) = parts
        .iter()
        .max_by_key(|p| p.1)
        .copied()
        .unwrap_or(("none", 0));
    let what = if name == "MX + port 25" {
        format!("MX: 2 DNS + {probe} port 25")
    } else {
        name.to_string()
    };
    (n, format!("{n} RTT ({what})"))
}

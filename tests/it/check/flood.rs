//! A flood of SRV records: a thousand `_imaps._tcp` targets that accept and never answer, next to
//! working STARTTLS servers named by `_imap._tcp` and `_submission._tcp`. The source is capped,
//! the cap is a finding, and the working servers are probed and chosen well before the deadline.

use std::time::{Duration, Instant};

use super::*;
use crate::support::scripted::{ScriptedServer, closed_port};

fn flood_zone(targets: usize) -> Zone {
    let mut z = Zone::new("example.test")
        .srv("_imap._tcp", 0, 1, 143, "imap.example.test")
        .srv("_submission._tcp", 0, 1, 587, "smtp.example.test");
    for i in 0..targets {
        z = z.srv(
            "_imaps._tcp",
            0,
            1,
            10993,
            &format!("silent{i}.example.test"),
        );
    }
    z
}

/// `--connect-to` for `std_port` of `host` onto the stack.
fn onto_stack(stack: &MailStack, host: &str, std_port: u16) -> Vec<String> {
    let all = stack.connect_to_args(host);
    let rule = all
        .iter()
        .find(|a| a.starts_with(&format!("{host}:{std_port}:")))
        .expect("a mapping for the port")
        .clone();
    vec!["--connect-to".into(), rule]
}

/// The hermetic arguments: the stack's CA, a closed ISPDB, the silent port and the two working
/// servers.
fn args(stack: &MailStack, silent: &ScriptedServer) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--ca-file".into(),
        stack.ca_file.display().to_string(),
        "--ispdb-url".into(),
        format!("http://{}/", closed_port()),
        "--connect-to".into(),
        format!(":10993:127.0.0.1:{}", silent.port()),
    ];
    args.extend(onto_stack(stack, "imap.example.test", 143));
    args.extend(onto_stack(stack, "smtp.example.test", 587));
    args
}

/// `check` with `extra` options; the JSON and how long it took.
fn check(dns: &DnsServer, args: &[String], extra: &[&str]) -> (Value, Duration) {
    let started = Instant::now();
    let out = mailprobe()
        .args(["check", "alice@example.test", "--json", "--timeout", "2"])
        .args(["--dns", &dns.addr().to_string()])
        .args(args)
        .args(extra)
        .output()
        .unwrap();
    let took = started.elapsed();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (v, took)
}

/// Both STARTTLS servers were probed to the end, work, and are the verdict.
fn working_servers_chosen(v: &Value) {
    let probes = v["probes"].as_array().unwrap();
    let outcome = |host: &str, port: u64| {
        probes
            .iter()
            .find(|p| p["host"] == host && p["port"] == port)
            .map(|p| p["outcome"].clone())
            .unwrap_or_else(|| panic!("no probe of {host}:{port}"))
    };
    let imap = outcome("imap.example.test", 143);
    assert_eq!(imap["result"], "working", "{imap}");
    let smtp = outcome("smtp.example.test", 587);
    assert_eq!(smtp["result"], "working", "{smtp}");
    assert_eq!(
        setting(v, "incoming"),
        (
            "imap".into(),
            "imap.example.test".into(),
            143,
            "starttls".into()
        )
    );
    assert_eq!(
        setting(v, "outgoing"),
        (
            "smtp".into(),
            "smtp.example.test".into(),
            587,
            "starttls".into()
        )
    );
}

#[test]
fn a_thousand_silent_srv_targets_do_not_starve_the_working_servers() {
    let stack = stack();
    let dns = DnsServer::start_zones(&[flood_zone(1000)]);
    let silent = ScriptedServer::blackhole();
    let (v, took) = check(&dns, &args(stack, &silent), &["--deadline", "30"]);
    working_servers_chosen(&v);
    let probes = v["probes"].as_array().unwrap();
    let silent_probes = probes.iter().filter(|p| p["port"] == 10993).count();
    assert_eq!(silent_probes, 10);
    assert!(
        silent.connections() <= 10,
        "{} connections",
        silent.connections()
    );
    let capped: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "source-capped")
        .collect();
    assert_eq!(capped.len(), 1, "{:#}", v["findings"]);
    assert_eq!(
        capped[0]["message"],
        "_imaps._tcp.example.test offered 1000 servers; only the first 10 are tried"
    );
    assert_eq!(capped[0]["severity"], "warning");
    // The silent ones cost one step timeout, not the deadline.
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn the_best_of_every_protocol_starts_first_with_two_connection_slots() {
    let stack = stack();
    // Ten silent targets: exactly the cap. Ranked first, they would take both slots for five
    // step timeouts (10 s), past the deadline, before the STARTTLS servers got a turn.
    let dns = DnsServer::start_zones(&[flood_zone(10)]);
    let silent = ScriptedServer::blackhole();
    let extra = ["--deadline", "6", "--concurrency", "2"];
    let (v, _) = check(&dns, &args(stack, &silent), &extra);
    working_servers_chosen(&v);
    assert!(!v["findings"].to_string().contains("source-capped"));
}

//! `mailprobe export` end to end: the settings a real check of the Dovecot + Postfix stack
//! verified, written as each format; the Thunderbird and Autodiscover documents served by the
//! harness's HTTP server to `mailprobe discover`, which must read back the same servers; the
//! profile written with `-o` (mode 0600), the password only with `--include-password`;
//! `--from-discovery` from the built-in database without any traffic.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::check::{stack, zone};
use crate::discover::World;
use crate::support::cmd::{mailprobe, stack_args};
use crate::support::dns::{DnsServer, Zone};
use crate::support::http::{Reply, Routes};
use crate::support::mailstack::MailStack;

/// `mailprobe export alice@example.test --to FORMAT` after a real check, logged in.
fn export(stack: &MailStack, dns: &DnsServer, extra: &[&str]) -> (String, String, i32) {
    let (user, pass) = stack.user();
    let out = mailprobe()
        .args(["export", user])
        .args(["--timeout", "5", "--dns", &dns.addr().to_string()])
        .args(["--ispdb-url", "http://127.0.0.1:9/"])
        .args(stack_args(stack, "mail.example.test"))
        .args(["--password-env", "MP_PASS"])
        .env("MP_PASS", pass)
        .args(extra)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// The servers of the exported JSON settings: (protocol, host, port, security, username).
fn verified(stack: &MailStack, dns: &DnsServer) -> Vec<(String, String, u64, String, String)> {
    let (out, err, code) = export(stack, dns, &["--to", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["origin"], "verified");
    ["incoming", "outgoing"]
        .iter()
        .map(|k| {
            let s = &v["settings"][k];
            (
                s["protocol"].as_str().unwrap().to_string(),
                s["host"].as_str().unwrap().to_string(),
                s["port"].as_u64().unwrap(),
                s["security"].as_str().unwrap().to_string(),
                s["username"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// `discover` with `doc` served at `host` `path`: the candidates of `source`.
fn discovered(
    host: &str,
    path: &str,
    doc: &str,
    source: &str,
) -> Vec<(String, String, u64, String, String)> {
    let z = Zone::new("example.test")
        .a("autoconfig", "127.0.0.1")
        .a("autodiscover", "127.0.0.1");
    let w = World::new(
        &[z],
        &[host],
        Routes::new().route(host, path, Reply::xml(doc)),
    );
    let (v, _) = w.discover("alice@example.test", &[host], &[]);
    v["discovery"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["sources"].as_array().unwrap().iter().any(|s| s == source))
        .map(|c| {
            (
                c["protocol"].as_str().unwrap().to_string(),
                c["host"].as_str().unwrap().to_string(),
                c["port"].as_u64().unwrap(),
                c["security"].as_str().unwrap().to_string(),
                c["username"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn exports_of_a_real_check_read_back_through_discover() {
    let stack = stack();
    let dns = DnsServer::start_zones(&[zone(stack)]);
    let want = verified(stack, &dns);
    assert_eq!(want[0].0, "imap");
    assert_eq!((want[1].2, want[1].3.as_str()), (465, "tls"));

    let (xml, err, code) = export(stack, &dns, &["--to", "thunderbird"]);
    assert_eq!(code, 0, "{err}");
    assert!(xml.contains("<username>%EMAILADDRESS%</username>"), "{xml}");
    let back = discovered(
        "autoconfig.example.test",
        "/mail/config-v1.1.xml",
        &xml,
        "autoconfig",
    );
    assert_eq!(back, want, "{xml}");

    let (xml, err, code) = export(stack, &dns, &["--to", "autodiscover"]);
    assert_eq!(code, 0, "{err}");
    let back = discovered(
        "autodiscover.example.test",
        "/autodiscover/autodiscover.xml",
        &xml,
        "autodiscover",
    );
    assert_eq!(back, want, "{xml}");

    let (zone_lines, _, code) = export(stack, &dns, &["--to", "srv"]);
    assert_eq!(code, 0);
    assert!(zone_lines.contains("_imaps._tcp 3600 IN SRV 0 1 993 mail.example.test."));
    assert!(zone_lines.contains("_submissions._tcp 3600 IN SRV 0 1 465 mail.example.test."));
}

#[test]
fn profile_to_a_private_file_with_the_password_only_when_asked() {
    let stack = stack();
    let dns = DnsServer::start_zones(&[zone(stack)]);
    let (_, pass) = stack.user();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alice.mobileconfig");
    let f = file.to_str().unwrap();
    let (out, err, code) = export(stack, &dns, &["--to", "mobileconfig", "-o", f]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "the profile goes to the file: {out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(pass) && !err.contains(pass));
    let v: plist::Value = plist::from_bytes(text.as_bytes()).unwrap();
    let mail = v.as_dictionary().unwrap()["PayloadContent"]
        .as_array()
        .unwrap()[0]
        .as_dictionary()
        .unwrap()
        .clone();
    assert_eq!(
        mail["PayloadType"].as_string(),
        Some("com.apple.mail.managed")
    );
    assert_eq!(
        mail["IncomingMailServerPortNumber"].as_unsigned_integer(),
        Some(993)
    );
    assert!(!mail.contains_key("IncomingPassword"));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let (_, err, code) = export(
        stack,
        &dns,
        &["--to", "mobileconfig", "-o", f, "--include-password"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: the profile will contain the password"),
        "{err}"
    );
    assert!(!err.contains(pass));
    let again = std::fs::read_to_string(&file).unwrap();
    assert!(again.contains(&format!("<string>{pass}</string>")));
    // Re-exporting keeps the payload UUIDs, so the installed profile is replaced.
    let uuid = |t: &str| t.split("PayloadUUID").nth(1).map(|s| s[..60].to_string());
    assert_eq!(uuid(&text), uuid(&again));
}

#[test]
fn from_discovery_uses_the_database_offline_and_says_untested() {
    let out = mailprobe()
        .args(["export", "alice@gmail.com", "--to", "thunderbird"])
        .args(["--from-discovery", "--offline"])
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(xml.contains("UNTESTED"), "{xml}");
    assert!(xml.contains("<hostname>imap.gmail.com</hostname>"), "{xml}");
}

#[test]
fn include_password_is_for_profiles_only_and_export_needs_the_network() {
    let out = mailprobe()
        .args(["export", "alice@example.test", "--to", "thunderbird"])
        .args(["--include-password", "--password-env", "X"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mobileconfig only"));
    let out = mailprobe()
        .args(["export", "alice@example.test", "--to", "srv", "--offline"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--offline"));
}

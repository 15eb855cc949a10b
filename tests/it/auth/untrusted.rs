//! A server known only from plain-http autoconfig (which anyone on the path could rewrite to
//! name their own server, with a valid certificate for it) gets no credentials unless the user
//! names it or passes `--allow-untrusted-auth`, and is never recommended while a trusted one
//! works. SRV names `mail.victim.test`; plain-http autoconfig names `imap.evil.test`. Both are
//! scripted IMAPS servers with valid certificates that record every line they receive.

use serde_json::Value;

use crate::support::certs::{TestCa, TlsVersions, Validity, server_config};
use crate::support::cmd::mailprobe;
use crate::support::dns::{DnsServer, Zone};
use crate::support::fence::Fence;
use crate::support::http::{HttpServer, Reply, Routes};
use crate::support::scripted::{ScriptedServer, Step, closed_port};

const PW: &str = "victim-pw-5521";

fn evil_autoconfig() -> String {
    r#"<clientConfig version="1.1"><emailProvider id="victim.test">
    <incomingServer type="imap"><hostname>imap.evil.test</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></incomingServer>
    </emailProvider></clientConfig>"#
        .to_string()
}

/// An IMAPS server for `name`: answers whatever comes after the capabilities with OK.
fn imaps(ca: &TestCa, name: &str) -> ScriptedServer {
    let cfg = server_config(&ca.issue(&[name], Validity::Valid), TlsVersions::Default);
    ScriptedServer::start_tls(
        cfg,
        vec![
            Step::line("* OK ready"),
            Step::expect("a1 CAPABILITY"),
            Step::line("* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\na1 OK"),
            Step::ReadLine,
            Step::line("a2 OK logged in"),
            Step::ReadLine,
            Step::line("* BYE\r\na3 OK"),
        ],
    )
}

struct World {
    ca_file: tempfile::NamedTempFile,
    dns: DnsServer,
    http: HttpServer,
    victim: Option<ScriptedServer>,
    evil: ScriptedServer,
    fence: Fence,
}

impl World {
    /// With `srv`, the SRV record and the victim's server exist.
    fn new(srv: bool) -> World {
        let ca = TestCa::new();
        let ca_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca_file.path(), ca.pem()).unwrap();
        let mut victim = Zone::new("victim.test")
            .a("mail", "127.0.0.1")
            .a("autoconfig", "127.0.0.1");
        if srv {
            victim = victim.srv("_imaps._tcp", 0, 1, 993, "mail.victim.test");
        }
        let evil = Zone::new("evil.test").a("imap", "127.0.0.1");
        let routes = Routes::new().route(
            "autoconfig.victim.test",
            "/mail/config-v1.1.xml",
            Reply::xml(evil_autoconfig()),
        );
        World {
            dns: DnsServer::start_zones(&[victim, evil]),
            http: HttpServer::start(&ca, &["autoconfig.victim.test"], routes),
            victim: srv.then(|| imaps(&ca, "mail.victim.test")),
            evil: imaps(&ca, "imap.evil.test"),
            ca_file,
            fence: Fence::new(),
        }
    }

    /// The hermetic arguments: DNS, CA, autoconfig over plain http only, the two IMAPS servers,
    /// then the fence for every other port of every name.
    fn args(&self) -> Vec<String> {
        let mut a = vec![
            "--dns".to_string(),
            self.dns.addr().to_string(),
            "--ca-file".into(),
            self.ca_file.path().display().to_string(),
            "--ispdb-url".into(),
            format!("http://{}/", closed_port()),
            "--timeout".into(),
            "2".into(),
            "--connect-to".into(),
            format!(
                "autoconfig.victim.test:80:127.0.0.1:{}",
                self.http.http_addr().port()
            ),
            "--connect-to".into(),
            format!("imap.evil.test:993:127.0.0.1:{}", self.evil.port()),
        ];
        if let Some(v) = &self.victim {
            a.extend([
                "--connect-to".into(),
                format!("mail.victim.test:993:127.0.0.1:{}", v.port()),
            ]);
        }
        a.extend(self.fence.args(&[
            "victim.test",
            "mail.victim.test",
            "autoconfig.victim.test",
            "imap.evil.test",
        ]));
        a
    }

    /// `check alice@victim.test --json` with `extra`; the JSON.
    fn check(&self, extra: &[&str]) -> Value {
        let out = mailprobe()
            .env("MP_PW", PW)
            .args(["check", "alice@victim.test", "--json"])
            .args(self.args())
            .args(extra)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(PW));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {all}"))
    }
}

const LOGIN: [&str; 4] = ["--user", "alice@victim.test", "--password-env", "MP_PW"];

fn authenticated(srv: &ScriptedServer) -> bool {
    srv.lines().iter().any(|l| l.contains("AUTHENTICATE"))
}

fn incoming_host(v: &Value) -> String {
    v["settings"]["incoming"]["host"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn finding<'a>(v: &'a Value, code: &str) -> Option<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
}

fn probe_of<'a>(v: &'a Value, host: &str) -> &'a Value {
    v["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["host"] == host)
        .unwrap_or_else(|| panic!("no probe of {host}: {v:#}"))
}

#[test]
fn the_trusted_server_is_recommended_and_the_untrusted_one_gets_no_password() {
    let w = World::new(true);
    let v = w.check(&LOGIN);
    assert_eq!(incoming_host(&v), "mail.victim.test", "{:#}", v["settings"]);
    let evil = probe_of(&v, "imap.evil.test");
    assert_eq!(
        evil["sources"],
        serde_json::json!(["autoconfig-http"]),
        "{evil}"
    );
    // Once the trusted server's login works, the untrusted probe may be stopped before its
    // login step; when it got that far, the step is skipped and names the flag.
    let step = evil["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "auth");
    if let Some(step) = step {
        assert_eq!(step["status"], "skipped", "{step}");
        assert!(
            step["detail"]
                .as_str()
                .unwrap()
                .contains("--allow-untrusted-auth"),
            "{step}"
        );
        assert!(
            finding(&v, "auth-skipped-untrusted").is_some(),
            "{:#}",
            v["findings"]
        );
    }
    assert!(!authenticated(&w.evil), "{:?}", w.evil.lines());
    assert!(authenticated(w.victim.as_ref().unwrap()));
}

#[test]
fn an_untrusted_server_that_alone_works_is_named_critical_and_gets_no_password() {
    let w = World::new(false);
    // Without credentials: the verdict names it, with a critical finding.
    let v = w.check(&[]);
    assert_eq!(incoming_host(&v), "imap.evil.test", "{:#}", v["settings"]);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "untrusted-source-only" && f["severity"] == "critical")
        .unwrap_or_else(|| panic!("{:#}", v["findings"]));
    assert!(
        f["message"].as_str().unwrap().contains("imap.evil.test"),
        "{f}"
    );
    assert_eq!(v["status"], "critical");
    // With credentials: none sent.
    let v = w.check(&LOGIN);
    assert!(
        finding(&v, "auth-skipped-untrusted").is_some(),
        "{:#}",
        v["findings"]
    );
    assert!(!authenticated(&w.evil), "{:?}", w.evil.lines());
    // --allow-untrusted-auth (a global option, here before nothing else): sent.
    let v = w.check(&[&LOGIN[..], &["--allow-untrusted-auth"]].concat());
    assert!(authenticated(&w.evil), "{:?}", w.evil.lines());
    assert_eq!(incoming_host(&v), "imap.evil.test");
}

/// A server the user names on the command line is theirs to log into.
#[test]
fn a_server_the_user_names_gets_the_login() {
    let w = World::new(false);
    let out = mailprobe()
        .env("MP_PW", PW)
        .args(["probe", "imaps://imap.evil.test", "--json"])
        .args(LOGIN)
        .args(w.args())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["probes"][0]["auth"][0]["success"], true, "{v:#}");
    assert!(authenticated(&w.evil));
}

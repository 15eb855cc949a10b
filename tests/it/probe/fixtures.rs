//! Transcript fixtures (tests/fixtures/transcripts): real-looking Dovecot, Postfix, Exim,
//! Exchange and Gmail dialogues. Each is fed line by line to the pure parsers, then replayed by
//! a scripted server and probed end to end, checking the recorded transcript and the findings.
//!
//! Format: `# protocol: imap|pop3|smtp`, `# security: tls|starttls`, `S: line` (server, CRLF
//! added), `R: bytes` (server, no CRLF: literal data), `C: line` (what the client must send,
//! matched as a prefix), `TLS` (the TLS handshake).

use std::path::PathBuf;

use mailprobe::model::{Outcome, Protocol, Security};
use mailprobe::probe::probe_all;
use mailprobe::proto::{imap, pop3, smtp};

use super::{HOST, cand, codes, net_with, opts, transcript};
use crate::support::certs::{TestCa, TlsVersions, Validity, server_config};
use crate::support::scripted::{ScriptedServer, Step};

struct Fixture {
    name: String,
    protocol: Protocol,
    security: Security,
    lines: Vec<(char, String)>,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts")
}

fn load(name: &str) -> Fixture {
    let text = std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut f = Fixture {
        name: name.into(),
        protocol: Protocol::Imap,
        security: Security::Tls,
        lines: vec![],
    };
    for l in text.lines() {
        if let Some(p) = l.strip_prefix("# protocol: ") {
            f.protocol = match p.trim() {
                "imap" => Protocol::Imap,
                "pop3" => Protocol::Pop3,
                _ => Protocol::Smtp,
            };
        } else if let Some(s) = l.strip_prefix("# security: ") {
            f.security = if s.trim() == "tls" {
                Security::Tls
            } else {
                Security::Starttls
            };
        } else if l.starts_with('#') || l.is_empty() {
        } else if l == "TLS" {
            f.lines.push(('T', String::new()));
        } else {
            let (k, v) = l.split_at(3);
            f.lines.push((k.chars().next().unwrap(), v.to_string()));
        }
    }
    f
}

const ALL: &[&str] = &[
    "dovecot-imap-starttls.txt",
    "dovecot-pop3-stls.txt",
    "postfix-submission.txt",
    "exim-smtp25.txt",
    "exchange-imap-starttls.txt",
    "exchange-submission.txt",
    "gmail-imaps.txt",
    "gmail-smtps.txt",
    "literal-imaps.txt",
];

#[test]
fn every_fixture_is_listed() {
    let mut on_disk: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = ALL.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

/// Every server line of every fixture parses with the protocol's pure parser.
#[test]
fn fixture_server_lines_parse() {
    for name in ALL {
        let f = load(name);
        let mut first = true;
        let mut after_literal = false;
        let mut smtp_lines: Vec<Vec<u8>> = Vec::new();
        let mut last_cmd = String::new();
        let mut in_block = false;
        for (k, line) in &f.lines {
            if *k == 'C' {
                last_cmd = line.clone();
                continue;
            }
            if *k == 'R' {
                after_literal = true;
                continue;
            }
            if *k != 'S' {
                continue;
            }
            let bytes = format!("{line}\r\n").into_bytes();
            match f.protocol {
                Protocol::Imap if first => {
                    imap::parse_greeting(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                }
                Protocol::Imap if after_literal => after_literal = false,
                Protocol::Imap => {
                    imap::parse_line(&bytes).unwrap_or_else(|e| panic!("{name}: {line}: {e}"));
                }
                Protocol::Pop3 if in_block => {
                    if pop3::block_line(&bytes) == pop3::BlockLine::End {
                        in_block = false;
                    }
                }
                Protocol::Pop3 => {
                    let s = pop3::parse_status(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(s.ok, "{name}: {line}");
                    in_block = last_cmd == "CAPA";
                }
                Protocol::Smtp => {
                    let (_, last) =
                        smtp::line_code(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                    smtp_lines.push(bytes);
                    if last {
                        let r = smtp::parse_reply(&smtp_lines)
                            .unwrap_or_else(|e| panic!("{name}: {e}"));
                        assert!(r.is_positive(), "{name}: {r:?}");
                        if last_cmd.starts_with("EHLO") {
                            let e = smtp::parse_ehlo(&r);
                            assert!(e.size.is_some() && !e.keywords.is_empty(), "{name}: {e:?}");
                        }
                        smtp_lines.clear();
                    }
                }
            }
            first = false;
        }
    }
}

fn script(f: &Fixture, ca: &TestCa) -> Vec<Step> {
    let cfg = server_config(&ca.issue(&[HOST], Validity::Valid), TlsVersions::Default);
    f.lines
        .iter()
        .map(|(k, l)| match k {
            'S' => Step::line(l),
            'R' => Step::Send(l.clone().into_bytes()),
            'C' => Step::expect(l),
            _ => Step::StartTls(cfg.clone()),
        })
        .collect()
}

/// Replay each fixture with a scripted server and probe it: working with verified TLS, the
/// client lines exactly as in the fixture, and the expected findings.
#[tokio::test]
async fn fixture_replays_probe_end_to_end() {
    let expect: &[(&str, &[&str])] = &[
        ("dovecot-imap-starttls.txt", &[]),
        ("dovecot-pop3-stls.txt", &[]),
        ("postfix-submission.txt", &[]),
        ("exim-smtp25.txt", &[]),
        (
            "exchange-imap-starttls.txt",
            &["auth-before-tls", "imap-no-logindisabled"],
        ),
        ("exchange-submission.txt", &["auth-before-tls"]),
        ("gmail-imaps.txt", &[]),
        ("gmail-smtps.txt", &[]),
        ("literal-imaps.txt", &[]),
    ];
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let ca_file = ca.write_pem(tmp.path());
    for (name, want) in expect {
        let f = load(name);
        let steps = script(&f, &ca);
        let server = if f.security == Security::Tls {
            let cfg = server_config(&ca.issue(&[HOST], Validity::Valid), TlsVersions::Default);
            ScriptedServer::start_tls(cfg, steps)
        } else {
            ScriptedServer::start(steps)
        };
        // Exim's fixture is a port-25 dialogue: probe it as port 25.
        let port = if name.contains("smtp25") {
            25
        } else {
            server.port()
        };
        let net = net_with(
            &[(25, server.addr())],
            std::time::Duration::from_secs(5),
            Some(&ca_file),
        );
        let c = cand(f.protocol, port, f.security);
        let run = probe_all(net, &[c], &opts()).await;
        let p = &run.probes[0];
        assert_eq!(
            p.outcome,
            Outcome::Working { tls_valid: true },
            "{}: {}",
            f.name,
            super::dump(p)
        );
        assert!(
            server.failures().is_empty(),
            "{}: {:?}",
            f.name,
            server.failures()
        );
        let sent: Vec<String> = f
            .lines
            .iter()
            .filter(|(k, _)| *k == 'C')
            .map(|(_, l)| l.clone())
            .collect();
        let recorded: Vec<String> = p
            .transcript
            .as_ref()
            .unwrap()
            .iter()
            .filter(|l| l.dir == "C")
            .map(|l| l.line.clone())
            .collect();
        assert_eq!(recorded, sent, "{}", f.name);
        if !name.starts_with("literal") {
            let heard: Vec<String> = f
                .lines
                .iter()
                .filter(|(k, _)| *k == 'S')
                .map(|(_, l)| l.clone())
                .collect();
            let got: Vec<String> = transcript(p)
                .iter()
                .filter_map(|l| l.strip_prefix("S ").map(str::to_string))
                .collect();
            assert_eq!(got, heard, "{}", f.name);
        }
        assert!(
            p.greeting.is_some() && !p.capabilities.is_empty(),
            "{}",
            f.name
        );
        assert_eq!(
            codes(&run),
            want.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "{}: {:?}",
            f.name,
            run.findings
        );
    }
}

#[tokio::test]
async fn fixture_facts_capabilities_and_sasl() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let ca_file = ca.write_pem(tmp.path());
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "dovecot-imap-starttls.txt",
            "LOGINDISABLED",
            &["PLAIN", "LOGIN"],
        ),
        ("dovecot-pop3-stls.txt", "STLS", &["PLAIN", "LOGIN"]),
        ("postfix-submission.txt", "STARTTLS", &["PLAIN", "LOGIN"]),
        (
            "exchange-submission.txt",
            "AUTH GSSAPI NTLM",
            &["GSSAPI", "NTLM", "LOGIN"],
        ),
    ];
    for (name, plain_cap, sasl) in cases {
        let f = load(name);
        let server = ScriptedServer::start(script(&f, &ca));
        let net = net_with(&[], std::time::Duration::from_secs(5), Some(&ca_file));
        let p = mailprobe::probe::probe_one(
            &net,
            &cand(f.protocol, server.port(), f.security),
            &opts(),
        )
        .await;
        assert!(
            p.capabilities_plain.iter().any(|c| c == plain_cap),
            "{name}: {:?}",
            p.capabilities_plain
        );
        assert_eq!(
            p.sasl,
            sasl.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "{name}"
        );
        let names: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "resolve",
                "connect",
                "greeting",
                "capabilities",
                "starttls",
                "tls",
                "capabilities-tls",
                "logout"
            ],
            "{name}"
        );
    }
}

/// The parsers take any bytes without panicking (servers send anything).
#[test]
fn parsers_never_panic_on_arbitrary_bytes() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // Bytes biased towards the syntax the parsers look at.
    const ALPHABET: &[u8] =
        b"* +-.0123456789{}[]()\r\n\"OKNOBADBYEPREAUTHCAPABILITY=ERR\xff\xc3\x28a";
    for _ in 0..20_000 {
        let len = (next() % 40) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
            .collect();
        let _ = imap::parse_line(&bytes);
        let _ = imap::parse_greeting(&bytes);
        let _ = imap::literal_len(&bytes);
        let s = String::from_utf8_lossy(&bytes);
        let _ = imap::split_code(&s);
        let _ = imap::capabilities_from_untagged(&s);
        let _ = pop3::parse_status(&bytes);
        let _ = pop3::block_line(&bytes);
        let _ = smtp::line_code(&bytes);
        let lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(|l| l.to_vec()).collect();
        if let Ok(r) = smtp::parse_reply(&lines) {
            let _ = smtp::parse_ehlo(&r);
        }
        let _ = mailprobe::probe::parse_url(&s);
        let _ = mailprobe::probe::parse_url(&format!("imaps://{s}"));
    }
}

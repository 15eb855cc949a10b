//! Scripted servers that misbehave: silence, garbage, endless lines, drips, STARTTLS refused,
//! missing or broken, slow greetings, EHLO refused. Each must end as data (`Outcome::Failed`
//! with the right phase, or a finding), never as a hang or a panic.

use std::time::Duration;

use mailprobe::model::{Outcome, Protocol, Security, StepStatus};
use mailprobe::probe::{ProbeOptions, parse_url, probe_all, probe_one};

use super::{cand, codes, dump, error, net_with, opts, phase};
use crate::support::scripted::{ScriptedServer, Step};

const SHORT: Duration = Duration::from_millis(600);

#[tokio::test]
async fn no_greeting_times_out_at_the_greeting() {
    let s = ScriptedServer::blackhole();
    let net = net_with(&[], SHORT, None);
    let p = probe_one(
        &net,
        &cand(Protocol::Imap, s.port(), Security::Starttls),
        &opts(),
    )
    .await;
    assert_eq!(phase(&p), Some("greeting"), "{}", dump(&p));
    assert!(error(&p).contains("timed out"), "{}", error(&p));
    assert!(matches!(&p.outcome, Outcome::Failed { hint: Some(_), .. }));
    assert!(p.elapsed_ms < 5_000);
    // The failing step is in the list, failed and timed.
    let last = p.steps.last().unwrap();
    assert_eq!(
        (last.name.as_str(), last.status),
        ("greeting", StepStatus::Failed)
    );
    assert!(last.elapsed_ms >= 500, "{last:?}");
}

#[tokio::test]
async fn garbage_greeting_is_not_the_protocol() {
    let net = net_with(&[], SHORT, None);
    for proto in [Protocol::Imap, Protocol::Pop3, Protocol::Smtp] {
        let s = ScriptedServer::start(vec![Step::line("HTTP/1.1 400 Bad Request"), Step::Hang]);
        let p = probe_one(&net, &cand(proto, s.port(), Security::Starttls), &opts()).await;
        assert_eq!(phase(&p), Some("greeting"), "{proto:?}: {}", dump(&p));
        assert!(
            matches!(&p.outcome, Outcome::Failed { hint: Some(_), .. }),
            "{proto:?}"
        );
    }
}

#[tokio::test]
async fn endless_line_hits_the_cap() {
    let s = ScriptedServer::start(vec![Step::Send(vec![b'A'; 100_000]), Step::Hang]);
    let net = net_with(&[], Duration::from_secs(5), None);
    let p = probe_one(
        &net,
        &cand(Protocol::Smtp, s.port(), Security::Starttls),
        &opts(),
    )
    .await;
    assert_eq!(phase(&p), Some("greeting"));
    assert!(error(&p).contains("longer than"), "{}", error(&p));
    // Well before the 5 s timeout: the cap, not the clock, ended it.
    assert!(p.elapsed_ms < 4_000, "{}", p.elapsed_ms);
}

#[tokio::test]
async fn slow_drip_is_bounded_by_one_step_timeout() {
    let s = ScriptedServer::start(vec![Step::Drip {
        bytes: b"* OK a very slowly dripping server greeting\r\n".to_vec(),
        every: Duration::from_millis(50),
    }]);
    let net = net_with(&[], SHORT, None);
    let p = probe_one(
        &net,
        &cand(Protocol::Imap, s.port(), Security::Tls),
        &opts(),
    )
    .await;
    // Implicit TLS against a plain drip: the handshake itself sees non-TLS bytes or times out.
    assert!(matches!(phase(&p), Some("tls")), "{}", dump(&p));
    let p = probe_one(
        &net,
        &cand(Protocol::Imap, s.port(), Security::Starttls),
        &opts(),
    )
    .await;
    assert_eq!(phase(&p), Some("greeting"), "{}", dump(&p));
    assert!(error(&p).contains("timed out"));
    assert!(p.elapsed_ms < 2_000, "{}", p.elapsed_ms);
}

fn smtp_until_starttls(extra: &[&str]) -> Vec<Step> {
    let mut v = vec![
        Step::line("220 mail.example.test ESMTP"),
        Step::expect("EHLO"),
        Step::line("250-mail.example.test"),
    ];
    for e in extra {
        v.push(Step::line(&format!("250-{e}")));
    }
    v.push(Step::line("250 8BITMIME"));
    v
}

#[tokio::test]
async fn starttls_refused_is_starttls_failed() {
    let mut script = smtp_until_starttls(&["STARTTLS"]);
    script.extend([
        Step::expect("STARTTLS"),
        Step::line("454 4.7.0 TLS not available due to local problem"),
    ]);
    let s = ScriptedServer::start(script);
    let net = net_with(&[], SHORT, None);
    let run = probe_all(
        net,
        &[cand(Protocol::Smtp, s.port(), Security::Starttls)],
        &opts(),
    )
    .await;
    let p = &run.probes[0];
    assert_eq!(phase(p), Some("starttls"), "{}", dump(p));
    assert!(error(p).contains("454"), "{}", error(p));
    assert!(
        codes(&run).contains(&"starttls-failed".to_string()),
        "{:?}",
        run.findings
    );
}

#[tokio::test]
async fn connection_closed_mid_tls_is_a_tls_failure() {
    let mut script = smtp_until_starttls(&["STARTTLS"]);
    script.extend([
        Step::expect("STARTTLS"),
        Step::line("220 2.0.0 Ready to start TLS"),
        Step::ReadTlsRecord,
        Step::Close,
    ]);
    let s = ScriptedServer::start(script);
    let net = net_with(&[], SHORT, None);
    let run = probe_all(
        net,
        &[cand(Protocol::Smtp, s.port(), Security::Starttls)],
        &opts(),
    )
    .await;
    let p = &run.probes[0];
    assert_eq!(phase(p), Some("tls"), "{}", dump(p));
    assert!(
        codes(&run).contains(&"starttls-failed".to_string()),
        "{:?}",
        run.findings
    );
}

#[tokio::test]
async fn starttls_missing_fails_on_587_and_is_flagged_on_25() {
    let s = ScriptedServer::start({
        let mut v = smtp_until_starttls(&["AUTH PLAIN LOGIN"]);
        v.extend([Step::expect("QUIT"), Step::line("221 bye")]);
        v
    });
    let net = net_with(&[(25, s.addr())], SHORT, None);
    let run = probe_all(
        net.clone(),
        &[cand(Protocol::Smtp, s.port(), Security::Starttls)],
        &opts(),
    )
    .await;
    assert_eq!(
        phase(&run.probes[0]),
        Some("starttls"),
        "{}",
        dump(&run.probes[0])
    );
    let c = codes(&run);
    assert!(
        c.contains(&"starttls-missing".to_string()) && c.contains(&"auth-before-tls".to_string()),
        "{c:?}"
    );

    let run = probe_all(
        net,
        &[cand(Protocol::Smtp, 25, Security::Starttls)],
        &opts(),
    )
    .await;
    let p = &run.probes[0];
    assert_eq!(
        p.outcome,
        Outcome::Working { tls_valid: false },
        "{}",
        dump(p)
    );
    let st = p.steps.iter().find(|s| s.name == "starttls").unwrap();
    assert_eq!(st.status, StepStatus::Skipped);
    assert!(codes(&run).contains(&"starttls-missing".to_string()));
    // Port 25 is never the outgoing verdict.
    assert!(run.settings.outgoing.is_none());
}

#[tokio::test]
async fn slow_greeting_is_flagged_but_works() {
    let s = ScriptedServer::start(vec![
        Step::Sleep(Duration::from_millis(400)),
        Step::line("+OK ready"),
        Step::expect("CAPA"),
        Step::line("+OK"),
        Step::line("TOP"),
        Step::line(".."),
        Step::line("."),
        Step::expect("QUIT"),
        Step::line("+OK bye"),
    ]);
    let net = net_with(&[], Duration::from_secs(3), None);
    let o = ProbeOptions {
        slow_greeting: Duration::from_millis(150),
        ..opts()
    };
    let url = format!("pop3://mail.example.test:{}?security=plain", s.port());
    let run = probe_all(net, &[parse_url(&url).unwrap()], &o).await;
    let p = &run.probes[0];
    assert_eq!(
        p.outcome,
        Outcome::Working { tls_valid: false },
        "{}",
        dump(p)
    );
    // Dot-stuffed `..` is `.`.
    assert_eq!(p.capabilities_plain, vec!["TOP", "."]);
    let g = p.steps.iter().find(|s| s.name == "greeting").unwrap();
    assert_eq!(g.status, StepStatus::Warning);
    assert!(
        codes(&run).contains(&"slow-greeting".to_string()),
        "{:?}",
        run.findings
    );
    assert!(codes(&run).contains(&"plaintext-chosen".to_string()));
}

#[tokio::test]
async fn ehlo_refused_falls_back_to_helo() {
    let s = ScriptedServer::start(vec![
        Step::line("220-old.example.test"),
        Step::line("220 ancient SMTP"),
        Step::expect("EHLO"),
        Step::line("502 5.5.2 Error: command not recognized"),
        Step::expect("HELO"),
        Step::line("250 old.example.test"),
        Step::expect("QUIT"),
        Step::line("221 bye"),
    ]);
    let net = net_with(&[], SHORT, None);
    let url = format!("submission://mail.example.test:{}?security=plain", s.port());
    let p = probe_one(&net, &parse_url(&url).unwrap(), &opts()).await;
    assert_eq!(
        p.outcome,
        Outcome::Working { tls_valid: false },
        "{}",
        dump(&p)
    );
    assert_eq!(
        p.greeting.as_deref(),
        Some("220 old.example.test / ancient SMTP")
    );
    let caps = p.steps.iter().find(|s| s.name == "capabilities").unwrap();
    assert_eq!(caps.status, StepStatus::Warning);
}

#[tokio::test]
async fn imap_bye_greeting_and_starttls_no() {
    let s = ScriptedServer::start(vec![Step::line("* BYE Too many connections from your IP")]);
    let net = net_with(&[], SHORT, None);
    let p = probe_one(
        &net,
        &cand(Protocol::Imap, s.port(), Security::Starttls),
        &opts(),
    )
    .await;
    assert_eq!(phase(&p), Some("greeting"));
    assert!(error(&p).contains("Too many connections"));

    let s = ScriptedServer::start(vec![
        Step::line("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready"),
        Step::expect("a1 STARTTLS"),
        Step::line("a1 NO [UNAVAILABLE] TLS support isn't enabled"),
    ]);
    let run = probe_all(
        net,
        &[cand(Protocol::Imap, s.port(), Security::Starttls)],
        &opts(),
    )
    .await;
    assert_eq!(
        phase(&run.probes[0]),
        Some("starttls"),
        "{}",
        dump(&run.probes[0])
    );
    assert!(codes(&run).contains(&"starttls-failed".to_string()));
}

#[tokio::test]
async fn refusals_and_hangups_at_each_protocol() {
    let net = net_with(&[], SHORT, None);
    // SMTP 554 at connect: the server refuses this client.
    let s = ScriptedServer::start(vec![Step::line(
        "554 5.7.1 mx.example.test: your IP is listed",
    )]);
    let p = probe_one(
        &net,
        &cand(Protocol::Smtp, s.port(), Security::Starttls),
        &opts(),
    )
    .await;
    assert_eq!(phase(&p), Some("greeting"));
    assert!(matches!(&p.outcome, Outcome::Failed { hint: Some(h), .. } if h.contains("554")));
    // POP3 -ERR greeting.
    let s = ScriptedServer::start(vec![Step::line("-ERR [SYS/TEMP] too busy")]);
    let p = probe_one(
        &net,
        &cand(Protocol::Pop3, s.port(), Security::Starttls),
        &opts(),
    )
    .await;
    assert_eq!(phase(&p), Some("greeting"));
    // IMAP server that hangs up during CAPABILITY.
    let s = ScriptedServer::start(vec![
        Step::line("* OK ready"),
        Step::expect("a1 CAPABILITY"),
        Step::line("* BYE internal error"),
        Step::Close,
    ]);
    let p = probe_one(
        &net,
        &cand(Protocol::Imap, s.port(), Security::Starttls),
        &opts(),
    )
    .await;
    assert_eq!(phase(&p), Some("capabilities"), "{}", dump(&p));
    assert!(error(&p).contains("closed"), "{}", error(&p));
    // IMAP PREAUTH is a working greeting.
    let s = ScriptedServer::start(vec![
        Step::line("* PREAUTH [CAPABILITY IMAP4rev1] logged in"),
        Step::expect("a1 LOGOUT"),
        Step::line("* BYE"),
        Step::line("a1 OK bye"),
    ]);
    let url = format!("imap://mail.example.test:{}?security=plain", s.port());
    let p = probe_one(&net, &parse_url(&url).unwrap(), &opts()).await;
    assert_eq!(
        p.outcome,
        Outcome::Working { tls_valid: false },
        "{}",
        dump(&p)
    );
    // Connection refused: the connect step, with the address recorded.
    let dead = crate::support::scripted::closed_port();
    let p = probe_one(
        &net,
        &cand(Protocol::Imap, dead.port(), Security::Tls),
        &opts(),
    )
    .await;
    assert_eq!(phase(&p), Some("connect"), "{}", dump(&p));
    assert_eq!(p.addresses.len(), 1);
    assert_eq!(p.addresses[0].result, "refused");
}

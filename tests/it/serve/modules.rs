//! `/probe` with a `probe` module (a server URL, logging in), a `roundtrip` module (a message
//! submitted and found again) and an `audit` module, against the real Dovecot/Postfix stack. The
//! modules' credentials come by reference, a 0600 file and an environment variable; the password (and its SASL PLAIN
//! encoding) appears in no answer: not in the metrics, the `/` page, `/metrics`, nor any
//! `/report?id=` page or JSON, nor the exporter's log.

use std::os::unix::fs::PermissionsExt;

use base64::Engine;

use super::{promtool, value, world};
use crate::support::mailstack;
use crate::support::prometheus::{exporter_env, get};

/// bob on the shared stack: nobody else's test counts his mailbox, and the round trip deletes
/// its own message.
const USER: &str = "bob@example.test";

/// The modules; `server` reads its password from `password_file` (0600), the others from the
/// environment.
fn config(password_file: &std::path::Path) -> String {
    format!(
        "[serve]\nmin-interval = 300\n\n\
         [serve.modules.server]\ncommand = \"probe\"\ndeadline = 20\nuser = \"{USER}\"\npassword-file = \"{}\"\n\n\
         [serve.modules.delivery]\ncommand = \"roundtrip\"\ndeadline = 30\nwait = 30\nuser = \"{USER}\"\npassword-env = \"MP_MONITOR_PW\"\n\n\
         [serve.modules.inbound]\ncommand = \"audit\"\ndeadline = 20\n",
        password_file.display()
    )
}

/// Every form of the password a leak could take.
fn secret_forms(password: &str) -> Vec<String> {
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    vec![
        password.to_string(),
        b64(format!("\0{USER}\0{password}")),
        b64(password.to_string()),
    ]
}

fn assert_no_secret(what: &str, text: &str, forms: &[String]) {
    for f in forms {
        assert!(
            !text.contains(f.as_str()),
            "{what} holds the secret {f:?}:\n{text}"
        );
    }
}

fn first_lines(body: &str, n: usize) -> String {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .take(n)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn probe_roundtrip_and_audit_modules_answer_metrics_and_never_the_password() {
    let (_dns, args) = world();
    let password = mailstack::shared().password(USER).to_string();
    let forms = secret_forms(&password);
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("monitor.pw");
    std::fs::write(&pw_file, format!("{password}\n")).unwrap();
    std::fs::set_permissions(&pw_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (daemon, addr, log) =
        exporter_env(&config(&pw_file), &args, &[("MP_MONITOR_PW", &password)]);

    // probe: one server URL, with the login.
    let (code, probe) = get(
        addr,
        "/probe?target=imaps%3A%2F%2Fmail.example.test%3A993&module=server",
    );
    assert_eq!(code, 200, "{probe}");
    eprintln!("module server (probe):\n{}", first_lines(&probe, 14));
    assert_eq!(value(&probe, "mailprobe_success"), Some(1.0), "{probe}");
    for step in ["connect", "tls", "auth"] {
        let want = format!(
            "mailprobe_step_duration_seconds{{protocol=\"imap\",host=\"mail.example.test\",port=\"993\",security=\"tls\",step=\"{step}\"}}"
        );
        assert!(probe.contains(&want), "no {want}:\n{probe}");
    }
    assert!(
        probe.contains("mailprobe_probe_success{protocol=\"imap\",host=\"mail.example.test\",port=\"993\",security=\"tls\"} 1"),
        "{probe}"
    );
    promtool(&probe);

    // roundtrip: submission, then the message found over IMAP.
    let (code, rt) = get(addr, "/probe?target=bob%40example.test&module=delivery");
    assert_eq!(code, 200, "{rt}");
    eprintln!("module delivery (roundtrip):\n{}", first_lines(&rt, 14));
    assert_eq!(value(&rt, "mailprobe_success"), Some(1.0), "{rt}");
    let latency = value(&rt, "mailprobe_roundtrip_latency_seconds").expect("round-trip latency");
    assert!(latency > 0.0 && latency < 30.0, "{latency}");
    for protocol in ["imap", "smtp"] {
        let want = format!("mailprobe_step_duration_seconds{{protocol=\"{protocol}\"");
        assert!(rt.contains(&want), "no {want}:\n{rt}");
    }
    assert!(rt.contains("step=\"auth\"}"), "{rt}");
    promtool(&rt);

    // audit: a domain.
    let (code, audit) = get(addr, "/probe?target=example.test&module=inbound");
    assert_eq!(code, 200, "{audit}");
    eprintln!("module inbound (audit):\n{}", first_lines(&audit, 8));
    assert!(value(&audit, "mailprobe_status").is_some(), "{audit}");
    assert!(audit.contains("mailprobe_findings{severity=\""), "{audit}");
    // Port 25 of the MX (the real Postfix): reached, STARTTLS, TLS version and certificate.
    for metric in [
        "mailprobe_mx_reachable{host=\"mail.example.test\",ip=\"",
        "mailprobe_mx_starttls{host=\"mail.example.test\",ip=\"",
        "mailprobe_mx_tls_version_info{host=\"mail.example.test\",ip=\"",
        "mailprobe_mx_cert_remaining_seconds{host=\"mail.example.test\",ip=\"",
    ] {
        assert!(audit.contains(metric), "{metric}: {audit}");
    }
    assert!(
        audit
            .lines()
            .any(|l| l.starts_with("mailprobe_mx_starttls{") && l.ends_with(" 1")),
        "{audit}"
    );
    promtool(&audit);
    // A probe target is a server URL, an audit target a domain: anything else is 400.
    assert_eq!(get(addr, "/probe?target=example.test&module=server").0, 400);

    // No form of the password anywhere the exporter answers.
    let (_, index) = get(addr, "/");
    let (_, own) = get(addr, "/metrics");
    let mut pages = vec![
        ("probe", probe),
        ("roundtrip", rt),
        ("audit", audit),
        ("/metrics", own),
    ];
    let ids: Vec<String> = index
        .split("/report?id=")
        .skip(1)
        .map(|s| s.split(['"', '&']).next().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 3, "{index}");
    for id in &ids {
        let (code, html) = get(addr, &format!("/report?id={id}"));
        assert_eq!(code, 200);
        let (code, json) = get(addr, &format!("/report?id={id}&format=json"));
        assert_eq!(code, 200);
        pages.push(("report page", html));
        pages.push(("report JSON", json));
    }
    // The reports do hold the redacted login (so the test looks where a leak would be).
    assert!(
        pages
            .iter()
            .any(|(w, p)| *w == "report JSON" && p.contains("AUTHENTICATE")),
        "no login transcript in any report"
    );
    pages.push(("/", index));
    for (what, text) in &pages {
        assert_no_secret(what, text, &forms);
    }
    assert!(daemon.terminate().success());
    assert_no_secret("the exporter's log", &log.lock().unwrap(), &forms);
}

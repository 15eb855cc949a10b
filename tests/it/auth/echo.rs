//! Servers that echo the client's line back: for each mechanism (SASL PLAIN, LOGIN, CRAM-MD5,
//! XOAUTH2, OAUTHBEARER, IMAP `LOGIN`, POP3 `USER`/`PASS`) a scripted server quotes what it
//! received — and the decoded secret — in its replies. `probe --transcript` (human and JSON)
//! must show none of the secret's forms anywhere in stdout or stderr.

use mailprobe::auth::Secret;
use mailprobe::auth::sasl::{b64, cram_md5};

use crate::probe::HOST;
use crate::support::certs::{TestCa, TlsVersions, Validity, server_config};
use crate::support::cmd::mailprobe;
use crate::support::scripted::{ScriptedServer, Step};

const USER: &str = "alice@example.test";
const PW: &str = "Echo-Pw-93172";
const TOKEN: &str = "ya29.echo-token-93172";
const CHALLENGE: &str = "<1896.697170952@postoffice.example.test>";

/// Every form of the secrets a server could echo.
fn forms() -> Vec<String> {
    let pw = Secret::new(PW);
    let cram = cram_md5(USER, &pw, CHALLENGE.as_bytes());
    let cram_text = String::from_utf8(cram.clone()).unwrap();
    let digest = cram_text.rsplit(' ').next().unwrap().to_string();
    vec![
        PW.to_string(),
        b64(PW.as_bytes()),
        b64(format!("\0{USER}\0{PW}").as_bytes()),
        b64(&cram),
        digest,
        TOKEN.to_string(),
        b64(format!("user={USER}\x01auth=Bearer {TOKEN}\x01\x01").as_bytes()),
        b64(
            format!("n,a={USER},\x01host={HOST}\x01port=995\x01auth=Bearer {TOKEN}\x01\x01")
                .as_bytes(),
        ),
    ]
}

/// One case: the URL, the mechanism, the secret's flag, and the server's script after the
/// greeting and capabilities.
struct Case {
    url: &'static str,
    mech: &'static str,
    token: bool,
    script: Vec<Step>,
}

fn cases() -> Vec<Case> {
    let imap = |caps: &str, then: Vec<Step>| {
        let mut s = vec![
            Step::line("* OK ready"),
            Step::expect("a1 CAPABILITY"),
            Step::line(&format!("* CAPABILITY IMAP4rev1 {caps}\r\na1 OK")),
        ];
        s.extend(then);
        s.extend([Step::ReadLine, Step::line("* BYE\r\na3 OK")]);
        s
    };
    let pop3 = |then: Vec<Step>| {
        let mut s = vec![
            Step::line("+OK ready"),
            Step::expect("CAPA"),
            Step::line("+OK\r\nUSER\r\nSASL PLAIN OAUTHBEARER\r\n."),
        ];
        s.extend(then);
        s.extend([Step::ReadLine, Step::line("+OK bye")]);
        s
    };
    let smtp = |then: Vec<Step>| {
        let mut s = vec![
            Step::line("220 ready"),
            Step::expect("EHLO"),
            Step::line("250-scripted\r\n250 AUTH PLAIN LOGIN XOAUTH2"),
        ];
        s.extend(then);
        s.extend([Step::ReadLine, Step::line("221 bye")]);
        s
    };
    let decoded = format!("* NO you sent password {PW}");
    let cram = String::from_utf8(cram_md5(USER, &Secret::new(PW), CHALLENGE.as_bytes())).unwrap();
    vec![
        Case {
            url: "imaps://mail.example.test",
            mech: "PLAIN",
            token: false,
            script: imap(
                "AUTH=PLAIN SASL-IR",
                vec![
                    Step::echo("* BAD you said: ", ""),
                    Step::line(&decoded),
                    Step::line("a2 NO [AUTHENTICATIONFAILED] again"),
                ],
            ),
        },
        Case {
            url: "imaps://mail.example.test",
            mech: "LOGIN-CMD",
            token: false,
            script: imap(
                "AUTH=PLAIN",
                vec![Step::echo("", " NO [AUTHENTICATIONFAILED]")],
            ),
        },
        Case {
            url: "imaps://mail.example.test",
            mech: "CRAM-MD5",
            token: false,
            script: imap(
                "AUTH=CRAM-MD5",
                vec![
                    Step::expect("a2 AUTHENTICATE CRAM-MD5"),
                    Step::line(&format!("+ {}", b64(CHALLENGE.as_bytes()))),
                    Step::echo("* NO got ", ""),
                    Step::line(&format!("* NO decoded {cram}")),
                    Step::line("a2 NO [AUTHENTICATIONFAILED] no"),
                ],
            ),
        },
        Case {
            url: "smtps://mail.example.test",
            mech: "LOGIN",
            token: false,
            script: smtp(vec![
                Step::expect("AUTH LOGIN"),
                Step::line("334 VXNlcm5hbWU6"),
                Step::echo("334 ", ""),
                Step::echo("535-5.7.8 you said ", ""),
                Step::line(&format!("535 5.7.8 password {PW} is wrong")),
            ]),
        },
        Case {
            url: "smtps://mail.example.test",
            mech: "XOAUTH2",
            token: true,
            script: smtp(vec![
                Step::echo("535-5.7.8 you said ", ""),
                Step::line(&format!("535 5.7.8 token {TOKEN} rejected")),
            ]),
        },
        Case {
            url: "pop3s://mail.example.test",
            mech: "OAUTHBEARER",
            token: true,
            script: pop3(vec![Step::echo("-ERR you said ", &format!(" ({TOKEN})"))]),
        },
        Case {
            url: "pop3s://mail.example.test",
            mech: "USER-PASS",
            token: false,
            script: pop3(vec![
                Step::expect("USER"),
                Step::line("+OK"),
                Step::echo("-ERR [AUTH] you said ", ""),
            ]),
        },
    ]
}

#[test]
fn echoed_credentials_never_reach_the_output() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let ca_file = ca.write_pem(tmp.path());
    let cfg = server_config(&ca.issue(&[HOST], Validity::Valid), TlsVersions::Default);
    let forms = forms();
    for case in cases() {
        let srv = ScriptedServer::start_tls(cfg.clone(), case.script);
        let port = match case.url.split(':').next() {
            Some("imaps") => 993,
            Some("pop3s") => 995,
            _ => 465,
        };
        let secret_flag = if case.token {
            "--oauth-token-env"
        } else {
            "--password-env"
        };
        for format in [&["--format", "human"][..], &["--json"][..]] {
            let out = mailprobe()
                .env("MP_SECRET", if case.token { TOKEN } else { PW })
                .args(["probe", case.url, "--user", USER, "--transcript"])
                .args([secret_flag, "MP_SECRET", "--auth-mech", case.mech])
                .args(format)
                .arg("--ca-file")
                .arg(&ca_file)
                .arg("--connect-to")
                .arg(format!("{HOST}:{port}:127.0.0.1:{}", srv.port()))
                .output()
                .unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            for f in &forms {
                assert!(!all.contains(f.as_str()), "{}: {f:?} in:\n{all}", case.mech);
            }
            // The echo was recorded, scrubbed: the sent line and the echo both redacted.
            assert!(
                all.matches("<redacted>").count() >= 2,
                "{}: {all}",
                case.mech
            );
        }
        let sent = srv.lines().join("\n");
        assert!(
            forms.iter().any(|f| sent.contains(f.as_str())),
            "{}: the secret never went out: {sent}",
            case.mech
        );
    }
}

//! Local input: `check --batch` files (BOM, comments, CSV quoting, extra fields, rejected lines
//! and why, empty lists, size caps, which password variables a file may name) and the cap on a
//! password read from standard input or a FIFO. Addresses live under `example.test`, served
//! empty by the in-process DNS server: a line that gets checked fails fast and stays on loopback.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::cmd::mailprobe;
use crate::support::dns::{DnsServer, Zone};

/// Hermetic options for a batch whose checks find nothing quickly.
fn world_args(dns: &DnsServer) -> Vec<String> {
    [
        "--dns",
        &dns.arg(),
        "--ispdb-url",
        "https://ispdb.example.test/v1.1/",
        "--timeout",
        "2",
        "--deadline",
        "4",
    ]
    .map(String::from)
    .to_vec()
}

/// Run `check --batch - EXTRA…` on `input`; (stdout, stderr, exit code).
fn batch(input: &[u8], extra: &[&str], envs: &[(&str, &str)]) -> (String, String, i32) {
    let dns = DnsServer::start_zones(&[Zone::new("example.test")]);
    let out = mailprobe()
        .args(["check", "--batch", "-"])
        .args(world_args(&dns))
        .args(extra)
        .envs(envs.iter().copied())
        .write_stdin(input)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn json_lines(s: &str) -> Vec<Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn message(doc: &Value) -> String {
    doc["findings"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn bom_trailing_comments_csv_quoting_and_extra_fields() {
    let input = "\u{feff}alice@example.test  # the boss\n\
                 \"quoted,comma\"@example.test\n\
                 \"bob@example.test\",\"bob\"   # quoted fields\n\
                 carol@example.test,carol,MAILPROBE_CAROL,extra\n";
    let (out, err, _) = batch(input.as_bytes(), &["--json"], &[]);
    let docs = json_lines(&out);
    let addrs: Vec<&str> = docs
        .iter()
        .map(|d| d["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        addrs,
        [
            "alice@example.test",
            "\"quoted,comma\"@example.test",
            "bob@example.test",
            "carol@example.test"
        ],
        "{err}"
    );
    for d in &docs[..3] {
        assert_ne!(d["status"], "unknown", "{d:#}");
    }
    assert_eq!(docs[3]["status"], "unknown");
    assert_eq!(
        message(&docs[3]),
        "line 4: 4 fields; a line is address[,user[,password-env]]"
    );
}

#[test]
fn the_table_says_why_a_line_was_rejected() {
    let input = "dave@example.test,dave,MAILPROBE_DAVE_PW\nnot-an-address\n";
    let (out, _, code) = batch(input.as_bytes(), &[], &[]);
    assert_eq!(code, 3);
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("UNKNOWN")).collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(
        rows[0].ends_with("line 1: environment variable MAILPROBE_DAVE_PW is not set"),
        "{out}"
    );
    assert!(
        rows[1].contains("line 2: 'not-an-address' is not an email address"),
        "{out}"
    );
    insta::with_settings!({filters => vec![(r" +\d+ ms", " [ms]")]}, {
        insta::assert_snapshot!("batch_rejected_lines_table", out);
    });
}

#[test]
fn an_empty_or_comment_only_batch_is_unknown() {
    for input in [
        "",
        "\n  \n",
        "# nothing yet\n# still nothing\n",
        "\u{feff}address,user\n",
    ] {
        let (out, err, code) = batch(input.as_bytes(), &[], &[]);
        assert_eq!(code, 3, "{input:?}: {out}{err}");
        assert!(err.contains("holds no address"), "{input:?}: {err}");
        let (out, _, code) = batch(input.as_bytes(), &["--format", "nagios"], &[]);
        assert_eq!(code, 3);
        assert!(out.starts_with("MAILPROBE UNKNOWN"), "{out}");
    }
}

#[test]
fn a_batch_file_may_name_only_prefixed_password_variables() {
    let secret = "AKIA-not-for-mail-servers";
    let input = "alice@example.test,alice,AWS_SECRET_ACCESS_KEY\n";
    let (out, err, code) = batch(
        input.as_bytes(),
        &["--json"],
        &[("AWS_SECRET_ACCESS_KEY", secret)],
    );
    let docs = json_lines(&out);
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(docs[0]["status"], "unknown");
    assert_eq!(
        message(&docs[0]),
        "line 1: password variable AWS_SECRET_ACCESS_KEY does not start with MAILPROBE_ (a batch file may only name variables with the --password-env-prefix prefix)"
    );
    assert!(docs[0]["probes"].is_null(), "nothing was checked");
    // The prefix the user sets admits it (the check then runs and finds nothing).
    let (out, _, _) = batch(
        input.as_bytes(),
        &["--json", "--password-env-prefix", "AWS_"],
        &[("AWS_SECRET_ACCESS_KEY", secret)],
    );
    let docs = json_lines(&out);
    assert_ne!(docs[0]["status"], "unknown", "{:#}", docs[0]);
    assert!(!out.contains(secret));
    // --password-env, typed by the user, is not limited.
    let dns = DnsServer::start_zones(&[Zone::new("example.test")]);
    let o = mailprobe()
        .args(["check", "alice@example.test", "--json"])
        .args(world_args(&dns))
        .args(["--password-env", "AWS_SECRET_ACCESS_KEY"])
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .output()
        .unwrap();
    assert_ne!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn long_lines_and_endless_batch_input_are_bounded() {
    let long = format!("{}@example.test\n", "a".repeat(10_000));
    let (out, _, code) = batch(long.as_bytes(), &["--json"], &[]);
    assert_eq!(code, 3);
    let docs = json_lines(&out);
    assert_eq!(docs[0]["address"], format!("{}…", "a".repeat(80)));
    assert_eq!(message(&docs[0]), "line 1: longer than 4096 bytes");
    // /dev/zero: refused at the size cap, nothing echoed.
    let out = mailprobe()
        .args(["check", "--batch", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.len() + out.stderr.len() < 1024, "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("larger than 8 MiB"),
        "{out:?}"
    );
}

/// `mailprobe ARGS` under a 600 MB address-space limit (`ulimit -v`): an unbounded read of an
/// endless input aborts on allocation instead of eating the machine's memory.
fn capped(args: &[&str], stdin: Stdio) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin!("mailprobe");
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 600000 && exec \"$0\" \"$@\"")
        .arg(bin)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .stdin(stdin)
        .output()
        .unwrap()
}

#[test]
fn a_password_from_dev_zero_or_an_endless_fifo_is_capped() {
    // The password is read before any network traffic; the test DNS keeps it hermetic anyway.
    let dns = DnsServer::start_zones(&[Zone::new("example.test")]);
    let world = world_args(&dns);
    let mut args: Vec<&str> = vec!["check", "alice@example.test"];
    args.extend(world.iter().map(String::as_str));
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let out = capped(&[&args[..], &["--password-stdin"]].concat(), zero.into());
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: the password from standard input is longer than 4096 bytes"
    );

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pw");
    let made = Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    // An endless writer without a line end; it dies of SIGPIPE once the reader closes.
    let mut writer = Command::new("sh")
        .arg("-c")
        .arg("yes x | tr -d '\\n' > \"$0\"")
        .arg(&fifo)
        .spawn()
        .unwrap();
    let fifo_arg = fifo.display().to_string();
    let out = capped(
        &[&args[..], &["--password-file", &fifo_arg]].concat(),
        Stdio::null(),
    );
    let _ = writer.kill();
    let _ = writer.wait();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!("error: the password from {fifo_arg} is longer than 4096 bytes")
    );
}

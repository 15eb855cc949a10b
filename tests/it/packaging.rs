//! What packagers and fleets use: completions and the man page generate, `--version` names the
//! features, `--shard` splits a batch by domain, `--format openmetrics` passes `promtool`.

use std::collections::HashMap;
use std::process::Command;

fn mailprobe() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("mailprobe").expect("binary built");
    c.env("NO_COLOR", "1");
    c
}

#[test]
fn completions_and_man_page_generate() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, file, marker) in [
        ("bash", "mailprobe.bash", "complete -F"),
        ("zsh", "_mailprobe", "#compdef mailprobe"),
        ("fish", "mailprobe.fish", "complete -c mailprobe"),
        ("powershell", "_mailprobe.ps1", "Register-ArgumentCompleter"),
    ] {
        let out = mailprobe().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(marker), "{shell}: {text:.200}");
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    let out = mailprobe().arg("man").output().unwrap();
    assert!(out.status.success());
    let roff = String::from_utf8(out.stdout).unwrap();
    assert!(roff.contains(".TH mailprobe 1"), "{roff:.300}");
    assert!(roff.contains("completions"));
    let bad = mailprobe().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(3));
}

#[test]
fn version_names_database_date_and_features() {
    let out = mailprobe().arg("--version").output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("provider database 20") && s.contains("features: "),
        "{s}"
    );
}

fn audit_shard(file: &std::path::Path, shard: &str, format: &str) -> String {
    let out = mailprobe()
        .args([
            "audit",
            "--offline",
            "--format",
            format,
            "--shard",
            shard,
            "--batch",
        ])
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// `--offline` audits send no traffic (every domain is `dns-unavailable`), so the split itself
/// is what is tested: every line in exactly one shard, one domain never split.
#[test]
fn shards_take_every_line_once_and_keep_domains_together() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batch.txt");
    let mut lines = Vec::new();
    for i in 0..60 {
        lines.push(format!("user{i}@d{}.example", i % 13));
    }
    lines.push("x@BÜCHER.example".into());
    lines.push("y@xn--bcher-kva.example".into());
    std::fs::write(&file, lines.join("\n")).unwrap();
    let mut shard_of: HashMap<String, usize> = HashMap::new();
    let mut domain_shard: HashMap<String, usize> = HashMap::new();
    for k in 0..3 {
        for line in audit_shard(&file, &format!("{k}/3"), "json").lines() {
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            let addr = doc["address"].as_str().unwrap().to_string();
            let domain = doc["domain"].as_str().unwrap().to_string();
            assert!(shard_of.insert(addr.clone(), k).is_none(), "{addr} twice");
            let prev = domain_shard.insert(domain.clone(), k);
            assert!(prev.is_none() || prev == Some(k), "{domain} split");
        }
    }
    assert_eq!(shard_of.len(), lines.len());
    assert_eq!(
        domain_shard["xn--bcher-kva.example"],
        shard_of["x@BÜCHER.example"]
    );
    let bad = mailprobe()
        .args(["audit", "--offline", "--shard", "3/3", "--batch"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(3));
}

#[test]
fn openmetrics_output_passes_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batch.txt");
    std::fs::write(&file, "a@example.com\nexample.org\nb@example.net\n").unwrap();
    let text = audit_shard(&file, "0/1", "openmetrics");
    assert!(
        text.contains("mailprobe_success{target=\"a@example.com\"} 0"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"));
    let prom = dir.path().join("metrics.prom");
    std::fs::write(&prom, &text).unwrap();
    let out = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&prom).unwrap())
        .output()
        .expect("promtool (Debian package prometheus) is installed: scripts/test.sh installs it");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

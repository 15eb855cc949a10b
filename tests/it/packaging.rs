//! What packagers and fleets use: completions and the man page generate, `--version` names the
//! features, `--shard` splits a batch by domain, `--format openmetrics` passes `promtool`.

use std::collections::HashMap;
use std::path::Path;
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

/// `check --batch --shard K/N` splits as `audit` does (the same hash of the domain): against a
/// DNS server where no domain exists, each address is one quick NXDOMAIN report.
#[test]
fn check_batch_shards_take_every_line_once_and_keep_domains_together() {
    let dns =
        crate::support::dns::DnsServer::start_zones(&[crate::support::dns::Zone::new("test")]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batch.txt");
    let lines: Vec<String> = (0..26)
        .map(|i| format!("user{i}@d{}.test", i % 7))
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let mut shard_of: HashMap<String, usize> = HashMap::new();
    let mut domain_shard: HashMap<String, usize> = HashMap::new();
    for k in 0..3 {
        let out = mailprobe()
            .args(["check", "--json", "--timeout", "1", "--dns", &dns.arg()])
            .args([
                "--ispdb-url",
                "http://127.0.0.1:9/",
                "--shard",
                &format!("{k}/3"),
            ])
            .arg("--batch")
            .arg(&file)
            .output()
            .unwrap();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            let addr = doc["address"].as_str().unwrap().to_string();
            let domain = doc["domain"].as_str().unwrap().to_string();
            assert_eq!(doc["findings"][0]["code"], "domain-not-found", "{line}");
            assert!(shard_of.insert(addr.clone(), k).is_none(), "{addr} twice");
            let prev = domain_shard.insert(domain.clone(), k);
            assert!(prev.is_none() || prev == Some(k), "{domain} split");
        }
    }
    assert_eq!(shard_of.len(), lines.len());
    // The same split as audit's: the shard of each domain is FNV-1a 64 of it, mod 3.
    let audit_file = dir.path().join("domains.txt");
    std::fs::write(&audit_file, lines.join("\n")).unwrap();
    for k in 0..3 {
        for line in audit_shard(&audit_file, &format!("{k}/3"), "json").lines() {
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(shard_of[doc["address"].as_str().unwrap()], k, "{line}");
        }
    }
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

/// Every file `[package.metadata.deb]` packages exists after the README's generation step
/// (`scripts/package-assets.sh`, here with this build's binary and a temp folder), and the
/// package puts the binary, the manual page and the completions where Debian looks for them.
#[test]
fn deb_assets_exist_after_the_generation_step_and_install_where_debian_looks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
    let assets = manifest["package"]["metadata"]["deb"]["assets"]
        .as_array()
        .expect("[package.metadata.deb] assets");
    let bin = assert_cmd::cargo::cargo_bin!("mailprobe");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(root.join("scripts/package-assets.sh"))
        .env("MAILPROBE_BIN", bin)
        .env("ASSETS_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut installed = Vec::new();
    for a in assets {
        let a: Vec<&str> = a
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let [src, dest, mode] = a[..] else {
            panic!("asset {a:?}: expected [source, dest, mode]")
        };
        // cargo-deb reads `target/release/` as the real target directory.
        let file = match src.strip_prefix("target/release/") {
            Some("mailprobe") => bin.to_path_buf(),
            Some(rest) => dir
                .path()
                .join(rest.strip_prefix("assets/").unwrap_or_else(|| {
                    panic!("{src}: only the binary and target/release/assets/ are generated")
                })),
            None => root.join(src),
        };
        assert!(file.is_file(), "{src} is missing after the generation step");
        let name = Path::new(src).file_name().unwrap().to_str().unwrap();
        let to = match dest.strip_suffix('/') {
            Some(d) => format!("{d}/{name}"),
            None => dest.to_string(),
        };
        installed.push((to, mode));
    }
    for want in [
        ("usr/bin/mailprobe", "755"),
        ("usr/share/man/man1/mailprobe.1.gz", "644"),
        ("usr/share/bash-completion/completions/mailprobe", "644"),
        ("usr/share/zsh/vendor-completions/_mailprobe", "644"),
        ("usr/share/fish/vendor_completions.d/mailprobe.fish", "644"),
    ] {
        assert!(
            installed.iter().any(|(d, m)| d == want.0 && *m == want.1),
            "{want:?} not in {installed:?}"
        );
    }
    let man = Command::new("gzip")
        .arg("-dc")
        .arg(dir.path().join("mailprobe.1.gz"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&man.stdout).contains(".TH mailprobe 1"));
}

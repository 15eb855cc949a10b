//! Build script: validates the built-in provider database (`provider-db/*.toml`) and embeds it.
//!
//! Every provider file is parsed and checked by `src/provider_db/source.rs` (the same code the
//! library's unit tests exercise). A malformed file stops the build with
//! `error: provider-db/<file>:<line>: <message>`. The result is one compact JSON file in OUT_DIR,
//! which the library embeds with `include_str!`; `_meta.toml`'s date becomes `MAILPROBE_DB_DATE`.
//! Provenance (`sources`, `verified`) is checked too: no `verified` date after the database date.

use std::path::Path;

use serde::{Deserialize, Serialize};

#[allow(dead_code)]
#[path = "src/provider_db/model.rs"]
mod model;
#[allow(dead_code)]
#[path = "src/provider_db/source.rs"]
mod source;

/// Serde twin of `report::Protocol` (same wire names), so `model.rs` compiles here too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Protocol {
    Imap,
    Pop3,
    Smtp,
}

/// Serde twin of `report::Security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Security {
    Tls,
    Starttls,
    Plain,
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    println!("cargo::error={msg}");
    std::process::exit(1);
}

fn read(path: &Path, shown: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{shown}: cannot read: {e}")))
}

fn main() {
    let dir = Path::new("provider-db");
    println!("cargo::rerun-if-changed=provider-db");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| fail(&format!("provider-db: cannot list: {e}")))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();

    let mut date = None;
    let mut parsed = Vec::new();
    for path in &files {
        println!("cargo::rerun-if-changed={}", path.display());
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let shown = format!("provider-db/{stem}.toml");
        let text = read(path, &shown);
        if stem == "_meta" {
            date = Some(source::parse_meta(&shown, &text).unwrap_or_else(|e| fail(&e)));
        } else {
            parsed.push(source::parse_provider(&shown, stem, &text).unwrap_or_else(|e| fail(&e)));
        }
    }
    let date = date.unwrap_or_else(|| fail("provider-db/_meta.toml is missing"));
    if parsed.is_empty() {
        fail("provider-db/ holds no provider file");
    }
    source::check_unique(&parsed).unwrap_or_else(|e| fail(&e));
    source::check_dates(&parsed, &date).unwrap_or_else(|e| fail(&e));

    let providers: Vec<model::Provider> = parsed.into_iter().map(|p| p.provider).collect();
    let json = serde_json::to_string(&providers)
        .unwrap_or_else(|e| fail(&format!("cannot serialise the database: {e}")));
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| fail("OUT_DIR is not set"));
    std::fs::write(Path::new(&out).join("provider_db.json"), json)
        .unwrap_or_else(|e| fail(&format!("cannot write provider_db.json: {e}")));
    println!("cargo::rustc-env=MAILPROBE_DB_DATE={date}");
    println!("cargo::rustc-env=MAILPROBE_FEATURES={}", features());
}

/// The enabled Cargo features (`CARGO_FEATURE_<NAME>`, Cargo reference "Environment variables
/// Cargo sets for build scripts"), lowercase with dashes, sorted, `default` left out; "none" when there are none.
fn features() -> String {
    let mut names: Vec<String> = std::env::vars()
        .filter_map(|(k, _)| k.strip_prefix("CARGO_FEATURE_").map(str::to_string))
        .map(|n| n.to_ascii_lowercase().replace('_', "-"))
        .filter(|n| n != "default")
        .collect();
    names.sort();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

//! The codes' wire names and the README's table of them.

use super::*;

#[test]
fn wire_names_are_the_serde_names_and_unique() {
    let mut seen = std::collections::BTreeSet::new();
    for c in FindingCode::ALL {
        let json = serde_json::to_string(c).unwrap();
        assert_eq!(json, format!("\"{}\"", c.as_str()));
        assert!(seen.insert(c.as_str()), "{c} twice");
        let back: FindingCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back, *c);
    }
}

#[test]
fn the_readme_lists_every_code_with_its_severity() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("## Finding codes")
        .nth(1)
        .expect("README has a Finding codes section");
    for c in FindingCode::ALL {
        let row = format!("| `{c}` | {} |", c.documented_severity());
        assert!(section.contains(&row), "README lacks the row {row}");
    }
}

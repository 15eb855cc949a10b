//! `audit --batch` reads its input with `check --batch`'s parser: a byte-order mark, `#`
//! comments (also after a domain), CSV quoting, a header line, extra columns ignored, and every
//! bad line an UNKNOWN result naming its line number — the others audited, in input order.

use super::World;
use crate::support::cmd::mailprobe;
use crate::support::dns::Zone;

#[test]
fn batch_input_is_parsed_like_check_batch_with_line_numbered_errors() {
    // Null MX domains: nothing to probe on port 25, each audit is a handful of lookups.
    let zones = ["one.test", "two.test"].map(|d| {
        Zone::new(d)
            .raw("@ MX 0 .")
            .txt("@", "v=spf1 -all")
            .txt("_dmarc", "v=DMARC1; p=reject")
    });
    let w = World::new(&zones, vec![]);
    let mut input = b"\xEF\xBB\xBFaddress,user,password-env\n".to_vec();
    input.extend_from_slice(b"# the domains we host\n");
    input.extend_from_slice(b"\"one.test\"\n"); // line 3: CSV-quoted
    input.extend_from_slice(b"two.test   # the other one\n"); // line 4: trailing comment
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"postmaster@one.test,postmaster,ANY_VARIABLE\n"); // line 6
    input.extend_from_slice(b"a,b,c,d\n"); // line 7: four fields
    input.extend_from_slice(b"\xFF\xFE.test\n"); // line 8: not UTF-8
    input.extend_from_slice(&[b'x'; 5000]); // line 9: too long
    input.push(b'\n');
    input.extend_from_slice(b"not a domain\n"); // line 10
    let out = mailprobe()
        .args(["audit", "--batch", "-", "--json"])
        .args(w.args())
        .write_stdin(input)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let docs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let who: Vec<&str> = docs
        .iter()
        .map(|d| d["domain"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        who[..3],
        ["one.test", "two.test", "one.test"],
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for d in &docs[..3] {
        assert_ne!(d["status"], "unknown", "{d:#}");
    }
    let bad: Vec<String> = docs[3..]
        .iter()
        .map(|d| {
            assert_eq!(d["status"], "unknown", "{d:#}");
            assert_eq!(d["findings"][0]["code"], "invalid-input");
            d["findings"][0]["message"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(bad.len(), 4, "{bad:?}");
    for (msg, line, why) in [
        (&bad[0], 7, "4 fields"),
        (&bad[1], 8, "not UTF-8"),
        (&bad[2], 9, "longer than 4096 bytes"),
        (&bad[3], 10, ""),
    ] {
        assert!(
            msg.starts_with(&format!("line {line}: ")) && msg.contains(why),
            "{msg}"
        );
    }
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn an_audit_batch_of_only_comments_is_a_usage_error() {
    let w = World::new(&[Zone::new("one.test")], vec![]);
    let out = mailprobe()
        .args(["audit", "--batch", "-"])
        .args(w.args())
        .write_stdin(&b"\xEF\xBB\xBF# nothing here\n\n   # still nothing\n"[..])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("names no domain"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A line's text comes back in its report: JSON Lines write C1 and bidi characters as `\uXXXX`
/// escapes (the same string value), as `check --batch` does, never raw to a terminal.
#[test]
fn hostile_text_in_a_batch_line_is_escaped_in_json_lines() {
    let out = mailprobe()
        .args(["audit", "--offline", "--json", "--batch", "-"])
        .write_stdin("x\u{202e}y.example\nz\u{9b}31m.example\n")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        !text.contains('\u{202e}') && !text.contains('\u{9b}'),
        "{text}"
    );
    assert!(
        text.contains(r"x\u202ey.example") && text.contains(r"z\u009b31m.example"),
        "{text}"
    );
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["status"], "unknown", "{line}");
    }
}

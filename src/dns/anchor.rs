//! Trust anchor files (`--trust-anchor FILE`): DS or DNSKEY records in zone-file presentation
//! format (RFC 1035 §5.1, RFC 4034 §2.2 and §5.3), as unbound's `trust-anchor-file` reads
//! them, for any zone: the root, a TLD, or a private or test zone such as `example.test.`.
//!
//! The file is cut into records here (comments, parentheses, `$ORIGIN`, `$TTL`), so that every
//! problem names its line; the RDATA of each record is decoded by hickory's zone-file parsers.

use std::path::Path;

use hickory_resolver::proto::dnssec::Verifier;
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS};
use hickory_resolver::proto::rr::{Name, RData};
use hickory_resolver::proto::serialize::txt::{Parser, parse_ttl, trust_anchor};
use thiserror::Error;

/// The largest trust anchor file read: the root's own anchors are a few hundred bytes.
pub(crate) const MAX_ANCHOR_FILE: u64 = 256 * 1024;

/// Why a trust anchor file cannot be used (a usage error, exit 3).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("--trust-anchor {path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct AnchorError {
    pub path: String,
    /// 1-based line where the record at fault starts, when there is one.
    pub line: Option<usize>,
    pub message: String,
}

/// The key material of one anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AnchorKey {
    /// A digest of the zone's key-signing key (RFC 4034 §5).
    Ds(DS),
    /// The key itself (RFC 4034 §2).
    Dnskey(DNSKEY),
}

/// One trust anchor: a zone and the key (or key digest) that starts its chain of trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Anchor {
    /// The zone, lowercase, absolute (`example.test.`; the root is `.`).
    pub zone: String,
    /// `DS` or `DNSKEY`.
    pub kind: &'static str,
    /// 1-based line of the record in its file.
    pub line: usize,
    /// The key tag (RFC 4034 Appendix B) of the key it names.
    pub key_tag: u16,
    /// The DNSSEC algorithm number (13 = ECDSA P-256, 15 = Ed25519, 8 = RSA/SHA-256, …).
    pub algorithm: u8,
    pub(crate) key: AnchorKey,
}

impl Anchor {
    pub(crate) fn name(&self) -> Name {
        Name::from_ascii(&self.zone).unwrap_or_else(|_| Name::root())
    }
}

/// Every anchor of one file, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnchorSet {
    pub(crate) anchors: Vec<Anchor>,
}

impl AnchorSet {
    /// Read and parse `path` (at most [`MAX_ANCHOR_FILE`] bytes, UTF-8).
    pub fn load(path: &Path) -> Result<AnchorSet, AnchorError> {
        let shown = path.display().to_string();
        let err = |message: String| AnchorError {
            path: shown.clone(),
            line: None,
            message,
        };
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        if !meta.is_file() {
            return Err(err("not a regular file".into()));
        }
        if meta.len() > MAX_ANCHOR_FILE {
            return Err(err(format!(
                "{} bytes: larger than the {MAX_ANCHOR_FILE}-byte limit",
                meta.len()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| err("not UTF-8 text".into()))?;
        Self::parse(&text, &shown)
    }

    /// Parse the text of a trust anchor file; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<AnchorSet, AnchorError> {
        let err = |line: usize, message: String| AnchorError {
            path: source.to_string(),
            line: Some(line),
            message,
        };
        let mut anchors = Vec::new();
        let mut origin: Option<String> = None;
        let mut last_owner: Option<String> = None;
        for rec in split(text).map_err(|(l, m)| err(l, m))? {
            let (line, owner_given, tokens) = (rec.line, rec.owner_given, rec.tokens);
            if tokens[0].starts_with('$') {
                origin = directive(&tokens)
                    .map_err(|m| err(line, m))?
                    .or(origin.take());
                continue;
            }
            let (owner, rest) = if owner_given {
                let o = absolute(&tokens[0], origin.as_deref()).map_err(|m| err(line, m))?;
                (o, &tokens[1..])
            } else {
                let o = last_owner
                    .clone()
                    .ok_or_else(|| err(line, "a record without an owner name".into()))?;
                (o, &tokens[..])
            };
            last_owner = Some(owner.clone());
            let anchor = record(&owner, rest, line).map_err(|m| err(line, m))?;
            anchors.push(anchor);
        }
        if anchors.is_empty() {
            return Err(AnchorError {
                path: source.to_string(),
                line: None,
                message: "no DS or DNSKEY record in the file".into(),
            });
        }
        Ok(AnchorSet { anchors })
    }

    /// The anchored zones, each once, in file order.
    pub fn zones(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in &self.anchors {
            if !out.contains(&a.zone) {
                out.push(a.zone.clone());
            }
        }
        out
    }
}

/// One logical record: its first line, whether it starts with an owner name (a line starting
/// with a blank repeats the previous owner, RFC 1035 §5.1) and its tokens.
struct Logical {
    line: usize,
    owner_given: bool,
    tokens: Vec<String>,
}

/// Cut the text into logical records: `;` starts a comment, `( … )` continues a record over
/// line ends (RFC 1035 §5.1). Quoted strings never occur in DS or DNSKEY records.
fn split(text: &str) -> Result<Vec<Logical>, (usize, String)> {
    let mut out = Vec::new();
    let mut cur: Option<Logical> = None;
    let mut depth = 0usize;
    let mut open_line = 0usize;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let content = raw.split(';').next().unwrap_or("");
        if content.contains('"') {
            return Err((
                n,
                "quoted text has no place in a DS or DNSKEY record".into(),
            ));
        }
        if depth == 0 {
            if let Some(done) = cur.take() {
                out.push(done);
            }
            if content.trim().is_empty() {
                continue;
            }
            cur = Some(Logical {
                line: n,
                owner_given: !content.starts_with([' ', '\t']),
                tokens: Vec::new(),
            });
        }
        let rec = cur.as_mut().expect("a record is open");
        for word in content
            .replace('(', " ( ")
            .replace(')', " ) ")
            .split_whitespace()
        {
            match word {
                "(" => {
                    if depth == 0 {
                        open_line = n;
                    }
                    depth += 1;
                }
                ")" => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or((n, "')' without a matching '('".to_string()))?;
                }
                w => rec.tokens.push(w.to_string()),
            }
        }
    }
    if depth > 0 {
        return Err((open_line, "'(' is never closed".into()));
    }
    out.extend(cur.filter(|c| !c.tokens.is_empty()));
    Ok(out)
}

/// `$ORIGIN name` gives the new origin; `$TTL` is accepted and ignored (anchors have no TTL).
fn directive(tokens: &[String]) -> Result<Option<String>, String> {
    match (tokens[0].to_ascii_uppercase().as_str(), tokens.len()) {
        ("$ORIGIN", 2) => absolute(&tokens[1], None).map(Some),
        ("$TTL", 2) => parse_ttl(&tokens[1])
            .map(|_| None)
            .map_err(|e| format!("$TTL: {e}")),
        ("$ORIGIN" | "$TTL", _) => Err(format!("{} takes exactly one value", tokens[0])),
        (d, _) => Err(format!("{d} is not supported in a trust anchor file")),
    }
}

/// The owner as an absolute lowercase name: `@` and relative names need an `$ORIGIN`.
fn absolute(owner: &str, origin: Option<&str>) -> Result<String, String> {
    let full = match (owner, origin) {
        ("@", Some(o)) => o.to_string(),
        (o, _) if o.ends_with('.') => o.to_string(),
        (o, Some(".")) => format!("{o}."),
        (o, Some(origin)) => format!("{o}.{origin}"),
        (o, None) => {
            return Err(format!(
                "owner name '{o}' is relative: end it with a dot or set $ORIGIN"
            ));
        }
    };
    let name = Name::from_ascii(&full).map_err(|e| format!("owner name '{owner}': {e}"))?;
    Ok(name.to_ascii().to_ascii_lowercase())
}

/// `[TTL] [CLASS] TYPE RDATA…` (TTL and class in either order) of one record of `owner`.
fn record(owner: &str, tokens: &[String], line: usize) -> Result<Anchor, String> {
    let mut rest = tokens;
    for _ in 0..2 {
        match rest.first().map(|t| t.to_ascii_uppercase()) {
            Some(t) if t == "IN" => rest = &rest[1..],
            Some(t) if ["CH", "HS", "CS", "NONE", "ANY"].contains(&t.as_str()) => {
                return Err(format!("class {t}: trust anchors are in class IN"));
            }
            Some(t) if t.starts_with(|c: char| c.is_ascii_digit()) => {
                parse_ttl(&t).map_err(|e| format!("TTL '{t}': {e}"))?;
                rest = &rest[1..];
            }
            _ => break,
        }
    }
    let Some((rtype, rdata)) = rest.split_first() else {
        return Err("the record has no type".into());
    };
    let rdata = rdata.join(" ");
    let key = match rtype.to_ascii_uppercase().as_str() {
        "DS" => AnchorKey::Ds(parse_ds(owner, &rdata)?),
        "DNSKEY" => AnchorKey::Dnskey(parse_dnskey(owner, &rdata)?),
        other => {
            return Err(format!(
                "{other} record: a trust anchor is a DS or DNSKEY record"
            ));
        }
    };
    let (kind, key_tag, algorithm) = match &key {
        AnchorKey::Ds(ds) => ("DS", ds.key_tag(), u8::from(ds.algorithm())),
        AnchorKey::Dnskey(k) => (
            "DNSKEY",
            k.calculate_key_tag()
                .map_err(|e| format!("DNSKEY record: {e}"))?,
            u8::from(k.algorithm()),
        ),
    };
    Ok(Anchor {
        zone: owner.to_string(),
        kind,
        line,
        key_tag,
        algorithm,
        key,
    })
}

/// DS RDATA (RFC 4034 §5.3) through hickory's zone-file parser; algorithm and digest type
/// must be ones the validator implements.
fn parse_ds(owner: &str, rdata: &str) -> Result<DS, String> {
    let text = format!("{owner} 3600 IN DS {rdata}\n");
    let (_, records) = Parser::new(text.as_str(), None, Some(Name::root()))
        .parse()
        .map_err(|e| format!("DS record: {e}"))?;
    let ds = records
        .values()
        .flat_map(|set| set.records_without_rrsigs())
        .find_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DS(ds)) => Some(ds.clone()),
            _ => None,
        })
        .ok_or("DS record: no RDATA")?;
    if !ds.algorithm().is_supported() {
        return Err(format!(
            "DS record: algorithm {} is not supported",
            ds.algorithm()
        ));
    }
    if !ds.digest_type().is_supported() {
        return Err(format!(
            "DS record: digest type {:?} is not supported",
            ds.digest_type()
        ));
    }
    let want = match u8::from(ds.digest_type()) {
        1 => 20,
        2 => 32,
        4 => 48,
        _ => ds.digest().len(),
    };
    if ds.digest().len() != want {
        return Err(format!(
            "DS record: the digest has {} bytes, its type needs {want}",
            ds.digest().len()
        ));
    }
    Ok(ds)
}

/// DNSKEY RDATA (RFC 4034 §2.2) through hickory's trust anchor parser: a zone key
/// (flag bit 7), protocol 3, not revoked (RFC 5011 §3), of an algorithm the validator implements.
fn parse_dnskey(owner: &str, rdata: &str) -> Result<DNSKEY, String> {
    let text = format!("{owner} IN DNSKEY {rdata}\n");
    let entries = trust_anchor::Parser::new(text.as_str())
        .parse()
        .map_err(|e| format!("DNSKEY record: {e}"))?;
    let key = entries
        .into_iter()
        .find_map(|e| match e {
            trust_anchor::Entry::DNSKEY(r) => Some(r.data().clone()),
            _ => None,
        })
        .ok_or("DNSKEY record: no RDATA")?;
    if !key.zone_key() {
        return Err("DNSKEY record: not a zone key (flag bit 7 is clear)".into());
    }
    if key.revoke() {
        return Err("DNSKEY record: the key is revoked (flag bit 8, RFC 5011)".into());
    }
    if !key.algorithm().is_supported() {
        return Err(format!(
            "DNSKEY record: algorithm {} is not supported",
            key.algorithm()
        ));
    }
    Verifier::key(&key).map_err(|e| format!("DNSKEY record: the public key: {e}"))?;
    Ok(key)
}

#[cfg(test)]
#[path = "anchor_tests.rs"]
mod tests;

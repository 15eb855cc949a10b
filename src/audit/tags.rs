//! Tag-value lists (RFC 6376 §3.2, used by DKIM, DMARC, MTA-STS and TLS-RPT records): the lint
//! needs the raw tags that the record parsers of mail-auth do not keep (DMARC `pct`, DKIM `t`,
//! duplicated tags).

/// `tag=value` pairs in order, names lowercased, values trimmed; empty segments skipped.
pub fn parse(record: &str) -> Vec<(String, String)> {
    record
        .split(';')
        .filter_map(|seg| {
            let seg = seg.trim();
            if seg.is_empty() {
                return None;
            }
            let (k, v) = seg.split_once('=').unwrap_or((seg, ""));
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect()
}

/// The value of the first `name` tag.
pub fn get<'a>(tags: &'a [(String, String)], name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Does the record start with `v=<version>` (case-insensitive, spaces around `=` allowed)?
pub(crate) fn has_version(record: &str, version: &str) -> bool {
    let first = record.split(';').next().unwrap_or_default();
    match first.split_once('=') {
        Some((k, v)) => {
            k.trim().eq_ignore_ascii_case("v") && v.trim().eq_ignore_ascii_case(version)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_in_order() {
        let t = parse("v=DMARC1; p=reject ;pct=50;; rua=mailto:a@b.test");
        assert_eq!(get(&t, "pct"), Some("50"));
        assert_eq!(get(&t, "rua"), Some("mailto:a@b.test"));
        assert_eq!(t.len(), 4);
        assert!(has_version("v = DMARC1; p=none", "DMARC1"));
        assert!(!has_version("p=none; v=DMARC1", "DMARC1"));
        assert!(has_version("v=STSv1", "STSv1"));
    }
}

//! Lookup indexes over the embedded providers: exact and wildcard domains, exact and glob MX
//! host patterns. Built once, on first use.

use std::collections::HashMap;

use super::model::Provider;

pub(super) struct Index {
    pub(super) providers: Vec<Provider>,
    /// Exact domain → provider index.
    domains: HashMap<String, usize>,
    /// `*.parent` entries, keyed by `parent`.
    wildcards: HashMap<String, usize>,
    /// MX patterns without `*`.
    mx_exact: HashMap<String, usize>,
    /// MX patterns with `*`, longest first so the most specific one wins.
    mx_globs: Vec<(String, usize)>,
}

/// Lowercase and drop the trailing root dot (DNS names compare case-insensitively, RFC 4343).
fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl Index {
    pub(super) fn new(mut providers: Vec<Provider>) -> Self {
        providers.sort_by(|a, b| a.id.cmp(&b.id));
        let mut ix = Index {
            providers: Vec::new(),
            domains: HashMap::new(),
            wildcards: HashMap::new(),
            mx_exact: HashMap::new(),
            mx_globs: Vec::new(),
        };
        for (i, p) in providers.iter().enumerate() {
            for d in &p.domains {
                match d.strip_prefix("*.") {
                    Some(parent) => ix.wildcards.insert(parent.to_string(), i),
                    None => ix.domains.insert(d.clone(), i),
                };
            }
            for m in &p.mx {
                if m.contains('*') {
                    ix.mx_globs.push((m.clone(), i));
                } else {
                    ix.mx_exact.insert(m.clone(), i);
                }
            }
        }
        ix.mx_globs
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        ix.providers = providers;
        ix
    }

    pub(super) fn by_domain(&self, domain: &str) -> Option<&Provider> {
        let d = normalise(domain);
        if let Some(&i) = self.domains.get(&d) {
            return Some(&self.providers[i]);
        }
        // `*.parent` matches every name below parent, the nearest parent first.
        let mut rest = d.as_str();
        while let Some((_, parent)) = rest.split_once('.') {
            if let Some(&i) = self.wildcards.get(parent) {
                return Some(&self.providers[i]);
            }
            rest = parent;
        }
        None
    }

    pub(super) fn by_mx(&self, host: &str) -> Option<&Provider> {
        let h = normalise(host);
        if let Some(&i) = self.mx_exact.get(&h) {
            return Some(&self.providers[i]);
        }
        self.mx_globs
            .iter()
            .find(|(p, _)| glob(p.as_bytes(), h.as_bytes()))
            .map(|&(_, i)| &self.providers[i])
    }
}

/// `*` matches any run of characters (also dots and the empty run); everything else literally.
pub(super) fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            back = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((bp, bt)) = back {
            p = bp + 1;
            t = bt + 1;
            back = Some((bp, bt + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_table() {
        let cases = [
            ("*.aspmx.l.google.com", "alt1.aspmx.l.google.com", true),
            ("*.aspmx.l.google.com", "aspmx.l.google.com", false),
            ("mx*.gmx.net", "mx00.gmx.net", true),
            ("mx*.gmx.net", "mx.gmx.net", true),
            ("mx*.gmx.net", "mx00.gmx.net.evil.example", false),
            ("mx.zoho.*", "mx.zoho.eu", true),
            ("mx.zoho.*", "mx2.zoho.eu", false),
            (
                "*.mail.protection.outlook.com",
                "contoso-com.mail.protection.outlook.com",
                true,
            ),
            ("a*b*c.example", "axxbyyc.example", true),
            ("a*b*c.example", "axxbyy.example", false),
        ];
        for (p, t, want) in cases {
            assert_eq!(glob(p.as_bytes(), t.as_bytes()), want, "{p} vs {t}");
        }
    }
}

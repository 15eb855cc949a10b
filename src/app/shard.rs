//! `--shard K/N`: split one batch across N workers by domain.
//!
//! Worker K (0-based, `0 <= K < N`) takes the lines whose domain hashes to K:
//! `FNV-1a-64(domain) mod N == K`, where the domain is the part after the last `@` (the whole
//! line for an `audit` domain), trimmed, without a trailing dot, in lowercase ASCII (an
//! internationalised name in its punycode A-label form, UTS #46 as `idna::domain_to_ascii`
//! applies it). FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3, as in
//! draft-eastlake-fnv) is fixed here and never seeded, so a rerun, another machine or another
//! version splits the same file the same way, and every address of one domain lands in one shard:
//! the per-domain discovery cache and the per-host limits keep working inside a worker.

use std::fmt;

/// One worker's part of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index of this worker.
    pub index: u64,
    /// Number of workers.
    pub count: u64,
}

/// At most this many shards (far above any fleet; keeps `K/N` a small number).
pub(crate) const MAX_SHARDS: u64 = 65_536;

impl Shard {
    /// Parse `K/N` with `0 <= K < N <= MAX_SHARDS`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("expected K/N with 0 <= K < N <= {MAX_SHARDS}, e.g. 0/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard a domain (or an address, by its domain) belongs to.
    pub fn of(target: &str, count: u64) -> u64 {
        fnv1a64(shard_key(target).as_bytes()) % count.max(1)
    }

    /// Does this worker take `target` (an address or a domain)?
    pub fn takes(&self, target: &str) -> bool {
        Shard::of(target, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The domain a line is sharded by, normalised: lowercase ASCII, punycode for IDNs. A line that
/// is no valid domain still gets a stable key (its lowercased text), so it lands in exactly one
/// shard and that worker reports it as invalid.
pub(crate) fn shard_key(target: &str) -> String {
    let t = target.trim();
    let domain = t.rsplit_once('@').map(|(_, d)| d).unwrap_or(t);
    let domain = domain.trim().trim_end_matches('.');
    match idna::domain_to_ascii(domain) {
        Ok(a) if !a.is_empty() => a,
        _ => domain.to_lowercase(),
    }
}

/// FNV-1a, 64 bits.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    #[test]
    fn fnv1a64_known_vectors() {
        // Test vectors of draft-eastlake-fnv (section 8, FNV-1a 64).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn parse_accepts_k_below_n_only() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse("3/4").unwrap().to_string(), "3/4");
        for bad in ["4/4", "1/0", "0", "a/b", "-1/4", "0/65537", "", "/"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_is_the_normalised_domain() {
        assert_eq!(shard_key(" Alice@Example.COM. "), "example.com");
        assert_eq!(shard_key("bob@bücher.example"), "xn--bcher-kva.example");
        assert_eq!(shard_key("xn--bcher-kva.example"), "xn--bcher-kva.example");
        assert_eq!(shard_key("EXAMPLE.org"), "example.org");
    }

    /// Every address in exactly one of the N shards; all addresses of a domain in the same one.
    #[test]
    fn every_address_once_and_no_domain_split() {
        let addresses: Vec<String> = (0..3000)
            .map(|i| {
                let d = match i % 7 {
                    0 => format!("D{}.Example.com", i % 211),
                    1 => format!("bücher{}.example", i % 97),
                    _ => format!("host{}.example.net", i % 389),
                };
                format!("user{i}@{d}")
            })
            .collect();
        for n in [1u64, 2, 3, 4, 7, 16, 100] {
            let mut seen: HashMap<&str, u64> = HashMap::new();
            let mut domain_shard: HashMap<String, u64> = HashMap::new();
            for k in 0..n {
                let shard = Shard { index: k, count: n };
                for a in addresses.iter().filter(|a| shard.takes(a)) {
                    assert!(seen.insert(a, k).is_none(), "{a} in two shards of {n}");
                    let prev = domain_shard.insert(shard_key(a), k);
                    assert!(
                        prev.is_none() || prev == Some(k),
                        "{a}: domain split over {n}"
                    );
                }
            }
            assert_eq!(
                seen.len(),
                addresses.len(),
                "N = {n}: an address in no shard"
            );
            let used: HashSet<u64> = seen.values().copied().collect();
            assert!(n == 1 || used.len() > 1, "N = {n}: everything in one shard");
        }
    }
}

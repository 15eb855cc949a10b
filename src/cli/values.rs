//! Value parsers for the numeric options: each names its real range in one sentence, so that a
//! value out of range is a usage error at parse time (exit 3) rather than a loop that never
//! ends (`--concurrency 18446744073709551615`) or a silent correction (`--concurrency 0`).
//! Negative numbers reach these parsers (`allow_negative_numbers`) so that `--timeout -1` gets
//! the range, not clap's "use -- -1" tip.

/// The ranges, shared with the README's option tables.
pub const MAX_STEP_SECS: f64 = 86_400.0;
pub const MAX_WAIT_SECS: f64 = 3_600.0;
pub const MAX_CONCURRENCY: u64 = 1_024;
pub const MAX_PER_HOST: u64 = 64;
pub const MAX_CERT_DAYS: i64 = 3_650;

fn decimal(s: &str, min: f64, max: f64, unit: &str) -> Result<f64, String> {
    let range = || format!("must be between {min} and {max} {unit}");
    let v: f64 = s.trim().parse().map_err(|_| range())?;
    if v.is_finite() && (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(range())
    }
}

fn whole(s: &str, min: u64, max: u64, what: &str) -> Result<u64, String> {
    let range = || format!("must be a whole number between {min} and {max}{what}");
    let t = s.trim();
    // Digits only: a sign or a fraction is out of range, and a huge number is not "invalid
    // digit" but simply too large.
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(range());
    }
    match t.parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(range()),
    }
}

/// `--shard K/N`: `0 <= K < N <= 65536`.
pub fn shard(s: &str) -> Result<mailprobe::app::shard::Shard, String> {
    mailprobe::app::shard::Shard::parse(s)
}

/// `--timeout`, `--deadline`: 1 to 86400 seconds.
pub fn step_secs(s: &str) -> Result<f64, String> {
    decimal(s, 1.0, MAX_STEP_SECS, "seconds")
}

/// `--wait`: 1 to 3600 seconds.
pub fn wait_secs(s: &str) -> Result<f64, String> {
    decimal(s, 1.0, MAX_WAIT_SECS, "seconds")
}

/// `--warn-latency`, `--crit-latency`, `--warn-time`, `--crit-time`: 0 to 86400 seconds.
pub fn threshold_secs(s: &str) -> Result<f64, String> {
    decimal(s, 0.0, MAX_STEP_SECS, "seconds")
}

/// `--concurrency`: 1 to 1024.
pub fn concurrency(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_CONCURRENCY, " (1 = one thing at a time)").map(|v| v as usize)
}

/// `--per-host`: 1 to 64.
pub fn per_host(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_PER_HOST, "").map(|v| v as usize)
}

/// `--warn-cert-days`, `--crit-cert-days`: 0 to 3650 days.
pub fn cert_days(s: &str) -> Result<i64, String> {
    whole(s, 0, MAX_CERT_DAYS as u64, " days").map(|v| v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_named() {
        assert_eq!(step_secs("2.5"), Ok(2.5));
        for bad in ["0", "-1", "86401", "nan", "inf", "x", ""] {
            assert_eq!(
                step_secs(bad).unwrap_err(),
                "must be between 1 and 86400 seconds"
            );
        }
        assert_eq!(concurrency("1"), Ok(1));
        for bad in [
            "0",
            "-3",
            "1025",
            "18446744073709551615",
            "99999999999999999999",
            "1.5",
        ] {
            assert!(
                concurrency(bad)
                    .unwrap_err()
                    .starts_with("must be a whole number between 1 and 1024"),
                "{bad}"
            );
        }
        assert!(per_host("0").is_err());
        assert_eq!(cert_days("0"), Ok(0));
        assert!(cert_days("-1").is_err());
        assert_eq!(threshold_secs("0"), Ok(0.0));
        assert!(wait_secs("3601").is_err());
    }
}

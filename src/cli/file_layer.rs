//! The configuration file as a layer of the settings: each value whose flag was not given,
//! checked by that flag's range check, and the pairs that must agree (a warning threshold and
//! its critical one). A value that parses but is out of range is reported with the file and
//! the line of its key (`FILE:LINE: key: …`), like a syntax error; exit 3.

use std::collections::BTreeMap;
use std::time::Duration;

use mailprobe::app::{Format, Settings};
use mailprobe::auth::PasswordSource;
use mailprobe::config;
use mailprobe::config::file::{ConfigFile, FileError};

use super::values;

/// The file's values for every key whose flag was not given (`given` takes the clap ID),
/// checked as the flag would be.
pub fn apply(
    s: &mut Settings,
    f: &ConfigFile,
    given: &dyn Fn(&str) -> bool,
) -> Result<(), FileError> {
    let take = |id: &str| !given(id);
    let bad = |k: &str, e: String| f.error_at(k, format!("{k}: {e}"));
    let num = |v: f64| v.to_string();
    if let (Some(v), true) = (f.timeout, take("timeout")) {
        let secs = values::step_secs(&num(v)).map_err(|e| bad("timeout", e))?;
        s.net.timeout = Duration::from_secs_f64(secs);
    }
    if let (Some(v), true) = (f.deadline, take("deadline")) {
        let secs = values::step_secs(&num(v)).map_err(|e| bad("deadline", e))?;
        s.net.deadline = Duration::from_secs_f64(secs);
    }
    if let (Some(v), true) = (f.concurrency, take("concurrency")) {
        s.net.concurrency =
            values::concurrency(&v.to_string()).map_err(|e| bad("concurrency", e))?;
    }
    if let (Some(v), true) = (f.per_host, take("per_host")) {
        s.per_host = values::per_host(&v.to_string()).map_err(|e| bad("per-host", e))?;
    }
    if let (Some(v), true) = (&f.format, take("format") && take("json")) {
        s.output.format = match v.as_str() {
            "human" => Format::Human,
            "json" => Format::Json,
            "nagios" => Format::Nagios,
            "openmetrics" => Format::OpenMetrics,
            other => {
                return Err(bad(
                    "format",
                    format!("'{other}' is not human, json, nagios or openmetrics"),
                ));
            }
        };
    }
    if let (Some(v), true) = (&f.dns, take("dns")) {
        s.net.dns = v
            .iter()
            .map(|d| config::parse_dns(d).map_err(|e| bad("dns", e.to_string())))
            .collect::<Result<_, _>>()?;
    }
    if let (Some(v), true) = (&f.ca_file, take("ca_file")) {
        s.net.ca_file = Some(v.clone());
    }
    if let (Some(v), true) = (&f.trust_anchor, take("trust_anchor")) {
        s.net.trust_anchor = Some(v.clone());
    }
    if let (Some(v), true) = (&f.ispdb_url, take("ispdb_url")) {
        s.net.ispdb_url = v.clone();
    }
    thresholds(s, f, &take)?;
    oauth_tables(f)?;
    pairs(s, f, given)
}

/// The keys of `[oauth-client-id]` and the secret tables are provider database IDs (or
/// `default`): a key matching no provider would never be used, so it is an error, not ignored.
fn oauth_tables(f: &ConfigFile) -> Result<(), FileError> {
    let tables = [
        ("oauth-client-id", &f.oauth_client_id),
        ("oauth-client-secret-env", &f.oauth_client_secret_env),
        ("oauth-client-secret-file", &f.oauth_client_secret_file),
    ];
    let known = |k: &str| {
        k == "default"
            || mailprobe::provider_db::providers()
                .iter()
                .any(|p| p.id == k)
    };
    for (name, table) in tables {
        if let Some(key) = table.keys().find(|k| !known(k)) {
            let with_oauth: Vec<&str> = mailprobe::provider_db::providers()
                .iter()
                .filter(|p| p.oauth2.is_some())
                .map(|p| p.id.as_str())
                .collect();
            return Err(f.error_at(
                &format!("{name}.{key}"),
                format!(
                    "[{name}] '{key}' is neither a provider database ID nor 'default' (IDs with OAuth2: {})",
                    with_oauth.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn thresholds(
    s: &mut Settings,
    f: &ConfigFile,
    take: &dyn Fn(&str) -> bool,
) -> Result<(), FileError> {
    let bad = |k: &str, e: String| f.error_at(k, format!("{k}: {e}"));
    let t = &mut s.thresholds;
    let days = |v: i64, k: &str| values::cert_days(&v.to_string()).map_err(|e| bad(k, e));
    if let (Some(v), true) = (f.warn_cert_days, take("warn_cert_days")) {
        t.warn_cert_days = days(v, "warn-cert-days")?;
    }
    if let (Some(v), true) = (f.crit_cert_days, take("crit_cert_days")) {
        t.crit_cert_days = days(v, "crit-cert-days")?;
    }
    let secs = |v: f64, k: &str| values::threshold_secs(&v.to_string()).map_err(|e| bad(k, e));
    for (v, id, slot) in [
        (f.warn_latency, "warn_latency", &mut t.warn_latency_s),
        (f.crit_latency, "crit_latency", &mut t.crit_latency_s),
        (f.warn_time, "warn_time", &mut t.warn_time_s),
        (f.crit_time, "crit_time", &mut t.crit_time_s),
    ] {
        if let (Some(v), true) = (v, take(id)) {
            *slot = Some(secs(v, &id.replace('_', "-"))?);
        }
    }
    Ok(())
}

/// A warning threshold beyond its critical one, when the file set either of the two (and its
/// flag did not override it): reported at the line of the file's key (the later one when it
/// set both). Pairs only the flags set are `Settings::validate`'s.
fn pairs(s: &Settings, f: &ConfigFile, given: &dyn Fn(&str) -> bool) -> Result<(), FileError> {
    let t = &s.thresholds;
    let beyond = |w: Option<f64>, c: Option<f64>| matches!((w, c), (Some(w), Some(c)) if w > c);
    let checks = [
        (
            t.warn_cert_days < t.crit_cert_days,
            "warn-cert-days",
            "crit-cert-days",
            format!(
                "warn-cert-days ({}) must not be below crit-cert-days ({})",
                t.warn_cert_days, t.crit_cert_days
            ),
        ),
        (
            beyond(t.warn_latency_s, t.crit_latency_s),
            "warn-latency",
            "crit-latency",
            "warn-latency must not be above crit-latency".to_string(),
        ),
        (
            beyond(t.warn_time_s, t.crit_time_s),
            "warn-time",
            "crit-time",
            "warn-time must not be above crit-time".to_string(),
        ),
    ];
    for (wrong, warn, crit, message) in checks {
        let line = |k: &str| f.line_of(k).filter(|_| !given(&k.replace('-', "_")));
        let key = match (line(warn), line(crit)) {
            (Some(w), Some(c)) => Some(if w > c { warn } else { crit }),
            (Some(_), None) => Some(warn),
            (None, Some(_)) => Some(crit),
            (None, None) => None,
        };
        if let (true, Some(key)) = (wrong, key) {
            return Err(f.error_at(key, message));
        }
    }
    Ok(())
}

/// `oauth login`: the client ID and the reference to its secret that the flags did not give,
/// from the file's tables, by the address's provider database ID, else `default`.
pub fn oauth_client(s: &mut Settings, f: &ConfigFile, address: &str) {
    let provider = mailprobe::address::parse(address)
        .ok()
        .and_then(|ad| mailprobe::provider_db::by_domain(&ad.domain))
        .map(|p| p.id.clone());
    let pick = |table: &BTreeMap<String, String>| {
        provider
            .as_ref()
            .and_then(|p| table.get(p))
            .or_else(|| table.get("default"))
            .cloned()
    };
    let o = &mut s.oauth;
    if o.client_id.is_none() {
        o.client_id = pick(&f.oauth_client_id);
    }
    if o.client_secret.is_none() {
        o.client_secret = pick(&f.oauth_client_secret_env)
            .map(PasswordSource::Env)
            .or_else(|| pick(&f.oauth_client_secret_file).map(|p| PasswordSource::File(p.into())));
    }
}

#[cfg(test)]
mod tests {
    use mailprobe::app::Task;
    use mailprobe::config::file::parse;

    use super::*;

    fn applied(text: &str, given: &dyn Fn(&str) -> bool) -> Result<Settings, FileError> {
        let mut f = parse(text, "c.toml").unwrap();
        f.source = "/etc/mailprobe/c.toml".into();
        let mut s = Settings::new(Task::Discover {
            address: "a@example.com".into(),
        });
        apply(&mut s, &f, given).map(|()| s)
    }

    /// The network defaults a file gives (resolver, CA file, trust anchor, ISPDB) apply, each
    /// unless its flag was given.
    #[test]
    fn network_defaults_apply_unless_the_flag_is_given() {
        let text = "dns = [\"127.0.0.1:5353\"]\nca-file = \"/etc/ssl/corp.pem\"\n\
                    trust-anchor = \"/etc/unbound/corp.key\"\nispdb-url = \"https://ispdb.corp.example/\"\n";
        let s = applied(text, &|_| false).unwrap();
        assert_eq!(s.net.dns, ["127.0.0.1:5353".parse().unwrap()]);
        assert_eq!(
            s.net.ca_file.as_deref(),
            Some(std::path::Path::new("/etc/ssl/corp.pem"))
        );
        assert_eq!(
            s.net.trust_anchor.as_deref(),
            Some(std::path::Path::new("/etc/unbound/corp.key"))
        );
        assert_eq!(s.net.ispdb_url, "https://ispdb.corp.example/");
        let s = applied(text, &|id| id == "dns" || id == "ispdb_url").unwrap();
        assert!(s.net.dns.is_empty(), "the flag's value (none here) wins");
        assert_ne!(s.net.ispdb_url, "https://ispdb.corp.example/");
        assert!(s.net.ca_file.is_some());
    }

    #[test]
    fn values_out_of_range_name_file_and_line() {
        for (text, line, says) in [
            (
                "format = \"json\"\n\ntimeout = 0\n",
                3,
                "timeout: must be between 1 and 86400 seconds",
            ),
            (
                "# comment\nper-host = 0\n",
                2,
                "per-host: must be a whole number between 1 and 64",
            ),
            (
                "concurrency = 5000\n",
                1,
                "concurrency: must be a whole number between 1 and 1024",
            ),
            (
                "timeout = 5\ndeadline = 100000\n",
                2,
                "deadline: must be between 1 and 86400",
            ),
            (
                "warn-cert-days = -1\n",
                1,
                "warn-cert-days: must be a whole number between 0 and 3650",
            ),
            (
                "\n\ncrit-latency = -1\n",
                3,
                "crit-latency: must be between 0 and 86400",
            ),
            (
                "dns = [\n  \"192.0.2.53\",\n  \"not-an-ip\",\n]\n",
                1,
                "dns: ",
            ),
            (
                "format = \"xml\"\n",
                1,
                "format: 'xml' is not human, json, nagios or openmetrics",
            ),
            // Pairs: at the key the file set (the later one when it set both).
            (
                "warn-cert-days = 3\n",
                1,
                "warn-cert-days (3) must not be below crit-cert-days (7)",
            ),
            (
                "crit-cert-days = 40\n",
                1,
                "warn-cert-days (30) must not be below crit-cert-days (40)",
            ),
            (
                "warn-cert-days = 10\n# c\ncrit-cert-days = 20\n",
                3,
                "warn-cert-days (10) must not be below",
            ),
            (
                "crit-cert-days = 20\nwarn-cert-days = 10\n",
                2,
                "must not be below crit-cert-days (20)",
            ),
            (
                "warn-latency = 5\ncrit-latency = 2\n",
                2,
                "warn-latency must not be above crit-latency",
            ),
            (
                "crit-time = 1\n\nwarn-time = 9\n\n[serve]\nconcurrency = 2\n",
                3,
                "warn-time must not be above crit-time",
            ),
        ] {
            let e = applied(text, &|_| false).unwrap_err();
            assert_eq!(e.line, Some(line), "{text}: {e}");
            let shown = e.to_string();
            assert!(
                shown.starts_with(&format!("/etc/mailprobe/c.toml:{line}: "))
                    && shown.contains(says),
                "{text}: {shown}"
            );
        }
    }

    #[test]
    fn good_values_apply_and_given_flags_keep_theirs() {
        let s = applied(
            "timeout = 3\nper-host = 2\nwarn-cert-days = 20\ncrit-cert-days = 5\n",
            &|_| false,
        )
        .unwrap();
        assert_eq!(s.net.timeout, Duration::from_secs(3));
        assert_eq!((s.per_host, s.thresholds.warn_cert_days), (2, 20));
        // The flag's value wins, and a pair the flag completes is checked with the flag's value.
        let s = applied("crit-cert-days = 40\n", &|id| id == "crit_cert_days").unwrap();
        assert_eq!(s.thresholds.crit_cert_days, 7);
    }
}

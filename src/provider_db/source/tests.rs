//! Table tests of the provider-file reader: each rule's error names file and line, and every
//! file in `provider-db/` passes the same checks `build.rs` makes, plus the ones that need a clock.

use super::*;

const GOOD: &str = r#"id = "example"
name = "Example Mail"
domains = ["example.com", "*.example.net"]
mx = ["mx*.example.com"]
documentation = "https://example.com/help"
sources = ["https://example.com/help/settings"]
verified = "2026-11-30"
[[server]]
protocol = "imap"
host = "imap.example.com"
port = 993
security = "tls"
username = "%EMAILADDRESS%"
[[server]]
protocol = "smtp"
host = "smtp.%EMAILDOMAIN%"
port = 465
security = "tls"
username = "%EMAILADDRESS%"
"#;

#[test]
fn good_file_parses() {
    let p = parse_provider("provider-db/example.toml", "example", GOOD).unwrap();
    assert_eq!(p.provider.domains, ["example.com", "*.example.net"]);
    assert_eq!(p.domain_lines, [3, 3]);
    assert_eq!(p.provider.servers[0].port, 993);
    assert_eq!(p.provider.servers[1].auth, [Auth::PasswordCleartext]);
}

#[test]
fn malformed_files_name_path_and_line() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "id = \"example\"",
            "id = \"other\"",
            ":1: id 'other' must equal",
        ),
        (
            "[\"example.com\", ",
            "[\"Example.com\", ",
            ":3: 'Example.com' must be lowercase",
        ),
        (
            "\"*.example.net\"",
            "\"a_b.example.net\"",
            ":3: 'a_b.example.net' has the character '_'",
        ),
        (
            "mx*.example.com",
            "mx..example.com",
            ":4: 'mx..example.com' has an empty",
        ),
        (
            "\"https://example.com/help\"",
            "\"http://example.com/help\"",
            ":5: URL 'http://",
        ),
        (
            "port = 993",
            "port = 99300",
            ":11: port 99300 is not in 1-65535",
        ),
        ("port = 993", "port = 0", ":11: port 0 is not"),
        (
            "documentation = \"https://example.com/help\"",
            "documentation = \"https://example.com/help\"\nhints = [\"ok\",\n  \" \"]",
            ":7: hint text is empty",
        ),
        (
            "security = \"tls\"\nusername = \"%EMAILADDRESS%\"\n[[server]]",
            "security = \"ssl\"\nusername = \"%EMAILADDRESS%\"\n[[server]]",
            ":12: unknown variant `ssl`",
        ),
        (
            "protocol = \"imap\"",
            "protocol = \"jmap\"",
            ":9: unknown variant `jmap`",
        ),
        (
            "host = \"imap.example.com\"",
            "host = \"imap example.com\"",
            ":10: 'imap example.com' has the character ' '",
        ),
        (
            "name = \"Example Mail\"",
            "name = \"Example Mail\"\ncolour = \"red\"",
            ":3: unknown field `colour`",
        ),
        ("port = 465", "port = \"465\"", ":17: invalid type"),
        (
            "[[server]]\nprotocol = \"smtp\"",
            "[[server]]\nprotocol = \"pop3\"",
            "needs at least one incoming (imap/pop3) and one outgoing",
        ),
        (
            "username = \"%EMAILADDRESS%\"\n[[server]]",
            "username = \"\"\n[[server]]",
            ":13: username is empty",
        ),
        (
            "domains = [\"example.com\", \"*.example.net\"]",
            "domains = \"example.com\"",
            ":3: invalid type",
        ),
        ("name = \"Example Mail\"", "name = \"Example Mail", ":2: "),
    ];
    for (from, to, want) in cases {
        assert!(GOOD.contains(from), "case {from:?} does not apply");
        let text = GOOD.replacen(from, to, 1);
        let err = match parse_provider("provider-db/example.toml", "example", &text) {
            Ok(_) => panic!("{to:?} was accepted"),
            Err(e) => e,
        };
        assert!(
            err.starts_with("provider-db/example.toml:") && err.contains(want),
            "{to:?}: got {err:?}, want {want:?}"
        );
    }
}

#[test]
fn access_none_and_oauth_rules() {
    let none = "id = \"x\"\nname = \"X\"\ndomains = [\"x.example\"]\naccess = \"none\"\nverified = false\n";
    assert!(parse_provider("provider-db/x.toml", "x", none).is_ok());
    let with_server = format!(
        "{none}[[server]]\nprotocol = \"imap\"\nhost = \"imap.x.example\"\nport = 993\nsecurity = \"tls\"\nusername = \"u\"\n"
    );
    let e = parse_provider("provider-db/x.toml", "x", &with_server).unwrap_err();
    assert!(e.contains(":1: access = \"none\" but servers"), "{e}");
    let oauth = GOOD.replacen("port = 993", "port = 993\nauth = [\"oauth2\"]", 1);
    let e = parse_provider("provider-db/example.toml", "example", &oauth).unwrap_err();
    assert!(e.contains(":8: auth names oauth2"), "{e}");
    let nothing = "id = \"y\"\nname = \"Y\"\naccess = \"none\"\nverified = false\n";
    let e = parse_provider("provider-db/y.toml", "y", nothing).unwrap_err();
    assert!(e.contains("at least one domain or MX"), "{e}");
}

#[test]
fn duplicates_across_files() {
    let a = parse_provider("provider-db/example.toml", "example", GOOD).unwrap();
    let other = GOOD
        .replacen("id = \"example\"", "id = \"other\"", 1)
        .replacen(
            "\"example.com\", ",
            "\n  \"example.org\", \"example.com\", ",
            1,
        );
    let b = parse_provider("provider-db/other.toml", "other", &other).unwrap();
    let e = check_unique(&[a, b]).unwrap_err();
    assert_eq!(
        e,
        "provider-db/other.toml:4: domain 'example.com' is already listed by provider 'example'"
    );
}

#[test]
fn meta_date() {
    assert_eq!(
        parse_meta("provider-db/_meta.toml", "date = \"2026-11-27\"\n").unwrap(),
        "2026-11-27"
    );
    let e = parse_meta("provider-db/_meta.toml", "\ndate = \"27.11.2026\"\n").unwrap_err();
    assert_eq!(
        e,
        "provider-db/_meta.toml:2: date '27.11.2026' is not YYYY-MM-DD"
    );
}

#[test]
fn provenance_rules() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "sources = [\"https://example.com/help/settings\"]\nverified = \"2026-11-30\"\n",
            "",
            ":1: no provenance: add sources",
        ),
        (
            "verified = \"2026-11-30\"",
            "",
            ":1: no provenance: add sources",
        ),
        (
            "sources = [\"https://example.com/help/settings\"]\n",
            "",
            ":6: verified names a date but sources is empty",
        ),
        (
            "\"https://example.com/help/settings\"",
            "\"http://example.com/help/settings\"",
            ":6: URL 'http://example.com/help/settings' must start with https://",
        ),
        (
            "verified = \"2026-11-30\"",
            "verified = true",
            ":7: verified must be a date \"YYYY-MM-DD\" or false, not true",
        ),
        (
            "verified = \"2026-11-30\"",
            "verified = \"30.11.2026\"",
            ":7: verified '30.11.2026' is not a date YYYY-MM-DD",
        ),
        (
            "verified = \"2026-11-30\"",
            "verified = \"2026-02-29\"",
            ":7: verified '2026-02-29' is not a date",
        ),
        (
            "verified = \"2026-11-30\"",
            "verified = 2026-11-30",
            ":7: verified must be a date \"YYYY-MM-DD\" or false, not 2026-11-30",
        ),
        (
            "sources = [\"https://example.com/help/settings\"]",
            "sources = \"https://example.com/help/settings\"",
            ":6: invalid type",
        ),
    ];
    for (from, to, want) in cases {
        assert!(GOOD.contains(from), "case {from:?} does not apply");
        let text = GOOD.replacen(from, to, 1);
        let err = match parse_provider("provider-db/example.toml", "example", &text) {
            Ok(_) => panic!("{to:?} was accepted"),
            Err(e) => e,
        };
        assert!(
            err.starts_with("provider-db/example.toml:") && err.contains(want),
            "{to:?}: got {err:?}, want {want:?}"
        );
    }
    // `verified = false` stands alone or with the pages that back part of the facts.
    for (from, to) in [
        ("verified = \"2026-11-30\"", "verified = false"),
        (
            "sources = [\"https://example.com/help/settings\"]\nverified = \"2026-11-30\"",
            "verified = false",
        ),
    ] {
        let p = parse_provider(
            "provider-db/example.toml",
            "example",
            &GOOD.replacen(from, to, 1),
        );
        assert_eq!(p.unwrap().provider.verified, None, "{to}");
    }
    let p = parse_provider("provider-db/example.toml", "example", GOOD).unwrap();
    assert_eq!(p.provider.verified.as_deref(), Some("2026-11-30"));
    assert_eq!(p.provider.sources, ["https://example.com/help/settings"]);
    assert_eq!(p.verified_line, 7);
}

#[test]
fn verified_dates_not_after_the_database_date() {
    let p = parse_provider("provider-db/example.toml", "example", GOOD).unwrap();
    let parsed = [p];
    assert!(check_dates(&parsed, "2026-11-30").is_ok());
    assert_eq!(
        check_dates(&parsed, "2026-11-29").unwrap_err(),
        "provider-db/example.toml:7: verified date 2026-11-30 is later than the database date \
         2026-11-29 in provider-db/_meta.toml"
    );
}

#[test]
fn calendar_dates() {
    for d in ["2026-12-06", "2024-02-29", "2000-02-29", "1999-12-31"] {
        assert!(is_date(d), "{d}");
    }
    for d in [
        "2026-13-01",
        "2026-00-10",
        "2026-04-31",
        "1900-02-29",
        "2026-1-01",
        "2026/12/06",
        "26-12-06xx",
        "2026-12-0a",
        "",
        "2026-12-06 ",
    ] {
        assert!(!is_date(d), "{d}");
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::OffsetDateTime::now_utc().date().format(&fmt).unwrap()
}

/// Every file in `provider-db/`: parses (https sources, a well-formed `verified`), no `verified`
/// date in the future or after the database date, and no domain or MX pattern claimed twice.
#[test]
fn every_provider_file_has_provenance() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("provider-db");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let today = today();
    let mut db_date = None;
    let mut parsed = Vec::new();
    for path in &paths {
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let shown = format!("provider-db/{stem}.toml");
        let text = std::fs::read_to_string(path).unwrap();
        if stem == "_meta" {
            db_date = Some(parse_meta(&shown, &text).unwrap());
            continue;
        }
        let p = parse_provider(&shown, stem, &text).unwrap_or_else(|e| panic!("{e}"));
        for u in &p.provider.sources {
            assert!(u.starts_with("https://"), "{shown}: {u}");
        }
        if let Some(d) = &p.provider.verified {
            assert!(is_date(d) && !p.provider.sources.is_empty(), "{shown}: {d}");
            assert!(
                *d <= today,
                "{shown}: verified {d} is in the future (today {today})"
            );
        }
        parsed.push(p);
    }
    assert!(parsed.len() >= 150, "{} provider files", parsed.len());
    let db_date = db_date.expect("provider-db/_meta.toml");
    assert!(db_date <= today, "database date {db_date} is in the future");
    check_dates(&parsed, &db_date).unwrap();
    check_unique(&parsed).unwrap();
    let unverified = parsed
        .iter()
        .filter(|p| p.provider.verified.is_none())
        .count();
    println!("{} provider files, {unverified} unverified", parsed.len());
}

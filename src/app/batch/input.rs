//! Batch input (`check --batch FILE`): one address per line, `#` comments (at the start of a
//! line or after whitespace), or CSV `address[,user[,password-env]]` (RFC 4180 quoting, parsed
//! by the `csv` crate). A pure function over the file's bytes: every line becomes an [`Entry`],
//! a bad line an entry with a `problem` (reported as that line's `invalid-input`), never an
//! error of the whole batch. Local input is bounded: [`MAX_INPUT`] bytes, [`MAX_LINE`] bytes a
//! line, [`MAX_ENTRIES`] addresses.

/// Largest batch input read, in bytes; a larger one is refused before anything is checked.
pub(crate) const MAX_INPUT: u64 = 8 * 1024 * 1024;
/// Longest line, in bytes: an address is at most 254 octets (RFC 5321 §4.5.3.1.3); user names
/// and variable names are short.
pub const MAX_LINE: usize = 4096;
/// Most addresses in one batch.
pub(crate) const MAX_ENTRIES: usize = 100_000;
/// What the password variables a batch file names must start with, unless
/// `--password-env-prefix` says otherwise.
pub const DEFAULT_ENV_PREFIX: &str = "MAILPROBE_";
/// Characters of a rejected line shown in its entry (control characters escaped).
const SHOWN: usize = 80;

/// One input line: an address, with an optional login name and password variable (CSV).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number in the file.
    pub line: usize,
    pub address: String,
    pub user: Option<String>,
    pub password_env: Option<String>,
    /// Why the line cannot be checked (it becomes an `invalid-input` result).
    pub problem: Option<String>,
}

impl Entry {
    fn invalid(line: usize, shown: String, problem: String) -> Entry {
        Entry {
            line,
            address: shown,
            user: None,
            password_env: None,
            problem: Some(problem),
        }
    }
}

/// Parse the batch input. A UTF-8 byte-order mark at the start is ignored; blank lines,
/// comments and a header line (`address,…` or `email,…`) are skipped. A password variable
/// must start with `env_prefix`: a batch file must not be able to send any variable of the
/// environment (`AWS_SECRET_ACCESS_KEY`) to whatever server discovery finds.
pub fn parse_entries(input: &[u8], env_prefix: &str) -> Vec<Entry> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut out = Vec::new();
    for (i, raw) in input.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE {
            out.push(Entry::invalid(
                line,
                shown(&String::from_utf8_lossy(&raw[..raw.len().min(4 * SHOWN)])),
                format!("longer than {MAX_LINE} bytes"),
            ));
            continue;
        }
        let Ok(text) = std::str::from_utf8(raw) else {
            out.push(Entry::invalid(
                line,
                shown(&String::from_utf8_lossy(raw)),
                "not UTF-8 text".into(),
            ));
            continue;
        };
        if let Some(e) = parse_line(line, text, env_prefix) {
            out.push(e);
        }
    }
    out
}

/// One line; None for a blank line, a comment or the header.
fn parse_line(line: usize, text: &str, env_prefix: &str) -> Option<Entry> {
    let text = strip_comment(text).trim();
    if text.is_empty() {
        return None;
    }
    let fields = match csv_fields(&quote_local_part(text)) {
        Ok(f) => f,
        Err(e) => return Some(Entry::invalid(line, shown(text), e)),
    };
    let first = fields.first().map(String::as_str).unwrap_or("");
    if first.eq_ignore_ascii_case("address") || first.eq_ignore_ascii_case("email") {
        return None;
    }
    if fields.len() > 3 {
        return Some(Entry::invalid(
            line,
            shown(first),
            format!(
                "{} fields; a line is address[,user[,password-env]]",
                fields.len()
            ),
        ));
    }
    let opt = |i: usize| fields.get(i).filter(|s| !s.is_empty()).cloned();
    let mut e = Entry {
        line,
        address: first.to_string(),
        user: opt(1),
        password_env: opt(2),
        problem: None,
    };
    if let Some(v) = &e.password_env
        && !v.starts_with(env_prefix)
    {
        e.problem = Some(format!(
            "password variable {} does not start with {env_prefix} (a batch file may only name variables with the --password-env-prefix prefix)",
            shown(v)
        ));
    }
    Some(e)
}

/// Cut a `#` comment: one that starts the line or follows whitespace, outside double quotes
/// (`#` is an ordinary character inside an address: RFC 5322 atext).
fn strip_comment(text: &str) -> &str {
    let mut quoted = false;
    let mut prev_space = true;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted && prev_space => return &text[..i],
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    text
}

/// An address with a quoted local part written as is (`"quoted,comma"@example.com`, RFC 5321
/// §4.1.2 Quoted-string) is not a CSV-quoted field: quote it for CSV so that the parser keeps
/// the quotes and the comma.
fn quote_local_part(text: &str) -> std::borrow::Cow<'_, str> {
    let Some(rest) = text.strip_prefix('"') else {
        return text.into();
    };
    // The closing quote of the local part (a backslash escapes the next character).
    let mut escaped = false;
    let mut close = None;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => {
                close = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(close) = close else {
        return text.into();
    };
    let after = &rest[close + 1..];
    if !after.starts_with('@') {
        return text.into();
    }
    let end = 1 + close + 1 + after.find(',').unwrap_or(after.len());
    let (field, tail) = text.split_at(end);
    format!("\"{}\"{tail}", field.replace('"', "\"\"")).into()
}

/// Split one line into trimmed CSV fields.
fn csv_fields(text: &str) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    match reader.records().next() {
        Some(Ok(r)) => Ok(r.iter().map(str::to_string).collect()),
        Some(Err(e)) => Err(format!("not valid CSV: {e}")),
        None => Ok(Vec::new()),
    }
}

/// At most [`SHOWN`] characters of `s`, `…` when cut (the renderers escape control characters).
pub fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(SHOWN).collect();
    if s.chars().nth(SHOWN).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Entry {
        let mut v = parse_entries(line.as_bytes(), "MAILPROBE_");
        assert_eq!(v.len(), 1, "{line:?}: {v:?}");
        v.remove(0)
    }

    #[test]
    fn lines_comments_header_and_csv() {
        let e = parse_entries(
            b"# list\naddress,user,password-env\n\nalice@example.com\n bob@example.org , bob , MAILPROBE_BOB \n\"carol@x.test\",,\n",
            "MAILPROBE_",
        );
        assert_eq!(e.len(), 3);
        assert_eq!(
            e[0],
            Entry {
                line: 4,
                address: "alice@example.com".into(),
                user: None,
                password_env: None,
                problem: None,
            }
        );
        assert_eq!(e[1].user.as_deref(), Some("bob"));
        assert_eq!(e[1].password_env.as_deref(), Some("MAILPROBE_BOB"));
        assert_eq!(e[2].address, "carol@x.test");
        assert_eq!(e[2].user, None);
    }

    #[test]
    fn table() {
        // (line, address, user, password variable, problem contains)
        type Case<'a> = (
            &'a str,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: &[Case] = &[
            ("\u{feff}a@x.test", "a@x.test", None, None, None),
            ("a@x.test  # the boss", "a@x.test", None, None, None),
            ("a@x.test,al # note", "a@x.test", Some("al"), None, None),
            ("a#b@x.test", "a#b@x.test", None, None, None),
            (
                "\"quoted,comma\"@x.test",
                "\"quoted,comma\"@x.test",
                None,
                None,
                None,
            ),
            (
                "\"quoted,comma\"@x.test,q,MAILPROBE_Q",
                "\"quoted,comma\"@x.test",
                Some("q"),
                Some("MAILPROBE_Q"),
                None,
            ),
            (
                "\"\"\"q,c\"\"@x.test\",\"us,er\"",
                "\"q,c\"@x.test",
                Some("us,er"),
                None,
                None,
            ),
            ("a@x.test\r", "a@x.test", None, None, None),
            (
                "a@x.test,u,MAILPROBE_P,extra",
                "a@x.test",
                None,
                None,
                Some("4 fields"),
            ),
            (
                "a@x.test,u,AWS_SECRET_ACCESS_KEY",
                "a@x.test",
                Some("u"),
                Some("AWS_SECRET_ACCESS_KEY"),
                Some("does not start with MAILPROBE_"),
            ),
        ];
        for (line, addr, user, var, problem) in cases {
            let e = one(line);
            assert_eq!(e.address, *addr, "{line:?}");
            if problem.is_none() {
                assert_eq!(e.user.as_deref(), *user, "{line:?}");
                assert_eq!(e.password_env.as_deref(), *var, "{line:?}");
            }
            match problem {
                None => assert_eq!(e.problem, None, "{line:?}"),
                Some(p) => assert!(
                    e.problem.as_deref().unwrap_or("").contains(p),
                    "{line:?}: {e:?}"
                ),
            }
        }
    }

    #[test]
    fn blank_and_comment_only_inputs_have_no_entries() {
        for input in [
            "",
            "\n\n",
            "# only\n  # comments\n",
            "\u{feff}",
            "address,user,password-env\n",
        ] {
            assert!(
                parse_entries(input.as_bytes(), "MAILPROBE_").is_empty(),
                "{input:?}"
            );
        }
    }

    #[test]
    fn long_and_binary_lines_are_invalid_with_their_start() {
        let long = format!("{}@x.test\nb@x.test\n", "a".repeat(10_000));
        let e = parse_entries(long.as_bytes(), "MAILPROBE_");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].address, format!("{}…", "a".repeat(80)));
        assert!(
            e[0].problem
                .as_deref()
                .unwrap()
                .contains("longer than 4096 bytes")
        );
        assert_eq!(e[1].problem, None);
        let zeros = vec![0u8; 5000];
        let e = parse_entries(&zeros, "MAILPROBE_");
        assert_eq!(e[0].address, format!("{}…", "\0".repeat(80)));
        let e = parse_entries(b"\xff\xfe@x.test\n", "MAILPROBE_");
        assert_eq!(e[0].problem.as_deref(), Some("not UTF-8 text"));
    }
}

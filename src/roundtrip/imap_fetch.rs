//! Waiting for the test message over IMAP and removing it again: IDLE (RFC 2177) when offered,
//! else polling with backoff; `UID SEARCH HEADER Message-ID` (RFC 9051 §6.4.4) in INBOX and the
//! Junk folder (SPECIAL-USE `\Junk`, RFC 6154 §2, or a usual name); `UID FETCH` of INTERNALDATE
//! and the header; deletion by UID only (`UID EXPUNGE`, RFC 4315 §2.1).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::Authenticator;
use crate::net::Net;
use crate::probe::imap::{self, ImapStatus};
use crate::probe::session::{ImapResponse, Redact, Session};
use crate::report::probe::{AuthAttempt, Setting};

/// What happened to the test message afterwards.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Deletion {
    Deleted,
    /// `--keep`.
    Kept,
    /// Left in place: deleting could have expunged other messages flagged `\Deleted`.
    LeftOthersDeleted,
    Failed,
}

/// The message as found.
#[derive(Debug, Default)]
pub struct Found {
    pub folder: Option<String>,
    pub uid: Option<u32>,
    pub internal_date: Option<String>,
    pub header: Vec<u8>,
    pub found_at: Option<Instant>,
    pub deletion: Option<Deletion>,
    pub auth: Vec<AuthAttempt>,
    pub error: Option<String>,
    /// `IDLE` or `polling`.
    pub method: Option<String>,
}

/// `* LIST (\HasNoChildren \Junk) "/" Junk` → (attributes, name). Quoted names are unquoted.
pub fn parse_list(line: &str) -> Option<(Vec<String>, String)> {
    let rest = line.strip_prefix("* LIST (")?;
    let (attrs, rest) = rest.split_once(')')?;
    let rest = rest.trim_start();
    // Delimiter: NIL or a quoted char.
    let rest = if let Some(r) = rest.strip_prefix("NIL") {
        r
    } else {
        let r = rest.strip_prefix('"')?;
        let end = if r.starts_with('\\') { 2 } else { 1 };
        r.get(end..)?.strip_prefix('"')?
    };
    let name = rest.trim();
    let name = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(q) => q.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => name.to_string(),
    };
    Some((attrs.split_whitespace().map(str::to_string).collect(), name))
}

/// The Junk folder: the one with `\Junk`, else a usual name.
pub fn junk_folder(list: &[(Vec<String>, String)]) -> Option<String> {
    if let Some((_, n)) = list
        .iter()
        .find(|(a, _)| a.iter().any(|x| x.eq_ignore_ascii_case("\\Junk")))
    {
        return Some(n.clone());
    }
    const NAMES: [&str; 5] = ["junk", "spam", "junk e-mail", "junk email", "bulk mail"];
    list.iter()
        .find(|(_, n)| {
            let last = n
                .rsplit(['/', '.'])
                .next()
                .unwrap_or(n)
                .to_ascii_lowercase();
            NAMES.contains(&last.as_str())
        })
        .map(|(_, n)| n.clone())
}

/// UIDs from `* SEARCH 1 2 3` lines.
pub fn parse_search(untagged: &[String]) -> Vec<u32> {
    untagged
        .iter()
        .filter_map(|l| l.strip_prefix("* SEARCH"))
        .flat_map(|s| s.split_whitespace().filter_map(|n| n.parse().ok()))
        .collect()
}

/// `INTERNALDATE "27-Nov-2026 16:00:03 +0000"` inside a FETCH line.
pub fn parse_internaldate(line: &str) -> Option<String> {
    let i = line.find("INTERNALDATE \"")?;
    let rest = &line[i + 14..];
    Some(rest[..rest.find('"')?].to_string())
}

fn quote(s: &str) -> String {
    crate::auth::login::imap_quote(s)
}

fn caps_has(caps: &[String], c: &str) -> bool {
    caps.iter().any(|x| x.eq_ignore_ascii_case(c))
}

/// Log in, wait up to `wait` for `message_id`, fetch its header, delete it unless `keep`.
pub async fn wait_and_fetch(
    net: &Arc<Net>,
    server: &Setting,
    auth: &Authenticator,
    message_id: &str,
    wait: Duration,
    keep: bool,
) -> Found {
    let mut found = Found::default();
    if let Err(e) = session(net, server, auth, message_id, wait, keep, &mut found).await {
        found.error = Some(e);
    }
    found
}

#[allow(clippy::too_many_arguments)]
async fn session(
    net: &Arc<Net>,
    server: &Setting,
    auth: &Authenticator,
    message_id: &str,
    wait: Duration,
    keep: bool,
    found: &mut Found,
) -> Result<(), String> {
    let mut o = match super::open_mailbox(net, server, auth).await {
        Ok((o, attempts)) => {
            found.auth = attempts;
            o
        }
        Err((attempts, why)) => {
            found.auth = attempts;
            return Err(why);
        }
    };
    let conn = &mut o.session;
    // RFC 9051 §6.2.2: capabilities may change with the login (IDLE, UIDPLUS, SPECIAL-USE).
    let r = imap_command(conn, "CAPABILITY").await?;
    let caps = r
        .untagged
        .iter()
        .find_map(|u| imap::capabilities_from_untagged(u))
        .unwrap_or_default();
    completion(r)?;
    // RFC 6154 §5.1: with SPECIAL-USE, `RETURN (SPECIAL-USE)` makes the server include the
    // attributes (\Junk); without it they are optional, and the folder names are the fallback.
    let list_cmd = if caps_has(&caps, "SPECIAL-USE") {
        "LIST \"\" \"*\" RETURN (SPECIAL-USE)"
    } else {
        "LIST \"\" \"*\""
    };
    let lines = command(conn, list_cmd).await?;
    let list: Vec<_> = lines.iter().filter_map(|l| parse_list(l)).collect();
    // INBOX last, so that it is the folder selected while IDLE waits.
    let mut folders: Vec<String> = junk_folder(&list).into_iter().collect();
    folders.push("INBOX".to_string());
    let idle = caps_has(&caps, "IDLE");
    found.method = Some(if idle { "IDLE" } else { "polling" }.into());
    let deadline = Instant::now() + wait;
    let search = format!("UID SEARCH HEADER Message-ID {}", quote(message_id));
    let mut backoff = Duration::from_millis(100);
    let hit = 'wait: loop {
        for f in &folders {
            let r = imap_command(conn, &format!("SELECT {}", quote(f))).await?;
            if completion(r).is_err() {
                continue;
            }
            let lines = command(conn, &search).await?;
            if let Some(uid) = parse_search(&lines).into_iter().max() {
                break 'wait Some((f.clone(), uid));
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break None;
        }
        // IDLE on INBOX wakes up at once for it (RFC 2177 §3: EXISTS is sent as mail arrives);
        // a Junk folder is not watched, so with one the IDLE cycles follow the polling backoff.
        let nap = backoff.min(left);
        if idle {
            let cycle = if folders.len() > 1 {
                nap
            } else {
                Duration::from_secs(5).min(left)
            };
            conn.imap_idle(cycle).await.map_err(|e| e.to_string())?;
        } else {
            tokio::time::sleep(nap).await;
        }
        backoff = (backoff * 2).min(Duration::from_secs(2));
    };
    let Some((folder, uid)) = hit else {
        logout(conn).await;
        return Err(format!(
            "the message did not arrive within {} s",
            wait.as_secs()
        ));
    };
    found.found_at = Some(Instant::now());
    found.folder = Some(folder.clone());
    found.uid = Some(uid);
    command(conn, &format!("SELECT {}", quote(&folder))).await?;
    fetch_header(conn, uid, found).await?;
    found.deletion = Some(if keep {
        Deletion::Kept
    } else {
        delete(conn, uid, &caps).await
    });
    logout(conn).await;
    Ok(())
}

async fn imap_command(conn: &mut Session, cmd: &str) -> Result<ImapResponse, String> {
    conn.imap_command(cmd, Redact::No)
        .await
        .map_err(|e| e.to_string())
}

/// The untagged lines (`* …`) of an `OK` completion, or the completion as the error.
fn completion(r: ImapResponse) -> Result<Vec<String>, String> {
    if r.status == ImapStatus::Ok && r.continuation.is_none() {
        Ok(r.untagged.iter().map(|u| format!("* {u}")).collect())
    } else {
        let code = r.code.map(|c| format!("[{c}] ")).unwrap_or_default();
        Err(format!("{} {code}{}", r.status.as_str(), r.text))
    }
}

/// One command that must complete with `OK`; its untagged lines.
async fn command(conn: &mut Session, cmd: &str) -> Result<Vec<String>, String> {
    completion(imap_command(conn, cmd).await?)
}

async fn fetch_header(conn: &mut Session, uid: u32, found: &mut Found) -> Result<(), String> {
    let (r, literals) = conn
        .imap_command_literals(&format!("UID FETCH {uid} (INTERNALDATE BODY.PEEK[HEADER])"))
        .await
        .map_err(|e| e.to_string())?;
    let lines = completion(r)?;
    if let Some(d) = lines.iter().find_map(|l| parse_internaldate(l)) {
        found.internal_date = Some(d);
    }
    if let Some((_, bytes)) = literals
        .into_iter()
        .find(|(announced, _)| announced.contains("BODY[HEADER]"))
    {
        found.header = bytes;
    }
    Ok(())
}

/// Delete only `uid` (RFC 4315 §2.1 `UID EXPUNGE`); without UIDPLUS only when nothing else in
/// the folder is flagged `\Deleted`, since a plain EXPUNGE removes all of them.
async fn delete(conn: &mut Session, uid: u32, caps: &[String]) -> Deletion {
    let r: Result<Deletion, String> = async {
        if !caps_has(caps, "UIDPLUS") {
            let lines = command(conn, "UID SEARCH DELETED").await?;
            if parse_search(&lines).iter().any(|u| *u != uid) {
                return Ok(Deletion::LeftOthersDeleted);
            }
        }
        command(conn, &format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)")).await?;
        let cmd = if caps_has(caps, "UIDPLUS") {
            format!("UID EXPUNGE {uid}")
        } else {
            "EXPUNGE".to_string()
        };
        command(conn, &cmd).await?;
        Ok(Deletion::Deleted)
    }
    .await;
    r.unwrap_or(Deletion::Failed)
}

async fn logout(conn: &mut Session) {
    let _ = conn.imap_command("LOGOUT", Redact::No).await;
    conn.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal_len(line: &str) -> Option<usize> {
        imap::literal_len(line.as_bytes())
    }

    #[test]
    fn list_and_junk() {
        let lines = [
            r#"* LIST (\HasNoChildren) "/" INBOX"#,
            r#"* LIST (\HasNoChildren \Junk) "/" Junk"#,
            r#"* LIST (\HasNoChildren) "." "INBOX.Spam Folder""#,
            r#"* LIST (\Noselect) NIL Archive"#,
        ];
        let l: Vec<_> = lines.iter().filter_map(|s| parse_list(s)).collect();
        assert_eq!(l.len(), 4);
        assert_eq!(l[2].1, "INBOX.Spam Folder");
        assert_eq!(junk_folder(&l).as_deref(), Some("Junk"));
        let l2: Vec<_> = [r#"* LIST () "." "INBOX.Spam""#]
            .iter()
            .filter_map(|s| parse_list(s))
            .collect();
        assert_eq!(junk_folder(&l2).as_deref(), Some("INBOX.Spam"));
        assert_eq!(junk_folder(&l[..1]), None);
    }

    #[test]
    fn nasty_lines_do_not_panic() {
        for l in [
            "* LIST (",
            "* LIST () \"",
            "* LIST () \"\\",
            "* LIST (x) NIL",
            "* LIST (é) \"/\" \"",
            "INTERNALDATE \"",
            "{",
            "}",
            "{}",
            "{é}",
            "{99999999999999999999}",
        ] {
            let _ = parse_list(l);
            let _ = parse_internaldate(l);
            let _ = literal_len(l);
        }
        assert_eq!(literal_len("{99999999999999999999}"), None);
    }

    #[test]
    fn search_fetch_parsers() {
        assert_eq!(
            parse_search(&["* SEARCH 3 17".to_string(), "* OK x".to_string()]),
            [3, 17]
        );
        assert!(parse_search(&["* SEARCH".to_string()]).is_empty());
        let l = r#"* 2 FETCH (UID 17 INTERNALDATE "27-Nov-2026 16:00:03 +0000" BODY[HEADER] {812}"#;
        assert_eq!(
            parse_internaldate(l).as_deref(),
            Some("27-Nov-2026 16:00:03 +0000")
        );
        assert_eq!(literal_len(l), Some(812));
        assert_eq!(literal_len("x {5+}"), Some(5));
        assert_eq!(literal_len("x"), None);
    }
}

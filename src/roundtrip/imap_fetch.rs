//! Waiting for the test message over IMAP and removing it again: IDLE (RFC 2177) when offered,
//! else polling with backoff; `UID SEARCH HEADER Message-ID` (RFC 9051 §6.4.4) in INBOX and the
//! Junk folder (SPECIAL-USE `\Junk`, RFC 6154 §2, or a usual name). A server may answer the
//! search with any UIDs, so each one found (newest first, at most [`MAX_CANDIDATES`]) is
//! proven ours by its own `Message-ID` and `X-Mailprobe-Token` fields before anything else;
//! then `UID FETCH` of INTERNALDATE and the header, and deletion of that UID only: `UID
//! EXPUNGE` (RFC 4315 §2.1) with UIDPLUS; without it a plain EXPUNGE only when no other message
//! of the folder is flagged `\Deleted` (else ours is left, and the report says so).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::RoundtripError;
use super::headers;
use super::message::TOKEN_HEADER;
use crate::auth::Authenticator;
use crate::model::{AuthAttempt, Deletion, Setting};
use crate::net::Net;
use crate::proto::imap::{self, Capabilities, Command, ListEntry};
use crate::proto::{Capability, CapabilitySet, ImapResponse, Session};

/// Most UIDs of one search answer whose header is checked (newest first): an honest server
/// answers one.
pub(crate) const MAX_CANDIDATES: usize = 20;

/// What proves a message is our test message.
#[derive(Debug, Clone, Copy)]
pub struct Ours<'a> {
    /// With angle brackets.
    pub message_id: &'a str,
    /// The `X-Mailprobe-Token` value.
    pub token: &'a str,
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
    pub error: Option<RoundtripError>,
    /// `IDLE` or `polling`.
    pub method: Option<String>,
}

/// The Junk folder: the one with `\Junk` (RFC 6154 §2), else a usual name.
pub(crate) fn junk_folder(list: &[ListEntry]) -> Option<String> {
    if let Some(e) = list.iter().find(|e| {
        e.attributes
            .iter()
            .any(|x| x.eq_ignore_ascii_case("\\Junk"))
    }) {
        return Some(e.name.clone());
    }
    const NAMES: [&str; 5] = ["junk", "spam", "junk e-mail", "junk email", "bulk mail"];
    list.iter()
        .find(|e| {
            let last = e
                .name
                .rsplit(['/', '.'])
                .next()
                .unwrap_or(&e.name)
                .to_ascii_lowercase();
            NAMES.contains(&last.as_str())
        })
        .map(|e| e.name.clone())
}

/// Log in, wait up to `wait` for our message, fetch its header, delete it unless `keep`.
pub async fn wait_and_fetch(
    net: &Arc<Net>,
    server: &Setting,
    auth: &Authenticator,
    ours: Ours<'_>,
    wait: Duration,
    keep: bool,
) -> Found {
    let mut found = Found::default();
    if let Err(e) = session(net, server, auth, ours, wait, keep, &mut found).await {
        found.error = Some(e);
    }
    found
}

#[allow(clippy::too_many_arguments)]
async fn session(
    net: &Arc<Net>,
    server: &Setting,
    auth: &Authenticator,
    ours: Ours<'_>,
    wait: Duration,
    keep: bool,
    found: &mut Found,
) -> Result<(), RoundtripError> {
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
    let conn = &mut o;
    let (caps, folders) = capabilities_and_folders(conn).await?;
    let idle = caps.has(Capability::Idle);
    found.method = Some(if idle { "IDLE" } else { "polling" }.into());
    let hit = wait_for(conn, &folders, ours, wait, idle).await?;
    let Some((folder, uid)) = hit else {
        logout(conn).await;
        return Err(RoundtripError::NotArrived(wait.as_secs()));
    };
    found.found_at = Some(Instant::now());
    found.folder = Some(folder.clone());
    found.uid = Some(uid);
    command(conn, Command::Select(&folder)).await?;
    fetch_header(conn, uid, found).await?;
    found.deletion = Some(if keep {
        Deletion::Kept
    } else {
        delete(conn, uid, &caps).await
    });
    logout(conn).await;
    Ok(())
}

/// The capabilities after the login and the folders to search: the Junk folder, if any, then
/// INBOX (last, so that it is the folder selected while IDLE waits).
async fn capabilities_and_folders(
    conn: &mut Session,
) -> Result<(Capabilities, Vec<String>), RoundtripError> {
    // RFC 9051 §6.2.2: capabilities may change with the login (IDLE, UIDPLUS, SPECIAL-USE).
    let r = imap_command(conn, Command::Capability).await?;
    let caps = r.capabilities().unwrap_or_default();
    completion(r)?;
    // RFC 6154 §5.1: with SPECIAL-USE, `RETURN (SPECIAL-USE)` makes the server include the
    // attributes (\Junk); without it they are optional, and the folder names are the fallback.
    let list_cmd = Command::ListAll {
        special_use: caps.has(Capability::SpecialUse),
    };
    let lines = command(conn, list_cmd).await?;
    let list: Vec<_> = lines.iter().filter_map(|l| imap::parse_list(l)).collect();
    let mut folders: Vec<String> = junk_folder(&list).into_iter().collect();
    folders.push("INBOX".to_string());
    Ok((caps, folders))
}

/// Search `folders` for our message until it turns up or `wait` runs out, idling on INBOX
/// between rounds when the server has IDLE, else sleeping with backoff. The folder and the UID
/// whose header proved it ours.
async fn wait_for(
    conn: &mut Session,
    folders: &[String],
    ours: Ours<'_>,
    wait: Duration,
    idle: bool,
) -> Result<Option<(String, u32)>, RoundtripError> {
    let deadline = Instant::now() + wait;
    let search = Command::UidSearchHeader {
        field: "Message-ID",
        value: ours.message_id,
    };
    let mut backoff = Duration::from_millis(100);
    loop {
        for f in folders {
            let r = imap_command(conn, Command::Select(f)).await?;
            if completion(r).is_err() {
                continue;
            }
            let lines = command(conn, search).await?;
            let mut uids = imap::parse_search(&lines);
            uids.sort_unstable_by(|a, b| b.cmp(a));
            uids.dedup();
            for uid in uids.into_iter().take(MAX_CANDIDATES) {
                if is_ours(conn, uid, ours).await? {
                    return Ok(Some((f.clone(), uid)));
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
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
            conn.imap_idle(cycle).await?;
        } else {
            tokio::time::sleep(nap).await;
        }
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

async fn imap_command(
    conn: &mut Session,
    cmd: Command<'_>,
) -> Result<ImapResponse, RoundtripError> {
    Ok(conn.imap(&cmd).await?)
}

/// The untagged data (without `* `) of an `OK` completion, or the completion as the error.
fn completion(r: ImapResponse) -> Result<Vec<String>, RoundtripError> {
    if r.is_ok() {
        Ok(r.untagged)
    } else {
        Err(RoundtripError::Rejected(r.status_line()))
    }
}

/// One command that must complete with `OK`; its untagged data.
async fn command(conn: &mut Session, cmd: Command<'_>) -> Result<Vec<String>, RoundtripError> {
    completion(imap_command(conn, cmd).await?)
}

/// Fetch the `Message-ID` and token fields of `uid` in the selected folder: is it ours? Only a
/// FETCH answer about that very UID counts.
async fn is_ours(conn: &mut Session, uid: u32, ours: Ours<'_>) -> Result<bool, RoundtripError> {
    let fields = ["Message-ID", TOKEN_HEADER];
    let cmd = Command::UidFetchHeaderFields {
        uid,
        fields: &fields,
    };
    let (r, literals) = conn.imap_command_literals(&cmd).await?;
    completion(r)?;
    Ok(literals.iter().any(|(announced, bytes)| {
        imap::fetch_uid(announced) == Some(uid)
            && headers::is_ours(bytes, ours.message_id, ours.token)
    }))
}

async fn fetch_header(
    conn: &mut Session,
    uid: u32,
    found: &mut Found,
) -> Result<(), RoundtripError> {
    let (r, literals) = conn
        .imap_command_literals(&Command::UidFetchHeader(uid))
        .await?;
    let lines = completion(r)?;
    if let Some(d) = lines.iter().find_map(|l| imap::parse_internaldate(l)) {
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

/// Delete only `uid` (RFC 4315 §2.1 `UID EXPUNGE`). Without UIDPLUS a plain EXPUNGE removes
/// every message flagged `\Deleted`: it is sent only when no other one is; otherwise ours is
/// left flagged (`LeftOthersDeleted`) for the user's client to expunge.
async fn delete(conn: &mut Session, uid: u32, caps: &Capabilities) -> Deletion {
    let uidplus = caps.has(Capability::UidPlus);
    let r: Result<Deletion, RoundtripError> = async {
        let others = if uidplus {
            false
        } else {
            let lines = command(conn, Command::UidSearchDeleted).await?;
            imap::parse_search(&lines).iter().any(|u| *u != uid)
        };
        command(conn, Command::UidStoreDeleted(uid)).await?;
        if others {
            return Ok(Deletion::LeftOthersDeleted);
        }
        let cmd = if uidplus {
            Command::UidExpunge(uid)
        } else {
            Command::Expunge
        };
        command(conn, cmd).await?;
        Ok(Deletion::Deleted)
    }
    .await;
    r.unwrap_or(Deletion::Failed)
}

async fn logout(conn: &mut Session) {
    let _ = conn.imap(&Command::Logout).await;
    conn.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_by_attribute_then_by_name() {
        let e = |attrs: &[&str], name: &str| ListEntry {
            attributes: attrs.iter().map(|a| a.to_string()).collect(),
            name: name.to_string(),
        };
        let l = [
            e(&["\\HasNoChildren"], "INBOX"),
            e(&["\\HasNoChildren", "\\Junk"], "Junk"),
            e(&["\\HasNoChildren"], "INBOX.Spam Folder"),
        ];
        assert_eq!(junk_folder(&l).as_deref(), Some("Junk"));
        assert_eq!(
            junk_folder(&[e(&[], "INBOX.Spam")]).as_deref(),
            Some("INBOX.Spam")
        );
        assert_eq!(
            junk_folder(&[e(&[], "Bulk Mail")]).as_deref(),
            Some("Bulk Mail")
        );
        assert_eq!(junk_folder(&l[..1]), None);
    }
}

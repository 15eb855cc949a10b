//! Opening a fresh, ready-to-login connection (greeting, STARTTLS, capabilities) for IMAP, POP3
//! and SMTP, plus the small command/response helpers the round trip reuses. The probe stage has
//! its own richer session; this one serves `--all-mechs` reconnects and the round trip.

use std::sync::Arc;

use super::conn::Conn;
use crate::net::Net;
use crate::report::model::{Protocol, Security};

/// A connection past the greeting (and STARTTLS), with what the server offers.
pub struct Opened {
    pub conn: Conn,
    pub greeting: String,
    /// IMAP CAPABILITY atoms, POP3 CAPA lines, or SMTP EHLO keyword lines.
    pub caps: Vec<String>,
    /// SASL mechanisms offered.
    pub sasl: Vec<String>,
}

/// Name sent in EHLO: an FQDN in form (RFC 5321 §4.1.4), in the reserved .invalid TLD (RFC 2606
/// §2), the same the probe uses; "localhost" fails `reject_non_fqdn_helo_hostname` servers.
pub const EHLO_NAME: &str = "mailprobe.invalid";

/// Connect and get ready to log in. `security` Plain leaves the connection unencrypted: the
/// caller decides whether a credential may go over it.
pub async fn open(
    net: &Arc<Net>,
    proto: Protocol,
    host: &str,
    port: u16,
    security: Security,
) -> Result<Opened, String> {
    let mut conn = Conn::connect(net, host, port, security == Security::Tls)
        .await
        .map_err(|e| e.to_string())?;
    let starttls = security == Security::Starttls;
    match proto {
        Protocol::Imap => {
            let greeting = conn.read_line().await.map_err(|e| e.to_string())?;
            if !greeting.starts_with("* OK") {
                return Err(format!("unexpected greeting: {greeting}"));
            }
            if starttls {
                let (_, done) = imap_cmd(&mut conn, "STARTTLS").await?;
                expect_ok(&done)?;
                conn.upgrade().await.map_err(|e| e.to_string())?;
            }
            let caps = imap_capabilities(&mut conn).await?;
            let sasl = caps
                .iter()
                .filter_map(|c| {
                    c.get(..5)
                        .filter(|p| p.eq_ignore_ascii_case("AUTH="))
                        .map(|_| c[5..].to_string())
                })
                .collect();
            Ok(Opened {
                conn,
                greeting,
                caps,
                sasl,
            })
        }
        Protocol::Pop3 => {
            let greeting = conn.read_line().await.map_err(|e| e.to_string())?;
            if !greeting.starts_with("+OK") {
                return Err(format!("unexpected greeting: {greeting}"));
            }
            if starttls {
                conn.write_line("STLS").await.map_err(|e| e.to_string())?;
                let r = conn.read_line().await.map_err(|e| e.to_string())?;
                if !r.starts_with("+OK") {
                    return Err(format!("STLS refused: {r}"));
                }
                conn.upgrade().await.map_err(|e| e.to_string())?;
            }
            conn.write_line("CAPA").await.map_err(|e| e.to_string())?;
            let r = conn.read_line().await.map_err(|e| e.to_string())?;
            let caps = if r.starts_with("+OK") {
                pop3_multiline(&mut conn).await?
            } else {
                Vec::new()
            };
            let sasl = caps
                .iter()
                .find_map(|l| l.strip_prefix("SASL "))
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            Ok(Opened {
                conn,
                greeting,
                caps,
                sasl,
            })
        }
        Protocol::Smtp => {
            let (code, lines) = smtp_reply(&mut conn).await?;
            let greeting = lines.join(" ");
            if code != 220 {
                return Err(format!("unexpected greeting: {greeting}"));
            }
            let mut caps = ehlo(&mut conn).await?;
            if starttls {
                conn.write_line("STARTTLS")
                    .await
                    .map_err(|e| e.to_string())?;
                let (code, l) = smtp_reply(&mut conn).await?;
                if code != 220 {
                    return Err(format!("STARTTLS refused: {}", l.join(" ")));
                }
                conn.upgrade().await.map_err(|e| e.to_string())?;
                caps = ehlo(&mut conn).await?;
            }
            let sasl = caps
                .iter()
                .find_map(|l| {
                    let u = l.to_ascii_uppercase();
                    (u.starts_with("AUTH ") || u.starts_with("AUTH=")).then(|| l[5..].to_string())
                })
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            Ok(Opened {
                conn,
                greeting,
                caps,
                sasl,
            })
        }
    }
}

async fn ehlo(conn: &mut Conn) -> Result<Vec<String>, String> {
    conn.write_line(&format!("EHLO {EHLO_NAME}"))
        .await
        .map_err(|e| e.to_string())?;
    let (code, lines) = smtp_reply(conn).await?;
    if code != 250 {
        return Err(format!("EHLO refused: {}", lines.join(" ")));
    }
    Ok(lines.into_iter().skip(1).collect())
}

/// Send one IMAP command with a fresh tag; return the untagged lines and the tagged completion.
/// Literals inside untagged lines are not expected here (see the round trip's FETCH reader).
pub async fn imap_cmd(conn: &mut Conn, cmd: &str) -> Result<(Vec<String>, String), String> {
    let tag = conn.next_tag();
    conn.write_line(&format!("{tag} {cmd}"))
        .await
        .map_err(|e| e.to_string())?;
    let mut untagged = Vec::new();
    loop {
        let l = conn.read_line().await.map_err(|e| e.to_string())?;
        if let Some(rest) = l.strip_prefix(&format!("{tag} ")) {
            return Ok((untagged, rest.to_string()));
        }
        untagged.push(l);
    }
}

/// `OK ...` completion or an error with the server's text.
pub fn expect_ok(done: &str) -> Result<(), String> {
    if done.get(..2).is_some_and(|s| s.eq_ignore_ascii_case("OK")) {
        Ok(())
    } else {
        Err(done.to_string())
    }
}

async fn imap_capabilities(conn: &mut Conn) -> Result<Vec<String>, String> {
    let (untagged, done) = imap_cmd(conn, "CAPABILITY").await?;
    expect_ok(&done)?;
    Ok(untagged
        .iter()
        .filter_map(|l| l.strip_prefix("* CAPABILITY "))
        .flat_map(|s| s.split_whitespace().map(str::to_string))
        .collect())
}

/// IMAP capabilities (after login they may grow: IDLE, UIDPLUS, SPECIAL-USE).
pub async fn imap_caps(conn: &mut Conn) -> Result<Vec<String>, String> {
    imap_capabilities(conn).await
}

/// Lines of a POP3 multi-line response up to the terminating ".", dot-unstuffed (RFC 1939 §3).
pub async fn pop3_multiline(conn: &mut Conn) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    loop {
        let l = conn.read_line().await.map_err(|e| e.to_string())?;
        if l == "." {
            return Ok(out);
        }
        out.push(l.strip_prefix('.').map(str::to_string).unwrap_or(l));
        if out.len() > 100_000 {
            return Err("POP3 response too long".into());
        }
    }
}

/// One SMTP reply (RFC 5321 §4.2.1): the code and the text of each line.
pub async fn smtp_reply(conn: &mut Conn) -> Result<(u16, Vec<String>), String> {
    let mut lines = Vec::new();
    loop {
        let l = conn.read_line().await.map_err(|e| e.to_string())?;
        let code: u16 = l
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("not an SMTP reply: {l}"))?;
        let last = l.as_bytes().get(3) != Some(&b'-');
        lines.push(l.get(4..).unwrap_or("").to_string());
        if last {
            return Ok((code, lines));
        }
        if lines.len() > 1000 {
            return Err("SMTP reply too long".into());
        }
    }
}

//! The port-25 probe of one MX address (RFC 5321, RFC 3207): connect, greeting (code, name,
//! delay), EHLO, STARTTLS and the TLS session, EHLO again, the safe relay test (RFC 5321
//! §3.9 / RFC 2505: `MAIL FROM:<>`, `RCPT TO:` a foreign address, never DATA, always RSET and
//! QUIT), and the PTR and forward-confirmed reverse DNS of the address. Every step's failure is
//! data in [`Port25`]; [`judge`] turns the results into findings.

pub(crate) mod judge;

use std::future::Future;
use std::net::IpAddr;
use std::time::Instant;

use crate::dns::Resolver;
use crate::model::{Banner, Ehlo, Port25, RelayTest};
use crate::net::Net;
use crate::proto::open::DEFAULT_EHLO_NAME;
use crate::proto::session::Session;
use crate::proto::smtp::{self, Command, SmtpReply};
use crate::proto::transport;

/// Default recipient of the relay test: a domain IANA reserves (RFC 2606 §3), which no MX of
/// the audited domain may host.
pub const DEFAULT_RELAY_RCPT: &str = "relay-test@example.net";

/// What the probe needs besides the address.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub relay_rcpt: String,
    pub ehlo_name: String,
    /// Run the safe relay test (`audit`); `check`'s Receiving section does not.
    pub relay_test: bool,
    /// Look up the PTR and forward-confirmed reverse DNS (`audit`); `check` does not.
    pub reverse_dns: bool,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            relay_rcpt: DEFAULT_RELAY_RCPT.to_string(),
            ehlo_name: DEFAULT_EHLO_NAME.to_string(),
            relay_test: true,
            reverse_dns: true,
        }
    }
}

/// Probe `ip` of MX `host` on port 25; the reverse DNS is looked up meanwhile.
pub async fn probe(
    net: &Net,
    resolver: &Resolver,
    host: &str,
    ip: IpAddr,
    opts: &ProbeOptions,
) -> Port25 {
    probe_with_chain(net, resolver, host, ip, opts).await.0
}

/// [`probe`], and the certificates the address presented after STARTTLS (leaf first, DER;
/// empty without TLS), kept in memory for DANE (RFC 7672 §3) and never serialised.
pub(crate) async fn probe_with_chain(
    net: &Net,
    resolver: &Resolver,
    host: &str,
    ip: IpAddr,
    opts: &ProbeOptions,
) -> (Port25, Vec<Vec<u8>>) {
    probe_until(net, resolver, host, ip, opts, std::future::pending()).await
}

/// [`probe_with_chain`] until `stop` completes: then the dialogue is dropped (the connection
/// closes without QUIT), the fields keep what it saw so far and `cut` says what it had reached.
pub(crate) async fn probe_until(
    net: &Net,
    resolver: &Resolver,
    host: &str,
    ip: IpAddr,
    opts: &ProbeOptions,
    stop: impl Future<Output = ()>,
) -> (Port25, Vec<Vec<u8>>) {
    let started = Instant::now();
    let mut p = Port25::default();
    let mut chain = Vec::new();
    tokio::pin!(stop);
    if futures::poll!(&mut stop).is_ready() {
        p.cut = Some("not started: the verdict was ready".into());
        return (p, chain);
    }
    let reverse_dns = async {
        if opts.reverse_dns {
            reverse(resolver, ip).await
        } else {
            (Vec::new(), false)
        }
    };
    let stopped = {
        let work = async {
            let d = dialogue(net, host, ip, opts, &mut p, &mut chain);
            let (_, rev) = tokio::join!(d, reverse_dns);
            rev
        };
        tokio::select! {
            biased;
            () = &mut stop => None,
            rev = work => Some(rev),
        }
    };
    let ms = started.elapsed().as_millis() as u64;
    match stopped {
        Some((ptr, fcrdns)) => {
            p.ptr = ptr;
            p.fcrdns = fcrdns;
        }
        // Cut while saying QUIT (or closing): nothing the probe was for was missing.
        None if complete(&p, opts) => {}
        None => p.cut = Some(cut_reason(&p, ms)),
    }
    p.elapsed_ms = ms;
    (p, chain)
}

/// Whether the dialogue has everything it was run for (only QUIT is left): a failed step, a
/// refused greeting, the EHLO without STARTTLS, the STARTTLS outcome and, when asked for, the
/// relay test.
fn complete(p: &Port25, opts: &ProbeOptions) -> bool {
    let refused = p.banner.as_ref().is_some_and(|b| b.code != 220);
    let tls_done = p.ehlo.is_some()
        && (!p.starttls_offered || p.ehlo_tls.is_some() || p.starttls_error.is_some());
    p.error.is_some() || refused || (tls_done && (!opts.relay_test || p.relay_test.is_some()))
}

/// What a probe cut after `ms` had reached, in words for the Receiving section.
fn cut_reason(p: &Port25, ms: u64) -> String {
    if p.connect_ms.is_none() {
        format!("no TCP answer within {ms} ms: port 25 looks filtered from here")
    } else if p.banner.is_none() {
        format!("TCP connected, no greeting within {ms} ms")
    } else if p.ehlo.is_none() {
        format!("greeted, no EHLO answer within {ms} ms")
    } else if p.starttls_offered && !p.starttls_ok && p.starttls_error.is_none() {
        format!("STARTTLS not finished within {ms} ms")
    } else {
        format!("not finished within {ms} ms")
    }
}

/// PTR names of `ip` and whether one of them resolves back to it.
async fn reverse(resolver: &Resolver, ip: IpAddr) -> (Vec<String>, bool) {
    let Ok(names) = resolver.ptr(ip).await else {
        return (Vec::new(), false);
    };
    let checks = names
        .iter()
        .map(|n| async move { resolver.ips(n).await.is_ok_and(|ips| ips.contains(&ip)) });
    let confirmed = futures::future::join_all(checks)
        .await
        .into_iter()
        .any(|ok| ok);
    (names, confirmed)
}

/// The host to connect to for this address: the address itself, so that `--connect-to
/// IP:25:…` applies per address; the MX name only when `--connect-to`/`--resolve` rewrite the
/// name and not the address.
fn connect_host(net: &Net, host: &str, ip: IpAddr) -> String {
    let ip_s = ip.to_string();
    let by_ip = net.cfg.connect_target(&ip_s, 25) != (ip_s.clone(), 25);
    let by_name = net.cfg.connect_target(host, 25) != (host.to_string(), 25)
        || net.cfg.pinned(host, 25).is_some();
    if by_name && !by_ip {
        host.to_string()
    } else {
        ip_s
    }
}

/// The SMTP dialogue, recording each step in `p` as it happens (so that a cut probe keeps it)
/// and the certificates presented after STARTTLS in `chain`.
async fn dialogue(
    net: &Net,
    host: &str,
    ip: IpAddr,
    opts: &ProbeOptions,
    p: &mut Port25,
    chain: &mut Vec<Vec<u8>>,
) {
    let t0 = Instant::now();
    let c = match transport::connect(net, &connect_host(net, host, ip), 25).await {
        Ok(c) => c,
        Err(e) => {
            p.error = Some(format!("connect: {}", e.message));
            return;
        }
    };
    p.connect_ms = Some(c.connect_ms);
    p.connected_to = c.redirected_to.clone();
    let greeted = Instant::now();
    let mut s = Session::new(c.tcp, net, t0);
    let banner = match s.read_smtp_reply().await {
        Ok(r) => r,
        Err(e) => {
            p.error = Some(format!(
                "banner: {e} (after {} ms)",
                greeted.elapsed().as_millis()
            ));
            s.close().await;
            return;
        }
    };
    p.banner = Some(Banner {
        code: banner.code,
        text: banner.text(),
        name: (banner.code == 220)
            .then(|| {
                banner
                    .lines
                    .first()
                    .and_then(|l| l.split_whitespace().next())
                    .map(str::to_ascii_lowercase)
            })
            .flatten(),
        delay_ms: greeted.elapsed().as_millis() as u64,
    });
    if banner.code != 220 {
        // RFC 5321 §3.1: 554 (or 421) instead of 220 refuses the session; QUIT is still polite.
        let _ = s.smtp(&Command::Quit).await;
        s.close().await;
        return;
    }
    let ehlo = match s.smtp(&Command::Ehlo(&opts.ehlo_name)).await {
        Ok(r) if r.code == 250 => r,
        Ok(r) => {
            p.error = Some(format!("ehlo: {}", r.one_line()));
            quit(&mut s).await;
            return;
        }
        Err(e) => {
            p.error = Some(format!("ehlo: {e}"));
            s.close().await;
            return;
        }
    };
    let info = smtp::parse_ehlo(&ehlo);
    p.starttls_offered = info.starttls;
    p.ehlo = Some(ehlo_of(&ehlo));
    let usable = !info.starttls || starttls(net, host, opts, &mut s, p).await;
    *chain = s.peer_chain_der();
    if usable && p.error.is_none() && opts.relay_test {
        p.relay_test = relay_test(&mut s, &opts.relay_rcpt).await;
    }
    quit(&mut s).await;
}

/// STARTTLS, the handshake for the MX name, EHLO again; false when the session is no longer
/// usable (a broken handshake leaves the connection in an unknown state).
async fn starttls(
    net: &Net,
    host: &str,
    opts: &ProbeOptions,
    s: &mut Session,
    p: &mut Port25,
) -> bool {
    match s.smtp(&Command::StartTls).await {
        Ok(r) if r.code == 220 => {}
        Ok(r) => {
            p.starttls_error = Some(format!("STARTTLS refused: {}", r.one_line()));
            return true;
        }
        Err(e) => {
            p.starttls_error = Some(format!("STARTTLS: {e}"));
            return false;
        }
    }
    match s.starttls(net, host).await {
        Ok(info) => {
            p.starttls_ok = true;
            p.tls = Some(info);
        }
        Err(e) => {
            p.starttls_error = Some(format!("TLS handshake: {}", e.message));
            return false;
        }
    }
    match s.smtp(&Command::Ehlo(&opts.ehlo_name)).await {
        Ok(r) if r.code == 250 => {
            p.ehlo_tls = Some(ehlo_of(&r));
            true
        }
        Ok(r) => {
            p.starttls_error = Some(format!("EHLO after TLS: {}", r.one_line()));
            false
        }
        Err(e) => {
            p.starttls_error = Some(format!("EHLO after TLS: {e}"));
            false
        }
    }
}

/// `MAIL FROM:<>`, `RCPT TO:<rcpt>`, then `RSET`. Never DATA.
async fn relay_test(s: &mut Session, rcpt: &str) -> Option<RelayTest> {
    let mail = s.smtp(&Command::MailFrom("")).await.ok()?;
    let mut t = RelayTest {
        rcpt: rcpt.to_string(),
        ..RelayTest::default()
    };
    if mail.code != 250 {
        t.reply = format!("MAIL FROM refused: {}", mail.one_line());
        return Some(t);
    }
    let reply = s.smtp(&Command::RcptTo(rcpt)).await.ok()?;
    t.accepted = (200..300).contains(&reply.code);
    t.reply = reply.one_line();
    let _ = s.smtp(&Command::Rset).await;
    Some(t)
}

async fn quit(s: &mut Session) {
    let _ = s.smtp(&Command::Quit).await;
    s.close().await;
}

fn ehlo_of(r: &SmtpReply) -> Ehlo {
    let info = smtp::parse_ehlo(r);
    Ehlo {
        name: info.hostname.to_ascii_lowercase(),
        extensions: info.keywords.clone(),
        size: info.size.map(|n| n as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_opts() -> ProbeOptions {
        ProbeOptions {
            relay_test: false,
            reverse_dns: false,
            ..ProbeOptions::default()
        }
    }

    #[test]
    fn a_cut_probe_says_how_far_it_got() {
        let mut p = Port25::default();
        assert_eq!(
            cut_reason(&p, 500),
            "no TCP answer within 500 ms: port 25 looks filtered from here"
        );
        p.connect_ms = Some(1);
        assert_eq!(
            cut_reason(&p, 500),
            "TCP connected, no greeting within 500 ms"
        );
        p.banner = Some(Banner {
            code: 220,
            ..Banner::default()
        });
        assert_eq!(cut_reason(&p, 500), "greeted, no EHLO answer within 500 ms");
        p.ehlo = Some(Ehlo::default());
        p.starttls_offered = true;
        assert_eq!(cut_reason(&p, 500), "STARTTLS not finished within 500 ms");
        assert!(!complete(&p, &check_opts()));
    }

    #[test]
    fn only_quit_left_is_complete() {
        let opts = check_opts();
        let mut p = Port25 {
            connect_ms: Some(1),
            banner: Some(Banner {
                code: 220,
                ..Banner::default()
            }),
            ehlo: Some(Ehlo::default()),
            ..Port25::default()
        };
        // No STARTTLS offered: nothing more to learn in check; the audit still wants its relay
        // test.
        assert!(complete(&p, &opts));
        assert!(!complete(&p, &ProbeOptions::default()));
        p.starttls_offered = true;
        assert!(!complete(&p, &opts));
        p.ehlo_tls = Some(Ehlo::default());
        assert!(complete(&p, &opts));
        let refused = Port25 {
            banner: Some(Banner {
                code: 421,
                ..Banner::default()
            }),
            ..Port25::default()
        };
        assert!(complete(&refused, &opts));
    }
}

//! Human rendering of the `inbound` object (`mailprobe audit`): the MX set, then one line per
//! policy, the SPF tree drawn with its running lookup count. Record text comes from the DNS and
//! is shown with control characters escaped.

use std::fmt::Write;

use colored::Colorize;

use crate::model::{
    Dane, DaneAddress, DaneHost, DaneOutcome, DkimKey, Dmarc, DmarcUri, DnssecStatus, Inbound,
    MtaSts, Port25, Spf, SpfNode, TlsRpt,
};

/// Text from the network with control characters (escape sequences, newlines) escaped.
fn safe(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// The MX section and, with `policies` (`audit`), the policy section; `check`'s Receiving
/// section is the MX hosts with their port-25 STARTTLS only.
pub fn render(o: &mut String, i: &Inbound, policies: bool) {
    o.push_str("\nReceiving (MX)\n");
    if let Some(why) = &i.incomplete {
        let _ = writeln!(o, "  {}", format!("not awaited: {}", safe(why)).yellow());
    }
    if i.null_mx && i.mx.is_empty() {
        let _ = writeln!(o, "  null MX (RFC 7505): the domain accepts no mail");
    } else if i.mx.is_empty() && i.incomplete.is_none() {
        let _ = writeln!(o, "  {}", "no mail exchanger".red());
    }
    mx_rows(o, i, policies);
    if !policies {
        return;
    }
    o.push_str("\nPolicies\n");
    let p = &i.policies;
    line(o, "MTA-STS", p.mta_sts.as_ref().map(mta_sts));
    line(o, "TLS-RPT", p.tls_rpt.as_ref().map(tls_rpt));
    if let Some(d) = &p.dane {
        dane(o, d);
    }
    line(o, "SPF", p.spf.as_ref().map(spf_head));
    if let Some(tree) = p.spf.as_ref().and_then(|s| s.tree.as_ref())
        && !tree.children.is_empty()
    {
        spf_tree(o, tree, "            ", true, true);
    }
    line(o, "DMARC", p.dmarc.as_ref().map(dmarc));
    let keys: Vec<String> = p.dkim.iter().map(dkim).collect();
    let dkim = match (keys.is_empty(), p.dkim_domainkey.as_deref()) {
        (false, _) => Some(keys.join("; ")),
        (true, Some("nxdomain")) => Some("none (_domainkey does not exist)".into()),
        (true, _) => None,
    };
    line(o, "DKIM", dkim);
}

fn line(o: &mut String, label: &str, text: Option<String>) {
    let text = text.unwrap_or_else(|| "none".dimmed().to_string());
    let _ = writeln!(o, "  {label:<8}  {text}");
}

fn mta_sts(m: &MtaSts) -> String {
    match (&m.policy, &m.error) {
        (Some(p), _) => {
            let mut s = format!(
                "mode {}, max_age {}, mx {}",
                p.mode,
                p.max_age,
                safe(&p.mx.join(", "))
            );
            if !m.uncovered_mx.is_empty() {
                let _ = write!(
                    s,
                    "  {}",
                    format!("not covering {}", m.uncovered_mx.join(", ")).red()
                );
            }
            if !m.in_effect() {
                let _ = write!(
                    s,
                    "  {}",
                    "NOT in effect: senders need exactly one valid record".red()
                );
            }
            s
        }
        (None, Some(e)) => format!("{}  {}", safe(&m.records.join(" | ")), safe(e).red()),
        (None, None) => safe(&m.records.join(" | ")),
    }
}

/// One line per MX host (preference, name, addresses or why there are none), then one per
/// probed address with its port-25 result.
fn mx_rows(o: &mut String, i: &Inbound, policies: bool) {
    let hw = i.mx.iter().map(|m| m.host.len()).max().unwrap_or(0);
    for m in &i.mx {
        let addrs = if m.addresses.is_empty() {
            format!("no address: {}", safe(m.error.as_deref().unwrap_or("none")))
                .red()
                .to_string()
        } else if m.addresses.iter().any(|a| a.probe.is_some()) {
            String::new()
        } else {
            m.addresses
                .iter()
                .map(|a| a.ip.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let implicit = if i.implicit_mx {
            "  (implicit MX: the domain's own address)"
        } else {
            ""
        };
        let alias = m
            .cname
            .as_ref()
            .map(|c| format!("  (alias of {})", safe(c)))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "{}",
            format!(
                "  {:>5}  {:<hw$}  {addrs}{alias}{implicit}",
                m.preference,
                safe(&m.host)
            )
            .trim_end()
        );
        for a in &m.addresses {
            if let Some(p) = &a.probe {
                let dane = i
                    .policies
                    .dane
                    .as_ref()
                    .and_then(|d| d.address(&m.host, &a.ip));
                let _ = writeln!(o, "         {:<15}  {}", a.ip, port25(p, dane, policies));
            }
        }
    }
}

/// `DANE  MX answer secure`, then per host its TLSA answer and per address the match.
fn dane(o: &mut String, d: &Dane) {
    let head = match d.mx_dnssec {
        Some(DnssecStatus::Secure) => "MX answer DNSSEC secure".green().to_string(),
        Some(s) => format!("not possible: MX answer DNSSEC {}", status(s)),
        None => "not checked".dimmed().to_string(),
    };
    line(o, "DANE", Some(head));
    if d.mx_dnssec != Some(DnssecStatus::Secure) {
        return;
    }
    for h in &d.hosts {
        let _ = writeln!(o, "            {}", dane_host(h));
        for a in &h.addresses {
            let what = match a.outcome {
                DaneOutcome::Valid => {
                    let m = a.matched.as_deref().map(abbreviated).unwrap_or_default();
                    let name = a.name.as_deref().map(|n| format!(", name {n}"));
                    format!("valid ({m}{})", name.unwrap_or_default())
                        .green()
                        .to_string()
                }
                DaneOutcome::NotChecked => "not checked".dimmed().to_string(),
                other => {
                    let label = match other {
                        DaneOutcome::Mismatch => "NO MATCH",
                        DaneOutcome::NameMismatch => "NAME MISMATCH",
                        _ => "NO TLS",
                    };
                    let why = a.detail.as_deref().map(safe).unwrap_or_default();
                    format!("{label}: {why}").red().to_string()
                }
            };
            let _ = writeln!(o, "              {:<15}  {what}", a.ip);
        }
    }
}

/// `mx.example.com  _25._tcp.mx.example.com secure: 3 1 1 0a1b2c3d4e5f…`.
fn dane_host(h: &DaneHost) -> String {
    let records = if h.tlsa.is_empty() {
        h.error
            .as_deref()
            .map(safe)
            .unwrap_or_else(|| "no TLSA record".into())
    } else {
        h.tlsa
            .iter()
            .map(|r| {
                let t = abbreviated(&r.presentation());
                if r.usable {
                    t
                } else {
                    format!("{t} (unusable)")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{}  {} {}: {records}",
        safe(&h.host),
        safe(&h.tlsa_name),
        status(h.tlsa_dnssec)
    )
}

fn status(s: DnssecStatus) -> String {
    match s {
        DnssecStatus::Secure => s.as_str().green().to_string(),
        DnssecStatus::Insecure => s.as_str().to_string(),
        _ => s.as_str().red().to_string(),
    }
}

/// A TLSA record in presentation form with its data cut after 12 hex digits.
fn abbreviated(p: &str) -> String {
    match p.char_indices().nth(18) {
        Some((i, _)) => format!("{}…", &p[..i]),
        None => p.to_string(),
    }
}

fn tls_rpt(t: &TlsRpt) -> String {
    if t.rua.is_empty() {
        safe(&t.records.join(" | "))
    } else {
        format!("reports to {}", safe(&t.rua.join(", ")))
    }
}

fn spf_head(s: &Spf) -> String {
    let count = format!("{}/10 lookups, {}/2 void", s.lookups, s.void_lookups);
    let count = if s.lookups > 10 || s.void_lookups > 2 {
        count.red().to_string()
    } else {
        count
    };
    format!("{}  ({count})", safe(s.record.as_deref().unwrap_or("")))
}

/// `├─ include:x  (running total)` lines, depth first.
fn spf_tree(o: &mut String, n: &SpfNode, indent: &str, top: bool, last: bool) {
    if !top {
        let branch = if last { "└─ " } else { "├─ " };
        let mut text = format!("{} {}", n.via, safe(&n.domain));
        let _ = write!(text, "  (+{}, total {})", n.lookups_here, n.lookups_total);
        if let Some(e) = &n.error {
            let _ = write!(text, "  {}", safe(e).red());
        }
        if n.exceeds_limit {
            let _ = write!(text, "  {}", "← breaks the limit of 10".red().bold());
        }
        let _ = writeln!(o, "{indent}{branch}{text}");
    }
    let child_indent = if top {
        indent.to_string()
    } else if last {
        format!("{indent}   ")
    } else {
        format!("{indent}│  ")
    };
    for (k, c) in n.children.iter().enumerate() {
        spf_tree(o, c, &child_indent, false, k + 1 == n.children.len());
    }
}

fn dmarc(d: &Dmarc) -> String {
    let mut s = format!(
        "p={} sp={} pct={} adkim={} aspf={}",
        d.p.as_deref().unwrap_or("?"),
        d.sp.as_deref().or(d.p.as_deref()).unwrap_or("?"),
        d.pct,
        d.adkim,
        d.aspf
    );
    if d.record_domain.is_empty() {
        return s;
    }
    let uris = |label: &str, v: &[DmarcUri]| -> String {
        if v.is_empty() {
            return String::new();
        }
        let list: Vec<String> = v
            .iter()
            .map(|u| match u.authorized {
                Some(true) => format!("{} (external, authorised)", safe(&u.uri)),
                Some(false) => format!("{} {}", safe(&u.uri), "(external, NOT authorised)".red()),
                None => safe(&u.uri),
            })
            .collect();
        format!("  {label} {}", list.join(", "))
    };
    s.push_str(&uris("rua", &d.rua));
    s.push_str(&uris("ruf", &d.ruf));
    let _ = write!(s, "  (at _dmarc.{})", safe(&d.record_domain));
    s
}

fn dkim(k: &DkimKey) -> String {
    let what = if !k.found {
        "not found".red().to_string()
    } else if k.revoked {
        "revoked".to_string()
    } else if let Some(e) = &k.error {
        safe(e).red().to_string()
    } else {
        let t = k.key_type.as_deref().unwrap_or("rsa");
        let mut s = match k.key_bits {
            Some(b) => format!("{t} {b} bits"),
            None => t.to_string(),
        };
        if k.testing {
            s.push_str(", testing (t=y)");
        }
        s
    };
    format!("{}: {what}", safe(&k.selector))
}

/// `220 mx.example.com (120 ms), STARTTLS TLSv1.3 verified, relay refused, PTR ok`; the
/// relay test and PTR only with `full` (`audit`). A probe cut before its end shows what it saw
/// and how far it got: `not awaited: no TCP answer within 500 ms: port 25 looks filtered from here`. A certificate that fails the
/// WebPKI checks but matches a DANE record is authenticated all the same (RFC 7672 §3.1.1:
/// DANE-EE ignores names and dates), and says so.
fn port25(p: &Port25, dane: Option<&DaneAddress>, full: bool) -> String {
    if let Some(e) = &p.error {
        return safe(e).red().to_string();
    }
    let mut parts = Vec::new();
    if let Some(cut) = &p.cut {
        if let Some(b) = p.banner.as_ref().filter(|b| b.code == 220) {
            let name = b.name.as_deref().map(safe).unwrap_or_default();
            parts.push(format!("{} {name} ({} ms)", b.code, b.delay_ms));
        }
        if p.ehlo.is_some() && !p.starttls_offered {
            parts.push("no STARTTLS".red().to_string());
        }
        parts.push(format!("not awaited: {}", safe(cut)).yellow().to_string());
        return parts.join(", ");
    }
    if let Some(b) = &p.banner {
        if b.code != 220 {
            let refused = format!("{} {} ({} ms)", b.code, safe(&b.text), b.delay_ms);
            return refused.red().to_string();
        }
        let name = b.name.as_deref().map(safe).unwrap_or_default();
        parts.push(format!("{} {name} ({} ms)", b.code, b.delay_ms));
    }
    parts.push(match (&p.tls, p.starttls_offered, p.starttls_ok) {
        (_, false, _) => "no STARTTLS".red().to_string(),
        (Some(t), _, true) => {
            let v = if t.verified {
                "verified".green().to_string()
            } else if dane.is_some_and(|d| d.outcome == DaneOutcome::Valid) {
                format!(
                    "authenticated by DANE (WebPKI: {})",
                    t.verify_error.as_deref().unwrap_or("?")
                )
                .green()
                .to_string()
            } else {
                format!(
                    "NOT verified ({})",
                    t.verify_error.as_deref().unwrap_or("?")
                )
                .yellow()
                .to_string()
            };
            format!("STARTTLS {} {} {v}", t.version, t.cipher)
        }
        _ => format!(
            "STARTTLS failed: {}",
            safe(p.starttls_error.as_deref().unwrap_or("?"))
        )
        .red()
        .to_string(),
    });
    if !full {
        return parts.join(", ");
    }
    if let Some(r) = &p.relay_test {
        parts.push(if r.accepted {
            "ACCEPTS relay".red().bold().to_string()
        } else {
            "relay refused".to_string()
        });
    }
    parts.push(match (p.ptr.first(), p.fcrdns) {
        (None, _) => "no PTR".to_string(),
        (Some(n), true) => format!("PTR {}", safe(n)),
        (Some(n), false) => format!("PTR {} (not confirmed)", safe(n)),
    });
    parts.join(", ")
}

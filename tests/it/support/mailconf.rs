//! Config files for the mail stack: layout, certificates, users, dovecot.conf, Postfix
//! main.cf/master.cf, and carol's Sieve script. Pitfalls (from the verified testbed recipe) are
//! noted where they bite.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::net::IpAddr;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::Path;

use super::mailstack::{CERT_NAMES, MailStack, StackOptions, backdate, mail_owner};

/// Sieve script for carol@example.test: everything goes to Junk (RFC 5228 fileinto, RFC 5490 :create).
const CAROL_SIEVE: &str = "require [\"fileinto\", \"mailbox\"];\nfileinto :create \"Junk\";\n";

fn chmod(p: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
}

/// uid/gid of a system user or group from /etc/passwd or /etc/group.
fn lookup_id(file: &str, name: &str) -> io::Result<u32> {
    let text = fs::read_to_string(file)?;
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[0] == name)
                .then(|| f[2].parse().ok())
                .flatten()
        })
        .next()
        .ok_or_else(|| {
            io::Error::other(format!(
                "no '{name}' in {file} (is postfix/dovecot installed?)"
            ))
        })
}

/// Postfix master.cf wants `[::1]:25` for IPv6.
fn hostport(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V6(a) => format!("[{a}]:{port}"),
        IpAddr::V4(a) => format!("{a}:{port}"),
    }
}

pub(super) fn write_all(s: &MailStack, opts: &StackOptions) -> io::Result<()> {
    let d = &s.dir;
    let (pf_etc, pf_q, pf_data) = (
        d.join("postfix/etc"),
        d.join("postfix/spool"),
        d.join("postfix/data"),
    );
    let (dc, log, tls, mail) = (
        d.join("dovecot"),
        d.join("log"),
        d.join("tls"),
        d.join("mail"),
    );
    for p in [
        &pf_etc,
        &pf_q,
        &pf_data,
        &dc.join("run"),
        &dc.join("state"),
        &log,
        &tls,
        &mail,
    ] {
        fs::create_dir_all(p)?;
    }
    // Dovecot's auth (user dovecot) and lmtp (uid 5000) processes must traverse the folder, and a
    // tempdir is 0700.
    for p in [d, &d.join("postfix"), &dc, &log, &tls] {
        chmod(p, 0o755)?;
    }
    let pf_uid = lookup_id("/etc/passwd", "postfix")?;
    let pf_gid = lookup_id("/etc/group", "postfix")?;
    let dc_gid = lookup_id("/etc/group", "dovecot")?;
    // private/ must exist, postfix-owned 0700, before Dovecot puts its sockets there.
    let private = pf_q.join("private");
    fs::create_dir_all(&private)?;
    chown(&private, Some(pf_uid), Some(0))?;
    chmod(&private, 0o700)?;
    chown(&pf_data, Some(pf_uid), Some(pf_gid))?;
    let (muid, mgid) = mail_owner();
    chown(&mail, Some(muid), Some(mgid))?;
    chmod(&mail, 0o750)?;

    // TLS
    fs::write(&s.ca_file, s.ca.pem())?;
    let mut names: Vec<&str> = CERT_NAMES.to_vec();
    names.extend(opts.extra_sans.iter().map(String::as_str));
    let cert = s.ca.issue(&names, opts.cert);
    let (chain, key) = cert.write(&tls, "mail");

    // Users: a passwd-file for Dovecot (PLAIN scheme: test passwords only), a lookup table for
    // Postfix, and the home folders (carol gets her Sieve script).
    let mut passwd = String::new();
    let mut vmailbox = String::new();
    let mut domains: Vec<String> = Vec::new();
    for (u, pw) in &s.users {
        let _ = writeln!(passwd, "{u}:{{PLAIN}}{pw}::::::");
        let _ = writeln!(vmailbox, "{u} OK");
        let dom = u
            .rsplit_once('@')
            .map(|x| x.1)
            .unwrap_or("example.test")
            .to_ascii_lowercase();
        if !domains.contains(&dom) {
            domains.push(dom);
        }
    }
    let users_file = dc.join("users");
    fs::write(&users_file, passwd)?;
    chmod(&users_file, 0o640)?;
    chown(&users_file, Some(0), Some(dc_gid))?;
    fs::write(pf_etc.join("vmailbox"), vmailbox)?;
    for (u, _) in &s.users {
        if u.eq_ignore_ascii_case("carol@example.test") {
            let home = mail.join("example.test/carol");
            fs::create_dir_all(&home)?;
            let script = home.join(".dovecot.sieve");
            fs::write(&script, CAROL_SIEVE)?;
            for p in [&mail.join("example.test"), &home, &script] {
                chown(p, Some(muid), Some(mgid))?;
            }
        }
    }

    let inst = format!(
        "mailprobe-test-{}",
        d.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    );
    let mut conf = dovecot_conf(s, opts, &inst, &chain, &key);
    if let Some(url) = &opts.oauth2_introspection {
        // Dovecot 2.3 oauth2 passdb (doc.dovecot.org "OAuth2 authentication database"): the
        // token is POSTed as `token=` to the introspection URL; `active` must be true and
        // `username` the login.
        let ext = dc.join("dovecot-oauth2.conf.ext");
        fs::write(
            &ext,
            format!(
                "introspection_mode = post\nintrospection_url = {url}\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n"
            ),
        )?;
        chmod(&ext, 0o644)?;
        conf = conf.replacen(
            "auth_mechanisms = plain login",
            "auth_mechanisms = plain login xoauth2 oauthbearer",
            1,
        );
        conf += &format!(
            "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {}\n}}\n",
            ext.display()
        );
    }
    fs::write(dc.join("dovecot.conf"), conf)?;
    fs::write(pf_etc.join("main.cf"), main_cf(s, &domains, &chain, &key))?;
    fs::write(pf_etc.join("master.cf"), master_cf(s))?;
    for f in ["main.cf", "master.cf", "vmailbox"] {
        backdate(&pf_etc.join(f))?;
    }
    Ok(())
}

fn dovecot_conf(
    s: &MailStack,
    opts: &StackOptions,
    inst: &str,
    chain: &Path,
    key: &Path,
) -> String {
    let d = s.dir.display();
    let p = &s.ports;
    let (muid, mgid) = mail_owner();
    let penalty_mode = if opts.auth_penalty { "0600" } else { "0" };
    format!(
        r#"# generated by the mailprobe test harness -- standalone, does not include /etc/dovecot
instance_name = {inst}
base_dir = {d}/dovecot/run
state_dir = {d}/dovecot/state
log_path = {d}/log/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
protocols = imap pop3 lmtp
listen = {addr}
hostname = {host}
ssl = yes
ssl_cert = <{chain}
ssl_key = <{key}
ssl_dh = </usr/share/dovecot/dh.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = {delay}s
first_valid_uid = {muid}
first_valid_gid = {mgid}
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu {d}/dovecot/users
}}
userdb {{
  driver = static
  args = uid={muid} gid={mgid} home={d}/mail/%Ld/%Ln
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \Trash
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \Junk
    auto = subscribe
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@example.test
  mail_plugins = $mail_plugins sieve
}}
plugin {{
  sieve = file:~/sieve;active=~/.dovecot.sieve
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service lmtp {{
  unix_listener {d}/postfix/spool/private/dovecot-lmtp {{
    mode = 0600
    user = postfix
    group = postfix
  }}
}}
service auth {{
  unix_listener {d}/postfix/spool/private/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
service anvil {{
  # no growing per-IP delay after failed logins unless asked (all tests share one client IP)
  unix_listener anvil-auth-penalty {{
    mode = {penalty_mode}
  }}
}}
"#,
        addr = s.addr,
        host = s.hostname,
        chain = chain.display(),
        key = key.display(),
        // Dovecot 2.3 takes whole seconds here
        delay = opts.auth_failure_delay_ms.div_ceil(1000),
        imap = p.imap,
        imaps = p.imaps,
        pop3 = p.pop3,
        pop3s = p.pop3s,
    )
}

fn main_cf(s: &MailStack, domains: &[String], chain: &Path, key: &Path) -> String {
    let d = s.dir.display();
    let (proto, mynet) = match s.addr {
        IpAddr::V4(_) => ("ipv4", "127.0.0.0/8"),
        IpAddr::V6(_) => ("ipv6", "[::1]/128"),
    };
    format!(
        r#"# generated by the mailprobe test harness (postfix -c {d}/postfix/etc)
compatibility_level = 3.6
queue_directory = {d}/postfix/spool
data_directory = {d}/postfix/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {d}/log/postfix.log
maillog_file_prefixes = {d}/log
myhostname = {host}
mydomain = example.test
myorigin = $mydomain
mydestination =
local_transport = error:5.1.1 local delivery disabled in tests
alias_maps =
alias_database =
# must name configured interface addresses: 127.0.0.2 is rejected here ("no local interface
# found"); the listeners in master.cf carry the real address.
inet_interfaces = loopback-only
inet_protocols = {proto}
mynetworks = {mynet}
smtpd_peername_lookup = no
biff = no
append_dot_mydomain = no
smtpd_banner = $myhostname ESMTP Postfix (mailprobe tests)
virtual_mailbox_domains = {domains}
virtual_mailbox_maps = texthash:{d}/postfix/etc/vmailbox
virtual_transport = lmtp:unix:private/dovecot-lmtp
# nothing ever leaves the host
default_transport = discard:outbound delivery disabled in tests
relay_transport = $default_transport
smtp_tls_security_level = none
smtpd_tls_chain_files = {key}, {chain}
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient
delay_warning_time = 0
"#,
        host = s.hostname,
        domains = domains.join(" "),
        key = key.display(),
        chain = chain.display(),
    )
}

fn master_cf(s: &MailStack) -> String {
    let p = &s.ports;
    let (smtp, sub, subs) = (
        hostport(s.addr, p.smtp),
        hostport(s.addr, p.submission),
        hostport(s.addr, p.submissions),
    );
    format!(
        r#"# generated by the mailprobe test harness -- chroot disabled everywhere (column 5 = n)
{smtp} inet n - n - - smtpd
  -o syslog_name=postfix/smtp
{sub} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
{subs} inet n - n - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"#
    )
}

//! Real Dovecot (IMAP, POP3, LMTP + Sieve) and Postfix (SMTP 25, submission 587, submissions 465)
//! on loopback, all state in a private temp folder, every port picked free at start.
//!
//! Config follows the verified testbed recipe (/work/shared/testbed): standalone configs, mail
//! delivered Postfix → Dovecot LMTP over a unix socket, Dovecot as SASL server for Postfix.
//! Stopping is done by a small watchdog shell (see [`super::watchdog`]), so the daemons go away
//! when the `MailStack` drops *and* when the test process exits or is killed.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use super::certs::{TestCa, Validity};
use super::watchdog::Watchdog;

/// Debian packages the stack needs (named in the panic when a binary is missing).
pub const PACKAGES: &str =
    "dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-sieve postfix";
/// Owner of the mail store (no system user needed; Dovecot's first_valid_uid matches).
const MAIL_UID: u32 = 5000;
const MAIL_GID: u32 = 5000;
/// Names on the stack's certificate.
pub const CERT_NAMES: [&str; 4] = [
    "mail.example.test",
    "imap.example.test",
    "smtp.example.test",
    "pop.example.test",
];

/// How to start a stack. `StackOptions::default()` is what [`shared`] uses.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Loopback address to listen on. 127.0.0.1 counts as "secured" for Dovecot (client IP ==
    /// server IP), so plaintext LOGIN works before STARTTLS; use 127.0.0.2 for production-like
    /// behaviour (LOGINDISABLED / no AUTH before STARTTLS).
    pub addr: IpAddr,
    /// Validity of the server certificate (Expired for the expired-certificate tests).
    pub cert: Validity,
    /// Dovecot's delay after a failed login (production default 2000).
    pub auth_failure_delay_ms: u64,
    /// Keep Dovecot's per-IP auth penalty (anvil) like production. Off by default: all tests share
    /// one client IP, so one wrong password would slow every later login.
    pub auth_penalty: bool,
    /// Users besides alice, bob and carol.
    pub extra_users: Vec<(String, String)>,
    /// Extra names on the server certificate.
    pub extra_sans: Vec<String>,
    /// RFC 7662 introspection URL: Dovecot offers XOAUTH2 and OAUTHBEARER and checks their
    /// tokens with its `oauth2` passdb there (after the passwd-file passdb).
    pub oauth2_introspection: Option<String>,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            cert: Validity::Valid,
            auth_failure_delay_ms: 0,
            auth_penalty: false,
            extra_users: Vec::new(),
            extra_sans: Vec::new(),
            oauth2_introspection: None,
        }
    }
}

/// The stack's ports (all on [`MailStack::addr`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub imap: u16,
    pub imaps: u16,
    pub pop3: u16,
    pub pop3s: u16,
    pub smtp: u16,
    pub submission: u16,
    pub submissions: u16,
}

impl Ports {
    fn all(&self) -> [u16; 7] {
        [
            self.imap,
            self.imaps,
            self.pop3,
            self.pop3s,
            self.smtp,
            self.submission,
            self.submissions,
        ]
    }

    /// (standard port, this stack's port) pairs: 143, 993, 110, 995, 25, 587, 465.
    pub fn standard_map(&self) -> [(u16, u16); 7] {
        [
            (143, self.imap),
            (993, self.imaps),
            (110, self.pop3),
            (995, self.pop3s),
            (25, self.smtp),
            (587, self.submission),
            (465, self.submissions),
        ]
    }
}

/// A running Dovecot + Postfix pair. Stopped (and its folder removed) on drop.
pub struct MailStack {
    pub addr: IpAddr,
    pub hostname: String,
    pub ports: Ports,
    /// PEM file with the test CA that issued the server certificate.
    pub ca_file: PathBuf,
    /// The CA itself (to issue more certificates or build client configs).
    pub ca: TestCa,
    /// The stack's private folder (config, logs, mail store).
    pub dir: PathBuf,
    /// (address, password); alice@example.test / alice-secret first.
    pub users: Vec<(String, String)>,
    /// How long `start` took.
    pub start_time: Duration,
    watchdog: Watchdog,
}

impl std::fmt::Debug for MailStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailStack")
            .field("addr", &self.addr)
            .field("ports", &self.ports)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// The default stack of this test process, started on first use, stopped at process exit.
/// A failed start is remembered: every later caller panics with the same message at once.
pub fn shared() -> &'static MailStack {
    static SHARED: OnceLock<Result<MailStack, String>> = OnceLock::new();
    let started = SHARED.get_or_init(|| {
        std::panic::catch_unwind(|| MailStack::start(StackOptions::default())).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into())
        })
    });
    match started {
        Ok(stack) => stack,
        Err(msg) => panic!("the shared mail stack failed to start: {msg}"),
    }
}

impl MailStack {
    /// Start a stack. Panics (naming the Debian packages) when Dovecot or Postfix is missing,
    /// and with the daemons' log tail when they do not come up.
    pub fn start(opts: StackOptions) -> MailStack {
        check_binaries();
        assert!(
            opts.addr.is_loopback(),
            "mail stack address must be loopback"
        );
        let t0 = Instant::now();
        let mut last_err = String::new();
        // A port picked free may be taken by someone else before the daemons bind it: retry.
        for _ in 0..4 {
            match try_start(&opts) {
                Ok(mut stack) => {
                    stack.start_time = t0.elapsed();
                    return stack;
                }
                Err(e) => last_err = e,
            }
        }
        panic!("mail stack did not start: {last_err}");
    }

    /// The first (default) user: alice@example.test / alice-secret.
    pub fn user(&self) -> (&str, &str) {
        (&self.users[0].0, &self.users[0].1)
    }

    /// Password of `user`.
    pub fn password(&self, user: &str) -> &str {
        self.users
            .iter()
            .find(|(u, _)| u.eq_ignore_ascii_case(user))
            .map(|(_, p)| p.as_str())
            .unwrap_or_else(|| panic!("no such test user {user}"))
    }

    /// `addr:port` of one of this stack's ports.
    pub fn sock(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.addr, port)
    }

    /// Messages in `mailbox` ("INBOX", "Junk", ...) of `user`, read from the Maildir (new + cur).
    pub fn count_messages(&self, user: &str, mailbox: &str) -> usize {
        let dir = self.maildir(user, mailbox);
        ["new", "cur"]
            .iter()
            .map(|sub| {
                std::fs::read_dir(dir.join(sub))
                    .map(|d| d.count())
                    .unwrap_or(0)
            })
            .sum()
    }

    /// Wait up to `timeout` until `mailbox` of `user` holds at least `n` messages; returns the
    /// final count.
    pub fn wait_for_messages(
        &self,
        user: &str,
        mailbox: &str,
        n: usize,
        timeout: Duration,
    ) -> usize {
        let end = Instant::now() + timeout;
        loop {
            let c = self.count_messages(user, mailbox);
            if c >= n || Instant::now() >= end {
                return c;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first message in `mailbox` of `user` whose raw text contains `needle` (e.g. a unique
    /// Subject or Message-ID: tests share the stack, so never rely on counts alone).
    pub fn find_message(&self, user: &str, mailbox: &str, needle: &str) -> Option<String> {
        let dir = self.maildir(user, mailbox);
        ["new", "cur"].iter().find_map(|sub| {
            std::fs::read_dir(dir.join(sub))
                .ok()?
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .find(|text| text.contains(needle))
        })
    }

    /// Poll [`MailStack::find_message`] until it finds the message or `timeout` passes.
    pub fn wait_for_message(
        &self,
        user: &str,
        mailbox: &str,
        needle: &str,
        timeout: Duration,
    ) -> Option<String> {
        let end = Instant::now() + timeout;
        loop {
            let found = self.find_message(user, mailbox, needle);
            if found.is_some() || Instant::now() >= end {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The Maildir folder of a mailbox (Maildir++: INBOX is the root, `a/b` is `.a.b`).
    pub fn maildir(&self, user: &str, mailbox: &str) -> PathBuf {
        let (local, domain) = user.rsplit_once('@').expect("user is an address");
        let root = self
            .dir
            .join("mail")
            .join(domain.to_ascii_lowercase())
            .join(local.to_ascii_lowercase())
            .join("Maildir");
        if mailbox.eq_ignore_ascii_case("INBOX") {
            root
        } else {
            root.join(format!(".{}", mailbox.replace('/', ".")))
        }
    }

    /// Postfix's log (delivery lines: `status=sent`, `status=bounced`, ...).
    pub fn deliver_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log/postfix.log")).unwrap_or_default()
    }

    /// The last lines of both daemons' logs, for assertion messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.dir)
    }

    /// `--connect-to` options mapping the standard mail ports of `real_host` to this stack:
    /// `["--connect-to", "HOST:993:127.0.0.1:NEWPORT", ...]`.
    pub fn connect_to_args(&self, real_host: &str) -> Vec<String> {
        let to = match self.addr {
            IpAddr::V6(a) => format!("[{a}]"),
            IpAddr::V4(a) => a.to_string(),
        };
        self.ports
            .standard_map()
            .iter()
            .flat_map(|(std_port, port)| {
                [
                    "--connect-to".to_string(),
                    format!("{real_host}:{std_port}:{to}:{port}"),
                ]
            })
            .collect()
    }

    /// Stop the daemons now and return how long that took (drop does the same).
    pub fn stop(self) -> Duration {
        let t0 = Instant::now();
        drop(self);
        t0.elapsed()
    }
}

impl Drop for MailStack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "mail stack {} logs:\n{}",
                self.dir.display(),
                self.log_tail()
            );
        }
        self.watchdog.fire();
    }
}

fn check_binaries() {
    for (bin, pkg) in [
        ("/usr/sbin/dovecot", "dovecot-core"),
        ("/usr/lib/dovecot/imap", "dovecot-imapd"),
        ("/usr/lib/dovecot/pop3", "dovecot-pop3d"),
        ("/usr/lib/dovecot/lmtp", "dovecot-lmtpd"),
        (
            "/usr/lib/dovecot/modules/lib90_sieve_plugin.so",
            "dovecot-sieve",
        ),
        ("/usr/sbin/postfix", "postfix"),
    ] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install the Debian package {pkg} \
             (the mail tests need: apt-get install -y {PACKAGES})"
        );
    }
    // Postfix refuses to start for anyone else ("the postfix command is reserved for the
    // superuser"); Dovecot would need a different (rootless) config.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next().map(str::to_string));
    assert_eq!(
        uid.as_deref(),
        Some("0"),
        "the mail stack tests must run as root (Postfix needs it)"
    );
}

fn log_tail(dir: &Path) -> String {
    let mut out = String::new();
    for f in [
        "log/dovecot.log",
        "log/dovecot.stderr",
        "log/postfix.log",
        "log/postfix-start.err",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(25);
        let _ = writeln!(out, "--- {f} ---\n{}", lines[from..].join("\n"));
    }
    out
}

/// Free TCP ports on `addr`: bind port 0, note the port, release.
fn pick_ports(addr: IpAddr) -> Ports {
    let mut held = Vec::new();
    let mut p = [0u16; 7];
    for slot in &mut p {
        let l = std::net::TcpListener::bind(SocketAddr::new(addr, 0)).expect("bind port 0");
        *slot = l.local_addr().expect("local addr").port();
        held.push(l);
    }
    Ports {
        imap: p[0],
        imaps: p[1],
        pop3: p[2],
        pop3s: p[3],
        smtp: p[4],
        submission: p[5],
        submissions: p[6],
    }
}

fn try_start(opts: &StackOptions) -> Result<MailStack, String> {
    // Unix socket paths are limited to 108 bytes and Dovecot/Postfix put theirs in this folder:
    // a long $TMPDIR (CI runners) would break them, so fall back to /tmp.
    let base = std::env::temp_dir();
    let base = if base.as_os_str().len() > 40 {
        PathBuf::from("/tmp")
    } else {
        base
    };
    let dir = tempfile::Builder::new()
        .prefix("mailprobe-stack-")
        .tempdir_in(base)
        .map_err(|e| e.to_string())?
        .keep();
    let ports = pick_ports(opts.addr);
    let mut users = vec![
        ("alice@example.test".to_string(), "alice-secret".to_string()),
        ("bob@example.test".to_string(), "bob-secret".to_string()),
        ("carol@example.test".to_string(), "carol-secret".to_string()),
    ];
    users.extend(opts.extra_users.iter().cloned());
    let ca = TestCa::new();
    // The watchdog exists before any daemon does, so nothing we start can outlive the process.
    let watchdog = Watchdog::spawn(
        &dir,
        &["postfix/spool/pid/master.pid", "dovecot/run/master.pid"],
    );
    let stack = MailStack {
        addr: opts.addr,
        hostname: "mail.example.test".into(),
        ports,
        ca_file: dir.join("tls/ca.pem"),
        ca,
        dir: dir.clone(),
        users,
        start_time: Duration::ZERO,
        watchdog,
    };
    super::mailconf::write_all(&stack, opts).map_err(|e| format!("writing config: {e}"))?;
    run_quiet(
        Command::new("/usr/sbin/dovecot")
            .arg("-c")
            .arg(dir.join("dovecot/dovecot.conf")),
        &dir.join("log/dovecot.stderr"),
    )
    .map_err(|e| format!("dovecot: {e}\n{}", log_tail(&dir)))?;
    run_quiet(
        Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(dir.join("postfix/etc"))
            .arg("start"),
        &dir.join("log/postfix-start.err"),
    )
    .map_err(|e| format!("postfix: {e}\n{}", log_tail(&dir)))?;
    for port in ports.all() {
        wait_tcp(SocketAddr::new(opts.addr, port), Duration::from_secs(20))
            .map_err(|e| format!("{e}\n{}", log_tail(&dir)))?;
    }
    Ok(stack)
}

/// Run a daemon's start command with stdio on files: Dovecot's master keeps stderr open, which
/// would hang anything reading our output.
fn run_quiet(cmd: &mut Command, log: &Path) -> Result<(), String> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "exit {status}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        ))
    }
}

fn wait_tcp(sa: SocketAddr, timeout: Duration) -> Result<(), String> {
    let end = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&sa, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= end {
            return Err(format!("nothing listens on {sa}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Postfix re-reads config files modified less than 1 s ago (300 ms steps, +2 s per start):
/// backdate what we wrote.
pub(super) fn backdate(path: &Path) -> std::io::Result<()> {
    let f = std::fs::File::options().write(true).open(path)?;
    f.set_modified(SystemTime::now() - Duration::from_secs(10))
}

pub(super) const fn mail_owner() -> (u32, u32) {
    (MAIL_UID, MAIL_GID)
}

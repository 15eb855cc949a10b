//! The `mailprobe` binary under test, with a clean environment: no colour, no inherited
//! credentials or proxy/resolver settings, only PATH and a throwaway HOME.

use std::net::SocketAddr;

use super::mailstack::MailStack;

/// `mailprobe` as an `assert_cmd::Command`: env cleared except PATH (and RUST_BACKTRACE),
/// `NO_COLOR=1`, `TERM=dumb`, HOME = the temp dir.
pub fn mailprobe() -> assert_cmd::Command {
    assert_cmd::Command::from_std(mailprobe_std())
}

/// The same as a `std::process::Command`, for a test that watches the process while it runs.
pub fn mailprobe_std() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("mailprobe"));
    cmd.env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("HOME", std::env::temp_dir())
        // No configuration file unless a test writes one: HOME is shared by every test.
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("mailprobe-tests-no-config"),
        )
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .env("LC_ALL", "C");
    if let Some(bt) = std::env::var_os("RUST_BACKTRACE") {
        cmd.env("RUST_BACKTRACE", bt);
    }
    cmd
}

/// `--dns ADDR` for a test DNS server.
pub fn dns_args(dns: SocketAddr) -> Vec<String> {
    vec!["--dns".into(), dns.to_string()]
}

/// `--ca-file CA` plus `--connect-to` for every standard mail port of `host` onto `stack`.
pub fn stack_args(stack: &MailStack, host: &str) -> Vec<String> {
    let mut args = vec!["--ca-file".to_string(), stack.ca_file.display().to_string()];
    args.extend(stack.connect_to_args(host));
    args
}

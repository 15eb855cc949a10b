//! Process-exit cleanup for daemons the harness starts.
//!
//! Rust runs no destructors for statics and none at all when the test process is killed, so each
//! stack gets a tiny `sh` child that blocks reading a pipe from us. It gets a line ("stop") when
//! the stack drops, or end-of-file when this process exits for any reason (normal end, panic,
//! SIGKILL) because the kernel closes our end. Either way it SIGTERMs the master pids recorded in
//! the given pid files, waits until they are gone (KILL after 10 s) and removes the folder
//! (kept when `MAILPROBE_KEEP_TEST_DIRS` is set). Our pipe end is close-on-exec, so other children
//! (daemons, the CLI under test) never hold it open.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

/// Liveness is read from /proc/PID/stat, not `kill -0`: daemons are reparented to PID 1, and a
/// zombie waiting to be reaped still answers `kill -0` (testbed note).
const SCRIPT: &str = r#"
trap '' INT TERM HUP PIPE
read -r _line
dir=$1; shift
pids=
for f in "$@"; do
  p=$(tr -dc 0-9 < "$dir/$f" 2>/dev/null)
  if [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; then pids="$pids $p"; fi
done
alive() { st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1; case "$st" in Z*|X*|'') return 1;; esac; return 0; }
for p in $pids; do
  i=0
  while alive "$p"; do
    i=$((i+1)); if [ $i -gt 500 ]; then kill -KILL "$p" 2>/dev/null; break; fi
    sleep 0.02
  done
done
if [ -z "$MAILPROBE_KEEP_TEST_DIRS" ]; then rm -rf "$dir"; fi
"#;

/// Handle to the watchdog shell; [`Watchdog::fire`] stops the daemons and waits.
#[derive(Debug)]
pub struct Watchdog {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    /// Start a watchdog over `dir`; `pidfiles` are paths relative to `dir`, read when it fires.
    pub fn spawn(dir: &Path, pidfiles: &[&str]) -> Watchdog {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("mailprobe-test-watchdog")
            .arg(dir)
            .args(pidfiles)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Own process group: a Ctrl-C to `cargo test` must not kill the cleaner too.
            .process_group(0)
            .spawn()
            .expect("spawn the watchdog shell (/bin/sh)");
        let stdin = child.stdin.take();
        Watchdog {
            child: Some(child),
            stdin,
        }
    }

    /// Stop now and wait until the daemons are gone. Idempotent.
    pub fn fire(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.fire();
    }
}

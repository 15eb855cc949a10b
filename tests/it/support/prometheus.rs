//! A real Prometheus server (Debian's `prometheus` package) on loopback, scraping what the test
//! names, in its own temp folder; stopped on drop and at process exit (see [`super::watchdog`]).
//! Also the `mailprobe serve` process under test, and a tiny HTTP/1.1 GET client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::watchdog::Watchdog;

/// A free loopback port (bound, then released for the daemon to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `GET path` on `addr`: (status, body). Panics on a network error.
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    get_with(addr, path, &[])
}

/// `GET path` with extra header lines.
pub fn get_with(addr: SocketAddr, path: &str, headers: &[&str]) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n");
    // A server may answer and close before a huge request is written: read what it said.
    let _ = s.write_all(request.as_bytes());
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, body.to_string())
}

/// A child process killed by a watchdog on drop or process exit.
pub struct Daemon {
    pub child: Child,
    pub dir: tempfile::TempDir,
    watchdog: Watchdog,
}

impl Daemon {
    fn watch(child: Child, dir: tempfile::TempDir) -> Daemon {
        std::fs::write(dir.path().join("daemon.pid"), child.id().to_string()).unwrap();
        let watchdog = Watchdog::spawn(dir.path(), &["daemon.pid"]);
        Daemon {
            child,
            dir,
            watchdog,
        }
    }

    /// SIGTERM now and wait for the exit status (the graceful shutdown).
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("wait for the daemon");
        self.watchdog.fire();
        status
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.watchdog.fire();
        let _ = self.child.wait();
    }
}

/// `mailprobe serve --listen 127.0.0.1:0 --config FILE ARGS…` with `config` as the file; waits
/// for the "listening on" line and returns the daemon and its address.
pub fn exporter(config: &str, args: &[String]) -> (Daemon, SocketAddr) {
    let (d, addr, _) = exporter_env(config, args, &[]);
    (d, addr)
}

/// [`exporter`] with environment variables (the modules' credential references), also
/// returning everything the exporter writes on stderr so far (read it after the daemon ends).
pub fn exporter_env(
    config: &str,
    args: &[String],
    env: &[(&str, &str)],
) -> (Daemon, SocketAddr, Arc<Mutex<String>>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config).unwrap();
    let mut cmd = super::cmd::mailprobe_std();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&file)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start mailprobe serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    let addr = first
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no listening line from mailprobe serve: {first:?}"));
    // Keep draining stderr so the exporter never blocks on a full pipe.
    let log = Arc::new(Mutex::new(first + "\n"));
    let sink = log.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            let mut s = sink.lock().unwrap();
            s.push_str(&l);
            s.push('\n');
        }
    });
    (Daemon::watch(child, dir), addr, log)
}

/// A Prometheus server scraping per `scrape_configs` (YAML list items, indented by two).
pub struct Prometheus {
    pub addr: SocketAddr,
    daemon: Daemon,
}

impl Prometheus {
    pub fn start(scrape_configs: &str) -> Prometheus {
        let bin = which("prometheus").unwrap_or_else(|| {
            panic!("prometheus is not installed: apt-get install prometheus (scripts/test.sh does)")
        });
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(
            &cfg,
            format!("global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\nscrape_configs:\n{scrape_configs}"),
        )
        .unwrap();
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let p = Prometheus {
            addr,
            daemon: Daemon::watch(child, dir),
        };
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(30) {
            if TcpStream::connect(addr).is_ok() && get(addr, "/-/ready").0 == 200 {
                return p;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("prometheus did not become ready:\n{}", p.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.daemon.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// `GET /api/v1/query?query=…`: the result vector as (labels, value).
    pub fn query(&self, q: &str) -> Vec<(serde_json::Value, String)> {
        let path = format!("/api/v1/query?query={}", q.replace(' ', "%20"));
        let (code, body) = get(self.addr, &path);
        assert_eq!(code, 200, "{body}");
        let doc: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        doc["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                (
                    r["metric"].clone(),
                    r["value"][1].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

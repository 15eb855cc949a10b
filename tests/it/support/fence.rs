//! A test world's fence: every scheme port of every name the world's DNS serves is sent, by
//! `--connect-to`, either to the world's own server or to a port the world holds closed.
//!
//! The world's names resolve to loopback addresses, where other software may be listening on
//! the standard ports (a developer's testbed on 127.0.0.1:80/443, a local MTA on :25). Without a
//! fence a scheme the test did not map would reach that software instead of failing as on a
//! clean machine. The closed port is bound but never listens, so a connection to it is refused
//! and no other process can take it while the fence lives.

use std::net::SocketAddr;

use tokio::net::TcpSocket;

/// Every port the tool may try for a name: HTTP(S) for autoconfig/Autodiscover and the mail
/// ports of guesses, SRV defaults and port 25.
pub const SCHEME_PORTS: [u16; 9] = [80, 443, 25, 587, 465, 143, 993, 110, 995];

/// A bound, non-listening socket on 127.0.0.1: connections to it are refused.
pub struct Fence {
    _socket: TcpSocket,
    addr: SocketAddr,
}

impl Fence {
    pub fn new() -> Fence {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let addr = socket.local_addr().expect("local addr");
        Fence {
            _socket: socket,
            addr,
        }
    }

    /// `--connect-to` values sending every scheme port of each of `hosts` to the closed port.
    /// Append them after the world's own mappings: the first matching `--connect-to` wins.
    pub fn args(&self, hosts: &[&str]) -> Vec<String> {
        hosts
            .iter()
            .flat_map(|h| SCHEME_PORTS.iter().map(move |p| (h, p)))
            .flat_map(|(h, p)| {
                [
                    "--connect-to".to_string(),
                    format!("{h}:{p}:127.0.0.1:{}", self.addr.port()),
                ]
            })
            .collect()
    }
}

impl Default for Fence {
    fn default() -> Self {
        Fence::new()
    }
}

//! A silently filtered port on loopback, as most home and cloud networks make port 25: SYNs are
//! dropped, so `connect()` gets no answer at all (neither accept nor refuse) until it gives up.
//!
//! Made without firewall rules: a listener with a backlog of 0 whose accept queue is filled by
//! one connection that is never accepted; Linux then drops every further SYN
//! (`tcp_conn_request`: accept queue full → drop), and the client retransmits into silence.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::rt::Background;

/// A port whose SYNs are dropped. Stops on drop.
#[derive(Debug)]
pub struct FilteredPort {
    addr: SocketAddr,
    _filler: TcpStream,
    _bg: Background,
}

impl FilteredPort {
    pub fn start() -> FilteredPort {
        let (tx, rx) = std::sync::mpsc::channel();
        let bg = Background::spawn("test-filtered-port", move || async move {
            let sock = tokio::net::TcpSocket::new_v4().expect("socket");
            sock.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
            let listener = sock.listen(0).expect("listen");
            tx.send(listener.local_addr().expect("local addr")).unwrap();
            // Never accept: the one queued connection keeps the queue full.
            std::future::pending::<()>().await;
            drop(listener);
        });
        let addr = rx.recv().expect("filtered port address");
        let filler = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .expect("the first connection fills the accept queue");
        // Proof that the port is now silent: another connect gets no answer.
        let probe = TcpStream::connect_timeout(&addr, Duration::from_millis(300));
        assert!(
            probe.is_err(),
            "a connection to a full accept queue was answered: this kernel does not drop SYNs"
        );
        FilteredPort {
            addr,
            _filler: filler,
            _bg: bg,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

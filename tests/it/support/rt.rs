//! A server future on its own thread and current-thread tokio runtime, so in-process servers
//! serve sync tests, `#[tokio::test]`s and CLI subprocesses alike. Dropping the handle stops the
//! future, drops the runtime (closing every socket it owns) and joins the thread.

use std::future::Future;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// Handle to a background server; stops it on drop.
#[derive(Debug)]
pub struct Background {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Run `make()`'s future on a new thread until the handle drops. `make` runs inside the
    /// runtime, so it may convert std sockets with `from_std` (bind them before, so that bind
    /// errors and the port are known synchronously).
    pub fn spawn<F, Fut>(name: &str, make: F) -> Background
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let (tx, rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime for a test server");
                rt.block_on(async move {
                    let server = make();
                    tokio::select! {
                        _ = server => {}
                        _ = rx => {}
                    }
                });
                // Dropping `rt` here cancels every connection task and closes the sockets.
            })
            .expect("spawn test server thread");
        Background {
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A std TCP listener on `127.0.0.1:0`, non-blocking, ready for `tokio::net::TcpListener::from_std`.
pub fn bind_tcp() -> std::net::TcpListener {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.set_nonblocking(true).expect("non-blocking listener");
    l
}

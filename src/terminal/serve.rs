//! `mailprobe serve` in the terminal: from the configuration file (loaded once by `main`), build the exporter, listen,
//! say where on stderr, and stop gracefully on SIGTERM or Ctrl-C.

use std::sync::Arc;

use mailprobe::app::{AppError, Settings};
use mailprobe::config::file::ConfigFile;
use mailprobe::serve::{self, Events};

use crate::cli::ServeArgs;

struct Stderr;

impl Events for Stderr {
    fn listening(&self, url: &str) {
        eprintln!("mailprobe exporter listening on {url} (GET /probe?target=ADDRESS&module=NAME)");
    }
    fn stopping(&self, open: usize) {
        eprintln!("mailprobe exporter stopping: finishing {open} open connection(s)");
    }
}

/// Resolve and run the exporter until a shutdown signal.
pub fn run(base: &Settings, cfg: &ConfigFile, args: &ServeArgs) -> Result<(), AppError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Usage(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let ex = serve::prepare(base, cfg, args.listen.as_deref())?;
        let tls = match &ex.options.tls {
            Some((cert, key)) => {
                Some(mailprobe::net::listen::tls_acceptor(cert, key).map_err(AppError::Usage)?)
            }
            None => None,
        };
        let listener = mailprobe::net::listen::bind(ex.options.listen)
            .await
            .map_err(AppError::Usage)?;
        let local = listener.local_addr().unwrap_or(ex.options.listen);
        let scheme = if tls.is_some() { "https" } else { "http" };
        Stderr.listening(&format!("{scheme}://{local}/"));
        serve::http::serve(Arc::new(ex), listener, tls, shutdown(), &Stderr).await;
        Ok(())
    })
}

/// SIGTERM (service managers, Kubernetes) or SIGINT (Ctrl-C).
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

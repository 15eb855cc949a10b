//! The loopback redirect listener of a native app's authorization code flow (RFC 8252 §7.3):
//! listen on 127.0.0.1 on a port the system picks, accept the one request the browser sends
//! to the redirect URI, answer a short page, hand back the request's query string. The request
//! line is read with a size cap and the wait with a deadline.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Largest request head read from the browser.
const MAX_HEAD: usize = 16 * 1024;

/// A bound loopback listener; [`Loopback::redirect_uri`] goes into the authorization request.
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

impl Loopback {
    /// Bind 127.0.0.1 on a random port (RFC 8252 §7.3: "bind to the loopback interface").
    pub async fn bind() -> std::io::Result<Loopback> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        Ok(Loopback { listener, port })
    }

    /// `http://127.0.0.1:PORT/` (RFC 8252 §7.3: the IP literal, not `localhost`).
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Wait up to `wait` for a request whose path is `/` with a query; answer it and return the
    /// query. Other requests (a favicon) get a 404 and the wait goes on.
    pub async fn accept_query(&self, wait: Duration) -> Result<String, String> {
        let fut = async {
            loop {
                let (mut sock, _) = self.listener.accept().await.map_err(|e| e.to_string())?;
                let mut head = Vec::new();
                let mut buf = [0u8; 2048];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
                    let n = match tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
                        .await
                    {
                        Ok(Ok(n)) => n,
                        _ => 0,
                    };
                    if n == 0 {
                        break;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                match request_query(&head) {
                    Some(q) => {
                        let _ = sock
                            .write_all(
                                page(200, "mailprobe: signed in. You can close this window.")
                                    .as_bytes(),
                            )
                            .await;
                        return Ok(q);
                    }
                    None => {
                        let _ = sock.write_all(page(404, "not found").as_bytes()).await;
                    }
                }
            }
        };
        tokio::time::timeout(wait, fut)
            .await
            .map_err(|_| format!("no redirect came back within {} s", wait.as_secs()))?
    }
}

/// The query of `GET /?QUERY HTTP/1.x`; `None` for any other request.
pub(crate) fn request_query(head: &[u8]) -> Option<String> {
    let line = head.split(|&b| b == b'\r' || b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if method != "GET" || !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return None;
    }
    let query = target.strip_prefix("/?")?;
    Some(query.to_string())
}

fn page(status: u16, text: &str) -> String {
    let reason = if status == 200 { "OK" } else { "Not Found" };
    let body = format!("<!DOCTYPE html><html><body><p>{text}</p></body></html>\n");
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(
            request_query(b"GET /?code=a&state=b HTTP/1.1\r\nHost: x\r\n\r\n").as_deref(),
            Some("code=a&state=b")
        );
        for bad in [
            &b"GET /favicon.ico HTTP/1.1\r\n\r\n"[..],
            b"POST /?code=a HTTP/1.1\r\n",
            b"GET /?a HTTP/2 x\r\n",
            b"\xff\xfe",
            b"",
        ] {
            assert_eq!(request_query(bad), None);
        }
    }

    #[tokio::test]
    async fn one_redirect_is_accepted() {
        let lb = Loopback::bind().await.unwrap();
        let uri = lb.redirect_uri();
        assert!(uri.starts_with("http://127.0.0.1:"));
        let port = lb.port;
        let client = tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            s.write_all(b"GET /favicon.ico HTTP/1.1\r\n\r\n")
                .await
                .unwrap();
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            s.write_all(b"GET /?code=c&state=s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .await
                .unwrap();
            let mut r = String::new();
            s.read_to_string(&mut r).await.unwrap();
            r
        });
        assert_eq!(
            lb.accept_query(Duration::from_secs(5)).await.unwrap(),
            "code=c&state=s"
        );
        assert!(client.await.unwrap().starts_with("HTTP/1.1 200"));
    }
}

//! Where `oauth login` finds its endpoints when no flag and no provider database entry names
//! them: the `<oAuth2>` element of the domain's autoconfig document over https (autoconfig
//! draft §5.1.4). The browser flow then signs in at the authorization server that element
//! names; the same element in a plain-http document is never used.

use std::path::Path;

use super::{USER, stand_in_browser};
use crate::discover::World;
use crate::support::cmd::mailprobe;
use crate::support::dns::Zone;
use crate::support::http::{Reply, Routes};
use crate::support::oauth::OAuthServer;

const CONFIG_PATH: &str = "/mail/config-v1.1.xml";
const HOST: &str = "autoconfig.example.test";

/// The authorization server, and `example.test` whose autoconfig host serves [`document`].
fn world() -> (OAuthServer, World) {
    let srv = OAuthServer::start(USER);
    let zone = Zone::new("example.test").a("autoconfig", "127.0.0.1");
    let routes = Routes::new().route(HOST, CONFIG_PATH, Reply::xml(document(&srv)));
    let w = World::new(&[zone], &[HOST], routes);
    (srv, w)
}

fn document(srv: &OAuthServer) -> String {
    format!(
        r#"<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="imap">
      <hostname>mail.example.test</hostname><port>993</port><socketType>SSL</socketType>
      <authentication>OAuth2</authentication><username>%EMAILADDRESS%</username>
    </incomingServer>
  </emailProvider>
  <oAuth2>
    <issuer>id.example.test</issuer>
    <scope>mail offline_access</scope>
    <authURL>{}</authURL>
    <tokenURL>{}</tokenURL>
  </oAuth2>
</clientConfig>"#,
        srv.url("/authorize"),
        srv.url("/token")
    )
}

/// `oauth login USER --oauth-flow browser` with only the client ID given and `world_args`.
fn login(world_args: &[String], data: &Path) -> (String, i32) {
    let (_bin, path) = stand_in_browser();
    let out = mailprobe()
        .env("XDG_DATA_HOME", data)
        .env("PATH", &path)
        .args(["oauth", "login", USER, "--oauth-client-id", "my-own-client"])
        .args(["--oauth-flow", "browser", "--allow-insecure-oauth"])
        .args(world_args)
        .output()
        .unwrap();
    (
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn the_autoconfig_documents_oauth2_element_names_the_endpoints() {
    let (srv, w) = world();
    let data = tempfile::tempdir().unwrap();
    let (all, code) = login(&w.args(&[HOST]), data.path());
    assert_eq!(code, 0, "{all}");
    assert!(
        all.contains("OAuth2 endpoints from autoconfig (issuer id.example.test)"),
        "{all}"
    );
    let log = srv.log();
    let auth = log.iter().find(|(r, _)| r == "GET /authorize").unwrap();
    assert!(
        auth.1.contains("scope=mail+offline_access")
            || auth.1.contains("scope=mail%20offline_access"),
        "{auth:?}"
    );
    assert!(log.iter().any(|(r, _)| r == "POST /token"), "{log:?}");
}

#[test]
fn a_plain_http_document_never_names_the_endpoints() {
    let (srv, w) = world();
    // Only plain http reaches the document: the https fetches meet a certificate for other
    // names (the host is not mapped for them).
    let mut args = w.open_args(&[]);
    args.extend([
        "--connect-to".to_string(),
        format!("{HOST}:80:127.0.0.1:{}", w.http.http_addr().port()),
    ]);
    args.extend(w.fence_args());
    let data = tempfile::tempdir().unwrap();
    let (all, code) = login(&args, data.path());
    assert_eq!(code, 3, "{all}");
    assert!(srv.log().is_empty(), "nothing sent: {:?}", srv.log());
    // The plain-http document was there to be read: discover finds it (and calls it untrusted).
    let out = mailprobe()
        .args(["discover", USER])
        .args(&args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("autoconfig-http"), "{text}");
}

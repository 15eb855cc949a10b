//! Redirects in HTTPS discovery: never down to plain http for a trusted source, Autodiscover's
//! HTTP redirects checked and flagged hop by hop, and no redirect from a public name to a
//! private address the user did not choose. The HTTP server records every request, so each
//! test also proves what was (not) fetched.

use super::*;

fn paths(w: &World) -> Vec<(String, String, String)> {
    w.http
        .requests()
        .into_iter()
        .map(|r| (r.method, r.host, r.path))
        .collect()
}

#[test]
fn https_autoconfig_redirected_to_plain_http_is_refused() {
    let routes = Routes::new()
        .route(
            "autoconfig.example.test",
            "/mail/config-v1.1.xml",
            Reply::Redirect(302, "http://autoconfig.example.test/plain.xml".into()),
        )
        .route(
            "autoconfig.example.test",
            "/plain.xml",
            Reply::xml(hoster_autoconfig("imap.evil.test")),
        );
    let hosts = ["autoconfig.example.test"];
    let w = World::new(&[zone()], &hosts, routes);
    let (v, _) = w.discover("alice@example.test", &hosts, &[]);
    let a = attempt(&v, "autoconfig", "https://autoconfig.example.test");
    assert_eq!(a["outcome"], "error", "{a}");
    assert_eq!(
        a["reason"],
        "redirect to plain http refused: http://autoconfig.example.test/plain.xml"
    );
    // The plain-http source may follow it (http → http), and says what it is: untrusted.
    assert!(has(&v, "imap.evil.test", 993, "autoconfig-http"));
    assert!(
        !has(&v, "imap.evil.test", 993, "autoconfig"),
        "{:#}",
        v["discovery"]
    );
    // Only the plain-http source fetched the document: once, not twice.
    let plain = paths(&w)
        .into_iter()
        .filter(|(_, _, p)| p == "/plain.xml")
        .count();
    assert_eq!(plain, 1);
}

#[test]
fn autodiscover_http_redirects_are_checked_and_flagged_hop_by_hop() {
    let ex = Zone::new("ex.test").a("autodiscover", "127.0.0.1");
    let evil = Zone::new("evil.test").a("@", "127.0.0.1");
    let routes = Routes::new()
        .route(
            "autodiscover.example.test",
            "/autodiscover/autodiscover.xml",
            Reply::Redirect(
                302,
                "https://autodiscover.ex.test/autodiscover/autodiscover.xml".into(),
            ),
        )
        .route(
            "example.test",
            "/autodiscover/autodiscover.xml",
            Reply::Redirect(302, "http://evil.test/autodiscover/autodiscover.xml".into()),
        )
        .route(
            "autodiscover.ex.test",
            "/autodiscover/autodiscover.xml",
            Reply::xml(AUTODISCOVER_SETTINGS),
        );
    let hosts = [
        "autodiscover.example.test",
        "example.test",
        "autodiscover.ex.test",
        "evil.test",
    ];
    let w = World::new(&[zone(), ex, evil], &hosts, routes);
    let (v, _) = w.discover("alice@example.test", &hosts, &[]);
    // Followed to another domain, as [MS-OXDSCLI] §3.1.5.2 allows, and flagged.
    assert!(has(&v, "outlook.ex.test", 993, "autodiscover"));
    let hop = attempt(&v, "autodiscover", "https://autodiscover.example.test");
    assert!(
        hop["reason"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 302 redirect to https://autodiscover.ex.test/"),
        "{hop}"
    );
    let leaves: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "autodiscover-leaves-domain")
        .collect();
    assert!(
        leaves.iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("autodiscover.ex.test")),
        "{leaves:?}"
    );
    // Down to plain http: not followed, the address never re-POSTed to evil.test.
    let down = attempt(&v, "autodiscover", "https://example.test/autodiscover");
    assert_eq!(down["outcome"], "error");
    assert_eq!(
        down["reason"],
        "redirect to plain http refused: http://evil.test/autodiscover/autodiscover.xml"
    );
    assert!(
        !paths(&w).iter().any(|(_, h, _)| h == "evil.test"),
        "{:?}",
        paths(&w)
    );
}

#[test]
fn redirects_to_private_addresses_need_the_users_choice() {
    // The ports are only known once the server runs: routes are set on the running server.
    let z = zone().a("inside", "127.0.0.1");
    let hosts = [
        "autoconfig.example.test",
        "example.test",
        "autodiscover.example.test",
        "pinned.test",
    ];
    let w = World::new(&[z], &hosts, Routes::new());
    let (http_port, https_port) = (w.http.http_addr().port(), w.http.https_addr().port());
    // A public name sends us to a loopback address it picked: refused.
    w.http.set_route(
        "autoconfig.example.test",
        "/mail/config-v1.1.xml",
        Reply::Redirect(302, format!("http://127.0.0.1:{http_port}/internal.xml")),
    );
    w.http.set_route(
        "*",
        "/internal.xml",
        Reply::xml(hoster_autoconfig("imap.internal.test")),
    );
    // To a name the user's --dns puts on loopback: followed.
    w.http.set_route(
        "example.test",
        "/.well-known/autoconfig/mail/config-v1.1.xml",
        Reply::Redirect(
            302,
            format!("http://inside.example.test:{http_port}/inside.xml"),
        ),
    );
    w.http.set_route(
        "inside.example.test",
        "/inside.xml",
        Reply::xml(hoster_autoconfig("imap.inside.example.test")),
    );
    // To a name the user's --resolve pins to loopback: followed.
    w.http.set_route(
        "autodiscover.example.test",
        "/autodiscover/autodiscover.xml",
        Reply::Redirect(
            302,
            format!("https://pinned.test:{https_port}/autodiscover/autodiscover.xml"),
        ),
    );
    w.http.set_route(
        "pinned.test",
        "/autodiscover/autodiscover.xml",
        Reply::xml(AUTODISCOVER_SETTINGS),
    );
    let resolve = format!("pinned.test:{https_port}:127.0.0.1");
    let (v, _) = w.discover("alice@example.test", &hosts, &["--resolve", &resolve]);

    let refused = attempt(&v, "autoconfig-http", "http://autoconfig.example.test");
    assert_eq!(refused["outcome"], "error");
    assert_eq!(
        refused["reason"],
        format!(
            "redirect to http://127.0.0.1:{http_port}/internal.xml refused: 127.0.0.1 is not a \
             public address, and no --dns, --resolve or --connect-to chose it"
        )
    );
    let seen = paths(&w);
    assert!(
        !seen.iter().any(|(_, _, p)| p == "/internal.xml"),
        "{seen:?}"
    );
    assert!(!candidates(&v).iter().any(|c| c.1 == "imap.internal.test"));

    assert!(has(&v, "imap.inside.example.test", 993, "autoconfig-http"));
    assert!(
        seen.iter()
            .any(|(_, h, p)| h == "inside.example.test" && p == "/inside.xml")
    );
    assert!(
        has(&v, "outlook.ex.test", 993, "autodiscover"),
        "{:#}",
        v["discovery"]
    );
    assert!(
        seen.iter()
            .any(|(m, h, _)| m == "POST" && h == "pinned.test")
    );
}

#[test]
fn plain_http_autodiscover_redirect_to_another_domain_is_not_followed() {
    let ex = Zone::new("ex.test").a("autodiscover", "127.0.0.1");
    let routes = Routes::new()
        .route(
            "autodiscover.example.test",
            "/autodiscover/autodiscover.xml",
            Reply::Redirect(
                302,
                "https://autodiscover.ex.test/autodiscover/autodiscover.xml".into(),
            ),
        )
        .route(
            "autodiscover.ex.test",
            "/autodiscover/autodiscover.xml",
            Reply::xml(AUTODISCOVER_SETTINGS),
        );
    // No certificate for autodiscover.example.test: only its plain-http GET gets an answer.
    let w = World::new(&[zone(), ex], &["autodiscover.ex.test"], routes);
    let hosts = ["autodiscover.ex.test", "autodiscover.example.test"];
    let (v, _) = w.discover("alice@example.test", &hosts, &[]);
    let a = attempt(&v, "autodiscover", "http://autodiscover.example.test");
    assert_eq!(a["outcome"], "error");
    assert_eq!(
        a["reason"],
        "redirect over plain http to another domain not followed: \
         https://autodiscover.ex.test/autodiscover/autodiscover.xml"
    );
    assert!(finding_codes(&v).contains(&"autodiscover-leaves-domain".into()));
    assert!(!candidates(&v).iter().any(|c| c.1 == "outlook.ex.test"));
    let seen = paths(&w);
    assert!(
        !seen.iter().any(|(_, h, _)| h == "autodiscover.ex.test"),
        "{seen:?}"
    );
}

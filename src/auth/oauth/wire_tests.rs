//! Table tests of the OAuth wire formats.

use super::wire::*;

#[test]
fn pkce_matches_rfc_7636_appendix_b() {
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let (v, c) = pkce_pair();
    assert_eq!(v.len(), 43);
    assert!(
        v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(c, pkce_challenge(&v));
    assert_ne!(pkce_pair().0, v);
}

#[test]
fn request_bodies() {
    let scopes = vec![
        "https://outlook.office.com/IMAP.AccessAsUser.All".to_string(),
        "offline_access".into(),
    ];
    assert_eq!(
        device_request("cid", &scopes),
        "client_id=cid&scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All+offline_access"
    );
    let public = Client {
        id: "cid",
        secret: None,
    };
    assert_eq!(
        device_token_request(&public, "dc"),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=dc&client_id=cid"
    );
    assert_eq!(
        code_token_request(&public, "c/1", "http://127.0.0.1:5000/", "ver"),
        "grant_type=authorization_code&code=c%2F1&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2F&code_verifier=ver&client_id=cid"
    );
    assert_eq!(
        refresh_request(&public, "rt", &[]),
        "grant_type=refresh_token&refresh_token=rt&client_id=cid"
    );
    // RFC 6749 §2.3.1: the secret in the body of every token request, form-encoded.
    let google = Client {
        id: "1-x.apps.googleusercontent.com",
        secret: Some("GOCSPX-a+b/c"),
    };
    assert!(
        format!("{google:?}").contains("<redacted>") && !format!("{google:?}").contains("GOCSPX")
    );
    let secret = "client_secret=GOCSPX-a%2Bb%2Fc";
    for body in [
        device_token_request(&google, "dc"),
        code_token_request(&google, "c", "http://127.0.0.1:1/", "v"),
        refresh_request(&google, "rt", &["https://mail.google.com/".into()]),
    ] {
        assert!(
            body.ends_with(secret) || body.contains(&format!("{secret}&")),
            "{body}"
        );
        assert!(
            body.contains("client_id=1-x.apps.googleusercontent.com"),
            "{body}"
        );
    }
    let url = authorization_url(
        "https://id.example/auth?tenant=x",
        "cid",
        "http://127.0.0.1:5000/",
        &["a".into(), "b".into()],
        "st",
        "ch",
        Some("alice@example.com"),
    );
    assert_eq!(
        url,
        "https://id.example/auth?tenant=x&response_type=code&client_id=cid&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2F&scope=a+b&state=st&code_challenge=ch&code_challenge_method=S256&login_hint=alice%40example.com"
    );
}

#[test]
fn device_authorization_responses() {
    let d = parse_device_authorization(
        br#"{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"https://id.example/device","expires_in":900,"interval":7}"#,
    )
    .unwrap();
    assert_eq!(d.interval().as_secs(), 7);
    assert_eq!(d.user_code, "ABCD-EFGH");
    // Microsoft v1 spelling; no interval: 5 s.
    let d = parse_device_authorization(
        br#"{"device_code":"dc","user_code":"U","verification_url":"https://microsoft.com/devicelogin","expires_in":900}"#,
    )
    .unwrap();
    assert_eq!(d.verification_uri, "https://microsoft.com/devicelogin");
    assert_eq!(d.interval(), DEFAULT_INTERVAL);
    for bad in [
        &b"not json"[..],
        br#"{"device_code":"dc"}"#,
        br#"{"device_code":"","user_code":"U","verification_uri":"u","expires_in":1}"#,
        br#"{"device_code":"d","user_code":"U\u001b[2J","verification_uri":"u","expires_in":1}"#,
    ] {
        assert!(
            parse_device_authorization(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(parse_device_authorization(&vec![b' '; MAX_RESPONSE + 1]).is_err());
}

#[test]
fn token_answers() {
    let ok = parse_token_answer(
        200,
        br#"{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt"}"#,
    )
    .unwrap();
    let TokenAnswer::Token(t) = ok else { panic!() };
    assert_eq!(
        (
            t.access_token.as_str(),
            t.expires_in,
            t.refresh_token.as_deref()
        ),
        ("at", Some(3600), Some("rt"))
    );
    assert!(!format!("{t:?}").contains("at\""), "Debug redacts");
    for (status, body, want) in [
        (
            400,
            r#"{"error":"authorization_pending"}"#,
            TokenAnswer::Pending,
        ),
        (400, r#"{"error":"slow_down"}"#, TokenAnswer::SlowDown),
        (400, r#"{"error":"expired_token"}"#, TokenAnswer::Expired),
        (
            400,
            r#"{"error":"access_denied","error_description":"no"}"#,
            TokenAnswer::Denied,
        ),
        (
            400,
            r#"{"error":"invalid_grant","error_description":"PKCE verification failed"}"#,
            TokenAnswer::Error(ErrorResponse {
                error: "invalid_grant".into(),
                error_description: Some("PKCE verification failed".into()),
            }),
        ),
    ] {
        assert_eq!(
            parse_token_answer(status, body.as_bytes()).unwrap(),
            want,
            "{body}"
        );
    }
    // HTTP errors without an OAuth error body.
    for (status, body) in [
        (500, &b"<html>oops</html>"[..]),
        (502, b""),
        (401, br#"{"error":""}"#),
        (400, br#"{"error":"a\u001b[2J"}"#),
    ] {
        assert_eq!(
            parse_token_answer(status, body).unwrap(),
            TokenAnswer::Http(status)
        );
    }
    assert_eq!(
        parse_token_answer(401, br#"{"error":"invalid_client"}"#).unwrap(),
        TokenAnswer::Error(ErrorResponse {
            error: "invalid_client".into(),
            error_description: None,
        })
    );
    assert!(parse_token_answer(200, br#"{"access_token":""}"#).is_err());
}

#[test]
fn redirects() {
    assert_eq!(
        parse_redirect("code=abc&state=s1", "s1").unwrap(),
        Redirect::Code("abc".into())
    );
    assert_eq!(
        parse_redirect(
            "error=access_denied&error_description=User+said+no&state=s1",
            "s1"
        )
        .unwrap(),
        Redirect::Error(ErrorResponse {
            error: "access_denied".into(),
            error_description: Some("User said no".into())
        })
    );
    assert!(
        parse_redirect("code=abc&state=other", "s1")
            .unwrap_err()
            .contains("state")
    );
    assert!(parse_redirect("code=abc", "s1").is_err());
    assert!(parse_redirect("state=s1", "s1").is_err());
}

//! A failed refresh (RFC 6749 §6) inside `check`, `probe` or `roundtrip` as a finding: the
//! token endpoint's error code (RFC 6749 §5.2) picks a stable [`FindingCode`] and a hint, so
//! the report says why no login was tried instead of stopping with a bare error string.

use super::flow::OAuthError;
use crate::model::{Finding, FindingCode, Severity};

/// The finding for a refresh of `address`'s access token that did not give one.
pub(crate) fn refresh_failed(e: &OAuthError, address: &str) -> Finding {
    let code = match e.code() {
        Some("invalid_grant" | "expired_token") => FindingCode::Oauth2GrantInvalid,
        Some("invalid_client") => FindingCode::Oauth2ClientInvalid,
        Some("unauthorized_client") => FindingCode::Oauth2ClientUnauthorized,
        Some("access_denied") => FindingCode::Oauth2AccessDenied,
        Some(_) => FindingCode::Oauth2TokenError,
        None => FindingCode::Oauth2TokenEndpointFailed,
    };
    let hint = match code {
        FindingCode::Oauth2GrantInvalid => format!(
            "the stored refresh token was revoked, has expired or was issued to another client: run `mailprobe oauth login {address}` again"
        ),
        _ => e.hint().replace("ADDRESS", address),
    };
    Finding::new(
        Severity::Critical,
        code,
        format!(
            "refreshing the OAuth2 access token of {address} failed, so no login was tried: {e}"
        ),
    )
    .hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: &str) -> OAuthError {
        OAuthError::Refused {
            error: code.into(),
            desc: Some("test".into()),
        }
    }

    #[test]
    fn codes_and_hints() {
        let a = "alice@example.com";
        for (e, code, hint) in [
            (
                refused("invalid_grant"),
                "oauth2-grant-invalid",
                "mailprobe oauth login alice@example.com",
            ),
            (
                OAuthError::Expired,
                "oauth2-grant-invalid",
                "mailprobe oauth login alice@example.com",
            ),
            (
                refused("invalid_client"),
                "oauth2-client-invalid",
                "--oauth-client-secret-env",
            ),
            (
                refused("unauthorized_client"),
                "oauth2-client-unauthorized",
                "public client flows",
            ),
            (OAuthError::Denied, "oauth2-access-denied", "admin"),
            (
                refused("invalid_scope"),
                "oauth2-token-error",
                "--oauth-scope",
            ),
            (
                refused("server_error"),
                "oauth2-token-error",
                "error description",
            ),
            (
                OAuthError::Http {
                    url: "https://id.example/token".into(),
                    status: 503,
                },
                "oauth2-token-endpoint-failed",
                "try again later",
            ),
            (
                OAuthError::Server("timed out".into()),
                "oauth2-token-endpoint-failed",
                "try again later",
            ),
        ] {
            let f = refresh_failed(&e, a);
            assert_eq!(f.code.as_str(), code, "{e}");
            assert_eq!(f.severity, Severity::Critical);
            assert!(
                f.message.contains(a) && f.message.contains(&e.to_string()),
                "{}",
                f.message
            );
            assert!(
                f.hint.as_deref().unwrap().contains(hint),
                "{e}: {:?}",
                f.hint
            );
        }
    }
}

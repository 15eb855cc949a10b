//! The certificate verdict as data: webpki errors mapped to stable codes (`expired`,
//! `self-signed`, `incomplete-chain`, ...), the shape of the chain the server sent, and a
//! sentence per problem for a person. Pure functions, table-tested; the verifier that gathers
//! the facts is in `verifier.rs`.

use std::sync::{Arc, Mutex};

use rustls::{CertificateError, Error};

use crate::model::CertInfo;

/// Every certificate problem found, most important first (webpki's order: time, trust, name).
/// Empty: the chain verified for the name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Stable codes: `expired`, `not-yet-valid`, `hostname-mismatch`, `unknown-issuer`,
    /// `self-signed`, `incomplete-chain`, `revoked`, or the verifier's text for anything else.
    pub problems: Vec<String>,
    /// One sentence per problem, for a person, in the same order.
    pub details: Vec<String>,
}

impl Verdict {
    pub fn verified(&self) -> bool {
        self.problems.is_empty()
    }

    /// The main problem (what `TlsInfo.verify_error` holds).
    pub fn error(&self) -> Option<&str> {
        self.problems.first().map(String::as_str)
    }

    /// All sentences joined, `None` when verified.
    pub fn detail(&self) -> Option<String> {
        (!self.details.is_empty()).then(|| self.details.join("; "))
    }
}

/// Where the recording verifier leaves its verdict for the handshake that owns it.
pub type VerdictSlot = Arc<Mutex<Option<Verdict>>>;

/// A problem as classified from one webpki error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Expired,
    NotYetValid,
    NameMismatch,
    UnknownIssuer,
    Revoked,
    Other(String),
}

/// Map a verifier error to a [`Problem`].
pub(crate) fn classify(e: &Error) -> Problem {
    match e {
        Error::InvalidCertificate(ce) => match ce {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => Problem::Expired,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                Problem::NotYetValid
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                Problem::NameMismatch
            }
            CertificateError::UnknownIssuer => Problem::UnknownIssuer,
            CertificateError::Revoked => Problem::Revoked,
            CertificateError::BadSignature => Problem::Other("bad-signature".into()),
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                Problem::Other("invalid-purpose".into())
            }
            other => Problem::Other(webpki_other(&format!("{other:?}"))),
        },
        other => Problem::Other(other.to_string()),
    }
}

/// webpki errors that rustls passes on only as `Other(..)`, by their debug name.
fn webpki_other(dbg: &str) -> String {
    const NAMED: [(&str, &str); 4] = [
        ("CaUsedAsEndEntity", "ca-used-as-end-entity"),
        ("UnsupportedCertVersion", "unsupported-cert-version"),
        ("EndEntityUsedAsCa", "end-entity-used-as-ca"),
        ("RequiredEkuNotFound", "invalid-purpose"),
    ];
    NAMED
        .iter()
        .find(|(k, _)| dbg.contains(k))
        .map(|(_, code)| code.to_string())
        .unwrap_or_else(|| format!("invalid certificate: {dbg}"))
}

/// Problems a self-signed leaf shows besides "unknown issuer": `openssl req -x509` marks its
/// certificate CA:TRUE by default, old tools make X.509 v1 certificates.
const SELF_SIGNED_SYMPTOMS: [&str; 2] = ["ca-used-as-end-entity", "unsupported-cert-version"];

/// How the chain the server sent ends, following issuer names from the leaf (RFC 5280 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// The leaf is its own issuer.
    SelfSignedLeaf,
    /// The chain ends in a self-issued certificate (a root the client does not trust).
    UntrustedRoot,
    /// The certificate at this index names an issuer the server did not send.
    Dangling(usize),
}

/// Follow issuer → subject links from the leaf through `names` (subject, issuer) pairs.
pub(crate) fn chain_shape(names: &[(Vec<u8>, Vec<u8>)]) -> Shape {
    let Some(leaf) = names.first() else {
        return Shape::Dangling(0);
    };
    if leaf.0 == leaf.1 {
        return Shape::SelfSignedLeaf;
    }
    let mut cur = 0;
    // Bounded: a chain that loops by name ends after one pass over what was sent.
    for _ in 0..names.len() {
        let issuer = &names[cur].1;
        match names
            .iter()
            .enumerate()
            .find(|(i, n)| *i != cur && &n.0 == issuer)
        {
            Some((_, n)) if n.0 == n.1 => return Shape::UntrustedRoot,
            Some((i, _)) => cur = i,
            None => return Shape::Dangling(cur),
        }
    }
    Shape::Dangling(cur)
}

/// Facts the verifier gathered; [`judge`] turns them into a [`Verdict`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    /// webpki's verdict at the real time (`None`: verified).
    pub first: Option<Problem>,
    /// webpki's verdict at a time when every certificate is valid, name problems dropped:
    /// the trust problem hidden behind a time problem (`None`: trusted or unknown).
    pub trust: Option<Problem>,
    /// The leaf is not valid for the name (checked apart from the chain).
    pub name_mismatch: bool,
    pub shape: Option<Shape>,
    /// The dangling certificate has an AIA caIssuers URL.
    pub dangling_has_aia: bool,
    pub chain: Vec<CertInfo>,
    pub server_name: String,
}

/// Turn the gathered facts into codes and sentences; pure, table-tested.
pub(crate) fn judge(f: &Facts) -> Verdict {
    let mut v = Verdict::default();
    let mut push = |p: &Problem| {
        let (code, text) = describe(p, f);
        if !v.problems.contains(&code) {
            v.problems.push(code);
            v.details.push(text);
        }
    };
    if let Some(p) = &f.first {
        push(p);
    }
    if let Some(p) = &f.trust {
        push(p);
    }
    if f.name_mismatch {
        push(&Problem::NameMismatch);
    }
    v
}

fn describe(p: &Problem, f: &Facts) -> (String, String) {
    let leaf = f.chain.first();
    let subject = leaf.map(|c| c.subject.as_str()).unwrap_or("?");
    match p {
        Problem::Expired => {
            let (who, c) = first_cert(f, |c| c.days_left < 0);
            let text = match c {
                Some(c) => format!(
                    "{who} expired on {} ({} days ago)",
                    c.not_after, -c.days_left
                ),
                None => format!("{who} has expired"),
            };
            ("expired".into(), text)
        }
        Problem::NotYetValid => {
            let (who, c) = first_cert(f, |c| c.days_left >= 0);
            let nb = c.map(|c| c.not_before.as_str()).unwrap_or("?");
            (
                "not-yet-valid".into(),
                format!("{who} is not valid before {nb}"),
            )
        }
        Problem::NameMismatch => {
            let names = leaf.map(|c| c.names.join(", ")).unwrap_or_default();
            let text = format!(
                "the certificate is valid for {}, not for {}",
                if names.is_empty() { "no name" } else { &names },
                f.server_name
            );
            ("hostname-mismatch".into(), text)
        }
        Problem::UnknownIssuer => match f.shape {
            Some(Shape::SelfSignedLeaf) => (
                "self-signed".into(),
                format!(
                    "the certificate '{subject}' is self-signed; no client trusts it unless told to"
                ),
            ),
            Some(Shape::Dangling(i)) if f.dangling_has_aia => {
                let missing = f.chain.get(i).map(|c| c.issuer.as_str()).unwrap_or("?");
                (
                    "incomplete-chain".into(),
                    format!(
                        "the server does not send the intermediate certificate '{missing}'; \
                         clients that do not download it (most mail clients) reject the certificate"
                    ),
                )
            }
            _ => {
                let top = f.chain.last().map(|c| c.issuer.as_str()).unwrap_or("?");
                (
                    "unknown-issuer".into(),
                    format!(
                        "the certificate is issued by '{top}', which is not a trusted CA \
                         (use --ca-file if it is a private CA)"
                    ),
                )
            }
        },
        Problem::Revoked => ("revoked".into(), "the certificate has been revoked".into()),
        Problem::Other(text)
            if f.shape == Some(Shape::SelfSignedLeaf)
                && SELF_SIGNED_SYMPTOMS.contains(&text.as_str()) =>
        {
            describe(&Problem::UnknownIssuer, f)
        }
        Problem::Other(text) => (text.clone(), format!("certificate not accepted: {text}")),
    }
}

/// The first certificate matching `pred`, with how to name it in a sentence.
fn first_cert(f: &Facts, pred: impl Fn(&CertInfo) -> bool) -> (String, Option<&CertInfo>) {
    match f.chain.iter().position(pred) {
        Some(0) => ("the server certificate".into(), f.chain.first()),
        Some(i) => (
            format!("the chain certificate '{}'", f.chain[i].subject),
            f.chain.get(i),
        ),
        None => ("a certificate of the chain".into(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Names = Vec<(Vec<u8>, Vec<u8>)>;

    fn n(s: &str, i: &str) -> (Vec<u8>, Vec<u8>) {
        (s.as_bytes().to_vec(), i.as_bytes().to_vec())
    }

    fn info(subject: &str, issuer: &str, names: &[&str], days: i64) -> CertInfo {
        CertInfo {
            subject: subject.into(),
            issuer: issuer.into(),
            names: names.iter().map(|s| s.to_string()).collect(),
            not_before: "2026-01-01T00:00:00Z".into(),
            not_after: "2026-12-01T00:00:00Z".into(),
            days_left: days,
            self_signed: subject == issuer,
            sha256: String::new(),
        }
    }

    #[test]
    fn shapes() {
        let cases: Vec<(Names, Shape)> = vec![
            (vec![n("a", "a")], Shape::SelfSignedLeaf),
            (vec![n("leaf", "int")], Shape::Dangling(0)),
            (vec![n("leaf", "int"), n("int", "root")], Shape::Dangling(1)),
            (
                vec![n("leaf", "int"), n("int", "root"), n("root", "root")],
                Shape::UntrustedRoot,
            ),
            // Sent out of order: still followed by name.
            (
                vec![n("leaf", "int"), n("root", "root"), n("int", "root")],
                Shape::UntrustedRoot,
            ),
            // A loop by name ends.
            (
                vec![n("leaf", "x"), n("x", "y"), n("y", "x")],
                Shape::Dangling(1),
            ),
            (vec![], Shape::Dangling(0)),
        ];
        for (names, want) in cases {
            assert_eq!(chain_shape(&names), want, "{names:?}");
        }
    }

    #[test]
    fn classify_errors() {
        let cases = [
            (
                Error::InvalidCertificate(CertificateError::Expired),
                Problem::Expired,
            ),
            (
                Error::InvalidCertificate(CertificateError::NotValidYet),
                Problem::NotYetValid,
            ),
            (
                Error::InvalidCertificate(CertificateError::NotValidForName),
                Problem::NameMismatch,
            ),
            (
                Error::InvalidCertificate(CertificateError::UnknownIssuer),
                Problem::UnknownIssuer,
            ),
            (
                Error::InvalidCertificate(CertificateError::Revoked),
                Problem::Revoked,
            ),
            (
                Error::InvalidCertificate(CertificateError::BadSignature),
                Problem::Other("bad-signature".into()),
            ),
        ];
        for (e, want) in cases {
            assert_eq!(classify(&e), want, "{e:?}");
        }
        assert!(matches!(
            classify(&Error::General("x".into())),
            Problem::Other(_)
        ));
    }

    fn facts(
        first: Option<Problem>,
        trust: Option<Problem>,
        name: bool,
        shape: Shape,
        aia: bool,
    ) -> Facts {
        Facts {
            first,
            trust,
            name_mismatch: name,
            shape: Some(shape),
            dangling_has_aia: aia,
            chain: vec![info(
                "CN=leaf",
                "CN=Int CA",
                &["mail.example.test", "*.example.test"],
                -3,
            )],
            server_name: "imap.other.test".into(),
        }
    }

    #[test]
    fn verdicts() {
        use Problem::*;
        let d = Shape::Dangling(0);
        let cases: Vec<(Facts, Vec<&str>)> = vec![
            (facts(None, None, false, d, false), vec![]),
            (facts(Some(Expired), None, false, d, false), vec!["expired"]),
            (
                facts(Some(NotYetValid), None, false, d, false),
                vec!["not-yet-valid"],
            ),
            (
                facts(Some(NameMismatch), None, true, d, false),
                vec!["hostname-mismatch"],
            ),
            (
                facts(Some(UnknownIssuer), None, false, d, false),
                vec!["unknown-issuer"],
            ),
            (
                facts(Some(UnknownIssuer), None, false, d, true),
                vec!["incomplete-chain"],
            ),
            (
                facts(Some(UnknownIssuer), None, false, Shape::UntrustedRoot, true),
                vec!["unknown-issuer"],
            ),
            (
                facts(
                    Some(UnknownIssuer),
                    None,
                    true,
                    Shape::SelfSignedLeaf,
                    false,
                ),
                vec!["self-signed", "hostname-mismatch"],
            ),
            (
                facts(
                    Some(Expired),
                    Some(UnknownIssuer),
                    true,
                    Shape::SelfSignedLeaf,
                    false,
                ),
                vec!["expired", "self-signed", "hostname-mismatch"],
            ),
            (facts(Some(Revoked), None, false, d, false), vec!["revoked"]),
            (
                facts(
                    Some(Other("ca-used-as-end-entity".into())),
                    None,
                    false,
                    Shape::SelfSignedLeaf,
                    false,
                ),
                vec!["self-signed"],
            ),
            (
                facts(
                    Some(Other("ca-used-as-end-entity".into())),
                    None,
                    false,
                    d,
                    false,
                ),
                vec!["ca-used-as-end-entity"],
            ),
        ];
        for (f, want) in cases {
            let v = judge(&f);
            assert_eq!(v.problems, want, "{f:?}");
            assert_eq!(v.details.len(), v.problems.len());
            assert_eq!(v.verified(), want.is_empty());
        }
    }

    #[test]
    fn sentences_name_what_matters() {
        let v = judge(&facts(
            Some(Problem::NameMismatch),
            None,
            true,
            Shape::Dangling(0),
            false,
        ));
        let d = v.detail().unwrap();
        assert!(d.contains("mail.example.test, *.example.test"), "{d}");
        assert!(d.contains("imap.other.test"), "{d}");
        let v = judge(&facts(
            Some(Problem::Expired),
            None,
            false,
            Shape::Dangling(0),
            false,
        ));
        assert!(v.detail().unwrap().contains("3 days ago"), "{v:?}");
        let v = judge(&facts(
            Some(Problem::UnknownIssuer),
            None,
            false,
            Shape::Dangling(0),
            true,
        ));
        assert!(v.detail().unwrap().contains("'CN=Int CA'"), "{v:?}");
    }
}

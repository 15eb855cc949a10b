//! Why a TLS handshake failed, told by name: the first bytes the server answered with (a TLS
//! 1.0 ServerHello, a `protocol_version` alert in a TLS 1.0 record, a plaintext banner) say
//! more than rustls' error, which only knows "not TLS 1.2 or 1.3". Pure functions, table-tested.

use std::io;

use rustls::{AlertDescription, Error, PeerIncompatible};

/// How many bytes of the server's first answer are kept for [`sniff`].
pub(crate) const SNIFF_LEN: usize = 32;

/// What kind of handshake failure (see [`TlsFailure`](super::TlsFailure)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsFailureKind {
    /// The server only speaks an old protocol version, e.g. `TLSv1.0`, `TLSv1.1`, `SSLv3`.
    LegacyVersion(String),
    /// The server sent a fatal alert (RFC 8446 §6 name, e.g. `handshake_failure`).
    Alert(String),
    /// The server closed the connection during the handshake.
    Closed,
    Timeout,
    /// The server answered with something that is not TLS (a plaintext greeting).
    NotTls,
    Other,
}

/// The start of the server's first answer, read as a TLS record (RFC 8446 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FirstRecord {
    /// Nothing, or too little to tell.
    Unknown,
    /// Not a TLS record; the printable prefix of what came.
    NotTls(String),
    Alert {
        version: u16,
        description: u8,
    },
    /// ServerHello: `version` is `legacy_version` (the negotiated one up to TLS 1.2).
    ServerHello {
        version: u16,
    },
}

/// Read the record header (and a ServerHello's version or an alert's description).
pub(crate) fn sniff(first: &[u8]) -> FirstRecord {
    let Some(&ct) = first.first() else {
        return FirstRecord::Unknown;
    };
    // Content types 20..=24 (RFC 8446 §5.1, RFC 6520) and major version 3.
    let tls_type = (20..=24).contains(&ct);
    if !tls_type || first.get(1).is_some_and(|&m| m != 3) {
        return FirstRecord::NotTls(printable(first));
    }
    let Some(version) = first.get(1..3).map(|v| u16::from_be_bytes([v[0], v[1]])) else {
        return FirstRecord::Unknown;
    };
    match (ct, first.get(5), first.get(6)) {
        (21, Some(_level), Some(&description)) => FirstRecord::Alert {
            version,
            description,
        },
        // Handshake record holding a ServerHello (type 2): msg type, 3-byte length, version.
        (22, Some(2), _) => match first.get(9..11) {
            Some(v) => FirstRecord::ServerHello {
                version: u16::from_be_bytes([v[0], v[1]]),
            },
            None => FirstRecord::Unknown,
        },
        _ => FirstRecord::Unknown,
    }
}

/// `TLSv1.0` for 0x0301, etc.
pub(crate) fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1.0".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        other => format!("version 0x{other:04x}"),
    }
}

/// An old protocol version the server insists on, if the first record shows one.
pub(crate) fn legacy_version(first: &FirstRecord) -> Option<String> {
    match *first {
        FirstRecord::ServerHello { version } if version < 0x0303 => Some(version_name(version)),
        // protocol_version (70) in an old record: "I do not speak your version" (RFC 5246 §7.2.2).
        FirstRecord::Alert {
            version,
            description: 70,
        } if version < 0x0303 => Some(version_name(version)),
        _ => None,
    }
}

/// Printable prefix of a non-TLS answer (one line, at most 40 characters).
fn printable(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let line = s.lines().next().unwrap_or("");
    line.chars()
        .take(40)
        .map(|c| if c.is_control() { '.' } else { c })
        .collect()
}

/// `handshake_failure` from `HandshakeFailure` (the RFC spelling of alert names).
pub(crate) fn alert_name(a: &AlertDescription) -> String {
    let dbg = format!("{a:?}");
    let mut out = String::new();
    for (i, ch) in dbg.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// What went wrong while driving the handshake.
#[derive(Debug)]
pub(crate) enum Cause {
    Tls(Error),
    Io(io::Error),
    /// The server closed the connection.
    Eof,
    Timeout,
}

/// Kind, message and hint for a failed handshake, from the cause and the sniffed bytes.
pub(crate) fn explain(
    cause: &Cause,
    first: &[u8],
    limit: std::time::Duration,
) -> (TlsFailureKind, String, Option<String>) {
    let rec = sniff(first);
    if let FirstRecord::NotTls(text) = &rec {
        return (
            TlsFailureKind::NotTls,
            format!("the server did not answer with TLS but with \"{text}\""),
            Some("this port speaks plaintext: use STARTTLS here, or implicit TLS on its own port (993, 995, 465)".into()),
        );
    }
    if let Some(v) = legacy_version(&rec) {
        return (
            TlsFailureKind::LegacyVersion(v.clone()),
            format!("the server only speaks {v}"),
            Some(format!(
                "{v} is obsolete (RFC 8996) and current mail clients refuse it; the server needs TLS 1.2 or 1.3"
            )),
        );
    }
    match cause {
        Cause::Timeout => (
            TlsFailureKind::Timeout,
            format!("no TLS answer within {:.1} s", limit.as_secs_f64()),
            Some("the server accepted the connection but did not answer the TLS ClientHello; is this a plaintext (STARTTLS) port?".into()),
        ),
        Cause::Eof => (
            TlsFailureKind::Closed,
            "the server closed the connection during the TLS handshake".into(),
            Some(
                "the server hung up after our ClientHello: it may not support TLS 1.2 or 1.3, \
                 or expect another protocol on this port"
                    .into(),
            ),
        ),
        Cause::Io(e) if matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof
        ) => (
            TlsFailureKind::Closed,
            format!("the connection broke during the TLS handshake: {e}"),
            None,
        ),
        Cause::Io(e) => (TlsFailureKind::Other, format!("TLS handshake: {e}"), None),
        Cause::Tls(Error::AlertReceived(a)) => {
            let name = alert_name(a);
            let hint = match (a, &rec) {
                (AlertDescription::HandshakeFailure, FirstRecord::Alert { version, .. })
                    if *version < 0x0303 =>
                {
                    Some(format!(
                        "the alert came in a {} record: the server probably supports only old protocol versions or ciphers",
                        version_name(*version)
                    ))
                }
                (AlertDescription::HandshakeFailure, _) => {
                    Some("no protocol version or cipher suite in common".into())
                }
                (AlertDescription::UnrecognisedName, _) => Some(
                    "the server does not serve this host name (SNI); check the server name".into(),
                ),
                (AlertDescription::CertificateRequired | AlertDescription::BadCertificate, _) => {
                    Some("the server seems to require a client certificate".into())
                }
                _ => None,
            };
            (TlsFailureKind::Alert(name.clone()), format!("the server refused the TLS handshake (alert {name})"), hint)
        }
        Cause::Tls(Error::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13)) => (
            TlsFailureKind::LegacyVersion("TLSv1.1 or older".into()),
            "the server only speaks TLS 1.1 or older".into(),
            Some("the server needs TLS 1.2 or 1.3".into()),
        ),
        Cause::Tls(e) => (TlsFailureKind::Other, format!("TLS handshake failed: {e}"), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.0 ServerHello header: record 16 03 01, len, type 02, len(3), version 03 01.
    const HELLO10: &[u8] = &[
        0x16, 0x03, 0x01, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d, 0x03, 0x01, 0xaa,
    ];

    #[test]
    fn sniff_table() {
        let cases: Vec<(&[u8], FirstRecord)> = vec![
            (&[], FirstRecord::Unknown),
            (&[0x15], FirstRecord::Unknown),
            (
                &[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46],
                FirstRecord::Alert {
                    version: 0x0301,
                    description: 70,
                },
            ),
            (
                &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28],
                FirstRecord::Alert {
                    version: 0x0303,
                    description: 40,
                },
            ),
            (HELLO10, FirstRecord::ServerHello { version: 0x0301 }),
            (
                &[0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00],
                FirstRecord::Unknown,
            ),
            (
                b"* OK [CAPABILITY IMAP4rev1] ready\r\n",
                FirstRecord::NotTls("* OK [CAPABILITY IMAP4rev1] ready".into()),
            ),
            (
                b"220 mx.example.test ESMTP\r\n",
                FirstRecord::NotTls("220 mx.example.test ESMTP".into()),
            ),
            (&[0x16, 0x01, 0x00], FirstRecord::NotTls("...".into())),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(bytes), want, "{bytes:02x?}");
        }
    }

    #[test]
    fn legacy_table() {
        let cases = [
            (
                FirstRecord::ServerHello { version: 0x0301 },
                Some("TLSv1.0"),
            ),
            (
                FirstRecord::ServerHello { version: 0x0302 },
                Some("TLSv1.1"),
            ),
            (FirstRecord::ServerHello { version: 0x0300 }, Some("SSLv3")),
            (FirstRecord::ServerHello { version: 0x0303 }, None),
            (
                FirstRecord::Alert {
                    version: 0x0301,
                    description: 70,
                },
                Some("TLSv1.0"),
            ),
            (
                FirstRecord::Alert {
                    version: 0x0302,
                    description: 70,
                },
                Some("TLSv1.1"),
            ),
            (
                FirstRecord::Alert {
                    version: 0x0301,
                    description: 40,
                },
                None,
            ),
            (
                FirstRecord::Alert {
                    version: 0x0303,
                    description: 70,
                },
                None,
            ),
            (FirstRecord::Unknown, None),
        ];
        for (rec, want) in cases {
            assert_eq!(legacy_version(&rec).as_deref(), want, "{rec:?}");
        }
    }

    #[test]
    fn explain_table() {
        let alert10 = [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46];
        let alert12 = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];
        let pv = || Cause::Tls(Error::AlertReceived(AlertDescription::ProtocolVersion));
        let hf = || Cause::Tls(Error::AlertReceived(AlertDescription::HandshakeFailure));
        let incompatible = || {
            Cause::Tls(Error::PeerIncompatible(
                PeerIncompatible::ServerDoesNotSupportTls12Or13,
            ))
        };
        let cases: Vec<(Cause, &[u8], TlsFailureKind)> = vec![
            (
                pv(),
                &alert10,
                TlsFailureKind::LegacyVersion("TLSv1.0".into()),
            ),
            (
                incompatible(),
                HELLO10,
                TlsFailureKind::LegacyVersion("TLSv1.0".into()),
            ),
            (
                incompatible(),
                &[],
                TlsFailureKind::LegacyVersion("TLSv1.1 or older".into()),
            ),
            (
                hf(),
                &alert12,
                TlsFailureKind::Alert("handshake_failure".into()),
            ),
            (Cause::Eof, &[], TlsFailureKind::Closed),
            (
                Cause::Io(io::ErrorKind::ConnectionReset.into()),
                &[],
                TlsFailureKind::Closed,
            ),
            (Cause::Timeout, &[], TlsFailureKind::Timeout),
            (
                Cause::Tls(Error::General("x".into())),
                b"+OK POP3 ready\r\n",
                TlsFailureKind::NotTls,
            ),
            (
                Cause::Tls(Error::General("x".into())),
                &[],
                TlsFailureKind::Other,
            ),
        ];
        for (cause, bytes, want) in cases {
            let (kind, msg, _) = explain(&cause, bytes, std::time::Duration::from_secs(10));
            assert_eq!(kind, want, "{cause:?} {msg}");
            assert!(!msg.is_empty());
        }
        let (_, msg, _) = explain(&pv(), &alert10, std::time::Duration::from_secs(10));
        assert_eq!(msg, "the server only speaks TLSv1.0");
    }

    #[test]
    fn alert_names() {
        assert_eq!(
            alert_name(&AlertDescription::HandshakeFailure),
            "handshake_failure"
        );
        assert_eq!(
            alert_name(&AlertDescription::ProtocolVersion),
            "protocol_version"
        );
        assert_eq!(
            alert_name(&AlertDescription::UnrecognisedName),
            "unrecognised_name"
        );
    }
}

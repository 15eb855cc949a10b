//! Integration tests: tls.

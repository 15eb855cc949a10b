//! Integration tests: roundtrip.

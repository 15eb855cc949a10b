//! Integration tests: auth.

//! Integration tests: provider_db.

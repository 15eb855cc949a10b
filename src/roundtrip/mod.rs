//! Round trip (issue "Authentication and the end-to-end round trip"): submit a test message
//! and fetch it back.

pub mod headers;
pub mod imap_fetch;
pub mod message;
pub mod pop3_fetch;
pub mod submit;

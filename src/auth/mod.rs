//! Authentication (issue "Authentication and the end-to-end round trip"): credentials, SASL
//! mechanisms, refusal decoding and the login dialogues of IMAP, POP3 and SMTP.

pub mod credentials;
pub mod refusal;
pub mod sasl;

pub use credentials::{CredentialError, Credentials, PasswordSource, Secret, read_secret};

//! The renderers: each turns a [`crate::model::Report`] into text for one output format. The text
//! renderers show network strings only through [`safe`].

pub mod batch;
pub mod human;
pub mod json;
pub mod nagios;
pub mod roundtrip;
pub mod safe;
pub mod schema;

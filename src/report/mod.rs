//! The report: one serde model ([`model`], [`probe`]) and the renderers that print it; the text
//! renderers show network strings only through [`safe`].

pub mod human;
pub mod inbound;
pub mod json;
pub mod model;
pub mod nagios;
pub mod probe;
pub mod safe;
pub mod schema;

pub use model::*;
pub use probe::*;

//! Discovery: every source concurrently → ranked candidates + attempts.

pub mod autoconfig;
pub mod autodiscover;

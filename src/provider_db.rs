//! Placeholder: the provider database lands from the `providerdb` branch.
use crate::address::Address;
use crate::report::{Candidate, Finding, ProviderInfo, Source};

pub const DB_DATE: &str = "unknown";
pub struct Provider {
    pub id: String,
    pub name: String,
}
impl Provider {
    pub fn candidates(&self, _addr: &Address, _source: Source) -> Vec<Candidate> {
        Vec::new()
    }
    pub fn info(&self, matched_by: &str) -> ProviderInfo {
        ProviderInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            matched_by: matched_by.into(),
            hints: vec![],
            documentation: None,
        }
    }
    pub fn findings(&self) -> Vec<Finding> {
        Vec::new()
    }
}
pub fn by_domain(_d: &str) -> Option<&'static Provider> {
    None
}
pub fn by_mx(_d: &str) -> Option<&'static Provider> {
    None
}
pub fn stats() -> (usize, usize) {
    (0, 0)
}

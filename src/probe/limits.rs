//! Connection limits: at most N connections at once overall and M to one host. One run makes
//! its own; batch mode shares one [`Limits`] across every address so that a thousand mailboxes
//! at one provider never open more than `--per-host` connections to its server at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

/// Semaphores for the whole run (or batch).
#[derive(Debug)]
pub struct Limits {
    per_host: usize,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Limits {
    pub fn new(concurrency: usize, per_host: usize) -> Arc<Limits> {
        Arc::new(Limits {
            per_host: per_host.max(1),
            global: Arc::new(Semaphore::new(concurrency.max(1))),
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// The overall connection semaphore.
    pub fn global(&self) -> Arc<Semaphore> {
        self.global.clone()
    }

    /// The semaphore of one host (case-insensitive).
    pub fn host(&self, host: &str) -> Arc<Semaphore> {
        let mut map = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(host.to_ascii_lowercase())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_semaphore_per_host() {
        let l = Limits::new(8, 2);
        assert!(Arc::ptr_eq(
            &l.host("Mail.Example.test"),
            &l.host("mail.example.test")
        ));
        assert!(!Arc::ptr_eq(&l.host("a.test"), &l.host("b.test")));
        assert_eq!(l.host("a.test").available_permits(), 2);
        assert_eq!(l.global().available_permits(), 8);
    }
}

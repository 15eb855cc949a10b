//! Reference corpora that live outside the repository, found through environment variables.
//!
//! `MAILPROBE_ISPDB_DIR` names a folder of Thunderbird ISPDB files (config-v1.1 XML, one per
//! provider). `.ci/run` sets it to `../shared/ispdb`; the corpus is a reference, not a fixture,
//! so it is never copied into the repository.

use std::path::PathBuf;

/// The ISPDB corpus folder, or `None` (said on stdout) when `MAILPROBE_ISPDB_DIR` is unset.
/// A variable naming a folder that does not exist is a broken setup and fails the test.
pub fn ispdb_dir(test: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("MAILPROBE_ISPDB_DIR") else {
        println!("{test}: MAILPROBE_ISPDB_DIR is not set, so the ISPDB corpus was not read");
        return None;
    };
    let dir = PathBuf::from(dir);
    assert!(
        dir.is_dir(),
        "MAILPROBE_ISPDB_DIR={} is not a folder",
        dir.display()
    );
    Some(dir)
}

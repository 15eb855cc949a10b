//! The batch progress bar: drawn on standard error when that is a terminal and the output is
//! the human table (a JSON Lines consumer or a log file gets no control sequences).

use std::io::IsTerminal;
use std::sync::OnceLock;

use indicatif::{ProgressBar, ProgressStyle};
use mailprobe::app::Reporter;
use mailprobe::model::Report;

/// A [`Reporter`] that draws an indicatif bar (when `enabled`) and prints the side summary on
/// standard error.
pub struct BarReporter {
    enabled: bool,
    bar: OnceLock<ProgressBar>,
}

impl BarReporter {
    /// A bar only when `human` output goes with a terminal on standard error.
    pub fn new(human: bool) -> BarReporter {
        BarReporter {
            enabled: human && std::io::stderr().is_terminal(),
            bar: OnceLock::new(),
        }
    }
}

impl Reporter for BarReporter {
    fn on_batch_start(&self, total: usize) {
        if !self.enabled {
            return;
        }
        let b = ProgressBar::new(total as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let _ = self.bar.set(b);
    }

    fn on_address_done(&self, _report: &Report) {
        if let Some(b) = self.bar.get() {
            b.inc(1);
        }
    }

    fn on_batch_complete(&self, summary: Option<&str>) {
        if let Some(b) = self.bar.get() {
            b.finish_and_clear();
        }
        if let Some(s) = summary {
            eprint!("{s}");
        }
    }
}

//! Everything that touches the terminal, and only in the binary: colour decisions, the log
//! subscriber behind `-v`, the batch progress bar, the no-echo password prompt and standard
//! input. The library reaches these only through `mailprobe::app::Io`.

mod oauth;
mod progress;
mod prompt;
#[cfg(feature = "serve")]
pub mod serve;
mod style;

pub use oauth::TerminalOAuth;
pub use progress::BarReporter;
pub use prompt::prompt_password;
pub use style::{init_color, init_logging};

//! Colour and logs. Colour is decided per stream: the report on stdout is coloured when stdout
//! is a terminal, the log lines on stderr when stderr is (`--color always|never` overrides
//! both, `NO_COLOR` turns `auto` off: https://no-color.org). `-v` logs our own outcomes, `-vv`
//! our own steps in detail, `-vvv` adds the libraries' debug lines (DNS, TLS, HTTP).

use std::io::IsTerminal;

use crate::cli::ColorChoice;

fn colour_on(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal,
    }
}

/// Colour of the human report on stdout.
pub fn init_color(choice: ColorChoice) {
    colored::control::set_override(colour_on(choice, std::io::stdout().is_terminal()));
}

/// The log filter for `-v` repeated `verbose` times; `None`: no logging.
fn filter(verbose: u8) -> Option<&'static str> {
    match verbose {
        0 => None,
        1 => Some("warn,mailprobe=info"),
        2 => Some("warn,mailprobe=debug"),
        _ => Some("debug"),
    }
}

/// Log to stderr, coloured only when stderr is a terminal (or `--color always`).
pub fn init_logging(verbose: u8, choice: ColorChoice) {
    let Some(level) = filter(verbose) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour_on(choice, std::io::stderr().is_terminal()))
        .with_env_filter(level)
        .try_init();
}

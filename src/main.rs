//! The `mailprobe` binary: parse arguments, run, print, exit. All logic lives in the library.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use mailprobe::cli::{Cli, ColorChoice};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version are not errors; a usage error is UNKNOWN (3) for monitoring.
            let code = if e.use_stderr() { 3 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_color(cli.global.color);
    if cli.global.verbose > 0 {
        let level = if cli.global.verbose > 1 {
            "debug"
        } else {
            "info"
        };
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(level)
            .try_init();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let mut out = std::io::stdout().lock();
    let result = rt.block_on(mailprobe::app::run(&cli, &mut out));
    let _ = out.flush();
    match result {
        Ok(status) => ExitCode::from(status.exit_code() as u8),
        Err(e) => {
            if let Some(text) = mailprobe::app::render_error(&e, &cli.global) {
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            eprintln!("error: {e}");
            if let Some(h) = e.hint() {
                eprintln!("hint: {h}");
            }
            ExitCode::from(3)
        }
    }
}

fn init_color(choice: ColorChoice) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    colored::control::set_override(on);
}

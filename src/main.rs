//! The `mailprobe` binary: parse the command line ([`cli`]), resolve it into settings, run
//! the library with the terminal as its front end ([`terminal`]), print, exit. All decisions
//! live in the library; all terminal I/O lives here.

mod cli;
mod terminal;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use mailprobe::app::{self, AppError, Format, Io};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version are not errors; a usage error is UNKNOWN (3) for monitoring.
            let code = if e.use_stderr() { 3 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    terminal::init_color(cli.global.color);
    terminal::init_logging(cli.global.verbose, cli.global.color);
    let format = cli::resolve::format(&cli.global);
    let result = cli::resolve::settings(&cli).and_then(|settings| run(&settings));
    let mut out = std::io::stdout().lock();
    match result {
        Ok(status) => ExitCode::from(status.exit_code() as u8),
        Err(e) => {
            if let Some(text) = app::render_error(&e, format) {
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

/// Run the settings on a multi-threaded runtime with the terminal as the front end.
fn run(settings: &app::Settings) -> Result<mailprobe::model::Status, AppError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Usage(format!("cannot start the async runtime: {e}")))?;
    let reporter = terminal::BarReporter::new(settings.output.format == Format::Human);
    let mut io = Io {
        reporter: &reporter,
        prompt: Box::new(terminal::prompt_password),
        stdin: Box::new(std::io::stdin()),
    };
    let mut out = std::io::stdout().lock();
    let result = rt.block_on(app::run(settings, &mut io, &mut out));
    let _ = out.flush();
    result
}

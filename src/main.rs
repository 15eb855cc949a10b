//! The `mailprobe` binary: parse the command line ([`cli`]), resolve it into settings, run
//! the library with the terminal as its front end ([`terminal`]), print, exit. All decisions
//! live in the library; all terminal I/O lives here.

mod cli;
mod terminal;

use std::io::Write;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches};
use mailprobe::app::{self, AppError, Format, Io};

fn main() -> ExitCode {
    let parsed = cli::Cli::command()
        .try_get_matches()
        .and_then(|m| cli::Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
        Ok(c) => c,
        Err(e) => {
            // Help and version are not errors; a usage error is UNKNOWN (3) for monitoring.
            let code = if e.use_stderr() { 3 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Some(code) = packaging(&cli.command) {
        return code;
    }
    terminal::init_color(cli.global.color);
    let given = |id: &str| on_command_line(&matches, id);
    let file = mailprobe::config::file::load(cli.global.config.as_deref())
        .map_err(|e| AppError::Usage(e.to_string()));
    #[cfg(feature = "serve")]
    if let cli::Command::Serve(args) = &cli.command {
        let run = file.and_then(|f| {
            let s = cli::resolve::settings_with(&cli, &f, &given)?;
            terminal::serve::run(&s, &f, args)
        });
        return match run {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {}", shown(&e.to_string()));
                ExitCode::from(3)
            }
        };
    }
    terminal::init_logging(cli.global.verbose, cli.global.color);
    let format = cli::resolve::format(&cli.global);
    let output = match &cli.command {
        cli::Command::Export(a) => a.output.clone(),
        _ => None,
    };
    let result = file
        .and_then(|f| cli::resolve::settings_with(&cli, &f, &given))
        .and_then(|settings| {
        if let app::Task::Export(t) = &settings.task
            && t.include_password
        {
            eprintln!(
                "warning: the profile will contain the password in clear text: keep the file private and delete it once installed"
            );
        }
        run(&settings, output.as_deref())
    });
    match result {
        Ok(status) => ExitCode::from(status.exit_code() as u8),
        Err(e) => usage_error(&e, format),
    }
}

/// `completions SHELL` and `man` print a file and run nothing; `None` for every other command.
fn packaging(command: &cli::Command) -> Option<ExitCode> {
    match command {
        cli::Command::Completions { shell } => {
            cli::packaging::completions(*shell, &mut std::io::stdout().lock());
            Some(ExitCode::SUCCESS)
        }
        cli::Command::Man => Some(match cli::packaging::man(&mut std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "error: cannot write the manual page: {}",
                    shown(&e.to_string())
                );
                ExitCode::from(3)
            }
        }),
        _ => None,
    }
}

/// A run that could not start: the error (in the output format, so monitoring still gets
/// JSON), then the message and its hint on stderr; exit 3.
fn usage_error(e: &AppError, format: app::Format) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if let Some(text) = app::render_error(e, format) {
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    eprintln!("error: {}", shown(&e.to_string()));
    if let Some(h) = e.hint() {
        eprintln!("hint: {}", shown(h));
    }
    ExitCode::from(3)
}

/// An error message as the terminal shows it: it may quote a file name, a flag's value or a
/// server's words, so every control and bidi character is escaped (line breaks kept).
fn shown(text: &str) -> String {
    text.split('\n')
        .map(|line| mailprobe::report::safe::escape(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the flag with clap id `id` was given on the command line (global options may sit
/// before or after the subcommand, so every level is asked).
fn on_command_line(m: &ArgMatches, id: &str) -> bool {
    let here = m.try_contains_id(id).unwrap_or(false)
        && matches!(
            m.value_source(id),
            Some(clap::parser::ValueSource::CommandLine)
        );
    here || m
        .subcommand()
        .is_some_and(|(_, sub)| on_command_line(sub, id))
}

/// Run the settings on a multi-threaded runtime with the terminal as the front end; the output
/// goes to standard output, or to `output` (`export -o FILE`, created mode 0600).
fn run(
    settings: &app::Settings,
    output: Option<&std::path::Path>,
) -> Result<mailprobe::model::Status, AppError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Usage(format!("cannot start the async runtime: {e}")))?;
    let reporter = terminal::BarReporter::new(settings.output.format == Format::Human);
    let mut io = Io {
        reporter: &reporter,
        oauth: &terminal::TerminalOAuth,
        prompt: Box::new(terminal::prompt_password),
        stdin: Box::new(std::io::stdin()),
    };
    let Some(path) = output else {
        let mut out = std::io::stdout().lock();
        let result = finish(rt, app::run(settings, &mut io, &mut out));
        let _ = out.flush();
        return result;
    };
    // The file is written only once the run produced something: a failed export leaves none.
    let mut buf = Vec::new();
    let status = finish(rt, app::run(settings, &mut io, &mut buf))?;
    write_private(path, &buf)
        .map_err(|e| AppError::Usage(format!("cannot write {}: {e}", path.display())))?;
    Ok(status)
}

/// Run `work` to its end on `rt`, then shut the runtime down without waiting for anything still
/// running there: the report is complete, so nothing left (a probe cut at the verdict, a task
/// nobody awaits, a blocking call) can change it, and the process exits at once.
fn finish<T>(rt: tokio::runtime::Runtime, work: impl std::future::Future<Output = T>) -> T {
    let out = rt.block_on(work);
    rt.shutdown_background();
    out
}

/// Write `bytes` to `path`, created (or truncated) readable by the owner only: an exported
/// profile may hold a password.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.flush()
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::finish;

    #[test]
    fn the_run_ends_without_waiting_for_work_left_on_the_runtime() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let (release, blocked) = mpsc::channel::<()>();
        let (done_tx, done) = mpsc::channel::<()>();
        let value = finish(rt, async move {
            tokio::task::spawn_blocking(move || {
                // Were `finish` waiting for it, this would end first (after the timeout).
                let _ = blocked.recv_timeout(Duration::from_secs(30));
                let _ = done_tx.send(());
            });
            // A task nobody awaits, still pending when the run ends.
            tokio::spawn(std::future::pending::<()>());
            7
        });
        assert_eq!(value, 7);
        assert!(
            done.try_recv().is_err(),
            "finish waited for the blocking task"
        );
        release.send(()).unwrap();
        done.recv().unwrap();
    }
}

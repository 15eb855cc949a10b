//! What packagers install besides the binary: shell completion scripts (clap_complete) and the
//! manual page in roff (clap_mangen), both generated from the same clap definition as the
//! parser, so they never drift from the real options.

use std::io::Write;

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::Cli;

/// `mailprobe completions SHELL`: the shells packagers ship completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
    #[value(name = "powershell")]
    PowerShell,
}

impl ShellArg {
    fn shell(self) -> Shell {
        match self {
            ShellArg::Bash => Shell::Bash,
            ShellArg::Zsh => Shell::Zsh,
            ShellArg::Fish => Shell::Fish,
            ShellArg::PowerShell => Shell::PowerShell,
        }
    }
}

/// Write the completion script for `shell`.
pub fn completions(shell: ShellArg, out: &mut dyn Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell.shell(), &mut cmd, "mailprobe", out);
}

/// Write the manual page `mailprobe.1` (roff), subcommands listed in its SUBCOMMANDS section.
pub fn man(out: &mut dyn Write) -> std::io::Result<()> {
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd)
        .section("1")
        .manual("mailprobe manual")
        .date(env!("MAILPROBE_DB_DATE"))
        .render(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_every_command() {
        for shell in ShellArg::value_variants() {
            let mut out = Vec::new();
            completions(*shell, &mut out);
            let text = String::from_utf8(out).unwrap();
            for cmd in ["check", "audit", "completions", "shard", "serve"] {
                assert!(text.contains(cmd), "{shell:?} lacks {cmd}");
            }
        }
    }

    #[test]
    fn man_page_is_roff_with_the_commands() {
        let mut out = Vec::new();
        man(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(".ie") || text.contains(".TH mailprobe 1"),
            "{text}"
        );
        for cmd in ["check", "roundtrip", "completions"] {
            assert!(text.contains(cmd), "man lacks {cmd}");
        }
    }
}

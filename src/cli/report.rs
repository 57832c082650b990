//! How diagnostics reach the user: the options every command shares
//! (`--message-format`, `--deny-warnings`, `--quiet`, `--color`), the colour
//! decision from the flag and the environment, and the exit status.

use std::io::{IsTerminal, Write};
use std::path::Path;

use clap::{Args, ValueEnum};
use virtplan::diag::{self, Diagnostic, Diagnostics, RenderOptions, Severity};
use virtplan::source::SourceMap;

use super::sarif;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum MessageFormat {
    /// Rendered for people, with the source lines, on standard error.
    #[default]
    Human,
    /// One JSON object per diagnostic and line, on standard output.
    Json,
    /// One SARIF 2.1.0 log, on standard output.
    Sarif,
}

/// When to colour the human rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorWhen {
    /// When standard error is a terminal, unless NO_COLOR, CLICOLOR_FORCE or TERM=dumb say otherwise.
    #[default]
    Auto,
    Always,
    Never,
}

/// What `-D` can deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lint {
    /// Every warning: the run fails as if it were an error.
    Warnings,
}

/// The reporting options of every command.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// How to print diagnostics.
    #[arg(
        long,
        value_enum,
        default_value_t,
        global = true,
        value_name = "FORMAT"
    )]
    pub message_format: MessageFormat,
    /// Fail (exit 1) when there are warnings, as if they were errors.
    #[arg(long, global = true)]
    pub deny_warnings: bool,
    /// `-D warnings` is `--deny-warnings`.
    #[arg(
        short = 'D',
        long = "deny",
        value_enum,
        global = true,
        value_name = "LINT"
    )]
    pub deny: Vec<Lint>,
    /// Print only errors (and denied warnings): no other diagnostics, summary or status lines.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t, global = true, value_name = "WHEN")]
    pub color: ColorWhen,
}

/// What the environment says about colour
/// (<https://no-color.org>, <https://bixense.com/clicolors/>).
#[derive(Debug, Clone, Copy, Default)]
pub struct ColorEnv {
    /// `NO_COLOR` set and not empty.
    pub no_color: bool,
    /// `CLICOLOR_FORCE` set and not `0`.
    pub force: bool,
    /// `TERM=dumb`.
    pub dumb: bool,
}

impl ColorEnv {
    pub fn read() -> ColorEnv {
        let var = std::env::var_os;
        ColorEnv {
            no_color: var("NO_COLOR").is_some_and(|v| !v.is_empty()),
            force: var("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0"),
            dumb: var("TERM").is_some_and(|t| t == "dumb"),
        }
    }
}

/// Whether to colour. The flag wins over the environment; `NO_COLOR` wins
/// over `CLICOLOR_FORCE` (as in anstream, clap's own colouring), which wins
/// over `TERM=dumb` and the terminal test.
pub fn use_color(when: ColorWhen, env: ColorEnv, terminal: bool) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto if env.no_color => false,
        ColorWhen::Auto if env.force => true,
        ColorWhen::Auto => terminal && !env.dumb,
    }
}

/// Prints diagnostics and status lines as the options ask.
pub struct Reporter {
    pub format: MessageFormat,
    pub deny_warnings: bool,
    pub quiet: bool,
    pub color: bool,
}

impl Reporter {
    pub fn new(args: &ReportArgs) -> Reporter {
        Reporter {
            format: args.message_format,
            deny_warnings: args.deny_warnings || args.deny.contains(&Lint::Warnings),
            quiet: args.quiet,
            color: use_color(
                args.color,
                ColorEnv::read(),
                std::io::stderr().is_terminal(),
            ),
        }
    }

    /// Whether these diagnostics fail the run: an error, or a warning denied.
    pub fn fails(&self, diags: &Diagnostics) -> bool {
        diags.has_errors() || (self.deny_warnings && diags.warnings() > 0)
    }

    /// Prints the diagnostics of a project in `dir` in the chosen format.
    pub fn diagnostics(&self, diags: &Diagnostics, sources: &SourceMap, dir: &Path) {
        match self.format {
            MessageFormat::Human => self.human(diags, sources),
            MessageFormat::Json => {
                let mut out = String::new();
                for d in &diags.items {
                    out.push_str(&sarif::json_line(d, sources));
                    out.push('\n');
                }
                print_out(&out);
            }
            MessageFormat::Sarif => {
                let mut out = sarif::log(&diags.items, sources, dir);
                out.push('\n');
                print_out(&out);
            }
        }
    }

    fn human(&self, diags: &Diagnostics, sources: &SourceMap) {
        let shown: Vec<Diagnostic> = diags
            .items
            .iter()
            .filter(|d| !self.quiet || self.counts_as_error(d))
            .cloned()
            .collect();
        let width = if self.color { 100 } else { 80 };
        let text = diag::render(
            &shown,
            sources,
            RenderOptions {
                color: self.color,
                width,
            },
        );
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        if !self.quiet && !diags.items.is_empty() {
            let denied = if self.deny_warnings && diags.warnings() > 0 {
                " (warnings denied)"
            } else {
                ""
            };
            let _ = writeln!(
                err,
                "{} error(s), {} warning(s){denied}",
                diags.errors(),
                diags.warnings()
            );
        }
    }

    fn counts_as_error(&self, d: &Diagnostic) -> bool {
        d.severity == Severity::Error || (self.deny_warnings && d.severity == Severity::Warning)
    }

    /// A status line ("ok: …", "wrote …"): on standard output for people,
    /// on standard error when standard output carries JSON or SARIF, and
    /// nowhere with `--quiet`.
    pub fn status(&self, line: &str) {
        if self.quiet {
            return;
        }
        match self.format {
            MessageFormat::Human => println!("{line}"),
            MessageFormat::Json | MessageFormat::Sarif => eprintln!("{line}"),
        }
    }

    /// A note on standard error, whatever the format (standard output may
    /// carry the command's own output, a diff); nowhere with `--quiet`.
    pub fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("note: {line}");
        }
    }

    /// Whether standard output is free for command output (a diff, a
    /// graph): not when it carries JSON or SARIF diagnostics.
    pub fn stdout_is_free(&self) -> bool {
        self.format == MessageFormat::Human
    }
}

fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_flag_then_no_color_then_force_then_terminal() {
        let env = |no_color, force, dumb| ColorEnv {
            no_color,
            force,
            dumb,
        };
        // The flag wins over everything.
        assert!(use_color(ColorWhen::Always, env(true, false, true), false));
        assert!(!use_color(ColorWhen::Never, env(false, true, false), true));
        // NO_COLOR wins over CLICOLOR_FORCE and a terminal.
        assert!(!use_color(ColorWhen::Auto, env(true, true, false), true));
        // CLICOLOR_FORCE colours a pipe and a dumb terminal.
        assert!(use_color(ColorWhen::Auto, env(false, true, true), false));
        // TERM=dumb: no colour on a terminal.
        assert!(!use_color(ColorWhen::Auto, env(false, false, true), true));
        assert!(use_color(ColorWhen::Auto, env(false, false, false), true));
        assert!(!use_color(ColorWhen::Auto, env(false, false, false), false));
    }
}

use clap::Parser;
use clap::error::ErrorKind;
use nnlab::cli::{self, Cli, Command};

fn main() {
    let parsed = match Cli::try_parse() {
        Ok(p) => p,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            // The lab's promise: one line naming the problem.
            _ => {
                eprintln!("{}", cli::usage_error_line(&e));
                std::process::exit(2);
            }
        },
    };
    let code = match parsed.command {
        None => match parsed.file {
            // A word that is neither a command nor a file is a typo, not a window to open.
            Some(f) if std::fs::symlink_metadata(&f).is_err() => {
                eprintln!(
                    "{}: no such file, and not an nnlab command (see nnlab --help)",
                    f.display()
                );
                2
            }
            file => nnlab::ui::run_app(file),
        },
        Some(Command::Open { file }) => nnlab::ui::run_app(file),
        Some(Command::Bench {
            ui: true, seconds, ..
        }) => match cli::check_bench_seconds(seconds)
            .and_then(|()| nnlab::ui::headless::print_bench(seconds))
        {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("{e}");
                2
            }
        },
        Some(command) => {
            quiet_on_closed_pipe();
            match cli::run(command) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("{e}");
                    2
                }
            }
        }
    };
    std::process::exit(code);
}

/// A headless command piped into `head` ends quietly when the reader goes away, as Unix tools
/// do, instead of panicking in `println!` on the broken pipe: Rust starts programs with
/// SIGPIPE ignored, so restore the default for the command line (not for the app's window).
fn quiet_on_closed_pipe() {
    #[cfg(target_os = "linux")]
    // SAFETY: setting a signal's disposition to its default before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

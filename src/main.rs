use clap::Parser;
use nnlab::cli::{self, Cli, Command};

fn main() {
    let parsed = Cli::parse();
    let code = match parsed.command {
        None => nnlab::ui::run_app(parsed.file),
        Some(Command::Open { file }) => nnlab::ui::run_app(file),
        Some(command) => match cli::run(command) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("{e}");
                2
            }
        },
    };
    std::process::exit(code);
}

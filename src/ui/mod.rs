//! The desktop app.

/// Open the app. Until the GUI lands, this prints the command-line help.
pub fn run_app(file: Option<std::path::PathBuf>) -> i32 {
    use clap::CommandFactory;
    let _ = file;
    let _ = crate::cli::Cli::command().print_help();
    0
}

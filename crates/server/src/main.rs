//! `roster`: parse the command line, load settings, start telemetry, run the command.

use std::process::ExitCode;

use clap::Parser;
use roster::Settings;
use roster::cli::{Cli, Command, run};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    settings.run_migrations = !cli.no_migrate;
    // Commands that print for the operator keep logs quiet unless asked.
    let level = match cli.command {
        None | Some(Command::Serve) => settings.log_level.clone(),
        Some(_) => std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
    };
    roster::telemetry::init(settings.log_format, &level, std::io::stderr);
    match run(cli.command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "roster stopped");
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

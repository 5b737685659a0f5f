//! `roster`: parse the command line, load settings, start telemetry, run the command.

use std::process::ExitCode;

use clap::Parser;
use roster::Settings;
use roster::cli::{Cli, Command, run};

/// jemalloc, for Rust and (`unprefixed_malloc_on_supported_platforms`) for the C code too.
/// With glibc's allocator, SQLite's page cache and statements were allocated from up to 8
/// arenas per CPU (one per thread that ran a database call) and the freed memory stayed
/// scattered over them: ten minutes of the soak on SQLite grew the process by 30 %, where
/// jemalloc keeps it flat at the same size (mimalloc kept it flat too, but 50 MiB larger).
/// docs/performance.md, "Soak".
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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

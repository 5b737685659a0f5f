//! The `roster` binary's library half: settings, telemetry, the composition root, the
//! background jobs, graceful shutdown and the CLI commands, so integration tests can build
//! the real application.

pub mod cli;
mod jobs;
pub mod secret_key;
pub mod settings;
mod shutdown;
pub mod startup;
pub mod telemetry;

pub use settings::Settings;
pub use startup::{Application, Components, StartupError};

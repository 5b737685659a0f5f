//! The `roster` binary's library half: settings, telemetry, the composition root and the
//! CLI commands, so integration tests can build the real application.

pub mod cli;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use settings::Settings;
pub use startup::{Application, Components, StartupError};

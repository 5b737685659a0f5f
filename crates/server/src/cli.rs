//! Command-line interface: `roster [serve]`, `roster migrate`, `roster superadmin create`,
//! `roster features list|enable|disable`, `roster mfa reset`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use roster_app::{Feature, FeatureManager, FeatureSource, RegistrationForm};
use secrecy::SecretString;

use crate::settings::Settings;
use crate::startup::{Application, Components, describe};

/// Roster: accounts and access service.
#[derive(Debug, Parser)]
#[command(name = "roster", version, about)]
pub struct Cli {
    /// TOML settings file (layered over built-in defaults, under ROSTER__* variables).
    #[arg(long, env = "ROSTER_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Do not run database migrations at start-up.
    #[arg(long, global = true)]
    pub no_migrate: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write a consistent copy of the SQLite database to FILE while the service keeps
    /// running (PostgreSQL: use pg_dump, docs/operations.md).
    Backup {
        /// Where to write the copy.
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Manage super admins.
    Superadmin {
        #[command(subcommand)]
        action: SuperadminCommand,
    },
    /// Inspect or edit the feature flags file.
    Features {
        #[command(subcommand)]
        action: FeaturesCommand,
    },
    /// Maintain the audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Recover accounts' second factors.
    Mfa {
        #[command(subcommand)]
        action: MfaCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Delete audit events older than DURATION now (the service does it by itself for
    /// `audit.retention`); the pruning is itself recorded as an `audit.pruned` event.
    Prune {
        /// How old an event must be to go: `90d`, `12w`, `400d`...
        #[arg(long, value_name = "DURATION")]
        older_than: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Remove every second factor of an account (authenticator app, recovery codes,
    /// passkeys) and end its sessions, for a person who lost them all. Check who is asking
    /// first; the reset is audited (`mfa.reset`). The account signs in with its password
    /// next (or resets it by email) and enrols again.
    Reset {
        #[arg(long)]
        email: String,
        /// Why (a ticket number, who confirmed the person's identity): kept in the audit event.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SuperadminCommand {
    /// Create a super admin. The password is read from ROSTER_SUPERADMIN_PASSWORD or, if
    /// unset, from the first line of standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FeaturesCommand {
    /// Show every feature: enabled, default, and where the value comes from.
    List,
    /// Enable a feature (edits the file atomically, keeping comments).
    Enable { name: String },
    /// Disable a feature (edits the file atomically, keeping comments).
    Disable { name: String },
}

/// A command failure, printed as `error: ...` with exit status 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(pub String);

fn fail(error: impl std::fmt::Display) -> CliError {
    CliError(error.to_string())
}

/// Runs the parsed command with loaded settings.
///
/// # Errors
/// Whatever stops the command; the message is for the operator.
pub async fn run(command: Option<Command>, settings: Settings) -> Result<(), CliError> {
    match command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await.map_err(fail)?;
            app.run_until_stopped().await.map_err(fail)
        }
        Command::Migrate => {
            let store = roster_store::Store::connect(&settings.database).map_err(fail)?;
            let applied = store.run_migrations().map_err(fail)?;
            println!(
                "{} migration(s) applied on {}",
                applied.len(),
                store.backend_name()
            );
            Ok(())
        }
        Command::Backup { to, force } => backup(&settings, &to, force).await,
        Command::Superadmin {
            action: SuperadminCommand::Create { email, name },
        } => {
            let password = superadmin_password()?;
            let components = Components::build(&settings).map_err(fail)?;
            let form = RegistrationForm::new(email, password, name);
            let account = components
                .roster
                .create_superadmin(form)
                .await
                .map_err(|e| fail(describe(&e)))?;
            println!("super admin created: {} ({})", account.email, account.id);
            Ok(())
        }
        Command::Features { action } => features(action, &settings),
        Command::Audit {
            action: AuditCommand::Prune { older_than },
        } => {
            let age = humantime::parse_duration(&older_than)
                .ok()
                .and_then(|age| chrono::Duration::from_std(age).ok())
                .ok_or_else(|| {
                    fail(format!(
                        "--older-than {older_than:?}: expected a duration such as 90d"
                    ))
                })?;
            let components = Components::build(&settings).map_err(fail)?;
            let deleted = components
                .roster
                .prune_audit_events_older_than(age)
                .await
                .map_err(|e| fail(describe(&e)))?;
            println!("{deleted} audit event(s) older than {older_than} deleted");
            Ok(())
        }
        Command::Mfa {
            action: MfaCommand::Reset { email, reason },
        } => {
            let components = Components::build(&settings).map_err(fail)?;
            let account = components
                .roster
                .reset_second_factors(&email, &reason)
                .await
                .map_err(|e| fail(describe(&e)))?;
            println!(
                "second factors removed and sessions ended for {} ({}); audited as mfa.reset",
                account.email, account.id
            );
            Ok(())
        }
    }
}

/// `roster backup`: refuses to create a database where none is (the pool would), then
/// copies the one there.
async fn backup(settings: &Settings, to: &std::path::Path, force: bool) -> Result<(), CliError> {
    if let roster_store::Backend::Sqlite(path) = &settings.database.backend
        && !path.exists()
    {
        return Err(fail(format!("no database at {}", path.display())));
    }
    let store = roster_store::Store::connect(&settings.database).map_err(fail)?;
    let report = store.backup_sqlite(to, force).await.map_err(fail)?;
    println!(
        "backed up to {}: {} bytes, {} account(s), integrity ok",
        report.path.display(),
        report.bytes,
        report.accounts
    );
    Ok(())
}

fn superadmin_password() -> Result<SecretString, CliError> {
    if let Ok(password) = std::env::var("ROSTER_SUPERADMIN_PASSWORD") {
        return Ok(SecretString::from(password));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("password (input is echoed; prefer ROSTER_SUPERADMIN_PASSWORD or a pipe):");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(fail)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(fail(
            "no password given: set ROSTER_SUPERADMIN_PASSWORD or pipe it on standard input",
        ));
    }
    Ok(SecretString::from(password))
}

fn features(action: FeaturesCommand, settings: &Settings) -> Result<(), CliError> {
    let path = &settings.features_file;
    let (name, enabled) = match action {
        FeaturesCommand::List => {
            let manager = roster_flags::FileFeatureManager::load(
                path,
                std::sync::Arc::new(roster_app::ports::SystemClock),
            )
            .map_err(fail)?;
            println!("{:<36} {:<8} {:<8} SOURCE", "NAME", "ENABLED", "DEFAULT");
            for state in manager.report().features {
                let source = match state.source {
                    FeatureSource::EnabledList => "enabledFeatures",
                    FeatureSource::DisabledList => "disabledFeatures",
                    FeatureSource::Default => "default",
                };
                println!(
                    "{:<36} {:<8} {:<8} {source}",
                    state.feature.name(),
                    state.enabled,
                    state.feature.default_enabled()
                );
            }
            return Ok(());
        }
        FeaturesCommand::Enable { name } => (name, true),
        FeaturesCommand::Disable { name } => (name, false),
    };
    let feature = Feature::from_name(&name).ok_or_else(|| {
        fail(format!(
            "unknown feature {name:?}; known features: {}",
            Feature::known_names()
        ))
    })?;
    let outcome = roster_flags::set_feature(path, feature, enabled).map_err(fail)?;
    let state = if enabled { "enabled" } else { "disabled" };
    if outcome.changed() {
        println!(
            "{name} {state} in {} (a running server follows within 2 s)",
            path.display()
        );
    } else {
        println!("{name} already {state} in {}", path.display());
    }
    Ok(())
}

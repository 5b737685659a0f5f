//! Roster's file-backed feature flags: parses `features/_features.conf`, serves the flags
//! through the `FeatureManager` port with hot reload, and edits the file for the CLI and,
//! through the port's `set`, for the console.
//!
//! The server builds one [`FileFeatureManager`] at start-up (a bad file stops start-up),
//! keeps the [`WatchHandle`] from [`FileFeatureManager::watch`] alive, and hands the manager
//! to the use cases as `Arc<dyn FeatureManager>`. `roster features enable|disable` calls
//! [`set_feature`].

pub mod editor;
mod file;
pub mod manager;
pub mod parser;

pub use editor::{EditError, EditOutcome, default_file_contents, set_feature};
pub use manager::{FileFeatureManager, FileProblem, Listener, LoadError, ReloadEvent, WatchHandle};
pub use parser::{FeatureFile, ParseError, ParseErrorKind, parse, parse_bytes};

//! `roster backup`: a consistent copy of the SQLite database, taken while the service keeps
//! serving writes.
//!
//! `VACUUM INTO` reads the database in one read transaction (in WAL mode, writers go on
//! meanwhile) and writes a compacted copy holding exactly what was committed when it began.
//! The copy is written beside the destination under a temporary name, checked with
//! `PRAGMA integrity_check`, flushed, and only then given its name, so a failed or
//! interrupted backup never leaves a half-written file where a good one is expected.

use std::path::{Path, PathBuf};

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use roster_app::model::StoreError;

use crate::connection::{DbConnection, Store};

/// What a finished backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The file written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The accounts it holds.
    pub accounts: i64,
}

/// Why a backup was not written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// `roster backup` copies SQLite databases; PostgreSQL has its own tools.
    #[error(
        "the database is PostgreSQL: back it up with pg_dump (docs/operations.md, \"Backup and restore\")"
    )]
    NotSqlite,
    /// The destination exists and `--force` was not given.
    #[error("{0} exists; pass --force to replace it")]
    Exists(PathBuf),
    /// The database could not be read or the copy written.
    #[error("backup failed: {0}")]
    Failed(String),
    /// The copy was written but does not pass `PRAGMA integrity_check`; it was deleted.
    #[error("the copy failed its integrity check ({0}); nothing was kept")]
    Corrupt(String),
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

impl Store {
    /// Writes a consistent copy of the SQLite database to `to` (replacing an existing file
    /// only when `replace`), checks it, and reports what it holds.
    ///
    /// # Errors
    /// See [`BackupError`].
    pub async fn backup_sqlite(
        &self,
        to: &Path,
        replace: bool,
    ) -> Result<BackupReport, BackupError> {
        if self.backend_name() != "sqlite" {
            return Err(BackupError::NotSqlite);
        }
        if !replace && to.exists() {
            return Err(BackupError::Exists(to.to_owned()));
        }
        let partial = partial_name(to);
        let _ = std::fs::remove_file(&partial);
        create_private(&partial)?;
        let target = partial
            .to_str()
            .ok_or_else(|| BackupError::Failed(format!("{} is not UTF-8", partial.display())))?
            .to_owned();
        self.run(move |conn| match conn {
            DbConnection::Sqlite(c) => diesel::sql_query("VACUUM INTO ?")
                .bind::<Text, _>(&target)
                .execute(c)
                .map(drop)
                .map_err(|error| StoreError::Internal(error.to_string())),
            DbConnection::Pg(_) => Err(StoreError::Internal("not a SQLite connection".to_owned())),
        })
        .await
        .map_err(|error| BackupError::Failed(error.to_string()))?;
        let accounts = match check(&partial) {
            Ok(accounts) => accounts,
            Err(error) => {
                let _ = std::fs::remove_file(&partial);
                return Err(error);
            }
        };
        place(&partial, to, replace)?;
        let bytes = std::fs::metadata(to)
            .map_err(|error| BackupError::Failed(error.to_string()))?
            .len();
        Ok(BackupReport {
            path: to.to_owned(),
            bytes,
            accounts,
        })
    }
}

/// `<to>.partial`, in the destination's folder (so the final rename stays on one disk).
fn partial_name(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    to.with_file_name(name)
}

/// Creates the empty file `VACUUM INTO` fills (it accepts an empty one), readable by its
/// owner alone: the copy holds password hashes and sealed secrets, whatever the umask.
fn create_private(path: &Path) -> Result<(), BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(|error| BackupError::Failed(format!("{}: {error}", path.display())))
}

/// Opens the copy on its own: `PRAGMA integrity_check` must say `ok`; its accounts counted.
fn check(copy: &Path) -> Result<i64, BackupError> {
    let url = copy
        .to_str()
        .ok_or_else(|| BackupError::Failed(format!("{} is not UTF-8", copy.display())))?;
    let mut conn = SqliteConnection::establish(url)
        .map_err(|error| BackupError::Failed(format!("the copy cannot be opened: {error}")))?;
    let verdict: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .map_err(|error| BackupError::Failed(error.to_string()))?;
    let verdict: Vec<String> = verdict.into_iter().map(|row| row.integrity_check).collect();
    if verdict != ["ok"] {
        return Err(BackupError::Corrupt(verdict.join("; ")));
    }
    let count: Count = diesel::sql_query("SELECT COUNT(*) AS count FROM accounts")
        .get_result(&mut conn)
        .map_err(|error| BackupError::Failed(error.to_string()))?;
    Ok(count.count)
}

/// Flushes the checked copy and gives it its name: over an existing file only when
/// `replace` (an atomic rename), else by a link that fails if the name was taken meanwhile.
fn place(partial: &Path, to: &Path, replace: bool) -> Result<(), BackupError> {
    let failed = |error: std::io::Error| BackupError::Failed(error.to_string());
    std::fs::File::open(partial)
        .and_then(|file| file.sync_all())
        .map_err(failed)?;
    if replace {
        std::fs::rename(partial, to).map_err(failed)?;
    } else {
        let linked = std::fs::hard_link(partial, to);
        let _ = std::fs::remove_file(partial);
        match linked {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(BackupError::Exists(to.to_owned()));
            }
            Err(error) => return Err(failed(error)),
        }
    }
    if let Some(folder) = to.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        // The new name itself must survive a crash.
        std::fs::File::open(folder)
            .and_then(|folder| folder.sync_all())
            .map_err(failed)?;
    }
    Ok(())
}

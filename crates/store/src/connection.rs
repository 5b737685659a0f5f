//! Backend selection, the connection manager, the pool and migrations.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use roster_app::model::StoreError;
use roster_app::ports::Readiness;

use crate::errors::{TxError, pool_unavailable, translate};
use crate::grants_cache::GrantsCache;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Arbitrary constant naming Roster's migration lock among PostgreSQL advisory locks.
const MIGRATION_LOCK_KEY: i64 = 0x526f_7374_6572; // "Roster"

/// One connection of either backend. The derive dispatches queries to the variant in use.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Which database a URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A file path (its folder is created on first run).
    Sqlite(PathBuf),
    /// A libpq connection URL.
    Postgres(String),
}

/// A database URL that names no supported backend.
#[derive(Debug, thiserror::Error)]
#[error("database.url must start with sqlite:// or postgres:// (got scheme {scheme:?})")]
pub struct DatabaseUrlError {
    scheme: String,
}

impl Backend {
    /// `sqlite://data/roster.db` (relative), `sqlite:///var/lib/roster.db` (absolute),
    /// `postgres://...` or `postgresql://...`.
    ///
    /// # Errors
    /// Any other scheme.
    pub fn from_url(url: &str) -> Result<Backend, DatabaseUrlError> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Ok(Backend::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres(url.to_owned()))
        } else {
            let scheme = url.split(':').next().unwrap_or_default().to_owned();
            Err(DatabaseUrlError { scheme })
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// Pool and timeout settings.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub backend: Backend,
    /// Connections kept by this node.
    pub pool_size: u32,
    /// How long a request waits for a connection (and start-up for the first one).
    pub connect_timeout: Duration,
    /// SQLite: how long a writer waits for the file lock before giving up.
    pub busy_timeout: Duration,
    /// PostgreSQL: the longest a statement may run before the server cancels it (a request
    /// then answers 503 `unavailable` instead of hanging).
    pub statement_timeout: Duration,
}

impl DatabaseSettings {
    pub fn new(backend: Backend) -> Self {
        Self {
            backend,
            pool_size: 8,
            connect_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
        }
    }
}

/// Why the store could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the folder {path} for the SQLite database: {source}")]
    CreateFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to the {backend} database: {cause}")]
    Connect {
        backend: &'static str,
        cause: String,
    },
    #[error("database migration failed: {0}")]
    Migrate(String),
}

/// Opens connections with the per-connection settings each backend needs.
#[derive(Debug)]
struct Manager {
    backend: Backend,
    busy_timeout: Duration,
    connect_timeout: Duration,
    statement_timeout: Duration,
}

/// A pooled connection and whether a statement on it failed as if the database were gone.
/// Such a connection is dropped when it returns to the pool, so the pool heals after an
/// outage without testing every connection on checkout (a round trip per database call).
pub(crate) struct PooledDb {
    db: DbConnection,
    failed: bool,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PooledDb;
    type Error = ConnectionError;

    fn connect(&self) -> Result<PooledDb, ConnectionError> {
        self.open().map(|db| PooledDb { db, failed: false })
    }

    fn is_valid(&self, conn: &mut PooledDb) -> Result<(), ConnectionError> {
        conn.db
            .batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    /// A connection whose statement failed as unavailable, or whose user panicked (it may
    /// sit inside an open transaction): drop it.
    fn has_broken(&self, conn: &mut PooledDb) -> bool {
        conn.failed
            || std::thread::panicking()
            || diesel::r2d2::R2D2Connection::is_broken(&mut conn.db)
    }
}

impl Manager {
    fn open(&self) -> Result<DbConnection, ConnectionError> {
        match &self.backend {
            Backend::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // WAL: readers never block the writer. Foreign keys are off by default in
                // SQLite. busy_timeout makes concurrent writers wait instead of failing.
                // busy_timeout first, so switching a locked file to WAL waits too.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;",
                    self.busy_timeout.as_millis()
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres(url) => {
                let mut conn = PgConnection::establish(&libpq_url(url, self.connect_timeout))?;
                conn.batch_execute(&format!(
                    "SET statement_timeout = {}",
                    self.statement_timeout.as_millis()
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Pg(conn))
            }
        }
    }
}

/// Logs pool connection failures once, through tracing (r2d2 would use the `log` crate).
#[derive(Debug)]
struct TracingErrorHandler;

impl r2d2::HandleError<ConnectionError> for TracingErrorHandler {
    fn handle_error(&self, error: ConnectionError) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

/// Runs `$body` with `$c` bound to the backend's own connection (`SqliteConnection` or
/// `PgConnection`). The per-request lookups use it instead of the `DbConnection` wrapper,
/// whose `MultiConnection` derive renders every query to SQL text on every call, even when
/// the prepared statement is cached (about 8 % of an authenticated request's CPU).
macro_rules! with_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::connection::DbConnection::Sqlite($c) => $body,
            $crate::connection::DbConnection::Pg($c) => $body,
        }
    };
}
pub(crate) use with_backend;

/// The storage adapter: a connection pool, the cache of decoded grants, and the
/// repositories implemented on them. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<Manager>,
    backend: &'static str,
    pub(crate) grants_cache: Arc<GrantsCache>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the pool and checks that one connection works, so a wrong URL or an unreachable
    /// database stops start-up with a clear message.
    ///
    /// # Errors
    /// The folder of the SQLite file cannot be created, or no connection can be made.
    pub fn connect(settings: &DatabaseSettings) -> Result<Store, StartupError> {
        if let Backend::Sqlite(path) = &settings.backend {
            create_parent_folder(path)?;
        }
        let backend = settings.backend.name();
        let manager = Manager {
            backend: settings.backend.clone(),
            busy_timeout: settings.busy_timeout,
            connect_timeout: settings.connect_timeout,
            statement_timeout: settings.statement_timeout,
        };
        // Check one connection by hand: r2d2's own start-up check only reports a timeout.
        manager.open().map_err(|e| StartupError::Connect {
            backend,
            cause: e.to_string(),
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size)
            // Broken connections are found by `has_broken` instead (see `PooledDb`).
            .test_on_check_out(false)
            .min_idle(Some(1))
            .connection_timeout(settings.connect_timeout)
            .error_handler(Box::new(TracingErrorHandler))
            .build(manager)
            .map_err(|e| StartupError::Connect {
                backend,
                cause: e.to_string(),
            })?;
        Ok(Store {
            pool,
            backend,
            grants_cache: Arc::new(GrantsCache::new()),
        })
    }

    /// Pool connections: (open, idle, maximum), for metrics.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.backend
    }

    /// Applies pending migrations; returns the versions applied. On PostgreSQL an advisory
    /// lock serialises nodes that start at the same time.
    ///
    /// # Errors
    /// No connection, or a migration failed.
    pub fn run_migrations(&self) -> Result<Vec<String>, StartupError> {
        let mut conn = self.pool.get().map_err(|e| StartupError::Connect {
            backend: self.backend,
            cause: e.to_string(),
        })?;
        let migrate =
            |e: Box<dyn std::error::Error + Send + Sync>| StartupError::Migrate(e.to_string());
        let applied = match &mut conn.db {
            DbConnection::Sqlite(conn) => conn
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(migrate)?,
            DbConnection::Pg(conn) => {
                conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                    .map_err(|e| StartupError::Migrate(e.to_string()))?;
                let result = conn
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.into_iter().map(|m| m.to_string()).collect::<Vec<_>>());
                let unlock =
                    conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
                let applied = result.map_err(migrate)?;
                unlock.map_err(|e| StartupError::Migrate(e.to_string()))?;
                return Ok(applied);
            }
        };
        Ok(applied.into_iter().map(|m| m.to_string()).collect())
    }

    /// Runs `work` with a pooled connection on the blocking pool.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| pool_unavailable(&e))?;
            let result = work(&mut conn.db);
            if matches!(result, Err(StoreError::Unavailable(_))) {
                conn.failed = true;
            }
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("database task failed: {e}")))?
    }
}

/// Runs `work` in a transaction that holds the write lock from its first statement, for
/// reads that decide a write (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an ordinary transaction,
/// where `work` takes row locks with `FOR UPDATE` as needed).
pub(crate) fn write_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
) -> Result<T, StoreError> {
    match conn {
        DbConnection::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE").map_err(translate)?;
            match work(conn) {
                Ok(value) => {
                    conn.batch_execute("COMMIT").map_err(translate)?;
                    Ok(value)
                }
                Err(error) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(error.into_store())
                }
            }
        }
        DbConnection::Pg(_) => conn.transaction(work).map_err(|e: TxError| e.into_store()),
    }
}

/// Adds libpq's `connect_timeout` (whole seconds, at least 2) unless the URL sets one, so a
/// server that accepts TCP but never answers cannot hang start-up or a request.
/// The URL libpq is given: the operator's, plus `connect_timeout` from the settings, plus
/// `sslmode=disable` when the one server named is on this host (a loopback address) and
/// the operator said nothing about TLS. libpq's default there, `prefer`, encrypts without
/// verifying the server, which on loopback protects nothing (the traffic never leaves the
/// kernel) and cost about 10 µs of CPU per query in `just bench`.
///
/// "Said nothing": no `ssl...` parameter in the URL (`sslmode`, `sslrootcert`, ...), no
/// `host=` or `hostaddr=` parameter (they override the URL's host), and none of
/// `PGSSLMODE`, `PGHOSTADDR` in the environment. Several hosts (`host1,host2`) count as
/// not loopback.
fn libpq_url(url: &str, timeout: Duration) -> String {
    let mut parameters = Vec::new();
    if !url.contains("connect_timeout=") {
        parameters.push(format!("connect_timeout={}", timeout.as_secs().max(2)));
    }
    if !tls_or_address_chosen(url) && url_host(url).is_some_and(is_loopback) {
        parameters.push("sslmode=disable".to_owned());
    }
    if parameters.is_empty() {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", parameters.join("&"))
}

/// Whether the URL's parameters or libpq's environment choose TLS settings or the address.
fn tls_or_address_chosen(url: &str) -> bool {
    let parameters = url.split_once('?').map_or("", |(_, query)| query);
    let in_url = parameters.split('&').any(|parameter| {
        let name = parameter.split('=').next().unwrap_or_default();
        name.starts_with("ssl") || name == "host" || name == "hostaddr"
    });
    in_url
        || ["PGSSLMODE", "PGHOSTADDR"]
            .iter()
            .any(|v| std::env::var_os(v).is_some())
}

/// The host of a `postgres://user:password@host:port/db?...` URL (brackets kept off IPv6);
/// `None` when it names none or several.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host_port.contains(',') {
        return None;
    }
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split_once(']').map(|(host, _)| host);
    }
    host_port.split(':').next().filter(|host| !host.is_empty())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn create_parent_folder(path: &Path) -> Result<(), StartupError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|source| StartupError::CreateFolder {
                path: parent.to_owned(),
                source,
            })
        }
        _ => Ok(()),
    }
}

/// Readiness for `/readyz`: the database answers and no migration is pending.
#[async_trait::async_trait]
impl Readiness for Store {
    async fn check_ready(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            let pending = match conn {
                DbConnection::Sqlite(conn) => conn.has_pending_migration(SQLITE_MIGRATIONS),
                DbConnection::Pg(conn) => conn.has_pending_migration(POSTGRES_MIGRATIONS),
            }
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            if pending {
                Err(StoreError::Unavailable("migrations pending".into()))
            } else {
                Ok(())
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_the_backend() {
        assert_eq!(
            Backend::from_url("sqlite://data/roster.db").unwrap(),
            Backend::Sqlite("data/roster.db".into())
        );
        assert_eq!(
            Backend::from_url("sqlite:///var/lib/r.db").unwrap(),
            Backend::Sqlite("/var/lib/r.db".into())
        );
        assert!(matches!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres(_)
        ));
        assert!(matches!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres(_)
        ));
        let error = Backend::from_url("mysql://x").unwrap_err().to_string();
        assert!(error.contains("mysql"), "{error}");
    }

    #[test]
    fn libpq_gets_the_timeout_and_no_tls_on_loopback_only() {
        let timeout = Duration::from_secs(5);
        let cases = [
            (
                "postgres://u:p@127.0.0.1:5432/db",
                "postgres://u:p@127.0.0.1:5432/db?connect_timeout=5&sslmode=disable",
            ),
            (
                "postgres://localhost/db?application_name=r",
                "postgres://localhost/db?application_name=r&connect_timeout=5&sslmode=disable",
            ),
            (
                "postgresql://u@[::1]:5432/db",
                "postgresql://u@[::1]:5432/db?connect_timeout=5&sslmode=disable",
            ),
            // Another host, or a mode chosen by the operator: as given.
            (
                "postgres://u:p@db.internal:5432/db",
                "postgres://u:p@db.internal:5432/db?connect_timeout=5",
            ),
            (
                "postgres://u:p@10.0.0.7/db",
                "postgres://u:p@10.0.0.7/db?connect_timeout=5",
            ),
            (
                "postgres://127.0.0.1/db?sslmode=require&connect_timeout=1",
                "postgres://127.0.0.1/db?sslmode=require&connect_timeout=1",
            ),
            (
                "postgres://localhost/db?sslrootcert=/ca.pem&connect_timeout=1",
                "postgres://localhost/db?sslrootcert=/ca.pem&connect_timeout=1",
            ),
            // The URL's host is not where libpq connects, or not the only one.
            (
                "postgres://localhost/db?hostaddr=10.0.0.5&connect_timeout=1",
                "postgres://localhost/db?hostaddr=10.0.0.5&connect_timeout=1",
            ),
            (
                "postgres:///db?host=/run/postgresql&connect_timeout=1",
                "postgres:///db?host=/run/postgresql&connect_timeout=1",
            ),
            (
                "postgres://localhost:5432,db2.example.com:5432/db?connect_timeout=1",
                "postgres://localhost:5432,db2.example.com:5432/db?connect_timeout=1",
            ),
            (
                "postgres://u:p@ss@localhost/db?connect_timeout=1",
                "postgres://u:p@ss@localhost/db?connect_timeout=1&sslmode=disable",
            ),
        ];
        // PGSSLMODE or PGHOSTADDR in the environment: nothing is ever added.
        let environment_chooses = ["PGSSLMODE", "PGHOSTADDR"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        for (given, expected) in cases {
            let expected = if environment_chooses {
                expected
                    .replace("&sslmode=disable", "")
                    .replace("?sslmode=disable", "")
            } else {
                expected.to_owned()
            };
            assert_eq!(libpq_url(given, timeout), expected, "{given}");
        }
    }
}

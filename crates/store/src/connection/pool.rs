//! The connection pool: one connection type for both backends, the per-connection settings
//! each backend needs (SQLite pragmas, PostgreSQL's statement timeout), how broken
//! connections leave the pool, and [`Store`], which runs every database call on the blocking
//! pool.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};
use roster_app::model::StoreError;

use super::StartupError;
use super::url::{Backend, libpq_url};
use super::watchdog::{self, Armed, Socket};
use crate::errors::pool_unavailable;
use crate::grants_cache::GrantsCache;

/// One connection of either backend. The derive dispatches queries to the variant in use.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
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

    /// PostgreSQL: the longest a database call may take before its connection is closed
    /// under it: the statement timeout, plus a second for the server's own cancellation to
    /// arrive first when the server is merely slow. None without a statement timeout (`0s`,
    /// no limit), and on SQLite, which has no network to lose.
    fn call_deadline(&self) -> Option<Duration> {
        let limited = !self.statement_timeout.is_zero();
        (limited && matches!(self.backend, Backend::Postgres(_)))
            .then(|| self.statement_timeout + Duration::from_secs(1))
    }
}

/// Opens connections with the per-connection settings each backend needs.
#[derive(Debug)]
pub(super) struct Manager {
    backend: Backend,
    busy_timeout: Duration,
    connect_timeout: Duration,
    statement_timeout: Duration,
    call_deadline: Option<Duration>,
    /// Opens PostgreSQL connections with their sockets (see [`watchdog::Opener`]).
    opener: watchdog::Opener,
}

/// A pooled connection and whether a statement on it failed as if the database were gone.
/// Such a connection is dropped when it returns to the pool, so the pool heals after an
/// outage without testing every connection on checkout (a round trip per database call).
pub(crate) struct PooledDb {
    pub(super) db: DbConnection,
    failed: bool,
    /// PostgreSQL: the connection's socket, interrupted when a call passes its deadline.
    socket: Option<Arc<Socket>>,
}

impl PooledDb {
    /// Watches the call about to run on this connection, when it has a deadline.
    fn arm(&self, deadline: Option<Duration>) -> Option<Armed> {
        Some(watchdog::arm(self.socket.as_ref()?, deadline?))
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = PooledDb;
    type Error = ConnectionError;

    fn connect(&self) -> Result<PooledDb, ConnectionError> {
        self.open().map(|(db, socket)| PooledDb {
            db,
            failed: false,
            socket,
        })
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
    fn open(&self) -> Result<(DbConnection, Option<Arc<Socket>>), ConnectionError> {
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
                Ok((DbConnection::Sqlite(conn), None))
            }
            Backend::Postgres(url) => {
                let url = libpq_url(url, self.connect_timeout, self.call_deadline);
                let (mut conn, socket) = self.opener.open(|| PgConnection::establish(&url))?;
                let socket = socket.map(Arc::new);
                let armed = socket
                    .as_ref()
                    .zip(self.call_deadline)
                    .map(|(socket, deadline)| watchdog::arm(socket, deadline));
                let set = conn.batch_execute(&format!(
                    "SET statement_timeout = {}",
                    self.statement_timeout.as_millis()
                ));
                if armed.is_some_and(Armed::disarm) {
                    return Err(ConnectionError::BadConnection(
                        "no answer from the database within the call deadline".into(),
                    ));
                }
                set.map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok((DbConnection::Pg(conn), socket))
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
    pub(super) pool: r2d2::Pool<Manager>,
    pub(super) backend: &'static str,
    pub(crate) grants_cache: Arc<GrantsCache>,
    /// PostgreSQL: the longest a call may run on its connection (see [`watchdog`]).
    call_deadline: Option<Duration>,
    /// PostgreSQL: the longest a caller waits for a call, connection wait included, even
    /// when its connection's socket was not found: the backstop of the call deadline.
    backstop: Option<Duration>,
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
        let call_deadline = settings.call_deadline();
        let manager = Manager {
            backend: settings.backend.clone(),
            busy_timeout: settings.busy_timeout,
            connect_timeout: settings.connect_timeout,
            statement_timeout: settings.statement_timeout,
            call_deadline,
            opener: watchdog::Opener::default(),
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
            call_deadline,
            backstop: call_deadline
                .map(|deadline| settings.connect_timeout + deadline + Duration::from_secs(1)),
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

    /// Runs `work` with a pooled connection on the blocking pool. On PostgreSQL, a call
    /// that outlives its deadline has its connection closed under it and is `Unavailable`.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let deadline = self.call_deadline;
        let call = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| pool_unavailable(&e))?;
            let armed = conn.arm(deadline);
            let result = work(&mut conn.db);
            let interrupted = armed.is_some_and(Armed::disarm);
            if interrupted || matches!(result, Err(StoreError::Unavailable(_))) {
                conn.failed = true;
            }
            match result {
                // The error is the interruption's. A result that came all the same stands:
                // the database did answer (a write did commit); only the connection is dead.
                Err(_) if interrupted => Err(no_answer_within(deadline)),
                result => result,
            }
        });
        let finished = match self.backstop {
            Some(backstop) => tokio::time::timeout(backstop, call)
                .await
                .map_err(|_| no_answer_within(Some(backstop)))?,
            None => call.await,
        };
        finished.map_err(|e| StoreError::Internal(format!("database task failed: {e}")))?
    }
}

fn no_answer_within(deadline: Option<Duration>) -> StoreError {
    StoreError::Unavailable(format!(
        "no answer from the database within {:?}",
        deadline.unwrap_or_default()
    ))
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

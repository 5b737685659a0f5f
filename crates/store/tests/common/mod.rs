//! Test support: one throwaway database per test on either backend, and the macro that runs
//! each test case against both.
//!
//! SQLite always runs (a temporary file); PostgreSQL runs when `ROSTER_TEST_POSTGRES_URL`
//! names a server, each test in a fresh database that is dropped afterwards.

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::{Pg, PgConnection};
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{Connection, QueryResult, RunQueryDsl};
use roster_store::testing::{TestDatabase, fresh_postgres_database};
use roster_store::{Backend, DatabaseSettings, Store};

/// Instantiates each named case, an `async fn(TestDb)`, as two tests in a module of the same
/// name: `<case>::sqlite` and `<case>::postgres` (which passes trivially, after a notice on
/// stderr, when `ROSTER_TEST_POSTGRES_URL` is unset).
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                super::$case(crate::common::TestDb::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                let Some(db) = crate::common::TestDb::postgres() else { return };
                super::$case(db).await;
            }
        }
    )+};
}

/// A fresh, empty database (no migration applied yet) that lives as long as this value.
#[derive(Debug)]
pub struct TestDb {
    backend: Backend,
    // Held for their `Drop`: the temporary folder, or the PostgreSQL database.
    _folder: Option<tempfile::TempDir>,
    _postgres: Option<TestDatabase>,
}

impl TestDb {
    /// A new SQLite file in a temporary folder (the file itself is created on connect).
    pub fn sqlite() -> TestDb {
        let folder = tempfile::tempdir().expect("cannot create a temporary folder");
        let path = folder.path().join("roster.db");
        TestDb {
            backend: Backend::Sqlite(path),
            _folder: Some(folder),
            _postgres: None,
        }
    }

    /// A new PostgreSQL database, or `None` when `ROSTER_TEST_POSTGRES_URL` is unset.
    pub fn postgres() -> Option<TestDb> {
        let database = fresh_postgres_database()?;
        let backend = Backend::Postgres(database.url().to_owned());
        Some(TestDb {
            backend,
            _folder: None,
            _postgres: Some(database),
        })
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The production defaults, except a shorter wait for a connection so that a starved
    /// pool fails a test quickly instead of hiding behind a long timeout.
    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            connect_timeout: Duration::from_secs(3),
            ..DatabaseSettings::new(self.backend.clone())
        }
    }

    /// A store on this database, without running migrations.
    pub fn connect(&self) -> Store {
        Store::connect(&self.settings())
            .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"))
    }

    /// A store on this database with every migration applied: what most cases start from.
    pub fn store(&self) -> Store {
        let store = self.connect();
        let applied = store
            .run_migrations()
            .unwrap_or_else(|e| panic!("migrations failed: {e}"));
        assert_eq!(applied.len(), self.migration_count(), "{applied:?}");
        store
    }

    /// How many migrations the repository holds for this backend (`migrations/<backend>/`).
    pub fn migration_count(&self) -> usize {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../migrations")
            .join(self.backend.name());
        std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .filter(|entry| entry.as_ref().is_ok_and(|entry| entry.path().is_dir()))
            .count()
    }

    /// A connection of our own to the same database, outside the store, for raw SQL.
    pub fn raw_connection(&self) -> RawConnection {
        match &self.backend {
            Backend::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .expect("cannot open the SQLite file");
                conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                    .expect("cannot configure the SQLite connection");
                RawConnection::Sqlite(conn)
            }
            Backend::Postgres(url) => RawConnection::Pg(
                PgConnection::establish(url).expect("cannot connect to the test database"),
            ),
        }
    }
}

/// A plain diesel connection to a test database, for writes the store does not offer yet.
pub enum RawConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl RawConnection {
    /// Runs one statement with text parameters written `$1`, `$2`, ... (SQLite reads `$1` as
    /// a named parameter, numbered in order of first appearance, so the same SQL serves both
    /// backends as long as each parameter appears in order).
    pub fn execute(&mut self, sql: &str, binds: &[&str]) -> QueryResult<usize> {
        match self {
            RawConnection::Sqlite(conn) => binds
                .iter()
                .fold(
                    diesel::sql_query(sql).into_boxed::<Sqlite>(),
                    |query, bind| query.bind::<Text, _>((*bind).to_owned()),
                )
                .execute(conn),
            RawConnection::Pg(conn) => binds
                .iter()
                .fold(diesel::sql_query(sql).into_boxed::<Pg>(), |query, bind| {
                    query.bind::<Text, _>((*bind).to_owned())
                })
                .execute(conn),
        }
    }
}

//! The embedded migrations of both backends, applying them at start-up (serialised across
//! nodes on PostgreSQL), and readiness, which is "the database answers and nothing is
//! pending".

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use roster_app::model::StoreError;
use roster_app::ports::Readiness;

use super::StartupError;
use super::pool::{DbConnection, Store};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Arbitrary constant naming Roster's migration lock among PostgreSQL advisory locks.
const MIGRATION_LOCK_KEY: i64 = 0x526f_7374_6572; // "Roster"

impl Store {
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

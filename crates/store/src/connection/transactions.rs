//! Write transactions on either backend. On SQLite a read that decides a write must hold the
//! write lock from the start (`BEGIN IMMEDIATE`), or another writer can commit between the
//! read and the write; diesel's `transaction` begins a deferred one, so SQLite gets its own
//! statements here. PostgreSQL uses diesel's, with row locks taken by the caller.

use diesel::Connection;
use diesel::connection::SimpleConnection;
use roster_app::model::StoreError;

use super::pool::DbConnection;
use crate::errors::{TxError, translate};

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

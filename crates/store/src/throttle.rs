//! `LoginThrottle` on diesel: one row per canonical email with failed logins.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use roster_app::LoginThrottlePolicy;
use roster_app::model::{AuditEvent, StoreError, ThrottleState};
use roster_app::ports::LoginThrottle;

use crate::audit::record;
use crate::connection::{DbConnection, Store, write_transaction};
use crate::errors::{TxError, translate};
use crate::rows::{from_db_time, to_db_time};
use crate::schema::login_throttle;

#[async_trait]
impl LoginThrottle for Store {
    async fn state(&self, canonical_email: &str) -> Result<Option<ThrottleState>, StoreError> {
        let email = canonical_email.to_owned();
        self.run(move |conn| {
            let row = login_throttle::table
                .find(&email)
                .select((login_throttle::failures, login_throttle::locked_until))
                .get_result::<(i32, Option<chrono::NaiveDateTime>)>(conn)
                .optional()
                .map_err(translate)?;
            Ok(row.map(|(failures, locked_until)| ThrottleState {
                failures: u32::try_from(failures).unwrap_or(0),
                locked_until: locked_until.map(from_db_time),
            }))
        })
        .await
    }

    async fn record_failure(
        &self,
        canonical_email: &str,
        at: DateTime<Utc>,
        policy: &LoginThrottlePolicy,
        audit: &AuditEvent,
    ) -> Result<ThrottleState, StoreError> {
        let email = canonical_email.to_owned();
        let policy = *policy;
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let at_db = to_db_time(at);
                ensure_row(conn, &email, at_db)?;
                // The increment locks the row (PostgreSQL) or runs under the write lock
                // (SQLite), so parallel failures are all counted.
                diesel::update(login_throttle::table.find(&email))
                    .set((
                        login_throttle::failures.eq(login_throttle::failures + 1),
                        login_throttle::last_failure_at.eq(at_db),
                    ))
                    .execute(conn)?;
                let failures: i32 = login_throttle::table
                    .find(&email)
                    .select(login_throttle::failures)
                    .get_result(conn)?;
                let failures = u32::try_from(failures).unwrap_or(0);
                let locked_until = policy.delay_after(failures).map(|delay| at + delay);
                if let Some(until) = locked_until {
                    diesel::update(login_throttle::table.find(&email))
                        .set(login_throttle::locked_until.eq(to_db_time(until)))
                        .execute(conn)?;
                }
                record(conn, &audit)?;
                Ok(ThrottleState {
                    failures,
                    locked_until,
                })
            })
        })
        .await
    }

    async fn clear(&self, canonical_email: &str) -> Result<(), StoreError> {
        let email = canonical_email.to_owned();
        self.run(move |conn| {
            diesel::delete(login_throttle::table.find(&email))
                .execute(conn)
                .map_err(translate)?;
            Ok(())
        })
        .await
    }

    async fn forget_stale(&self, before: DateTime<Utc>, limit: i64) -> Result<usize, StoreError> {
        self.run(move |conn| {
            let stale = login_throttle::table
                .filter(login_throttle::last_failure_at.lt(to_db_time(before)))
                .select(login_throttle::email_canonical)
                .limit(limit)
                .load::<String>(conn)
                .map_err(translate)?;
            if stale.is_empty() {
                return Ok(0);
            }
            diesel::delete(
                login_throttle::table.filter(login_throttle::email_canonical.eq_any(&stale)),
            )
            .execute(conn)
            .map_err(translate)
        })
        .await
    }
}

/// Inserts a zero-failure row unless one exists; racing first failures do not conflict.
fn ensure_row(
    conn: &mut DbConnection,
    email: &str,
    at: chrono::NaiveDateTime,
) -> Result<(), TxError> {
    let row = (
        login_throttle::email_canonical.eq(email),
        login_throttle::failures.eq(0),
        login_throttle::last_failure_at.eq(at),
    );
    let insert = diesel::insert_into(login_throttle::table).values(row);
    match conn {
        DbConnection::Pg(pg) => insert.on_conflict_do_nothing().execute(pg)?,
        DbConnection::Sqlite(sqlite) => insert.on_conflict_do_nothing().execute(sqlite)?,
    };
    Ok(())
}

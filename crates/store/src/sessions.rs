//! `SessionStore` on diesel.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use roster_app::model::{
    AuthMethod, AuthMethods, NewSession, SessionId, SessionRecord, SessionSummary, StoreError,
    TokenDigest,
};
use roster_app::ports::SessionStore;
use roster_domain::{AccountId, PrincipalId};

use roster_app::model::AuditEvent;

use crate::audit::record;
use crate::connection::{DbConnection, Store, with_backend, write_transaction};
use crate::errors::{TxError, corrupt, translate};
use crate::grants::holder_grants;
use crate::rows::{
    AccountWithoutHashRow, NewSessionRow, SessionRow, SessionSummaryRow, from_db_time,
    parse_auth_methods, to_db_time,
};
use crate::schema::{accounts, sessions};

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, session: &NewSession, audit: &AuditEvent) -> Result<(), StoreError> {
        let session = session.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                insert_session(conn, &session)?;
                record(conn, &audit)
            })
        })
        .await
    }

    async fn find_by_digest(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let digest = digest.clone();
        let cache = Arc::clone(&self.grants_cache);
        self.run(move |conn| {
            let row = with_backend!(conn, |c| sessions::table
                .inner_join(accounts::table)
                .filter(sessions::token_digest.eq(digest.as_str()))
                .select((
                    (
                        sessions::id,
                        sessions::created_at,
                        sessions::last_seen_at,
                        sessions::expires_at,
                        sessions::revoked_at,
                        sessions::auth_methods,
                        sessions::second_factor_at,
                    ),
                    AccountWithoutHashRow::as_select(),
                ))
                .get_result::<(SessionRow, AccountWithoutHashRow)>(c)
                .optional())
            .map_err(translate)?;
            let Some((session, account)) = row else {
                return Ok(None);
            };
            let version = account.grants_version;
            let account = account.into_account()?;
            let grants = if session.revoked_at.is_none() {
                cache.get_or_load(PrincipalId::Account(account.id), version, || {
                    holder_grants(conn, PrincipalId::Account(account.id))
                })?
            } else {
                Arc::from([])
            };
            Ok(Some(SessionRecord {
                grants,
                grants_version: version,
                id: SessionId::new(session.id.parse().map_err(|e| corrupt("session id", e))?),
                account,
                created_at: from_db_time(session.created_at),
                last_seen_at: from_db_time(session.last_seen_at),
                expires_at: from_db_time(session.expires_at),
                revoked: session.revoked_at.is_some(),
                auth_methods: parse_auth_methods(&session.auth_methods)?,
                second_factor_at: session.second_factor_at.map(from_db_time),
            }))
        })
        .await
    }

    async fn touch(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.run(move |conn| {
            let at = to_db_time(at);
            diesel::update(
                sessions::table
                    .find(id.to_string())
                    .filter(sessions::last_seen_at.lt(at)),
            )
            .set(sessions::last_seen_at.eq(at))
            .execute(conn)
            .map_err(translate)?;
            Ok(())
        })
        .await
    }

    async fn record_second_factor(
        &self,
        id: SessionId,
        method: AuthMethod,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let live = sessions::table
                    .find(id.to_string())
                    .filter(sessions::revoked_at.is_null())
                    .select(sessions::auth_methods)
                    .get_result::<String>(conn)
                    .optional()?;
                let Some(stored) = live else {
                    return Ok(false);
                };
                let methods = AuthMethods::parse(&stored)
                    .unwrap_or_default()
                    .with(method)
                    .to_string();
                diesel::update(sessions::table.find(id.to_string()))
                    .set((
                        sessions::auth_methods.eq(methods),
                        sessions::second_factor_at.eq(Some(to_db_time(at))),
                    ))
                    .execute(conn)?;
                record(conn, &audit)?;
                Ok(true)
            })
        })
        .await
    }

    async fn list_active(
        &self,
        account_id: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        self.run(move |conn| {
            let rows = sessions::table
                .filter(sessions::account_id.eq(account_id.to_string()))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(to_db_time(now)))
                .order(sessions::id.desc())
                .select(SessionSummaryRow::as_select())
                .load::<SessionSummaryRow>(conn)
                .map_err(translate)?;
            rows.into_iter()
                .map(SessionSummaryRow::into_summary)
                .collect()
        })
        .await
    }

    async fn revoke(
        &self,
        account_id: AccountId,
        id: SessionId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let revoked = diesel::update(
                    sessions::table
                        .find(id.to_string())
                        .filter(sessions::account_id.eq(account_id.to_string()))
                        .filter(sessions::revoked_at.is_null()),
                )
                .set(sessions::revoked_at.eq(to_db_time(at)))
                .execute(conn)?;
                if revoked > 0 {
                    record(conn, &audit)?;
                }
                Ok(revoked > 0)
            })
        })
        .await
    }

    async fn count_active(&self, now: DateTime<Utc>) -> Result<i64, StoreError> {
        self.run(move |conn| {
            sessions::table
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(to_db_time(now)))
                .count()
                .get_result(conn)
                .map_err(translate)
        })
        .await
    }

    async fn delete_dead(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError> {
        self.run(move |conn| {
            let dead = sessions::table
                .filter(
                    sessions::expires_at
                        .le(to_db_time(now))
                        .or(sessions::revoked_at.is_not_null())
                        .or(sessions::last_seen_at.le(to_db_time(idle_before))),
                )
                .select(sessions::id)
                .limit(limit)
                .load::<String>(conn)
                .map_err(translate)?;
            if dead.is_empty() {
                return Ok(0);
            }
            diesel::delete(sessions::table.filter(sessions::id.eq_any(&dead)))
                .execute(conn)
                .map_err(translate)
        })
        .await
    }
}

/// Inserts a new session, inside the caller's transaction (a login's, or the second step's
/// that also ends its challenge).
pub(crate) fn insert_session(conn: &mut DbConnection, session: &NewSession) -> Result<(), TxError> {
    let row = NewSessionRow {
        id: session.id.to_string(),
        account_id: session.account_id.to_string(),
        token_digest: session.token_digest.as_str(),
        created_at: to_db_time(session.created_at),
        last_seen_at: to_db_time(session.created_at),
        expires_at: to_db_time(session.expires_at),
        user_agent: session.user_agent.as_deref(),
        source_ip: session.source_ip.map(|ip| ip.to_string()),
        auth_methods: session.auth_methods.to_string(),
        second_factor_at: session.second_factor_at.map(to_db_time),
    };
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

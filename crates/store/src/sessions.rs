//! `SessionStore` on diesel.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use roster_app::ports::{
    NewSession, SessionId, SessionRecord, SessionStore, StoreError, TokenDigest,
};

use crate::connection::Store;
use crate::errors::{corrupt, translate};
use crate::rows::{AccountRow, NewSessionRow, SessionRow, from_db_time, to_db_time};
use crate::schema::{accounts, sessions};

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, session: &NewSession) -> Result<(), StoreError> {
        let session = session.clone();
        self.run(move |conn| {
            let row = NewSessionRow {
                id: session.id.to_string(),
                account_id: session.account_id.to_string(),
                token_digest: session.token_digest.as_str(),
                created_at: to_db_time(session.created_at),
                last_seen_at: to_db_time(session.created_at),
                expires_at: to_db_time(session.expires_at),
            };
            diesel::insert_into(sessions::table)
                .values(row)
                .execute(conn)
                .map_err(|e| translate(e, "session"))?;
            Ok(())
        })
        .await
    }

    async fn find_by_digest(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let digest = digest.clone();
        self.run(move |conn| {
            let row = sessions::table
                .inner_join(accounts::table)
                .filter(sessions::token_digest.eq(digest.as_str()))
                .select((
                    (
                        sessions::id,
                        sessions::created_at,
                        sessions::last_seen_at,
                        sessions::expires_at,
                        sessions::revoked_at,
                    ),
                    accounts::all_columns,
                ))
                .first::<(SessionRow, AccountRow)>(conn)
                .optional()
                .map_err(|e| translate(e, "session"))?;
            let Some((session, account)) = row else {
                return Ok(None);
            };
            let (account, _) = account.into_account()?;
            Ok(Some(SessionRecord {
                id: SessionId::new(session.id.parse().map_err(|e| corrupt("session id", e))?),
                account,
                created_at: from_db_time(session.created_at),
                last_seen_at: from_db_time(session.last_seen_at),
                expires_at: from_db_time(session.expires_at),
                revoked: session.revoked_at.is_some(),
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
            .map_err(|e| translate(e, "session"))?;
            Ok(())
        })
        .await
    }
}

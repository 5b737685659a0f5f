use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_domain::AccountId;

use crate::model::{
    AuditEvent, AuthMethod, NewSession, SessionId, SessionRecord, SessionSummary, StoreError,
    TokenDigest,
};

/// Port: server-side sessions, shared by every node through the database.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Persists a new session.
    ///
    /// # Errors
    /// `Duplicate(SessionDigest)` on a token digest collision; `Unavailable`.
    async fn create(&self, session: &NewSession, audit: &AuditEvent) -> Result<(), StoreError>;

    /// Finds a session, its account and the account's grants by token digest, in one
    /// database call (an indexed lookup and, for a live session, one indexed join).
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn find_by_digest(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// Records activity on a session (called at most once a minute per session).
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn touch(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records a second factor presented on a live session at `at` (a step-up): its
    /// `second_factor_at` moves to `at` and `method` joins its methods, with `audit`.
    /// `false` when the session is gone or revoked.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn record_second_factor(
        &self,
        id: SessionId,
        method: AuthMethod,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// The account's sessions that are neither revoked nor past `expires_at` at `now`,
    /// newest first.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn list_active(
        &self,
        account_id: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionSummary>, StoreError>;

    /// Revokes one session of the account; `false` when no such live session exists.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn revoke(
        &self,
        account_id: AccountId,
        id: SessionId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// How many sessions are neither revoked nor past `expires_at` at `now` (for metrics).
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn count_active(&self, now: DateTime<Utc>) -> Result<i64, StoreError>;

    /// Deletes sessions that expired, were revoked, or sat idle since `idle_before`, at most
    /// `limit` per call (bounded work for the periodic cleanup). Returns how many went.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn delete_dead(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError>;
}

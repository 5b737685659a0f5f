use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::model::{AuditEvent, ClaimedMail, OutboxStats, StoreError};

/// Port: the mail queue, shared by every node through the database. Messages are put in by
/// the store's own write transactions (with the change that causes them); this port is the
/// sender's side.
///
/// A claim is a lease: the node that claimed a message owns it until `lease_until`; a node
/// that crashed mid-delivery loses it then, and another node retries it. Every update names
/// the claiming node and does nothing when the lease went to someone else meanwhile.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Claims up to `limit` messages due at `now` (never sent, not given up, next attempt
    /// reached, not leased to a live claim), oldest first, for `node` until `lease_until`.
    /// Two nodes never claim the same message at once.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn claim(
        &self,
        node: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ClaimedMail>, StoreError>;

    /// The message went out: never sent again. `false` when this node's claim was lost.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn mark_sent(&self, id: Uuid, node: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// The attempt failed: records the attempt count, the error (never the body) and when to
    /// try again, and releases the claim.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn reschedule(
        &self,
        id: Uuid,
        node: &str,
        attempts: u32,
        next_attempt_at: DateTime<Utc>,
        last_error: &str,
    ) -> Result<bool, StoreError>;

    /// No more attempts: the message stays in the table for inspection, marked given up, with
    /// `audit` (`mail.gave_up`) in the same transaction.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn give_up(
        &self,
        id: Uuid,
        node: &str,
        attempts: u32,
        last_error: &str,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// The queue's depth, for metrics.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn stats(&self) -> Result<OutboxStats, StoreError>;

    /// Deletes up to `limit` messages sent or given up before `before`, and up to `limit`
    /// emailed tokens used or expired before it: their encrypted bodies and digests serve no
    /// one once finished, and would otherwise grow without bound. Returns how many rows went.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn forget_finished(&self, before: DateTime<Utc>, limit: i64)
    -> Result<usize, StoreError>;
}

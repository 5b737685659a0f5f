use async_trait::async_trait;

use chrono::{DateTime, Utc};

use uuid::Uuid;

use crate::model::{AuditEvent, AuditPage, AuditQuery, AuditRange, StoreError};

/// Port: the audit trail. Events of changes are written by the change's own transaction;
/// this port records events that have no change of their own (features file reloads) and
/// reads the trail.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// # Errors
    /// `Unavailable`.
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError>;

    /// # Errors
    /// `Unavailable`.
    async fn list_audit_events(&self, query: &AuditQuery) -> Result<AuditPage, StoreError>;

    /// At most `limit` events of `range` oldest first (by id), after the event `after`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn audit_events_oldest_first(
        &self,
        range: AuditRange,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// Deletes at most `limit` of the oldest events recorded before `cutoff`; how many.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn delete_audit_events_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError>;
}

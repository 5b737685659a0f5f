use async_trait::async_trait;

use chrono::{DateTime, Utc};

use crate::model::{AuditEvent, AuditPage, AuditQuery, StoreError};

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

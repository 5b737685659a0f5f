use async_trait::async_trait;
use uuid::Uuid;

use super::StoreError;
use crate::audit::{AuditAction, AuditEvent};

/// Which events to list: newest first, before the cursor, optionally one actor or action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub before: Option<Uuid>,
    pub limit: u32,
}

/// One page of events, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// The id to continue before, when older events follow.
    pub next_before: Option<Uuid>,
}

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
}

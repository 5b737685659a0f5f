//! Reading the audit trail (`audit-read`) and recording events that have no database change
//! of their own.

use roster_domain::BuiltinAction;

use super::{Authenticated, Roster};
use crate::error::AppError;
use crate::model::{AuditEvent, AuditPage, AuditQuery};

impl Roster {
    /// Events newest first, optionally of one actor or one action.
    ///
    /// # Errors
    /// `Forbidden`, `Unavailable`.
    pub async fn audit_events(
        &self,
        caller: &Authenticated,
        query: &AuditQuery,
    ) -> Result<AuditPage, AppError> {
        caller.require_global(BuiltinAction::AuditRead)?;
        Ok(self.ports.audit.list_audit_events(query).await?)
    }

    /// Records an event that changes nothing else (a features file reload).
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn record_audit_event(&self, event: &AuditEvent) -> Result<(), AppError> {
        Ok(self.ports.audit.record(event).await?)
    }
}

#[cfg(test)]
mod tests;

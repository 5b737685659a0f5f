//! Reading the audit trail (`audit-read`). Events are written by the use case that acts,
//! in the same transaction where there is one (the features file's in `feature_reloads`).

use roster_domain::BuiltinAction;

use super::{Authenticated, Roster};
use crate::error::AppError;
use crate::model::{AuditPage, AuditQuery};

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
}

#[cfg(test)]
mod tests;

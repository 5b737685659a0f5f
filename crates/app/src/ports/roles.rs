use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_domain::{Role, RoleName};

use crate::model::{
    AuditEvent, CheckedRole, RoleDeletion, RoleHolders, RoleHolding, RolePage, StoreError,
    StoredRole,
};

/// Port: roles. Every write records its audit event in the same transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// # Errors
    /// `Duplicate(Role)` when the name is taken; `Unavailable`.
    async fn insert_role(
        &self,
        role: &Role,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// # Errors
    /// `Unavailable`.
    async fn find_role(&self, name: &RoleName) -> Result<Option<StoredRole>, StoreError>;

    /// # Errors
    /// `Unavailable`.
    async fn list_roles(&self, after: Option<RoleName>, limit: u32)
    -> Result<RolePage, StoreError>;

    /// Every grant of the role, as (holder, scope), so that a change of its rules can be
    /// checked against each place it is held.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn holdings(&self, name: &RoleName) -> Result<Vec<RoleHolding>, StoreError>;

    /// The first `limit` grants of the role with their holders' email (accounts) or name
    /// (API keys), accounts' grants first, each in creation order, and the number of grants
    /// in all; `None` when there is no such role. Read in one transaction, so the count
    /// agrees with the list.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn holders(&self, name: &RoleName, limit: u32)
    -> Result<Option<RoleHolders>, StoreError>;

    /// Replaces description and rules; `None` when there is no such role. Grants of the role
    /// see the new rules from the next request on; only if the role's rules (and grants, when
    /// given) are still those `checked` names.
    ///
    /// # Errors
    /// `RoleChanged` when `checked` no longer holds; `Unavailable`.
    async fn update_role(
        &self,
        role: &Role,
        checked: CheckedRole,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<Option<StoredRole>, StoreError>;

    /// # Errors
    /// `Unavailable`.
    async fn delete_role(
        &self,
        name: &RoleName,
        audit: &AuditEvent,
    ) -> Result<RoleDeletion, StoreError>;
}

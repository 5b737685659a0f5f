use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_domain::{Permission, PrincipalId, Role, RoleName, ScopePath};

use super::StoreError;
use crate::audit::AuditEvent;

/// A role with its timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRole {
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One page of roles in name order.
#[derive(Debug, Clone, Default)]
pub struct RolePage {
    pub roles: Vec<StoredRole>,
    /// The name to continue after, when more roles follow.
    pub next_after: Option<RoleName>,
}

/// The outcome of deleting a role, decided inside the store's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleDeletion {
    Deleted,
    NotFound,
    /// Some account or API key still holds a grant of the role.
    InUse,
}

/// One grant of a role: who holds it, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHolding {
    pub holder: PrincipalId,
    pub scope: ScopePath,
}

/// What a change of a role was authorized against: its rules and, when the change of rules
/// was weighed at each grant, every grant of it at the time. The store makes the change only
/// if these are still so (no lost update of the rules, no grant slipped in unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRole {
    pub rules: Vec<Permission>,
    pub holdings: Option<Vec<RoleHolding>>,
}

/// Port: roles. Every write records its audit event in the same transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// # Errors
    /// `Duplicate("role")` when the name is taken; `Unavailable`.
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

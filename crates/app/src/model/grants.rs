//! Grants as written and as stored, and the outcome of inserting one.

use chrono::{DateTime, Utc};
use roster_domain::{Grant, GrantId, Permission, PrincipalId, RoleName, ScopePath};

/// A grant to write: `role` on `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub id: GrantId,
    pub role: RoleName,
    pub scope: ScopePath,
    pub created_at: DateTime<Utc>,
    /// The principal that granted it.
    pub created_by: Option<PrincipalId>,
    /// The role's rules the grant was authorized against: the store refuses the grant with
    /// `RoleChanged` if the role's rules differ when it writes.
    pub role_rules: Vec<Permission>,
}

/// A stored grant with its rules (for evaluation) and its provenance (for listing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub grant: Grant,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<PrincipalId>,
}

/// The outcome of inserting one grant, decided inside the store's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantInsertion {
    Inserted,
    /// The holder holds `max_per_holder` grants already; nothing was written.
    TooManyGrants,
}

/// One page of a holder's grants in creation (id) order.
#[derive(Debug, Clone, Default)]
pub struct GrantPage {
    pub grants: Vec<GrantRecord>,
    /// The id to continue after, when more grants follow.
    pub next_after: Option<GrantId>,
}

//! Roles as stored, where they are held, and the outcomes of changing them.

use chrono::{DateTime, Utc};
use roster_domain::{Permission, PrincipalId, Role, RoleName, ScopePath};

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

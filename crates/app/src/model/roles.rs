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

/// One grant of a role with its holder said so that people recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHolder {
    pub holder: PrincipalId,
    /// The account's email or the API key's name. The store always fills it in; the use
    /// case ([`crate::Roster::role_holders`]) leaves it out for a caller who may not read
    /// that kind of holder.
    pub label: Option<String>,
    pub scope: ScopePath,
}

/// The first grants of a role, and how many there are in all (for "and 3 more").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleHolders {
    /// Accounts' grants first, then API keys', each in creation order.
    pub holders: Vec<RoleHolder>,
    /// Every grant of the role, the listed ones included.
    pub total: u64,
}

/// What a change of a role was authorized against: its rules and, when the change of rules
/// was weighed at each grant, every grant of it at the time. The store makes the change only
/// if these are still so (no lost update of the rules, no grant slipped in unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRole {
    pub rules: Vec<Permission>,
    pub holdings: Option<Vec<RoleHolding>>,
}

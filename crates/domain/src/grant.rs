//! Grants: a role given to a principal on a scope.

use uuid::Uuid;

use crate::account::uuid_id;
use crate::role::{Permission, RoleName};
use crate::scope::ScopePath;

/// The identifier of a [`Grant`].
///
/// ```
/// use roster_domain::GrantId;
///
/// let id: GrantId = "0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b".parse()?;
/// assert_eq!(id.to_string(), "0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b");
/// # Ok::<(), uuid::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantId(Uuid);

uuid_id!(GrantId);

/// The identifier of an API key.
///
/// ```
/// use roster_domain::ApiKeyId;
/// use uuid::Uuid;
///
/// let id = ApiKeyId::new(Uuid::nil());
/// assert_eq!(id.to_string(), "00000000-0000-0000-0000-000000000000");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiKeyId(Uuid);

uuid_id!(ApiKeyId);

/// A role given on a scope, carrying the role's rules so that evaluation needs nothing else.
///
/// ```
/// use roster_domain::{ActionPattern, Grant, GrantId, Permission, RoleName, ScopePath};
/// use uuid::Uuid;
///
/// let grant = Grant {
///     id: GrantId::new(Uuid::nil()),
///     role: RoleName::parse("viewer")?,
///     scope: ScopePath::parse("acme")?,
///     permissions: vec![Permission::allow(ActionPattern::parse("issuer-read")?)],
/// };
/// assert!(grant.scope.covers(&ScopePath::parse("acme.berlin")?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The grant's identifier.
    pub id: GrantId,
    /// The granted role's name.
    pub role: RoleName,
    /// Where the grant applies: this scope and everything beneath it.
    pub scope: ScopePath,
    /// The role's rules at the time the grant was loaded.
    pub permissions: Vec<Permission>,
}

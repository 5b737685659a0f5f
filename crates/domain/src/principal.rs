//! Principals: who is asking (an account or an API key) and what they hold.

use std::fmt;
use std::sync::Arc;

use crate::account::AccountId;
use crate::action::Action;
use crate::authz::{Decision, PermissionSet, Reason, evaluate};
use crate::grant::{ApiKeyId, Grant};
use crate::scope::ScopePath;

/// Who is acting: an account (through a session) or an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalId {
    /// An account, authenticated by a session token.
    Account(AccountId),
    /// An API key.
    ApiKey(ApiKeyId),
}

/// `account:<uuid>` or `api_key:<uuid>`, e.g. for logs and audit records.
impl fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrincipalId::Account(id) => write!(f, "account:{id}"),
            PrincipalId::ApiKey(id) => write!(f, "api_key:{id}"),
        }
    }
}

impl PrincipalId {
    /// Reads the `account:<uuid>` / `api_key:<uuid>` form that [`Display`](fmt::Display)
    /// writes; `None` for anything else.
    ///
    /// ```
    /// use roster_domain::{AccountId, PrincipalId};
    /// use uuid::Uuid;
    ///
    /// let id = PrincipalId::Account(AccountId::new(Uuid::from_u128(7)));
    /// assert_eq!(PrincipalId::parse(&id.to_string()), Some(id));
    /// assert_eq!(PrincipalId::parse("account:not-a-uuid"), None);
    /// assert_eq!(PrincipalId::parse("group:00000000-0000-0000-0000-000000000007"), None);
    /// ```
    pub fn parse(label: &str) -> Option<PrincipalId> {
        if let Some(id) = label.strip_prefix("account:") {
            id.parse().ok().map(PrincipalId::Account)
        } else if let Some(id) = label.strip_prefix("api_key:") {
            id.parse().ok().map(PrincipalId::ApiKey)
        } else {
            None
        }
    }
}

/// An authenticated principal with everything authorization needs.
///
/// ```
/// use roster_domain::{
///     AccountId, Action, ActionPattern, Grant, GrantId, Permission, Principal, PrincipalId,
///     Reason, RoleName, ScopePath,
/// };
/// use uuid::Uuid;
///
/// let grant = Grant {
///     id: GrantId::new(Uuid::nil()),
///     role: RoleName::parse("auditor")?,
///     scope: ScopePath::root(),
///     permissions: vec![Permission::allow(ActionPattern::parse("audit-read")?)],
/// };
/// let mut principal = Principal {
///     id: PrincipalId::Account(AccountId::new(Uuid::nil())),
///     is_superadmin: false,
///     grants: vec![grant].into(),
/// };
/// let root = ScopePath::root();
/// assert!(principal.allows(&Action::parse("audit-read")?, &root));
/// assert!(!principal.allows(&Action::parse("role-manage")?, &root));
///
/// principal.is_superadmin = true;
/// assert_eq!(
///     principal.explain(&Action::parse("role-manage")?, &root).reason(),
///     &Reason::SuperAdmin
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who is acting.
    pub id: PrincipalId,
    /// Super admins are allowed everything, whatever their grants say.
    pub is_superadmin: bool,
    /// The principal's grants (for an API key: those of the key). Shared, not owned: a
    /// service that caches a principal's grants hands the same list to every request
    /// without copying it (`Vec<Grant>` converts with `.into()`).
    pub grants: Arc<[Grant]>,
}

impl Principal {
    /// Whether the principal may perform `action` on `scope`.
    pub fn allows(&self, action: &Action, scope: &ScopePath) -> bool {
        self.is_superadmin || evaluate(&self.grants, action, scope).is_allowed()
    }

    /// The decision with what decided it: [`Reason::SuperAdmin`] for super admins, otherwise
    /// [`evaluate`] over the grants.
    pub fn explain(&self, action: &Action, scope: &ScopePath) -> Decision {
        if self.is_superadmin {
            return Decision::Allowed(Reason::SuperAdmin);
        }
        evaluate(&self.grants, action, scope)
    }

    /// A compiled [`PermissionSet`] for many checks against the same principal (super admins
    /// get [`PermissionSet::superadmin`]).
    pub fn permission_set(&self) -> PermissionSet {
        if self.is_superadmin {
            PermissionSet::superadmin()
        } else {
            PermissionSet::compile(&self.grants)
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::action::ActionPattern;
    use crate::grant::GrantId;
    use crate::role::{Permission, RoleName};

    fn principal(is_superadmin: bool, grants: Vec<Grant>) -> Principal {
        Principal {
            id: PrincipalId::Account(AccountId::new(Uuid::nil())),
            is_superadmin,
            grants: grants.into(),
        }
    }

    fn deny_all_on_root() -> Grant {
        Grant {
            id: GrantId::new(Uuid::nil()),
            role: RoleName::parse("locked").unwrap(),
            scope: ScopePath::root(),
            permissions: vec![Permission::deny(ActionPattern::All)],
        }
    }

    #[test]
    fn superadmins_are_always_allowed() {
        let action = Action::parse("role-manage").unwrap();
        let root = ScopePath::root();
        let tenant = ScopePath::parse("acme.berlin").unwrap();
        for grants in [vec![], vec![deny_all_on_root()]] {
            let admin = principal(true, grants);
            assert!(admin.allows(&action, &root));
            assert!(admin.allows(&action, &tenant));
            assert_eq!(
                admin.explain(&action, &root),
                Decision::Allowed(Reason::SuperAdmin)
            );
            assert!(admin.permission_set().allows(&action, &tenant));
        }
    }

    #[test]
    fn others_are_evaluated() {
        let action = Action::parse("role-manage").unwrap();
        let root = ScopePath::root();
        let nobody = principal(false, vec![]);
        assert!(!nobody.allows(&action, &root));
        assert_eq!(
            nobody.explain(&action, &root),
            Decision::Denied(Reason::NoMatchingGrant)
        );

        let locked = principal(false, vec![deny_all_on_root()]);
        assert!(!locked.allows(&action, &root));
        assert!(matches!(
            locked.explain(&action, &root),
            Decision::Denied(Reason::DeniedBy(_))
        ));
        assert!(!locked.permission_set().allows(&action, &root));
    }

    #[test]
    fn principal_ids_display() {
        let id = Uuid::from_u128(1);
        assert_eq!(
            PrincipalId::Account(AccountId::new(id)).to_string(),
            "account:00000000-0000-0000-0000-000000000001"
        );
        assert_eq!(
            PrincipalId::ApiKey(ApiKeyId::new(id)).to_string(),
            "api_key:00000000-0000-0000-0000-000000000001"
        );
    }
}

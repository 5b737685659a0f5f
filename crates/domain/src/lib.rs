//! # roster-domain
//!
//! The pure domain of Roster, an accounts-and-access service: validated value types
//! (emails, passwords, names, scopes, actions, roles), plain records (accounts, grants,
//! principals) and the authorization evaluation.
//!
//! The crate is synchronous and deterministic: it performs no I/O, reads no clock and draws
//! no random numbers, so other services can embed it to make the same decisions Roster makes.
//!
//! Every constrained value is a newtype built by one fallible constructor ("parse, don't
//! validate"); once you hold a [`ScopePath`] or an [`Email`], it is valid.
//!
//! ```
//! use roster_domain::{
//!     evaluate, Action, ActionPattern, Grant, GrantId, Permission, RoleName, ScopePath,
//! };
//! use uuid::Uuid;
//!
//! let grant = Grant {
//!     id: GrantId::new(Uuid::nil()),
//!     role: RoleName::parse("tenant-admin")?,
//!     scope: ScopePath::parse("acme.berlin")?,
//!     permissions: vec![Permission::allow(ActionPattern::All)],
//! };
//! let action = Action::parse("issuer-read")?;
//!
//! // A grant covers its scope and everything beneath it ...
//! let below = ScopePath::parse("acme.berlin.issuer")?;
//! assert!(evaluate(&[grant.clone()], &action, &below).is_allowed());
//! // ... but never a parent or a sibling.
//! assert!(!evaluate(&[grant.clone()], &action, &ScopePath::parse("acme")?).is_allowed());
//! assert!(!evaluate(&[grant], &action, &ScopePath::parse("acme.paris")?).is_allowed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod account;
pub mod action;
pub mod authz;
pub mod delegation;
pub mod email;
mod grammar;
pub mod grant;
pub mod mfa;
pub mod password;
pub mod principal;
pub mod registration;
pub mod role;
pub mod scope;
pub mod text;

pub use account::{Account, AccountId, AccountStatus, DisplayName, NameError};
pub use action::{Action, ActionError, ActionPattern, BuiltinAction};
pub use authz::{Decision, Match, PermissionSet, Reason, evaluate};
pub use delegation::{Rights, may_act_on, may_change_grant, may_delegate, may_manage_grants_on};
pub use email::{Email, EmailError};
pub use grant::{ApiKeyId, Grant, GrantId};
pub use password::{
    MAX_PASSWORD_BYTES, PasswordPolicy, PasswordProblem, PlainPassword, PolicyConfigError,
    STRENGTH_BUDGET,
};
pub use principal::{Principal, PrincipalId};
pub use registration::{AllowedDomains, DomainRule, DomainRuleError, DomainRuleProblem};
pub use role::{Effect, Permission, Role, RoleName, RoleNameError};
pub use scope::{ScopeError, ScopePath, SegmentProblem};

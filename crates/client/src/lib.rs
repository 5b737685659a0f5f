//! A client of Roster for the Rust services of a platform.
//!
//! - [`Client`]: typed async calls for Roster's HTTP API (sign-in, accounts, roles, grants,
//!   API keys, invitations, audit events, self-service, second factors by code, checks,
//!   introspection, features), with timeouts, retries only where they are safe, secrets as
//!   [`SecretString`]s, and errors carrying Roster's problem [`code`](ProblemCode).
//! - [`Authenticator`]: turns a request's bearer token into a [`Caller`] through
//!   `POST /v1/auth/introspect` and a bounded in-process cache (`cache_ttl`, default 5 s),
//!   so that each decision ([`Caller::require`]) is evaluated locally by `roster-domain`.
//! - Features `actix` and `axum`: [`Caller`] as an extractor of either framework, and the
//!   refusals (401, 403, 503) as problem responses in Roster's own shape.
//!
//! `docs/embedding.md` in Roster's repository compares the three ways to decide: the check
//! endpoint, introspection with local evaluation, and the domain crate alone.

#![warn(missing_docs)]

mod api;
mod authenticator;
mod client;
mod error;
mod introspection;
mod types;

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;

pub use api::accounts::{AccountQuery, NewAccount};
pub use api::api_keys::{CreatedApiKey, NewApiKey};
pub use api::audit::{AuditAction, AuditEvent, AuditQuery};
pub use api::auth::{
    CheckRequest, CheckResponse, Explanation, Feature, Features, LoginOutcome, Me,
    SecondFactorRequired, Session,
};
pub use api::invitations::{
    Invitation, InvitationQuery, InvitationStatus, InvitedGrant, NewInvitation,
};
pub use api::mfa::{MfaStatus, Passkey, TotpEnrolment};
pub use api::roles::{NewRole, Role, RoleContent};
pub use api::self_service::{
    EmailVerification, LiveSession, PasswordRules, RegistrationOutcome, RegistrationPolicy,
};
pub use authenticator::{
    AuthError, Authenticator, AuthenticatorConfig, Caller, Denied, WhenUnreachable,
};
pub use client::{Client, ClientBuilder};
pub use error::{Error, FieldError, Problem, ProblemCode};
pub use introspection::{ActiveToken, IntrospectedGrant, IntrospectedPrincipal, Introspection};
/// Secrets (session tokens, API keys, TOTP secrets, recovery codes) are handed out as [`SecretString`]s: read one with
/// [`ExposeSecret::expose_secret`].
pub use secrecy::{ExposeSecret, SecretString};
pub use types::{
    Account, AccountStatus, AccountWithGrants, ApiKey, ApiKeyWithGrants, Effect, Grant,
    GrantRequest, Page, PageRequest, Rule,
};

/// `roster-domain`, re-exported so that a service's evaluation and this client agree.
pub use roster_domain as domain;

use roster_domain::{Action, ActionError, ScopeError, ScopePath};

/// An action on a scope, parsed once (at start-up) for the routes that require it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The action, e.g. `issuer-sign`.
    pub action: Action,
    /// The scope, e.g. `acme.berlin`.
    pub scope: ScopePath,
}

/// Why a [`Requirement`] could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum RequirementError {
    /// Not an action name.
    #[error("action: {0}")]
    Action(#[from] ActionError),
    /// Not a scope.
    #[error("scope: {0}")]
    Scope(#[from] ScopeError),
}

impl Requirement {
    /// `action` on `scope`.
    pub fn new(action: &str, scope: &str) -> Result<Requirement, RequirementError> {
        Ok(Requirement {
            action: Action::parse(action)?,
            scope: ScopePath::parse(scope)?,
        })
    }
}

impl Caller {
    /// [`Caller::require`] for a parsed [`Requirement`].
    pub fn require_that(&self, requirement: &Requirement) -> Result<(), Denied> {
        self.require(&requirement.action, &requirement.scope)
    }
}

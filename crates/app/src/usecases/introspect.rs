//! `POST /v1/auth/introspect`: a service holding `token-introspect` on `*` asks about a token
//! presented to it, and learns everything it needs to decide locally with `roster-domain`
//! (modelled on RFC 7662, OAuth 2.0 Token Introspection).
//!
//! The token is checked by the same code that authenticates requests
//! ([`Roster::verify_token`]), with one difference: introspection records no use. A session's
//! idle timeout runs from the last request its holder made to Roster; if a service's
//! questions counted as activity, any holder of `token-introspect` could keep a stolen or
//! forgotten session alive forever by asking about it. An API key's `last_used_at` is left
//! alone too, so it keeps meaning "last used against Roster", and introspection writes
//! nothing at all.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use roster_domain::{Account, BuiltinAction, Grant, Principal};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;

use super::authenticate::{Usage, Verified};
use super::caller::{principal_of_account, principal_of_api_key};
use super::{Authenticated, CallerKind, Roster};
use crate::error::AppError;
use crate::model::ApiKey;

/// What introspection answers about a token.
#[derive(Debug, Clone)]
pub enum Introspection {
    /// Not usable, whatever the reason: unknown, expired, idle, revoked, of a disabled
    /// account, held back by the MFA policy (it may only enrol a second factor), or not even
    /// of a token's shape. One answer, so a service learns nothing about tokens it cannot use.
    Inactive,
    /// Usable now.
    Active(ActiveToken),
}

/// A usable token: whose it is and what it holds right now.
#[derive(Debug, Clone)]
pub struct ActiveToken {
    pub holder: TokenHolder,
    /// The holder's grants with their roles' current rules, as authorization evaluates them.
    pub grants: Arc<[Grant]>,
    /// Rises with every change to what the holder's grants allow (a grant given or taken, a
    /// held role's rules replaced): equal versions mean equal grants. `grants` is never
    /// older than this version.
    pub grants_version: i64,
    /// A session's absolute expiry (it may end earlier: idle, revoked, logged out), or a
    /// key's expiry; `None` for a key that does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Whose token it is.
#[derive(Debug, Clone)]
pub enum TokenHolder {
    /// A session of this (active) account.
    Account(Account),
    /// This API key.
    ApiKey(ApiKey),
}

impl ActiveToken {
    /// The principal as `roster-domain` evaluates it: what a service rebuilds from the answer.
    pub fn principal(&self) -> Principal {
        match &self.holder {
            TokenHolder::Account(account) => {
                principal_of_account(account, Arc::clone(&self.grants))
            }
            TokenHolder::ApiKey(key) => principal_of_api_key(key, Arc::clone(&self.grants)),
        }
    }
}

impl From<Verified> for ActiveToken {
    fn from(verified: Verified) -> Self {
        let holder = match verified.caller.kind {
            CallerKind::Session { account, .. } => TokenHolder::Account(account),
            CallerKind::ApiKey { key } => TokenHolder::ApiKey(key),
        };
        Self {
            holder,
            grants: verified.caller.principal.grants,
            grants_version: verified.grants_version,
            expires_at: verified.expires_at,
        }
    }
}

impl Roster {
    /// Introspects `token` for a caller allowed `token-introspect` on `*` (checked before
    /// the token is looked at). The caller's own token may be introspected like any other.
    /// Not audited per call: a service may ask on every request it serves; the HTTP layer
    /// counts the answers in metrics.
    ///
    /// # Errors
    /// `Forbidden`, `Unavailable` (never an inactive answer for a database that did not
    /// answer: a service must not mistake an outage for a revocation, nor the reverse).
    #[instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn introspect(
        &self,
        caller: &Authenticated,
        token: &SecretString,
    ) -> Result<Introspection, AppError> {
        caller.require_global(BuiltinAction::TokenIntrospect)?;
        match self
            .verify_token(token.expose_secret(), None, Usage::Ignore)
            .await
        {
            Ok(verified) if !verified.caller.mfa_enrolment_required => {
                Ok(Introspection::Active(verified.into()))
            }
            Ok(_) | Err(AppError::Unauthenticated) => Ok(Introspection::Inactive),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests;

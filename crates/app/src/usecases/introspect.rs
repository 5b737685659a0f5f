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

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use quick_cache::sync::Cache;
use roster_domain::{Account, BuiltinAction, Grant, Principal};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;

use super::authenticate::{Usage, Verified};
use super::caller::{principal_of_account, principal_of_api_key};
use super::{Authenticated, CallerKind, Roster};
use crate::error::AppError;
use crate::model::{ApiKey, TokenDigest};

/// How long a node remembers that an API key may introspect, so that a service asking on
/// every request it serves costs one lookup (the token asked about) instead of two. A
/// revocation or a withdrawn grant made on this node forgets at once
/// ([`Roster::forget_introspectors`]); one made on another node is seen within this.
const INTROSPECTOR_MEMORY: Duration = Duration::seconds(1);

/// The most introspecting keys a node remembers (services, not people: few).
const INTROSPECTORS_REMEMBERED: usize = 1024;

/// API keys recently verified as allowed to introspect, by the digest of the presented key
/// (so a wrong secret never matches a remembered key).
pub(crate) struct Introspectors {
    entries: Cache<TokenDigest, Remembered>,
}

#[derive(Clone)]
struct Remembered {
    caller: Authenticated,
    verified_at: DateTime<Utc>,
}

impl Introspectors {
    pub(crate) fn new() -> Self {
        Self {
            entries: Cache::new(INTROSPECTORS_REMEMBERED),
        }
    }
}

impl std::fmt::Debug for Introspectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspectors")
            .field("remembered", &self.entries.len())
            .finish()
    }
}

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
    /// The caller of `POST /v1/auth/introspect`: like [`Roster::authenticate_bearer`], but an
    /// API key allowed `token-introspect` on `*` is remembered for
    /// [`INTROSPECTOR_MEMORY`] (while it stays unexpired), so that its next questions need
    /// no lookup of their own. Sessions are authenticated as on every route.
    ///
    /// # Errors
    /// `Unauthenticated`, `MfaEnrolmentRequired`, `Unavailable`.
    pub async fn authenticate_introspector(
        &self,
        token: &str,
        source_ip: Option<IpAddr>,
    ) -> Result<Authenticated, AppError> {
        if self.ports.tokens.api_key_id(token).is_none() {
            return self.authenticate_bearer(token, source_ip).await;
        }
        let digest = self.ports.tokens.digest(token);
        let now = self.ports.clock.now();
        if let Some(remembered) = self.introspectors.entries.get(&digest)
            && now - remembered.verified_at < INTROSPECTOR_MEMORY
            && remembered.caller.api_key_usable(now)
        {
            let mut caller = remembered.caller;
            caller.source_ip = source_ip;
            return Ok(caller);
        }
        let caller = self.authenticate_bearer(token, source_ip).await?;
        if caller
            .require_global(BuiltinAction::TokenIntrospect)
            .is_ok()
        {
            let remembered = Remembered {
                caller: caller.clone(),
                verified_at: now,
            };
            self.introspectors.entries.insert(digest, remembered);
        }
        Ok(caller)
    }

    /// Forgets every remembered introspecting key, after a change on this node that may take
    /// the right away (a key revoked, a grant deleted, an account disabled, a role replaced
    /// or deleted).
    pub(super) fn forget_introspectors(&self) {
        self.introspectors.entries.clear();
    }

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

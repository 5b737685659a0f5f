//! Bearer-token authentication: from a presented token to a [`Principal`] with its grants.
//!
//! One token check serves two callers: authenticating a request (which records the token's
//! use) and introspection (`usecases/introspect.rs`, which must not: a service asking about
//! a token is not its holder being active).
//!
//! [`Principal`]: roster_domain::Principal

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use roster_domain::ApiKeyId;
use tracing::instrument;

use super::{Authenticated, Roster};
use crate::error::AppError;

/// Activity is written back at most this often per session, so authenticated reads do not
/// each cost a write.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// Whether checking a token records it as used: a session's `last_seen_at` (which its idle
/// timeout runs from) and a key's `last_used_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Usage {
    /// The holder is making this request: record it.
    Record,
    /// Someone else asks about the token (introspection): write nothing.
    Ignore,
}

/// A token that is usable now: the caller it authenticates, and what introspection reports
/// beside it.
#[derive(Debug, Clone)]
pub(super) struct Verified {
    pub(super) caller: Authenticated,
    /// The holder's grants version, read with the token (see
    /// [`SessionRecord::grants_version`](crate::model::SessionRecord::grants_version)).
    pub(super) grants_version: i64,
    /// The session's absolute expiry, or the key's (`None`: the key does not expire).
    pub(super) expires_at: Option<DateTime<Utc>>,
}

impl Roster {
    /// Resolves a bearer token: a session token or an API key. Expired, idle, revoked and
    /// unknown tokens, and tokens of disabled accounts, are all `Unauthenticated`. A session
    /// of an account the MFA policy covers that has no second factor yet is
    /// `MfaEnrolmentRequired`: only [`Roster::authenticate_for_enrolment`] lets it in.
    ///
    /// # Errors
    /// `Unauthenticated`, `MfaEnrolmentRequired`, `Unavailable`.
    pub async fn authenticate_bearer(
        &self,
        token: &str,
        source_ip: Option<IpAddr>,
    ) -> Result<Authenticated, AppError> {
        let caller = self.authenticate_for_enrolment(token, source_ip).await?;
        if caller.mfa_enrolment_required {
            return Err(AppError::MfaEnrolmentRequired);
        }
        Ok(caller)
    }

    /// Like [`Roster::authenticate_bearer`], but also lets in a session that may only enrol
    /// a second factor (marked `mfa_enrolment_required`), for the few routes open to it:
    /// `me`, the enrolment routes, logout.
    ///
    /// # Errors
    /// `Unauthenticated`, `Unavailable`.
    // A debug-level span: this runs on every authenticated request, where an info-level span
    // (created, entered and closed at each poll) was a measurable part of the cost.
    #[instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn authenticate_for_enrolment(
        &self,
        token: &str,
        source_ip: Option<IpAddr>,
    ) -> Result<Authenticated, AppError> {
        self.verify_token(token, source_ip, Usage::Record)
            .await
            .map(|verified| verified.caller)
    }

    /// The one token check: the shape decides between a session token and an API key (else
    /// `Unauthenticated` at once), then one lookup. A session held back by the MFA policy is
    /// returned marked `mfa_enrolment_required`; the callers decide what it may do.
    ///
    /// # Errors
    /// `Unauthenticated` (unknown, expired, idle, revoked, of a disabled account, malformed),
    /// `Unavailable`.
    pub(super) async fn verify_token(
        &self,
        token: &str,
        source_ip: Option<IpAddr>,
        usage: Usage,
    ) -> Result<Verified, AppError> {
        if self.ports.tokens.looks_like_session_token(token) {
            self.verify_session(token, source_ip, usage).await
        } else if let Some(id) = self.ports.tokens.api_key_id(token) {
            self.verify_api_key(id, token, source_ip, usage).await
        } else {
            Err(AppError::Unauthenticated)
        }
    }

    async fn verify_session(
        &self,
        token: &str,
        source_ip: Option<IpAddr>,
        usage: Usage,
    ) -> Result<Verified, AppError> {
        let digest = self.ports.tokens.digest(token);
        let Some(session) = self.ports.sessions.find_by_digest(&digest).await? else {
            return Err(AppError::Unauthenticated);
        };
        let now = self.ports.clock.now();
        let idle_deadline = session.last_seen_at + self.sessions.idle_timeout;
        if session.revoked
            || now >= session.expires_at
            || now >= idle_deadline
            || !session.account.can_log_in()
        {
            return Err(AppError::Unauthenticated);
        }
        // Write activity back at most once a minute, but often enough that a short idle
        // timeout cannot expire a session in active use.
        let touch_after =
            Duration::seconds(TOUCH_INTERVAL_SECS).min(self.sessions.idle_timeout / 2);
        if usage == Usage::Record && now - session.last_seen_at >= touch_after {
            self.ports.sessions.touch(session.id, now).await?;
        }
        let grants_version = session.grants_version;
        let expires_at = Some(session.expires_at);
        let mut caller = Authenticated::by_session(session, source_ip);
        caller.mfa_enrolment_required = self.must_enrol(&caller);
        Ok(Verified {
            caller,
            grants_version,
            expires_at,
        })
    }

    /// One primary-key lookup by the id embedded in the key, then a constant-time digest
    /// comparison: no password hashing, the key has 256 random bits. The digest is taken
    /// before the lookup, so an unknown id and a wrong secret cost the same work.
    async fn verify_api_key(
        &self,
        id: ApiKeyId,
        token: &str,
        source_ip: Option<IpAddr>,
        usage: Usage,
    ) -> Result<Verified, AppError> {
        let presented = self.ports.tokens.digest(token);
        let Some(stored) = self.ports.api_keys.find_api_key(id).await? else {
            return Err(AppError::Unauthenticated);
        };
        let now = self.ports.clock.now();
        if !stored.digest.matches(&presented) || !stored.key.is_usable(now) {
            return Err(AppError::Unauthenticated);
        }
        let stale = stored
            .key
            .last_used_at
            .is_none_or(|used| now - used >= Duration::seconds(TOUCH_INTERVAL_SECS));
        if usage == Usage::Record && stale {
            self.ports.api_keys.touch_api_key(id, now).await?;
        }
        let expires_at = stored.key.expires_at;
        Ok(Verified {
            caller: Authenticated::by_api_key(stored.key, stored.grants, source_ip),
            grants_version: stored.grants_version,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests;

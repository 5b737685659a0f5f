//! Bearer-token authentication: from a presented token to a [`Principal`] with its grants.

use std::net::IpAddr;

use chrono::Duration;
use roster_domain::ApiKeyId;
use tracing::instrument;

use super::{Authenticated, Roster};
use crate::error::AppError;

/// Activity is written back at most this often per session, so authenticated reads do not
/// each cost a write.
const TOUCH_INTERVAL_SECS: i64 = 60;

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
        if self.ports.tokens.looks_like_session_token(token) {
            self.authenticate_session(token, source_ip).await
        } else if let Some(id) = self.ports.tokens.api_key_id(token) {
            self.authenticate_api_key(id, token, source_ip).await
        } else {
            Err(AppError::Unauthenticated)
        }
    }

    async fn authenticate_session(
        &self,
        token: &str,
        source_ip: Option<IpAddr>,
    ) -> Result<Authenticated, AppError> {
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
        if now - session.last_seen_at >= touch_after {
            self.ports.sessions.touch(session.id, now).await?;
        }
        let mut caller = Authenticated::by_session(session, source_ip);
        caller.mfa_enrolment_required = self.must_enrol(&caller);
        Ok(caller)
    }

    /// One primary-key lookup by the id embedded in the key, then a constant-time digest
    /// comparison: no password hashing, the key has 256 random bits.
    async fn authenticate_api_key(
        &self,
        id: ApiKeyId,
        token: &str,
        source_ip: Option<IpAddr>,
    ) -> Result<Authenticated, AppError> {
        let Some(stored) = self.ports.api_keys.find_api_key(id).await? else {
            return Err(AppError::Unauthenticated);
        };
        let now = self.ports.clock.now();
        if !stored.digest.matches(&self.ports.tokens.digest(token)) || !stored.key.is_usable(now) {
            return Err(AppError::Unauthenticated);
        }
        let stale = stored
            .key
            .last_used_at
            .is_none_or(|used| now - used >= Duration::seconds(TOUCH_INTERVAL_SECS));
        if stale {
            self.ports.api_keys.touch_api_key(id, now).await?;
        }
        Ok(Authenticated::by_api_key(
            stored.key,
            stored.grants,
            source_ip,
        ))
    }
}

#[cfg(test)]
mod tests;

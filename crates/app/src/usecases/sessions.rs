//! A signed-in account managing its own sessions and password.

use chrono::{DateTime, Utc};
use roster_domain::{Account, PlainPassword};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;

use super::HOUSEKEEPING_BATCH;
use super::register::account_inputs;
use super::{Authenticated, Roster};
use crate::error::{AppError, FieldError};
use crate::model::{AuditAction, SessionId, SessionSummary};

/// A session as listed to its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnSession {
    pub session: SessionSummary,
    /// Whether this is the session making the request.
    pub current: bool,
}

impl Roster {
    /// Ends the calling session; its token stops working at once.
    ///
    /// # Errors
    /// `Unauthenticated` for a caller without a session; `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn logout(&self, caller: &Authenticated) -> Result<(), AppError> {
        let (account, session_id) = caller.require_session()?;
        let account_id = account.id;
        let now = self.ports.clock.now();
        let audit = caller
            .audit(AuditAction::Logout, now)
            .target("session", session_id);
        self.ports
            .sessions
            .revoke(account_id, session_id, now, &audit)
            .await?;
        tracing::info!(%account_id, %session_id, "logout");
        Ok(())
    }

    /// The caller's live sessions, newest first, marking the current one.
    ///
    /// # Errors
    /// `Unauthenticated` for a caller without a session; `Unavailable`.
    pub async fn my_sessions(&self, caller: &Authenticated) -> Result<Vec<OwnSession>, AppError> {
        let (account, current) = caller.require_session()?;
        let account_id = account.id;
        let now = self.ports.clock.now();
        let sessions = self.ports.sessions.list_active(account_id, now).await?;
        Ok(sessions
            .into_iter()
            .filter(|session| now < session.last_seen_at + self.sessions.idle_timeout)
            .map(|session| OwnSession {
                current: session.id == current,
                session,
            })
            .collect())
    }

    /// Revokes one of the caller's own sessions (possibly the current one).
    ///
    /// # Errors
    /// `NotFound` when the session is not a live session of the caller; `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn revoke_my_session(
        &self,
        caller: &Authenticated,
        id: SessionId,
    ) -> Result<(), AppError> {
        let account_id = caller.require_session()?.0.id;
        let now = self.ports.clock.now();
        let audit = caller
            .audit(AuditAction::SessionRevoked, now)
            .target("session", id);
        if self
            .ports
            .sessions
            .revoke(account_id, id, now, &audit)
            .await?
        {
            tracing::info!(%account_id, session_id = %id, "session revoked by its owner");
            Ok(())
        } else {
            Err(AppError::NotFound("session"))
        }
    }

    /// Changes the caller's password after checking the current one, and revokes every other
    /// session of the account.
    ///
    /// Order, cheapest refusal first: the new password's length, the throttle, the current
    /// password (one argon2 verify), and only then the new password's strength estimate.
    ///
    /// # Errors
    /// `Validation` (`current_password`: `incorrect_password`; `new_password`: policy codes),
    /// `TooManyAttempts` (wrong current passwords count like failed logins), `Overloaded`,
    /// `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn change_my_password(
        &self,
        caller: &Authenticated,
        current: &SecretString,
        new: &SecretString,
    ) -> Result<(), AppError> {
        let (account, session_id) = caller.require_session()?;
        let account_id = account.id;
        // The length is cheap; the strength estimate waits until the current password is
        // proven, so a stolen session cannot spend it over and over.
        let new = self.check_new_password_length("new_password", new)?;
        if !self.own_password_matches(caller, account, current).await? {
            return Err(AppError::Validation(vec![FieldError::new(
                "current_password",
                "incorrect_password",
                "The current password is incorrect.",
            )]));
        }
        self.require_strong_password("new_password", &new, &account_inputs(account))
            .await?;
        let hash = self.ports.hasher.hash(new).await?;
        let now = self.ports.clock.now();
        let audit = caller
            .audit(AuditAction::PasswordChanged, now)
            .target("account", account_id);
        if !self
            .ports
            .accounts
            .set_password(account_id, &hash, Some(session_id), now, &audit)
            .await?
        {
            return Err(AppError::Unauthenticated);
        }
        tracing::info!(%account_id, "password changed; other sessions revoked");
        Ok(())
    }

    /// Whether `password` is the signed-in account's own, before something that needs it
    /// (changing it, removing a second factor, new recovery codes). Guessing with a stolen
    /// session is throttled like logins: the same per-email counter, checked before any
    /// hashing; a wrong password counts as a failure, a right one clears the count.
    ///
    /// # Errors
    /// `TooManyAttempts`, `Overloaded`, `Unavailable`.
    pub(super) async fn own_password_matches(
        &self,
        caller: &Authenticated,
        account: &Account,
        password: &SecretString,
    ) -> Result<bool, AppError> {
        let canonical = account.email.canonical();
        let throttle = self.ports.login_throttle.state(canonical).await?;
        self.refuse_while_throttled(throttle.as_ref())?;
        let stored = self.ports.accounts.password_hash(account.id).await?;
        // An over-long password cannot be right: verified against the dummy hash.
        let (password, stored) = match PlainPassword::bounded(password.expose_secret()) {
            Some(password) => (password, stored),
            None => (PlainPassword::new(""), None),
        };
        if !self.ports.hasher.verify(password, stored).await? {
            let now = self.ports.clock.now();
            let audit = caller
                .audit(AuditAction::LoginFailed, now)
                .target("email", canonical)
                .detail("wrong password given by a signed-in session");
            self.ports
                .login_throttle
                .record_failure(canonical, now, &self.login_throttle, &audit)
                .await?;
            return Ok(false);
        }
        if throttle.is_some() {
            self.ports.login_throttle.clear(canonical).await?;
        }
        Ok(true)
    }

    /// How many sessions are live (neither revoked nor expired), for metrics.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn active_sessions(&self) -> Result<i64, AppError> {
        Ok(self
            .ports
            .sessions
            .count_active(self.ports.clock.now())
            .await?)
    }

    /// Deletes expired, revoked and idle sessions, at most one batch per call.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn clean_up_sessions(&self) -> Result<usize, AppError> {
        let now: DateTime<Utc> = self.ports.clock.now();
        Ok(self
            .ports
            .sessions
            .delete_dead(now, now - self.sessions.idle_timeout, HOUSEKEEPING_BATCH)
            .await?)
    }
}

#[cfg(test)]
mod tests;

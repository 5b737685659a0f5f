//! Bearer-token authentication: from a presented token to a [`Principal`] with its grants.

use chrono::Duration;
use roster_domain::{Account, Principal, PrincipalId};
use tracing::instrument;

use super::Roster;
use crate::error::AppError;
use crate::ports::SessionId;

/// Activity is written back at most this often per session, so authenticated reads do not
/// each cost a write.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// Who is calling: the principal (with its grants, for permission checks) and, for a session,
/// the account and session behind it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    pub account: Option<Account>,
    pub session_id: Option<SessionId>,
}

impl Authenticated {
    /// A short label for logs: `account:<id>` or `api_key:<id>`. Never the token.
    pub fn principal_label(&self) -> String {
        match &self.principal.id {
            PrincipalId::Account(id) => format!("account:{id}"),
            PrincipalId::ApiKey(id) => format!("api_key:{id}"),
        }
    }
}

impl Roster {
    /// Resolves a bearer token. Expired, idle, revoked and unknown tokens, and tokens of
    /// disabled accounts, are all `Unauthenticated`.
    ///
    /// # Errors
    /// `Unauthenticated`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Authenticated, AppError> {
        if !self.ports.tokens.looks_like_session_token(token) {
            return Err(AppError::Unauthenticated);
        }
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
        let grants = self.ports.accounts.grants_of(session.account.id).await?;
        Ok(Authenticated {
            principal: Principal {
                id: PrincipalId::Account(session.account.id),
                is_superadmin: session.account.is_superadmin,
                grants,
            },
            account: Some(session.account),
            session_id: Some(session.id),
        })
    }
}

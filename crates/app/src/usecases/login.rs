//! Password login: one argon2 verify, then a fresh server-side session.

use chrono::{DateTime, Utc};
use roster_domain::{Account, Email, PlainPassword};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;
use uuid::Uuid;

use super::Roster;
use crate::error::AppError;
use crate::ports::{NewSession, SessionId};

/// What a successful login hands back. `token` is shown to the client exactly once.
#[derive(Debug)]
pub struct LoginSuccess {
    pub token: SecretString,
    pub session_id: SessionId,
    pub expires_at: DateTime<Utc>,
    pub account: Account,
}

impl Roster {
    /// Checks email and password and opens a session.
    ///
    /// Unknown email, wrong password and disabled account all fail with the same
    /// `InvalidCredentials` after the same amount of hashing work (an unknown email is
    /// verified against a dummy hash), so responses do not reveal which accounts exist.
    ///
    /// # Errors
    /// `InvalidCredentials`, `Overloaded`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn login(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<LoginSuccess, AppError> {
        let password = PlainPassword::new(password.expose_secret());
        let stored = match Email::parse(email) {
            Ok(email) => self.ports.accounts.find_by_email(email.canonical()).await?,
            Err(_) => None,
        };
        let (account, hash) = match stored {
            Some(stored) => (Some(stored.account), Some(stored.password_hash)),
            None => (None, None),
        };
        let verified = self.ports.hasher.verify(password, hash).await?;
        let account = match account {
            Some(account) if verified && account.can_log_in() => account,
            _ => {
                tracing::info!(outcome = "invalid_credentials", "login failed");
                return Err(AppError::InvalidCredentials);
            }
        };

        let issued = self.ports.tokens.new_session_token();
        let now = self.ports.clock.now();
        let session = NewSession {
            id: SessionId::new(Uuid::now_v7()),
            account_id: account.id,
            token_digest: issued.digest,
            created_at: now,
            expires_at: now + self.sessions.ttl,
        };
        self.ports.sessions.create(&session).await?;
        tracing::info!(account_id = %account.id, session_id = %session.id, "login succeeded");
        Ok(LoginSuccess {
            token: issued.token,
            session_id: session.id,
            expires_at: session.expires_at,
            account,
        })
    }
}

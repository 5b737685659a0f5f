//! Password reset by email: anyone may ask for a link for an address (the answer never says
//! whether an account has it), and whoever holds the link sets a new password once.

use std::net::IpAddr;

use chrono::Duration;
use roster_domain::{AccountStatus, Email, PrincipalId};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;
use uuid::Uuid;

use super::Roster;
use super::register::account_inputs;
use crate::error::{AppError, FieldError};
use crate::model::{AuditAction, AuditEvent, EmailTokenPurpose, MailMessage};

/// Password reset, from settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordResetSettings {
    /// How long a link works (the contract: 30 minutes).
    pub ttl: Duration,
    /// Reset emails per account per hour; requests beyond are answered the same and send
    /// nothing, so nobody can flood an inbox through this form.
    pub max_per_hour: u32,
}

impl Default for PasswordResetSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::minutes(30),
            max_per_hour: 3,
        }
    }
}

impl Roster {
    /// Queues a password-reset link for the active account with this email. For an unknown
    /// email, a disabled account, or an account over its hourly cap the answer is the same and
    /// so is the expensive work: a token is made and a message rendered and sealed on every
    /// path; only the database write differs.
    ///
    /// # Errors
    /// `Validation` (`email` is not an email address), `Unavailable`, `Internal` (a template
    /// that does not render).
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn request_password_reset(
        &self,
        email: &str,
        source_ip: Option<IpAddr>,
    ) -> Result<(), AppError> {
        let email = Email::parse(email).map_err(|e| {
            AppError::Validation(vec![FieldError::new("email", e.code(), e.to_string())])
        })?;
        let found = self.ports.accounts.find_by_email(email.canonical()).await?;
        let now = self.ports.clock.now();
        let expires_at = now + self.password_reset.ttl;
        let issued = self
            .ports
            .tokens
            .new_email_token(EmailTokenPurpose::PasswordReset);
        // To the address as the account holds it; for an unknown email, as typed.
        let to = found
            .as_ref()
            .map_or_else(|| email.clone(), |stored| stored.account.email.clone());
        let message = MailMessage::PasswordReset {
            to,
            link: self.link(EmailTokenPurpose::PasswordReset, &issued.token),
            expires_at,
        };
        let sealed = self
            .ports
            .mailer
            .seal(&message, Uuid::now_v7(), now)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let Some(stored) = found else {
            tracing::debug!(
                ?source_ip,
                "password reset asked for an unknown email: no mail"
            );
            return Ok(());
        };
        let account = stored.account;
        if account.status != AccountStatus::Active {
            tracing::info!(account_id = %account.id, "password reset asked for a disabled account: no mail");
            return Ok(());
        }
        let queued = self
            .ports
            .email_tokens
            .request_password_reset(
                account.id,
                &issued.digest,
                expires_at,
                &sealed,
                self.password_reset.max_per_hour,
            )
            .await?;
        if queued {
            tracing::info!(account_id = %account.id, mail_id = %sealed.id, "password reset link queued");
            self.ports.mail_queued.notify();
        } else {
            tracing::info!(account_id = %account.id, "password reset over the hourly cap: no mail");
        }
        Ok(())
    }

    /// Sets a new password with a reset link's token: in one transaction the hash changes,
    /// the account's reset links die, every session is revoked and the login throttle is
    /// cleared. The token is checked before the password, so a dead link is said to be dead
    /// whatever password came with it.
    ///
    /// # Errors
    /// `TokenInvalid` (unknown, expired, used, or the account disabled meanwhile),
    /// `Validation` (`new_password`, as for registration), `Overloaded`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn confirm_password_reset(
        &self,
        token: &SecretString,
        new_password: &SecretString,
        source_ip: Option<IpAddr>,
    ) -> Result<(), AppError> {
        let purpose = EmailTokenPurpose::PasswordReset;
        if !self
            .ports
            .tokens
            .looks_like_email_token(purpose, token.expose_secret())
        {
            return Err(AppError::TokenInvalid);
        }
        let digest = self.ports.tokens.digest(token.expose_secret());
        let account = self
            .ports
            .email_tokens
            .find_password_reset(&digest, self.ports.clock.now())
            .await?
            .ok_or(AppError::TokenInvalid)?;
        let password = self
            .check_new_password("new_password", new_password, &account_inputs(&account))
            .await?;
        let hash = self.ports.hasher.hash(password).await?;
        let now = self.ports.clock.now();
        let audit = AuditEvent::new(AuditAction::PasswordResetByEmail, now)
            .actor(PrincipalId::Account(account.id))
            .target("account", account.id)
            .from_ip(source_ip);
        if !self
            .ports
            .email_tokens
            .reset_password(&digest, account.id, &hash, now, &audit)
            .await?
        {
            return Err(AppError::TokenInvalid);
        }
        tracing::info!(account_id = %account.id, "password reset through an emailed link; all sessions revoked");
        Ok(())
    }

    /// `{public_url}/console/{page}#{token}`: the token in the fragment, which browsers never
    /// send to a server, so it stays out of access logs and `Referer` headers.
    pub(super) fn link(&self, purpose: EmailTokenPurpose, token: &SecretString) -> SecretString {
        SecretString::from(format!(
            "{}/console/{}#{}",
            self.public_url,
            purpose.page(),
            token.expose_secret()
        ))
    }
}

#[cfg(test)]
mod tests;

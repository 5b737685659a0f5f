//! Password reset by email: anyone may ask for a link for an address (the answer never says
//! whether an account has it), and whoever holds the link sets a new password once.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use roster_domain::{AccountStatus, Email, PrincipalId};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;
use uuid::Uuid;

use super::HOUSEKEEPING_BATCH;
use super::Roster;
use super::register::account_inputs;
use crate::error::{AppError, FieldError};
use crate::model::{
    AuditAction, AuditEvent, EmailRequest, EmailTokenPurpose, MailDelivery, MailMessage,
    NewEmailToken, SealedMail,
};

/// Password reset, from settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordResetSettings {
    /// How long a link works (the contract: 30 minutes).
    pub ttl: Duration,
    /// Emails per address per hour, for each of the public email forms (reset links;
    /// verification and account-exists emails); requests beyond are answered the same and send
    /// nothing, so nobody can flood an inbox through these forms.
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
    /// email, a disabled account, or an address over its hourly cap the answer is the same and
    /// so is the work: a token is made, a message rendered and sealed, and one write
    /// transaction counts the request against the address's hourly cap on every path; only
    /// a known active account's transaction also stores the token and queues the message.
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
        let email = parse_email_field(email)?;
        let found = self.ports.accounts.find_by_email(email.canonical()).await?;
        let now = self.ports.clock.now();
        let purpose = EmailTokenPurpose::PasswordReset;
        let expires_at = now + self.password_reset.ttl;
        let issued = self.ports.tokens.new_email_token(purpose);
        // To the address as the account holds it; for an unknown email, as typed.
        let to = found
            .as_ref()
            .map_or_else(|| email.clone(), |stored| stored.account.email.clone());
        let message = MailMessage::PasswordReset {
            to,
            link: self.link(purpose, &issued.token),
            expires_at,
        };
        let mail = self.seal(&message, now)?;
        let recipient = match &found {
            None => {
                tracing::debug!(
                    ?source_ip,
                    "password reset asked for an unknown email: no mail"
                );
                None
            }
            Some(stored) if stored.account.status != AccountStatus::Active => {
                tracing::info!(account_id = %stored.account.id, "password reset asked for a disabled account: no mail");
                None
            }
            Some(stored) => Some(stored.account.id),
        };
        let delivery = recipient.map(|account| MailDelivery {
            mail,
            token: Some(NewEmailToken {
                account,
                digest: issued.digest,
                purpose,
                expires_at,
            }),
        });
        let queued = self.request_email(&email, purpose, now, delivery).await?;
        if let Some(account_id) = recipient {
            if queued {
                tracing::info!(%account_id, "password reset link queued");
            } else {
                tracing::info!(%account_id, "password reset over the hourly cap: no mail");
            }
        }
        Ok(())
    }

    /// Forgets the per-address counters of the public email forms once their hour is over
    /// (bounded work per call; the periodic cleanup calls it), so the table holds about one
    /// hour of addresses. Returns how many went.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn forget_old_email_counters(&self) -> Result<usize, AppError> {
        let before = self.ports.clock.now() - Duration::hours(1);
        Ok(self
            .ports
            .email_tokens
            .forget_stale_counters(before, HOUSEKEEPING_BATCH)
            .await?)
    }

    /// Renders and seals a message under a new id.
    pub(super) fn seal(
        &self,
        message: &MailMessage,
        now: DateTime<Utc>,
    ) -> Result<SealedMail, AppError> {
        self.ports
            .mailer
            .seal(message, Uuid::now_v7(), now)
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// The request as the store counts it: keyed by the digest of the canonical email.
    pub(super) fn email_request(
        &self,
        email: &Email,
        purpose: EmailTokenPurpose,
        at: DateTime<Utc>,
        delivery: Option<MailDelivery>,
    ) -> EmailRequest {
        EmailRequest {
            email_key: self.ports.tokens.digest(email.canonical()),
            purpose,
            at,
            max_per_hour: self.password_reset.max_per_hour,
            delivery,
        }
    }

    /// Counts the request and queues its delivery, if any, in one write; wakes the sender
    /// when a message was queued. Returns whether one was.
    pub(super) async fn request_email(
        &self,
        email: &Email,
        purpose: EmailTokenPurpose,
        at: DateTime<Utc>,
        delivery: Option<MailDelivery>,
    ) -> Result<bool, AppError> {
        let request = self.email_request(email, purpose, at, delivery);
        let queued = self.ports.email_tokens.request_email(&request).await?;
        if queued {
            self.ports.mail_queued.notify();
        }
        Ok(queued)
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

/// Parses the `email` field of a public email form.
pub(super) fn parse_email_field(email: &str) -> Result<Email, AppError> {
    Email::parse(email)
        .map_err(|e| AppError::Validation(vec![FieldError::new("email", e.code(), e.to_string())]))
}

#[cfg(test)]
mod tests;

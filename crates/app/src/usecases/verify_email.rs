//! Email verification: a self-registered account (under `registration.email_verification =
//! required` or `enumeration_safe`) proves its address by following an emailed `rev_` link;
//! anyone may ask for a new link for an address, and the answer never says whether it has an
//! account or what state it is in.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use roster_domain::{Account, AccountStatus, Email, PrincipalId};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;

use super::Roster;
use super::password_reset::parse_email_field;
use crate::error::AppError;
use crate::model::{
    AuditAction, AuditEvent, EmailTokenPurpose, IssuedToken, MailDelivery, MailMessage,
    NewEmailToken, SealedMail,
};

/// How long a verification link works. Long enough for mail that arrives late or is read the
/// next morning; the account can do nothing before it is verified, so a long-lived link
/// grants little (and a new one can be asked for at any time).
pub const VERIFICATION_TTL: Duration = Duration::hours(24);

/// A verification link and its sealed message, made before anyone knows whether it will be
/// sent, so that every path pays for it.
pub(super) struct VerificationMail {
    pub(super) issued: IssuedToken,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) mail: SealedMail,
}

impl VerificationMail {
    /// The delivery of this message with its token, for `account`.
    pub(super) fn for_account(self, account: &Account) -> MailDelivery {
        MailDelivery {
            mail: self.mail,
            token: Some(NewEmailToken {
                account: account.id,
                digest: self.issued.digest,
                purpose: EmailTokenPurpose::EmailVerification,
                expires_at: self.expires_at,
            }),
        }
    }
}

impl Roster {
    /// Makes a verification token and seals the email carrying its link to `to`.
    ///
    /// # Errors
    /// `Internal` (a template that does not render).
    pub(super) fn verification_mail(
        &self,
        to: &Email,
        now: DateTime<Utc>,
    ) -> Result<VerificationMail, AppError> {
        let purpose = EmailTokenPurpose::EmailVerification;
        let issued = self.ports.tokens.new_email_token(purpose);
        let expires_at = now + VERIFICATION_TTL;
        let message = MailMessage::EmailVerification {
            to: to.clone(),
            link: self.link(purpose, &issued.token),
            expires_at,
        };
        let mail = self.seal(&message, now)?;
        Ok(VerificationMail {
            issued,
            expires_at,
            mail,
        })
    }

    /// Marks the account of a verification link's token verified (the token and every other
    /// verification link of the account are used up) and returns it.
    ///
    /// # Errors
    /// `TokenInvalid` (unknown, expired, used, or the account disabled), `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn verify_email(
        &self,
        token: &SecretString,
        source_ip: Option<IpAddr>,
    ) -> Result<Account, AppError> {
        let purpose = EmailTokenPurpose::EmailVerification;
        if !self
            .ports
            .tokens
            .looks_like_email_token(purpose, token.expose_secret())
        {
            return Err(AppError::TokenInvalid);
        }
        let digest = self.ports.tokens.digest(token.expose_secret());
        let now = self.ports.clock.now();
        let account = self
            .ports
            .email_tokens
            .find_email_verification(&digest, now)
            .await?
            .ok_or(AppError::TokenInvalid)?;
        let audit = AuditEvent::new(AuditAction::EmailVerified, now)
            .actor(PrincipalId::Account(account.id))
            .target("account", account.id)
            .from_ip(source_ip);
        if !self
            .ports
            .email_tokens
            .verify_email(&digest, account.id, now, &audit)
            .await?
        {
            return Err(AppError::TokenInvalid);
        }
        tracing::info!(account_id = %account.id, "email verified");
        Ok(Account {
            email_verified: true,
            updated_at: now,
            ..account
        })
    }

    /// Queues a new verification link for the active, unverified account with this email.
    /// For an unknown email, a verified or disabled account, or an address over its hourly
    /// cap the answer is the same and so is the work (a token, a sealed message, one write
    /// transaction counting the request). Links sent before stay valid until they expire or
    /// one of them is used, so the one in the mail the user opens works.
    ///
    /// # Errors
    /// `Validation` (`email` is not an email address), `Unavailable`, `Internal`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn resend_verification(
        &self,
        email: &str,
        source_ip: Option<IpAddr>,
    ) -> Result<(), AppError> {
        let email = parse_email_field(email)?;
        let found = self.ports.accounts.find_by_email(email.canonical()).await?;
        let now = self.ports.clock.now();
        let to = found
            .as_ref()
            .map_or_else(|| email.clone(), |stored| stored.account.email.clone());
        let prepared = self.verification_mail(&to, now)?;
        let account = found.map(|stored| stored.account).filter(|account| {
            let waiting = account.status == AccountStatus::Active && !account.email_verified;
            if !waiting {
                tracing::info!(account_id = %account.id, "verification link asked for a verified or disabled account: no mail");
            }
            waiting
        });
        if account.is_none() {
            tracing::debug!(
                ?source_ip,
                "verification link asked for an address that gets none"
            );
        }
        let delivery = account
            .as_ref()
            .map(|account| prepared.for_account(account));
        let queued = self
            .request_email(&email, EmailTokenPurpose::EmailVerification, now, delivery)
            .await?;
        if let Some(account) = account {
            if queued {
                tracing::info!(account_id = %account.id, "verification link queued");
            } else {
                tracing::info!(account_id = %account.id, "verification link over the hourly cap: no mail");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

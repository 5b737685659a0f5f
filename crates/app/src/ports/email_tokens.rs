use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_domain::{Account, AccountId};

use crate::model::{AuditEvent, EmailRequest, PasswordHash, StoreError, TokenDigest};

/// Port: single-use tokens sent by email, stored as digests, each written in the same
/// transaction as the message that carries it (the outbox row).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait EmailTokenStore: Send + Sync {
    /// In one transaction: counts the request against the hourly counter of
    /// `request.email_key` and `request.purpose` (written for known and unknown addresses
    /// alike), and, when there is a delivery and fewer than `max_per_hour` requests were
    /// counted in the counter's current hour before this one, stores its token and queues its
    /// message. Returns whether the message was queued.
    ///
    /// # Errors
    /// `Duplicate(TokenDigest)` on a digest collision; `Unavailable`.
    async fn request_email(&self, request: &EmailRequest) -> Result<bool, StoreError>;

    /// Deletes up to `limit` hourly counters whose window started before `before` (they count
    /// nothing any more). Returns how many went.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn forget_stale_counters(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError>;

    /// In one transaction: inserts the self-registered `account` (unverified) with `audit`,
    /// counts `request` (never refused by the cap: the account needs its first link) and
    /// stores its token and queues its message.
    ///
    /// # Errors
    /// `Duplicate(Email)` when the email is taken; `Unavailable`.
    async fn register_unverified(
        &self,
        account: &Account,
        password_hash: &PasswordHash,
        audit: &AuditEvent,
        request: &EmailRequest,
    ) -> Result<(), StoreError>;

    /// The active account a usable (unused, unexpired at `now`) email-verification token
    /// belongs to.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn find_email_verification(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError>;

    /// In one transaction, if the token is still usable at `at` for `account` (checked again
    /// under the write lock): marks the account verified, every unused verification token of
    /// the account used, and records `audit`. `false` (nothing written) otherwise.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn verify_email(
        &self,
        digest: &TokenDigest,
        account: AccountId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// The active account a usable (unused, unexpired at `now`) password-reset token belongs to.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn find_password_reset(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError>;

    /// In one transaction, if the token is still usable at `at` for `account` (checked again
    /// under the write lock, so two confirmations cannot both pass): sets the new hash, marks
    /// every unused password-reset token of the account used, revokes every session, clears
    /// the login throttle of the account's email and records `audit`. `false` (and nothing
    /// written) when the token is no longer usable.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn reset_password(
        &self,
        digest: &TokenDigest,
        account: AccountId,
        password_hash: &PasswordHash,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
}

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_domain::AccountId;
use uuid::Uuid;

use crate::model::{
    AuditEvent, MfaChallenge, NewSession, SealedTotpSecret, StoreError, TokenDigest, TotpRecord,
};

/// Port: TOTP secrets, recovery codes and the second step of logins. Every change to the
/// factors keeps the account's `has_second_factor` in the same transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MfaStore: Send + Sync {
    /// The account's TOTP, confirmed or pending.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn totp(&self, account_id: AccountId) -> Result<Option<TotpRecord>, StoreError>;

    /// Stores a pending TOTP secret, replacing a pending one.
    ///
    /// # Errors
    /// `Duplicate(TotpEnrolled)` when the account has a confirmed TOTP; `Unavailable`.
    async fn begin_totp(
        &self,
        account_id: AccountId,
        sealed: &SealedTotpSecret,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Confirms the pending TOTP with the step of its first code, replaces the recovery codes
    /// with `recovery_codes` (digests) and records `audit`, in one transaction. `false` when
    /// no pending TOTP holding `sealed` exists (removed, replaced or confirmed meanwhile).
    ///
    /// # Errors
    /// `Unavailable`.
    async fn confirm_totp(
        &self,
        account_id: AccountId,
        sealed: &SealedTotpSecret,
        step: i64,
        recovery_codes: &[TokenDigest],
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Records `step` as the newest accepted step of the account's confirmed TOTP, only if
    /// it is newer than the last one: `false` means the code was used already (replay), or
    /// the TOTP is gone.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn use_totp_step(&self, account_id: AccountId, step: i64) -> Result<bool, StoreError>;

    /// Removes the account's TOTP (confirmed or pending) with `audit`; the recovery codes go
    /// too when no second factor is left. `false` when it had none.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn remove_totp(
        &self,
        account_id: AccountId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Replaces the account's recovery codes (digests) with `audit`, in one transaction.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn replace_recovery_codes(
        &self,
        account_id: AccountId,
        recovery_codes: &[TokenDigest],
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Marks the account's unused recovery code with this digest used at `at`, with
    /// `audit`; `false` when there is no such unused code (each code works once, under
    /// concurrency too).
    ///
    /// # Errors
    /// `Unavailable`.
    async fn use_recovery_code(
        &self,
        account_id: AccountId,
        digest: &TokenDigest,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// How many unused recovery codes the account has.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn recovery_codes_left(&self, account_id: AccountId) -> Result<u32, StoreError>;

    /// Removes every second factor of the account (TOTP, recovery codes, passkeys) and
    /// revokes its sessions at `audit.at`, with `audit`: the operator's recovery of an
    /// account that lost them all.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn remove_all_factors(
        &self,
        account_id: AccountId,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// How many active super admins have no second factor (for the start-up warning).
    ///
    /// # Errors
    /// `Unavailable`.
    async fn superadmins_without_second_factor(&self) -> Result<i64, StoreError>;

    /// Stores the second step of a login, found later by its token's digest.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn open_mfa_challenge(
        &self,
        challenge: &MfaChallenge,
        digest: &TokenDigest,
        created_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The challenge with this digest if it is alive at `now` and has fewer than
    /// `max_failures` failures.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn find_mfa_challenge(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<Option<MfaChallenge>, StoreError>;

    /// Counts one attempt against the challenge before its code is checked, if it is alive at
    /// `now` with fewer than `max_attempts` attempts; `false` otherwise. Counting first, in
    /// one conditional update, bounds the guesses per challenge under concurrency too.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn reserve_mfa_attempt(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<bool, StoreError>;

    /// Ends the challenge and opens `session` with `audit`, in one transaction; `false` (and
    /// nothing written) when the challenge is gone or expired at `now`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn finish_mfa_challenge(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        session: &NewSession,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Deletes challenges that expired before `now`, at most `limit`. Returns how many went.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn forget_expired_challenges(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError>;
}

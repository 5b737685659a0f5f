use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_domain::AccountId;

use crate::model::{
    AuditEvent, Ceremony, CredentialId, PasskeyCredential, PasskeyId, StoreError, StoredPasskey,
};

/// Port: passkeys and the WebAuthn ceremonies in flight. Adding or removing a passkey keeps
/// the account's `has_second_factor` in the same transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Stores a new passkey for its account, with `audit`, and marks the account as having a
    /// second factor.
    ///
    /// # Errors
    /// `Duplicate(PasskeyCredential)` when the credential is registered already (to any
    /// account); `Unavailable`.
    async fn add_passkey(
        &self,
        passkey: &StoredPasskey,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// The account's passkeys, oldest first.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn list_passkeys(&self, account_id: AccountId) -> Result<Vec<StoredPasskey>, StoreError>;

    /// The passkey with this credential id, whoever holds it.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn find_passkey(
        &self,
        credential_id: &CredentialId,
    ) -> Result<Option<StoredPasskey>, StoreError>;

    /// Records a use at `at` and, when given, the credential's new state (counter, backup).
    ///
    /// # Errors
    /// `Unavailable`.
    async fn record_passkey_use(
        &self,
        id: PasskeyId,
        at: DateTime<Utc>,
        updated: Option<PasskeyCredential>,
    ) -> Result<(), StoreError>;

    /// Removes one passkey of the account, with `audit`, and updates the account's
    /// `has_second_factor`; `false` when the account has no such passkey.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn remove_passkey(
        &self,
        account_id: AccountId,
        id: PasskeyId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Keeps a ceremony until it is finished or expires.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn save_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError>;

    /// Takes (deletes and returns) the ceremony with this challenge if it has not expired
    /// at `now`: each ceremony finishes at most once, on any node.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn take_ceremony(
        &self,
        challenge: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Ceremony>, StoreError>;

    /// Deletes ceremonies that expired before `now`, at most `limit`. Returns how many went.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn forget_expired_ceremonies(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError>;
}

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_domain::{Account, AccountId, AccountStatus};

use crate::model::{
    AccountPage, AccountWithGrants, AuditEvent, NewGrant, PasswordHash, SessionId, StatusChange,
    StoreError, StoredAccount,
};

/// Port: persistent accounts.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AccountRepository: Send + Sync {
    /// Inserts a new account with its password hash, its grants and the audit event in one
    /// transaction: all or nothing.
    ///
    /// # Errors
    /// `Duplicate(Email)` when an account with the same canonical email exists;
    /// `Missing(Role)` when a grant names an unknown role; `Unavailable`.
    async fn insert(
        &self,
        account: &Account,
        password_hash: &PasswordHash,
        grants: &[NewGrant],
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Finds an account by its canonical email (see `Email::canonical`).
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn find_by_email(
        &self,
        canonical_email: &str,
    ) -> Result<Option<StoredAccount>, StoreError>;

    /// Finds an account by id.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn find_by_id(&self, id: AccountId) -> Result<Option<Account>, StoreError>;

    /// Finds an account with every grant it holds, each carrying its role's current rules,
    /// in one database call; the grants are loaded the way a session's are (the adapter may
    /// serve them from its cache while they are unchanged).
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn find_with_grants(
        &self,
        id: AccountId,
    ) -> Result<Option<AccountWithGrants>, StoreError>;

    /// Whether at least one super admin exists (for bootstrap).
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn superadmin_exists(&self) -> Result<bool, StoreError>;

    /// Accounts in id order after `after`, optionally only the one with this canonical email.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn list(
        &self,
        canonical_email: Option<String>,
        after: Option<AccountId>,
        limit: u32,
    ) -> Result<AccountPage, StoreError>;

    /// Sets the account's status in one transaction. Disabling revokes every session of the
    /// account at once and refuses to disable the last active super admin (decided under the
    /// write lock, so racing requests cannot both pass the check).
    ///
    /// Disabling (also an account disabled already) revokes every API key the account created
    /// and, transitively, every key those keys created; the audit event is recorded with
    /// [`AuditEvent::revoked_api_keys`] saying how many. Enabling brings no key back.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn set_status(
        &self,
        id: AccountId,
        status: AccountStatus,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<StatusChange, StoreError>;

    /// The stored password hash of an account.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn password_hash(&self, id: AccountId) -> Result<Option<PasswordHash>, StoreError>;

    /// Replaces the password hash and, in the same transaction, revokes every session of the
    /// account except `keep`. `false` when the account does not exist.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn set_password(
        &self,
        id: AccountId,
        password_hash: &PasswordHash,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
}

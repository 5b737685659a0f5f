use async_trait::async_trait;
use roster_domain::{Account, AccountId, Grant};

use super::{PasswordHash, StoreError};

/// An account together with its password hash, as needed to check a login.
#[derive(Debug, Clone)]
pub struct StoredAccount {
    pub account: Account,
    pub password_hash: PasswordHash,
}

/// Port: persistent accounts.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AccountRepository: Send + Sync {
    /// Inserts a new account with its password hash in one transaction.
    ///
    /// # Errors
    /// `Duplicate("email")` when an account with the same canonical email exists;
    /// `Unavailable` when the database cannot be reached.
    async fn insert(
        &self,
        account: &Account,
        password_hash: &PasswordHash,
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

    /// Every grant held by the account, each carrying its role's permission rules.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn grants_of(&self, id: AccountId) -> Result<Vec<Grant>, StoreError>;

    /// Whether at least one super admin exists (for bootstrap).
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn superadmin_exists(&self) -> Result<bool, StoreError>;
}

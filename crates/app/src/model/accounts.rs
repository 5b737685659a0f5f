//! Accounts as the store keeps them: with their password hash, in pages, and the outcome of
//! a status change.

use std::sync::Arc;

use roster_domain::{Account, AccountId, Grant};

use crate::model::PasswordHash;

/// An account together with its password hash, as needed to check a login.
#[derive(Debug, Clone)]
pub struct StoredAccount {
    pub account: Account,
    pub password_hash: PasswordHash,
}

/// An account with every grant it holds (each carrying its role's current rules): what the
/// guards weigh and what checking the account's permissions evaluates. Shared: the adapter
/// may hand out the same cached list to many requests, as with a session's grants.
#[derive(Debug, Clone)]
pub struct AccountWithGrants {
    pub account: Account,
    pub grants: Arc<[Grant]>,
}

/// One page of accounts in id order (ids are time-ordered UUID v7).
#[derive(Debug, Clone, Default)]
pub struct AccountPage {
    pub accounts: Vec<Account>,
    /// The id to continue after, when more accounts follow.
    pub next_after: Option<AccountId>,
}

/// The outcome of a status change, decided inside the store's transaction.
#[derive(Debug, Clone)]
pub enum StatusChange {
    /// Done (or already so); the account as it now is.
    Changed(Account),
    /// No account with this id.
    NotFound,
    /// Disabling it would leave no active super admin.
    LastSuperadmin,
}

use async_trait::async_trait;
use roster_domain::PlainPassword;

use crate::model::{HashError, PasswordHash};

/// Port: slow, memory-hard password hashing, run off the async threads with bounded
/// concurrency.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a password with a fresh salt.
    ///
    /// # Errors
    /// `Overloaded` when the queue is full.
    async fn hash(&self, password: PlainPassword) -> Result<PasswordHash, HashError>;

    /// Verifies a password against a stored hash. With `stored = None` it verifies against a
    /// built-in dummy hash and returns `false`, so an unknown email costs the same time as a
    /// wrong password.
    ///
    /// # Errors
    /// `Overloaded` when the queue is full; `Internal` for an unparsable stored hash.
    async fn verify(
        &self,
        password: PlainPassword,
        stored: Option<PasswordHash>,
    ) -> Result<bool, HashError>;
}

use std::fmt;

use async_trait::async_trait;
use roster_domain::PlainPassword;

/// A password hash in PHC string format (`$argon2id$v=19$m=...`). Not a secret in the
/// cryptographic sense, but never logged: `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([REDACTED])")
    }
}

/// Failures of the password hasher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The bounded hashing queue is full: refuse now rather than queue without bound.
    #[error("password hashing is overloaded")]
    Overloaded { retry_after_secs: u64 },
    /// A malformed stored hash or a broken worker.
    #[error("password hashing failed: {0}")]
    Internal(String),
}

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

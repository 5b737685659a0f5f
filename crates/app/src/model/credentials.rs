//! Credentials at rest: password hashes and token digests, never the secrets themselves
//! (but for the one moment a fresh token is handed to the client), and the password pools'
//! failures.

use std::fmt;

use secrecy::SecretString;
use subtle::ConstantTimeEq;

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

/// The SHA-256 digest of a bearer token, hex encoded: what the database stores and looks up.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(String);

impl TokenDigest {
    pub fn new(hex: impl Into<String>) -> Self {
        Self(hex.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares in constant time, so response timing does not reveal how much of a guessed
    /// key's digest matched the stored one.
    pub fn matches(&self, other: &TokenDigest) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to correlate in a debugger; the digest itself is not a secret.
        write!(f, "TokenDigest({}…)", self.0.get(..8).unwrap_or(""))
    }
}

/// A freshly issued token: the secret goes to the client once, the digest to the database.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: SecretString,
    pub digest: TokenDigest,
}

use std::fmt;

use secrecy::SecretString;

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

/// Port: random bearer tokens and their digests.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait TokenSource: Send + Sync {
    /// A new session token with at least 256 random bits and a recognisable prefix.
    fn new_session_token(&self) -> IssuedToken;

    /// The digest under which a presented token would be stored.
    fn digest(&self, token: &str) -> TokenDigest;

    /// Whether the text has the shape of a session token (prefix and length), so obviously
    /// foreign tokens are refused without a database round trip.
    fn looks_like_session_token(&self, token: &str) -> bool;
}

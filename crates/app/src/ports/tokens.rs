use std::fmt;

use roster_domain::ApiKeyId;
use secrecy::SecretString;
use subtle::ConstantTimeEq;

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

    /// A new API key for the key `id`: prefix, the public id (so verification is one
    /// primary-key lookup) and at least 128 secret random bits.
    fn new_api_key(&self, id: ApiKeyId) -> IssuedToken;

    /// The key id embedded in a presented API key; `None` when the text does not have the
    /// shape of an API key.
    fn api_key_id(&self, token: &str) -> Option<ApiKeyId>;
}

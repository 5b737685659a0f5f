use roster_domain::ApiKeyId;

use crate::model::{EmailTokenPurpose, IssuedToken, TokenDigest};

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

    /// A new single-use token for an emailed link: the purpose's prefix (`rpr_`, `rev_`,
    /// `rin_`) and at least 256 random bits.
    fn new_email_token(&self, purpose: EmailTokenPurpose) -> IssuedToken;

    /// Whether the text has the shape of a token of this purpose (prefix and length).
    fn looks_like_email_token(&self, purpose: EmailTokenPurpose, token: &str) -> bool;

    /// A new token for the second step of a login (`rmf_`, at least 256 random bits).
    fn new_mfa_token(&self) -> IssuedToken;

    /// Whether the text has the shape of a second-step token (prefix and length).
    fn looks_like_mfa_token(&self, token: &str) -> bool;

    /// A new recovery code (at least 80 random bits, grouped for reading aloud) and its
    /// digest.
    fn new_recovery_code(&self) -> IssuedToken;

    /// The digest of a recovery code as typed (case, spaces and dashes do not matter);
    /// `None` when the text cannot be a recovery code.
    fn recovery_code_digest(&self, typed: &str) -> Option<TokenDigest>;
}

use roster_domain::Account;

use crate::model::{
    AssertionClaims, CeremonyState, PasskeyCredential, PasskeyError, RegisteredCredential,
    VerifiedAssertion, WebAuthnOptions,
};

/// Port: the WebAuthn relying party (relying-party id and origin from `server.public_url`).
/// Pure computation: the application keeps the ceremony state and the credentials.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait WebAuthn: Send + Sync {
    /// Options to create a passkey for `account` (a discoverable credential, user
    /// verification required), excluding the credentials it has already.
    ///
    /// # Errors
    /// `Internal` when a stored credential does not parse.
    fn start_registration(
        &self,
        account: &Account,
        existing: &[PasskeyCredential],
    ) -> Result<(WebAuthnOptions, CeremonyState), PasskeyError>;

    /// Verifies the browser's answer (`PublicKeyCredential` JSON) to a registration.
    ///
    /// # Errors
    /// `Invalid` for a response that does not verify; `Internal` for bad state.
    fn finish_registration(
        &self,
        response: &str,
        state: &CeremonyState,
    ) -> Result<RegisteredCredential, PasskeyError>;

    /// Options to assert one of `credentials` (the account's, as a second factor).
    ///
    /// # Errors
    /// `Internal` when a stored credential does not parse.
    fn start_assertion(
        &self,
        credentials: &[PasskeyCredential],
    ) -> Result<(WebAuthnOptions, CeremonyState), PasskeyError>;

    /// Options to assert any discoverable credential (passwordless sign-in).
    ///
    /// # Errors
    /// `Internal` on a library failure.
    fn start_discoverable_assertion(
        &self,
    ) -> Result<(WebAuthnOptions, CeremonyState), PasskeyError>;

    /// The challenge of the ceremony that `options` start (base64url without padding, as the
    /// browser echoes it in its response and [`WebAuthn::claims`] reads it back): the key
    /// the ceremony is kept under until its finish.
    ///
    /// # Errors
    /// `Internal` when the options are not ones this relying party made.
    fn challenge(&self, options: &WebAuthnOptions) -> Result<String, PasskeyError>;

    /// What an assertion response claims (its challenge, credential id, user handle), read
    /// without verifying anything, to find its ceremony and credential. A registration
    /// response parses too (its user handle is `None`), to find its ceremony.
    ///
    /// # Errors
    /// `Invalid` when the response does not parse.
    fn claims(&self, response: &str) -> Result<AssertionClaims, PasskeyError>;

    /// Verifies an assertion response against its ceremony's state and the stored
    /// credential it names (user verification required for a discoverable ceremony).
    ///
    /// # Errors
    /// `Invalid` for a response that does not verify; `Internal` for bad state.
    fn finish_assertion(
        &self,
        response: &str,
        state: &CeremonyState,
        credential: &PasskeyCredential,
    ) -> Result<VerifiedAssertion, PasskeyError>;
}

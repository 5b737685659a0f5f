//! Passkeys (WebAuthn credentials) and the ceremonies that register and use them. What the
//! relying-party library serializes (credentials, ceremony state, browser options) is opaque
//! text here: the application stores and hands it back, and only the adapter reads it.

use std::fmt;

use chrono::{DateTime, Utc};
use roster_domain::AccountId;
use uuid::Uuid;

use crate::model::SessionId;

/// Public identifier of a passkey (not the authenticator's credential id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasskeyId(Uuid);

impl PasskeyId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for PasskeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The most characters of a passkey's name.
pub const MAX_PASSKEY_NAME_CHARS: usize = 64;

/// A passkey as listed to its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passkey {
    pub id: PasskeyId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The relying-party library's serialized credential (public key, signature counter, backup
/// state). Public data, but only the adapter reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyCredential(pub String);

/// The authenticator's credential id, base64url without padding (how browsers send it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialId(pub String);

/// A stored passkey with its owner and credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub passkey: Passkey,
    pub account_id: AccountId,
    pub credential_id: CredentialId,
    pub credential: PasskeyCredential,
}

/// What a finished registration ceremony yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredCredential {
    pub credential_id: CredentialId,
    pub credential: PasskeyCredential,
}

/// What a verified assertion yields: the credential used and, when the authenticator's
/// counter or backup state moved, the credential to store instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub credential_id: CredentialId,
    pub updated: Option<PasskeyCredential>,
}

/// What an assertion says about itself before it is verified: the ceremony's challenge (to
/// find its state), the credential and, for a discoverable credential, its user handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionClaims {
    pub challenge: String,
    pub credential_id: CredentialId,
    pub user_handle: Option<Uuid>,
}

/// The options a browser passes to `navigator.credentials.create` or `.get`, as JSON text
/// (`{"publicKey": {...}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAuthnOptions(pub String);

/// A ceremony just started: the options for the browser, the state to keep until its finish,
/// and its challenge (base64url), under which the state is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedCeremony {
    pub options: WebAuthnOptions,
    pub state: CeremonyState,
    pub challenge: String,
}

/// The relying-party library's state between a ceremony's start and finish, serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyState(pub String);

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// Adding a passkey to the signed-in account.
    Register,
    /// The second step of a login (after the password).
    SecondFactor,
    /// Refreshing the current session's second factor.
    StepUp,
    /// Signing in with a discoverable passkey alone.
    Passwordless,
}

impl CeremonyPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::SecondFactor => "second_factor",
            Self::StepUp => "step_up",
            Self::Passwordless => "passwordless",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Register,
            Self::SecondFactor,
            Self::StepUp,
            Self::Passwordless,
        ]
        .into_iter()
        .find(|purpose| purpose.as_str() == text)
    }
}

/// A ceremony between its start and its finish, kept in the database so that any node may
/// finish what another started. Found by its challenge; single use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    /// The challenge (base64url), as the browser echoes it in its response.
    pub challenge: String,
    pub purpose: CeremonyPurpose,
    /// Whose ceremony it is; `None` for passwordless sign-in (the passkey tells).
    pub account_id: Option<AccountId>,
    /// The session registering or stepping up.
    pub session_id: Option<SessionId>,
    /// The login's second step this ceremony finishes.
    pub mfa_challenge_id: Option<Uuid>,
    pub state: CeremonyState,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Why the relying-party library refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    /// The browser's response does not parse, does not match the ceremony, or its signature
    /// or origin is wrong: the client's fault (400 `invalid_credential`).
    #[error("invalid credential: {0}")]
    Invalid(String),
    /// The library failed on data the service produced (state that does not parse): a bug.
    #[error("passkey adapter failed: {0}")]
    Internal(String),
}

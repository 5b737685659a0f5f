//! Second factors at rest and in flight: how a session was authenticated, a sealed TOTP
//! secret, the second step of a login.

use std::fmt;

use chrono::{DateTime, Utc};
use roster_domain::AccountId;
use secrecy::SecretString;
use uuid::Uuid;

/// One way a session's owner proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AuthMethod {
    /// The account's password.
    Password,
    /// A TOTP code.
    Otp,
    /// A single-use recovery code.
    Recovery,
    /// A passkey (WebAuthn assertion).
    Passkey,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::Otp => "otp",
            Self::Recovery => "recovery",
            Self::Passkey => "passkey",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Password, Self::Otp, Self::Recovery, Self::Passkey]
            .into_iter()
            .find(|method| method.as_str() == text)
    }
}

/// The methods a session was opened and refreshed with, each once, in a fixed order
/// (`pwd`, `otp`, `recovery`, `passkey`).
///
/// ```
/// use roster_app::model::{AuthMethod, AuthMethods};
///
/// let mut methods = AuthMethods::of(AuthMethod::Password);
/// methods.add(AuthMethod::Passkey);
/// methods.add(AuthMethod::Otp);
/// methods.add(AuthMethod::Otp);
/// assert_eq!(methods.to_string(), "pwd,otp,passkey");
/// assert_eq!(AuthMethods::parse("pwd,otp,passkey"), Some(methods));
/// assert_eq!(AuthMethods::parse("pwd,sms"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthMethods(Vec<AuthMethod>);

impl AuthMethods {
    pub fn of(method: AuthMethod) -> Self {
        Self(vec![method])
    }

    pub fn add(&mut self, method: AuthMethod) {
        if let Err(at) = self.0.binary_search(&method) {
            self.0.insert(at, method);
        }
    }

    #[must_use]
    pub fn with(mut self, method: AuthMethod) -> Self {
        self.add(method);
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = AuthMethod> + '_ {
        self.0.iter().copied()
    }

    /// Reads the stored comma list; `None` for an unknown method.
    pub fn parse(text: &str) -> Option<Self> {
        let mut methods = Self::default();
        for part in text.split(',').filter(|part| !part.is_empty()) {
            methods.add(AuthMethod::parse(part)?);
        }
        Some(methods)
    }
}

impl fmt::Display for AuthMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|method| method.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

/// A TOTP secret encrypted under the service's key and bound to its account: what the
/// database holds. Only the TOTP adapter opens it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedTotpSecret(pub String);

impl fmt::Debug for SealedTotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedTotpSecret(..)")
    }
}

/// A new TOTP secret: sealed for the store, and in clear for the one response that shows it
/// to the person enrolling.
#[derive(Debug)]
pub struct TotpEnrolment {
    pub sealed: SealedTotpSecret,
    /// The secret in base32 (RFC 4648, no padding), for typing into an app.
    pub secret: SecretString,
    /// `otpauth://totp/...`, for a QR code.
    pub otpauth_uri: SecretString,
}

/// An account's TOTP as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    pub sealed: SealedTotpSecret,
    /// `false` while the enrolment waits for its first code.
    pub confirmed: bool,
    /// The time step of the newest accepted code: codes of this step or older are refused.
    pub last_used_step: Option<i64>,
}

/// Failures of the TOTP adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// The sealed secret does not open with the configured key (the key changed, or nodes do
    /// not share it), or the secret is malformed.
    #[error("the TOTP secret cannot be opened: {0}")]
    Unreadable(String),
}

/// The second step of a login, as stored: the right password was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    pub id: Uuid,
    pub account_id: AccountId,
    pub expires_at: DateTime<Utc>,
    /// Wrong codes so far.
    pub failures: u32,
}

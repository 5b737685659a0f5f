//! Port traits: what the use cases need from the outside world. Each is small, owned here,
//! and implemented by an adapter crate (`roster-store`, `roster-crypto`, `roster-flags`).
//! With the `mock` feature every port has a mockall double (`MockAccountRepository`, ...).
//! The records the ports take and return are in [`crate::model`]; this module holds only the
//! traits (and [`SystemClock`], the real clock).

mod accounts;
mod api_keys;
mod audit_log;
mod clock;
mod email_tokens;
mod features;
mod grants;
mod hashing;
mod invitations;
mod mail_signal;
mod mailer;
mod mfa;
mod outbox;
mod passkeys;
mod readiness;
mod roles;
mod sessions;
mod strength;
mod throttle;
mod tokens;
mod totp;
mod webauthn;

pub use accounts::AccountRepository;
pub use api_keys::ApiKeyStore;
pub use audit_log::AuditLog;
pub use clock::{Clock, SystemClock};
pub use email_tokens::EmailTokenStore;
pub use features::FeatureManager;
pub use grants::GrantStore;
pub use hashing::PasswordHasher;
pub use invitations::InvitationStore;
pub use mail_signal::{MailSignal, NoMailSignal};
pub use mailer::Mailer;
pub use mfa::MfaStore;
pub use outbox::Outbox;
pub use passkeys::PasskeyStore;
pub use readiness::Readiness;
pub use roles::RoleStore;
pub use sessions::SessionStore;
pub use strength::PasswordStrength;
pub use throttle::LoginThrottle;
pub use tokens::TokenSource;
pub use totp::Totp;
pub use webauthn::WebAuthn;

#[cfg(any(test, feature = "mock"))]
pub use accounts::MockAccountRepository;
#[cfg(any(test, feature = "mock"))]
pub use api_keys::MockApiKeyStore;
#[cfg(any(test, feature = "mock"))]
pub use audit_log::MockAuditLog;
#[cfg(any(test, feature = "mock"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mock"))]
pub use email_tokens::MockEmailTokenStore;
#[cfg(any(test, feature = "mock"))]
pub use features::MockFeatureManager;
#[cfg(any(test, feature = "mock"))]
pub use grants::MockGrantStore;
#[cfg(any(test, feature = "mock"))]
pub use hashing::MockPasswordHasher;
#[cfg(any(test, feature = "mock"))]
pub use invitations::MockInvitationStore;
#[cfg(any(test, feature = "mock"))]
pub use mailer::MockMailer;
#[cfg(any(test, feature = "mock"))]
pub use mfa::MockMfaStore;
#[cfg(any(test, feature = "mock"))]
pub use outbox::MockOutbox;
#[cfg(any(test, feature = "mock"))]
pub use passkeys::MockPasskeyStore;
#[cfg(any(test, feature = "mock"))]
pub use readiness::MockReadiness;
#[cfg(any(test, feature = "mock"))]
pub use roles::MockRoleStore;
#[cfg(any(test, feature = "mock"))]
pub use sessions::MockSessionStore;
#[cfg(any(test, feature = "mock"))]
pub use strength::MockPasswordStrength;
#[cfg(any(test, feature = "mock"))]
pub use throttle::MockLoginThrottle;
#[cfg(any(test, feature = "mock"))]
pub use tokens::MockTokenSource;
#[cfg(any(test, feature = "mock"))]
pub use totp::MockTotp;
#[cfg(any(test, feature = "mock"))]
pub use webauthn::MockWebAuthn;

//! Roster's crypto adapter: argon2id password hashing on a dedicated, bounded thread pool
//! (implements `PasswordHasher`), the password strength estimate on another
//! (`PasswordStrength`), and random session tokens with SHA-256 digests (implements
//! `TokenSource`), sealing with the service's secret key ([`sealing`]), RFC 6238 TOTP with
//! sealed secrets (implements `Totp`), and the WebAuthn relying party of passkeys
//! (`WebAuthn`).

mod hasher;
pub mod sealing;
mod strength;
mod tokens;
mod totp;
mod webauthn;

pub use hasher::{Argon2Hasher, Argon2Settings, HasherConfigError, MAX_QUEUE_WAIT};
pub use strength::{MAX_WAIT, StrengthConfigError, StrengthPool, StrengthSettings};
pub use tokens::RandomTokens;
pub use totp::SealedTotp;
pub use webauthn::{PasskeyRelyingParty, RelyingPartyError};

//! Roster's crypto adapter: argon2id password hashing on a dedicated, bounded thread pool
//! (implements `PasswordHasher`), the password strength estimate on another
//! (`PasswordStrength`), and random session tokens with SHA-256 digests (implements
//! `TokenSource`), sealing with the service's secret key ([`sealing`]), and RFC 6238 TOTP
//! with sealed secrets (implements `Totp`).

mod hasher;
pub mod sealing;
mod strength;
mod tokens;
mod totp;

pub use hasher::{Argon2Hasher, Argon2Settings, HasherConfigError, MAX_QUEUE_WAIT};
pub use strength::{MAX_WAIT, StrengthConfigError, StrengthPool, StrengthSettings};
pub use tokens::RandomTokens;
pub use totp::SealedTotp;

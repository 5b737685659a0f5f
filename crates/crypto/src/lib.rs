//! Roster's crypto adapter: argon2id password hashing on a dedicated, bounded thread pool
//! (implements `PasswordHasher`), and random session tokens with SHA-256 digests (implements
//! `TokenSource`).

mod hasher;
mod tokens;

pub use hasher::{Argon2Hasher, Argon2Settings, HasherConfigError};
pub use tokens::RandomTokens;

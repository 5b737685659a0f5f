//! Sealing with the service's secret key (`secrets.key` / `secrets.key_file`):
//! XChaCha20-Poly1305 with a random 192-bit nonce (collisions negligible however much one
//! key seals) and caller-chosen associated data, so a sealed value copied onto another row
//! does not open. Queued mail and TOTP secrets are sealed this way.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// Version tag in front of every sealed text, so the format can change later.
const VERSION: &str = "v1.";
const NONCE_LEN: usize = 24;

/// The service's 32-byte secret key. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

/// A key that is not 32 bytes of base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the key must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")]
pub struct SecretKeyError;

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    /// # Errors
    /// `SecretKeyError` unless the text is base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<SecretKey, SecretKeyError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| SecretKeyError)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| SecretKeyError)?;
        Ok(SecretKey(bytes))
    }

    /// 32 fresh bytes from the operating system.
    pub fn generate() -> SecretKey {
        SecretKey(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

/// A sealed text that does not open: sealed under another key (the key changed, or nodes
/// do not share it), with other associated data, or damaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot be opened with this key (sealed under another key, or damaged)")]
pub struct OpenError;

/// Encrypts `plain` bound to `associated`; the result is ASCII, for a TEXT column.
pub fn seal(key: &SecretKey, plain: &[u8], associated: &[u8]) -> String {
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plain,
                aad: associated,
            },
        )
        // Encryption fails only for inputs of more than 2^38 bytes.
        .unwrap_or_default();
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&ciphertext);
    format!("{VERSION}{}", STANDARD.encode(bytes))
}

/// Decrypts what [`seal`] produced under the same key and associated data.
///
/// # Errors
/// `OpenError` for another key, other associated data, or a damaged text.
pub fn open(key: &SecretKey, sealed: &str, associated: &[u8]) -> Result<Vec<u8>, OpenError> {
    let encoded = sealed.strip_prefix(VERSION).ok_or(OpenError)?;
    let bytes = STANDARD.decode(encoded).map_err(|_| OpenError)?;
    if bytes.len() < NONCE_LEN {
        return Err(OpenError);
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: associated,
            },
        )
        .map_err(|_| OpenError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_its_associated_data() {
        let key = SecretKey::generate();
        let sealed = seal(&key, b"rpr_secret", b"row-1");
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("rpr_secret"));
        assert_eq!(open(&key, &sealed, b"row-1").unwrap(), b"rpr_secret");
        assert_eq!(
            open(&SecretKey::generate(), &sealed, b"row-1"),
            Err(OpenError)
        );
        assert_eq!(open(&key, &sealed, b"row-2"), Err(OpenError));
        assert_eq!(open(&key, "v1.AAAA", b"row-1"), Err(OpenError));
        assert_eq!(open(&key, "garbage", b"row-1"), Err(OpenError));
    }

    #[test]
    fn keys_are_32_bytes_of_base64_and_never_printed() {
        let key = SecretKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        assert_eq!(key.as_bytes(), &[7u8; 32]);
        assert_eq!(
            SecretKey::from_base64(&STANDARD.encode([7u8; 31])).unwrap_err(),
            SecretKeyError
        );
        assert_eq!(
            SecretKey::from_base64("not base64!").unwrap_err(),
            SecretKeyError
        );
        assert_eq!(format!("{key:?}"), "SecretKey([REDACTED])");
    }
}

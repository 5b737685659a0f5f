//! Sealing: a rendered message is serialised and encrypted with XChaCha20-Poly1305 under the
//! service's secret key (`secrets.key` / `secrets.key_file`). The random 192-bit nonce makes
//! collisions negligible however many messages one key seals; the message's id, kind and
//! recipient are the associated data, so a sealed body copied onto another row does not open.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use roster_app::model::MailKind;
use uuid::Uuid;

use crate::templates::Rendered;

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

/// Sealing or opening failed. Opening fails for a body sealed under another key (the key
/// changed, or nodes do not share it) or tampered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("cannot serialise the message: {0}")]
    Encode(String),
    #[error("the message cannot be opened with this key (sealed under another key, or damaged)")]
    Open,
}

fn associated_data(id: Uuid, kind: MailKind, recipient: &str) -> String {
    format!("{id}|{kind}|{recipient}")
}

/// Encrypts the rendered message; the result is ASCII, for a TEXT column.
///
/// # Errors
/// `Encode` if serialisation fails (it does not for these plain strings).
pub fn seal(
    key: &SecretKey,
    rendered: &Rendered,
    id: Uuid,
    kind: MailKind,
    recipient: &str,
) -> Result<String, SealError> {
    let plain = serde_json::to_vec(rendered).map_err(|e| SealError::Encode(e.to_string()))?;
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let aad = associated_data(id, kind, recipient);
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: &plain,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|e| SealError::Encode(e.to_string()))?;
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&ciphertext);
    Ok(format!("{VERSION}{}", STANDARD.encode(bytes)))
}

/// Decrypts what [`seal`] produced for the same id, kind and recipient.
///
/// # Errors
/// `Open` for another key, other associated data, or a damaged text.
pub fn open(
    key: &SecretKey,
    sealed: &str,
    id: Uuid,
    kind: MailKind,
    recipient: &str,
) -> Result<Rendered, SealError> {
    let encoded = sealed.strip_prefix(VERSION).ok_or(SealError::Open)?;
    let bytes = STANDARD.decode(encoded).map_err(|_| SealError::Open)?;
    if bytes.len() < NONCE_LEN {
        return Err(SealError::Open);
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    let aad = associated_data(id, kind, recipient);
    let plain = cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| SealError::Open)?;
    serde_json::from_slice(&plain).map_err(|_| SealError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> Rendered {
        Rendered {
            subject: "Reset".into(),
            text: "https://x/console/password-reset#rpr_secret".into(),
            html: "<p>rpr_secret</p>".into(),
        }
    }

    #[test]
    fn a_sealed_message_opens_only_with_its_key_and_its_row() {
        let key = SecretKey::generate();
        let id = Uuid::from_u128(1);
        let kind = MailKind::PasswordReset;
        let sealed = seal(&key, &rendered(), id, kind, "ada@example.com").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("rpr_secret"));
        assert_eq!(
            open(&key, &sealed, id, kind, "ada@example.com").unwrap(),
            rendered()
        );
        let other = SecretKey::generate();
        assert_eq!(
            open(&other, &sealed, id, kind, "ada@example.com"),
            Err(SealError::Open)
        );
        assert_eq!(
            open(&key, &sealed, Uuid::from_u128(2), kind, "ada@example.com"),
            Err(SealError::Open)
        );
        assert_eq!(
            open(&key, &sealed, id, kind, "eve@example.com"),
            Err(SealError::Open)
        );
        assert_eq!(
            open(&key, "v1.AAAA", id, kind, "ada@example.com"),
            Err(SealError::Open)
        );
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

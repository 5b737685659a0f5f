//! Sealing a queued message: serialised and sealed with the service's secret key
//! ([`roster_crypto::sealing`]); the message's id, kind and recipient are the associated data,
//! so a sealed body copied onto another row does not open.

use roster_app::model::MailKind;
use roster_crypto::sealing::{self, SecretKey};
use uuid::Uuid;

use crate::templates::Rendered;

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
    let aad = associated_data(id, kind, recipient);
    Ok(sealing::seal(key, &plain, aad.as_bytes()))
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
    let aad = associated_data(id, kind, recipient);
    let plain = sealing::open(key, sealed, aad.as_bytes()).map_err(|_| SealError::Open)?;
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
}

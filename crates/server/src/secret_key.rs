//! The service's secret key (sealing queued mail now; TOTP secrets later): `secrets.key`, or
//! the file `secrets.key_file`, created with 32 random bytes (mode 0600) on first start.
//! Every node of a cluster must use the same key, or a node cannot open what another queued.

use std::io::Write;
use std::path::Path;

use roster_mail::SecretKey;
use secrecy::ExposeSecret;

use crate::settings::SecretKeySource;

/// Why the key could not be had. Names the file; never shows the key.
#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error("secrets.key_file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("secrets.key: {0}")]
    Inline(String),
}

/// The key from settings, creating the key file when it does not exist yet.
///
/// # Errors
/// A key file that cannot be read or created, or does not hold a key.
pub fn load_secret_key(source: &SecretKeySource) -> Result<SecretKey, SecretKeyError> {
    match source {
        SecretKeySource::Inline(key) => SecretKey::from_base64(key.expose_secret())
            .map_err(|e| SecretKeyError::Inline(e.to_string())),
        SecretKeySource::File(path) => load_or_create(path),
    }
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> SecretKeyError {
    SecretKeyError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Reads the key file: 32 raw bytes, or base64 of them (`openssl rand -base64 32 > file`).
fn read(path: &Path) -> Result<SecretKey, SecretKeyError> {
    let bytes = std::fs::read(path).map_err(|e| file_error(path, e))?;
    if let Ok(raw) = <[u8; 32]>::try_from(bytes.as_slice()) {
        return Ok(SecretKey::from_bytes(raw));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| file_error(path, "must hold 32 bytes, raw or base64-encoded"))?;
    SecretKey::from_base64(&text).map_err(|e| file_error(path, e))
}

fn load_or_create(path: &Path) -> Result<SecretKey, SecretKeyError> {
    if path.exists() {
        return read(path);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| file_error(parent, e))?;
    }
    let key = SecretKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(key.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| file_error(path, e))?;
            tracing::warn!(
                path = %path.display(),
                "created a new secret key (32 random bytes, mode 0600); back it up, and give \
                 every node of a cluster the same key (secrets.key or secrets.key_file)"
            );
            Ok(key)
        }
        // Another process created it between the check and the open: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(error) => Err(file_error(path, error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_file_is_created_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/secret.key");
        let source = SecretKeySource::File(path.clone());
        let first = load_secret_key(&source).unwrap();
        let second = load_secret_key(&source).unwrap();
        assert_eq!(first.as_bytes(), second.as_bytes());
        assert_eq!(std::fs::read(&path).unwrap().len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").unwrap();
        assert_eq!(load_secret_key(&source).unwrap().as_bytes(), &[0u8; 32]);
        std::fs::write(&path, "short").unwrap();
        let error = load_secret_key(&source).unwrap_err().to_string();
        assert!(error.contains("secret.key"), "{error}");
    }
}

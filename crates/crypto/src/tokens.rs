use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use roster_app::ports::{IssuedToken, TokenDigest, TokenSource};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// Prefix of session tokens: recognisable in logs and by secret scanners.
const SESSION_PREFIX: &str = "rst_";
/// 32 random bytes = 256 bits.
const SESSION_RANDOM_BYTES: usize = 32;
/// Base64url without padding of 32 bytes is 43 characters.
const SESSION_TOKEN_LEN: usize = SESSION_PREFIX.len() + 43;

/// Tokens from the operating system's CSPRNG; digests are SHA-256 (a fast digest is right
/// here: the token has 256 bits of entropy, so there is nothing to brute-force).
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomTokens;

impl TokenSource for RandomTokens {
    fn new_session_token(&self) -> IssuedToken {
        let mut bytes = [0u8; SESSION_RANDOM_BYTES];
        OsRng.fill_bytes(&mut bytes);
        let token = format!("{SESSION_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let digest = self.digest(&token);
        IssuedToken {
            token: SecretString::from(token),
            digest,
        }
    }

    fn digest(&self, token: &str) -> TokenDigest {
        TokenDigest::new(hex::encode(Sha256::digest(token.as_bytes())))
    }

    fn looks_like_session_token(&self, token: &str) -> bool {
        token.len() == SESSION_TOKEN_LEN
            && token.starts_with(SESSION_PREFIX)
            && token[SESSION_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn session_tokens_are_prefixed_unique_and_recognised() {
        let a = RandomTokens.new_session_token();
        let b = RandomTokens.new_session_token();
        assert!(a.token.expose_secret().starts_with("rst_"));
        assert_eq!(a.token.expose_secret().len(), SESSION_TOKEN_LEN);
        assert_ne!(a.token.expose_secret(), b.token.expose_secret());
        assert!(RandomTokens.looks_like_session_token(a.token.expose_secret()));
        assert_eq!(a.digest, RandomTokens.digest(a.token.expose_secret()));
    }

    #[test]
    fn digest_is_sha256_hex_and_not_the_token() {
        let digest = RandomTokens.digest("rst_abc");
        assert_eq!(digest.as_str().len(), 64);
        assert!(!digest.as_str().contains("abc"));
        assert_eq!(
            RandomTokens.digest("").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn foreign_tokens_are_not_session_tokens() {
        for token in [
            "",
            "rst_",
            "Bearer x",
            "rsk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "rst_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
        ] {
            assert!(!RandomTokens.looks_like_session_token(token), "{token}");
        }
    }
}

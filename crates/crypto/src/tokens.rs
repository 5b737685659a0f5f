use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use roster_app::model::{EmailTokenPurpose, IssuedToken, TokenDigest};
use roster_app::ports::TokenSource;
use roster_domain::ApiKeyId;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Prefix of session tokens: recognisable in logs and by secret scanners.
const SESSION_PREFIX: &str = "rst_";
/// 32 random bytes = 256 bits.
const SESSION_RANDOM_BYTES: usize = 32;
/// Base64url without padding of 32 bytes is 43 characters.
const SESSION_TOKEN_LEN: usize = SESSION_PREFIX.len() + 43;

/// Prefix of API keys. A key reads `rak_<key id as 32 hex digits>_<43 base64url characters>`:
/// the id makes verification one primary-key lookup, the 256-bit secret makes it unguessable.
const API_KEY_PREFIX: &str = "rak_";
const API_KEY_ID_LEN: usize = 32;
const API_KEY_LEN: usize = API_KEY_PREFIX.len() + API_KEY_ID_LEN + 1 + 43;

/// Prefix of the second step's token (`mfa_token`).
const MFA_PREFIX: &str = "rmf_";

/// Recovery codes are 16 characters of Crockford's base32 (80 random bits), shown in four
/// groups of four; the alphabet has no I, L, O or U, so a code read aloud or copied from paper
/// is not mistaken.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const RECOVERY_CHARS: usize = 16;
/// Hashed with the code, so a recovery code's digest is never another token's.
const RECOVERY_DIGEST_PREFIX: &str = "rrc_";

/// 32 random bytes from the OS, base64url without padding (43 characters).
fn random_b64url() -> String {
    let mut bytes = [0u8; SESSION_RANDOM_BYTES];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn is_b64url(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Tokens from the operating system's CSPRNG; digests are SHA-256 (a fast digest is right
/// here: the token has 256 bits of entropy, so there is nothing to brute-force).
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomTokens;

impl TokenSource for RandomTokens {
    fn new_session_token(&self) -> IssuedToken {
        self.issue(format!("{SESSION_PREFIX}{}", random_b64url()))
    }

    fn digest(&self, token: &str) -> TokenDigest {
        // Every authenticated request takes a digest; `hex::encode` collects a `String` one
        // `char` at a time, several times the cost of the SHA-256 itself.
        let mut hex = [0_u8; 64];
        hex::encode_to_slice(Sha256::digest(token.as_bytes()), &mut hex)
            .expect("64 hex digits hold a SHA-256");
        TokenDigest::new(std::str::from_utf8(&hex).expect("hex digits are ASCII"))
    }

    fn looks_like_session_token(&self, token: &str) -> bool {
        token.len() == SESSION_TOKEN_LEN
            && token.strip_prefix(SESSION_PREFIX).is_some_and(is_b64url)
    }

    fn new_api_key(&self, id: ApiKeyId) -> IssuedToken {
        let id = id.as_uuid().simple();
        self.issue(format!("{API_KEY_PREFIX}{id}_{}", random_b64url()))
    }

    fn api_key_id(&self, token: &str) -> Option<ApiKeyId> {
        if token.len() != API_KEY_LEN {
            return None;
        }
        let rest = token.strip_prefix(API_KEY_PREFIX)?;
        let (id, rest) = rest.split_at_checked(API_KEY_ID_LEN)?;
        let secret = rest.strip_prefix('_')?;
        let is_lower_hex = id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !is_lower_hex || !is_b64url(secret) {
            return None;
        }
        Uuid::try_parse(id).ok().map(ApiKeyId::new)
    }

    fn new_email_token(&self, purpose: EmailTokenPurpose) -> IssuedToken {
        self.issue(format!("{}{}", purpose.prefix(), random_b64url()))
    }

    fn looks_like_email_token(&self, purpose: EmailTokenPurpose, token: &str) -> bool {
        // Same shape as session tokens: a four-character prefix and 43 base64url characters.
        token.len() == purpose.prefix().len() + 43
            && token.strip_prefix(purpose.prefix()).is_some_and(is_b64url)
    }

    fn new_mfa_token(&self) -> IssuedToken {
        self.issue(format!("{MFA_PREFIX}{}", random_b64url()))
    }

    fn looks_like_mfa_token(&self, token: &str) -> bool {
        token.len() == MFA_PREFIX.len() + 43
            && token.strip_prefix(MFA_PREFIX).is_some_and(is_b64url)
    }

    fn new_recovery_code(&self) -> IssuedToken {
        let mut bytes = [0u8; RECOVERY_CHARS];
        OsRng.fill_bytes(&mut bytes);
        // 256 is a multiple of 32: taking each byte modulo 32 is unbiased.
        let chars: Vec<char> = bytes
            .iter()
            .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b % 32)]))
            .collect();
        let code = chars
            .chunks(4)
            .map(|group| group.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-");
        let digest = self
            .recovery_code_digest(&code)
            .unwrap_or_else(|| unreachable!("a new code is well formed"));
        IssuedToken {
            token: SecretString::from(code),
            digest,
        }
    }

    fn recovery_code_digest(&self, typed: &str) -> Option<TokenDigest> {
        let mut normalized = String::with_capacity(RECOVERY_CHARS);
        for c in typed.chars() {
            if c.is_whitespace() || c == '-' {
                continue;
            }
            // Crockford's reading of look-alikes.
            let c = match c.to_ascii_lowercase() {
                'i' | 'l' => '1',
                'o' => '0',
                other => other,
            };
            if !c.is_ascii() || !RECOVERY_ALPHABET.contains(&(c as u8)) {
                return None;
            }
            normalized.push(c);
            if normalized.len() > RECOVERY_CHARS {
                return None;
            }
        }
        (normalized.len() == RECOVERY_CHARS)
            .then(|| self.digest(&format!("{RECOVERY_DIGEST_PREFIX}{normalized}")))
    }
}

impl RandomTokens {
    fn issue(self, token: String) -> IssuedToken {
        let digest = self.digest(&token);
        IssuedToken {
            token: SecretString::from(token),
            digest,
        }
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
    fn email_tokens_carry_their_purpose_and_256_bits() {
        for purpose in [
            EmailTokenPurpose::PasswordReset,
            EmailTokenPurpose::EmailVerification,
            EmailTokenPurpose::Invitation,
        ] {
            let a = RandomTokens.new_email_token(purpose);
            let b = RandomTokens.new_email_token(purpose);
            let text = a.token.expose_secret();
            assert!(text.starts_with(purpose.prefix()), "{purpose:?}");
            // 4 prefix characters + 43 base64url characters = 32 random bytes.
            assert_eq!(text.len(), 47);
            assert_ne!(text, b.token.expose_secret());
            assert_eq!(a.digest, RandomTokens.digest(text));
            assert!(RandomTokens.looks_like_email_token(purpose, text));
            assert!(!RandomTokens.looks_like_session_token(text));
        }
        let reset = RandomTokens.new_email_token(EmailTokenPurpose::PasswordReset);
        let text = reset.token.expose_secret();
        assert!(!RandomTokens.looks_like_email_token(EmailTokenPurpose::Invitation, text));
        assert!(
            !RandomTokens.looks_like_email_token(EmailTokenPurpose::PasswordReset, &text[..46])
        );
        let swapped = format!("{}!", &text[..46]);
        assert!(!RandomTokens.looks_like_email_token(EmailTokenPurpose::PasswordReset, &swapped));
    }

    #[test]
    fn mfa_tokens_are_prefixed_and_recognised() {
        let a = RandomTokens.new_mfa_token();
        let text = a.token.expose_secret();
        assert!(text.starts_with("rmf_"));
        assert_eq!(text.len(), 47);
        assert!(RandomTokens.looks_like_mfa_token(text));
        assert!(!RandomTokens.looks_like_session_token(text));
        assert!(!RandomTokens.looks_like_mfa_token(&text[..46]));
        let session = RandomTokens.new_session_token();
        assert!(!RandomTokens.looks_like_mfa_token(session.token.expose_secret()));
    }

    #[test]
    fn recovery_codes_are_grouped_and_their_digest_forgives_case_spaces_and_look_alikes() {
        let a = RandomTokens.new_recovery_code();
        let b = RandomTokens.new_recovery_code();
        let code = a.token.expose_secret();
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(code.matches('-').count(), 3);
        assert_ne!(code, b.token.expose_secret());
        assert_eq!(
            RandomTokens.recovery_code_digest(code),
            Some(a.digest.clone())
        );
        let typed = format!(" {} ", code.replace('-', " ").to_uppercase());
        assert_eq!(
            RandomTokens.recovery_code_digest(&typed),
            Some(a.digest.clone())
        );
        assert_eq!(
            RandomTokens.recovery_code_digest("0000-1111-2222-3333"),
            RandomTokens.recovery_code_digest("oooo-iiii-2222-3333"),
        );
        assert_ne!(
            a.digest,
            RandomTokens.digest(code),
            "not a bare token digest"
        );
        for wrong in [
            "",
            "123456",
            "0000-1111-2222-333",
            "0000-1111-2222-33333",
            "uuuu-1111-2222-3333",
        ] {
            assert_eq!(RandomTokens.recovery_code_digest(wrong), None, "{wrong}");
        }
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
    fn api_keys_carry_their_id_and_a_256_bit_secret() {
        let id = ApiKeyId::new(Uuid::now_v7());
        let a = RandomTokens.new_api_key(id);
        let b = RandomTokens.new_api_key(id);
        let key = a.token.expose_secret();
        assert_eq!(key.len(), API_KEY_LEN);
        assert!(key.starts_with("rak_"));
        assert_ne!(key, b.token.expose_secret());
        assert_eq!(RandomTokens.api_key_id(key), Some(id));
        assert_eq!(a.digest, RandomTokens.digest(key));
        assert!(!RandomTokens.looks_like_session_token(key));
        let session = RandomTokens.new_session_token();
        assert_eq!(RandomTokens.api_key_id(session.token.expose_secret()), None);
    }

    #[test]
    fn malformed_api_keys_have_no_id() {
        let id = "0190a4b27c3d7e8f9a0b1c2d3e4f5a6b";
        let secret = "a".repeat(43);
        assert!(
            RandomTokens
                .api_key_id(&format!("rak_{id}_{secret}"))
                .is_some()
        );
        for key in [
            String::new(),
            format!("rak_{id}_{}", "a".repeat(42)),
            format!("rak_{id}-{secret}"),
            format!("rsk_{id}_{secret}"),
            format!("rak_{}_{secret}", id.to_uppercase()),
            format!("rak_{}g_{secret}", &id[..31]),
            format!("rak_{id}_{}!", "a".repeat(42)),
            format!("rak_{id}_{}é", "a".repeat(41)),
        ] {
            assert_eq!(RandomTokens.api_key_id(&key), None, "{key}");
        }
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

//! RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30-second steps) with `totp-rs`, the secret sealed
//! under the service's key and bound to its account, so a secret copied onto another
//! account's row does not open.

use chrono::{DateTime, Utc};
use rand::RngCore;
use rand::rngs::OsRng;
use roster_app::model::{SealedTotpSecret, TotpEnrolment, TotpError};
use roster_app::ports::Totp;
use roster_domain::{Account, AccountId};
use secrecy::SecretString;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use crate::sealing::{self, SecretKey};

/// 160 random bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
const DIGITS: usize = 6;
const STEP_SECS: i64 = 30;
/// Steps accepted either side of the current one (clock drift of the phone).
const DRIFT_STEPS: i64 = 1;

/// TOTP with secrets sealed under `key`; `issuer` names the service in authenticator apps.
#[derive(Debug, Clone)]
pub struct SealedTotp {
    key: SecretKey,
    issuer: String,
}

impl SealedTotp {
    pub fn new(key: SecretKey, issuer: impl Into<String>) -> Self {
        Self {
            key,
            issuer: issuer.into(),
        }
    }

    fn associated(account: AccountId) -> String {
        format!("totp|{account}")
    }

    /// The TOTP for `secret`, labelled with the issuer and the account's email. `None` for
    /// a secret shorter than 128 bits (never one made here).
    fn totp(&self, secret: Vec<u8>, account: &Account) -> Option<TOTP> {
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_SECS.unsigned_abs(),
            secret,
            Some(self.issuer.clone()),
            account.email.as_str().replace(':', ""),
        )
        .into()
    }
}

impl Totp for SealedTotp {
    fn new_secret(&self, account: &Account) -> TotpEnrolment {
        let mut secret = vec![0u8; SECRET_BYTES];
        OsRng.fill_bytes(&mut secret);
        let sealed = sealing::seal(&self.key, &secret, Self::associated(account.id).as_bytes());
        let totp = self.totp(secret, account).unwrap_or_else(|| unreachable!());
        TotpEnrolment {
            sealed: SealedTotpSecret(sealed),
            secret: SecretString::from(totp.get_secret_base32()),
            otpauth_uri: SecretString::from(totp.get_url()),
        }
    }

    fn matching_step(
        &self,
        account: &Account,
        sealed: &SealedTotpSecret,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, TotpError> {
        let secret = sealing::open(
            &self.key,
            &sealed.0,
            Self::associated(account.id).as_bytes(),
        )
        .map_err(|e| TotpError::Unreadable(e.to_string()))?;
        let totp = self
            .totp(secret, account)
            .ok_or_else(|| TotpError::Unreadable("malformed secret".into()))?;
        let current = now.timestamp().div_euclid(STEP_SECS);
        let mut matched = None;
        // Every candidate is computed and compared, whichever matches, so the time taken does
        // not tell which step (if any) a guess hit.
        for step in current - DRIFT_STEPS..=current + DRIFT_STEPS {
            let Ok(at) = u64::try_from(step * STEP_SECS) else {
                continue;
            };
            let expected = totp.generate(at);
            if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
                matched = Some(step);
            }
        }
        Ok(matched)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use roster_domain::{AccountStatus, Email};
    use secrecy::ExposeSecret;
    use uuid::Uuid;

    use super::*;

    fn account(n: u128) -> Account {
        let at = Utc.with_ymd_and_hms(2026, 12, 8, 9, 0, 0).unwrap();
        Account {
            id: AccountId::new(Uuid::from_u128(n)),
            email: Email::parse("ada@example.com").unwrap(),
            name: None,
            status: AccountStatus::Active,
            is_superadmin: false,
            email_verified: true,
            has_second_factor: false,
            created_at: at,
            updated_at: at,
        }
    }

    /// The code an authenticator app shows at `at` for the base32 `secret`.
    fn app_code(secret: &str, at: DateTime<Utc>) -> String {
        let bytes = totp_rs::Secret::Encoded(secret.to_owned())
            .to_bytes()
            .unwrap();
        TOTP::new_unchecked(Algorithm::SHA1, 6, 0, 30, bytes, None, String::new())
            .generate(u64::try_from(at.timestamp()).unwrap())
    }

    #[test]
    fn codes_of_the_current_step_and_one_either_side_match_with_their_step() {
        let totp = SealedTotp::new(SecretKey::generate(), "Roster");
        let ada = account(1);
        let enrolment = totp.new_secret(&ada);
        let secret = enrolment.secret.expose_secret().to_owned();
        let now = Utc.with_ymd_and_hms(2026, 12, 8, 12, 0, 10).unwrap();
        let step = now.timestamp() / 30;
        for (drift, expected) in [
            (-60, None),
            (-30, Some(step - 1)),
            (0, Some(step)),
            (30, Some(step + 1)),
            (60, None),
        ] {
            let code = app_code(&secret, now + chrono::Duration::seconds(drift));
            let found = totp
                .matching_step(&ada, &enrolment.sealed, &code, now)
                .unwrap();
            // A code of a far step can equal a near one's by chance (1 in a million).
            if found != expected {
                assert_eq!(expected, None, "drift {drift}");
            }
        }
        assert_eq!(
            totp.matching_step(&ada, &enrolment.sealed, "12345", now)
                .unwrap(),
            None
        );
    }

    #[test]
    fn the_uri_names_the_issuer_and_the_account_and_the_sealed_secret_hides_it() {
        let totp = SealedTotp::new(SecretKey::generate(), "Roster");
        let enrolment = totp.new_secret(&account(1));
        let uri = enrolment.otpauth_uri.expose_secret();
        assert!(
            uri.starts_with("otpauth://totp/Roster:ada%40example.com?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", enrolment.secret.expose_secret())));
        assert!(uri.contains("issuer=Roster"));
        assert_eq!(
            enrolment.secret.expose_secret().len(),
            32,
            "160 bits in base32"
        );
        assert!(
            !enrolment
                .sealed
                .0
                .contains(enrolment.secret.expose_secret())
        );
    }

    #[test]
    fn a_secret_does_not_open_for_another_account_or_under_another_key() {
        let key = SecretKey::generate();
        let totp = SealedTotp::new(key, "Roster");
        let enrolment = totp.new_secret(&account(1));
        let now = Utc::now();
        assert!(matches!(
            totp.matching_step(&account(2), &enrolment.sealed, "000000", now),
            Err(TotpError::Unreadable(_))
        ));
        let other = SealedTotp::new(SecretKey::generate(), "Roster");
        assert!(matches!(
            other.matching_step(&account(1), &enrolment.sealed, "000000", now),
            Err(TotpError::Unreadable(_))
        ));
    }
}

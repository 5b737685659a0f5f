//! Second factors by code: an authenticator app (TOTP) and recovery codes, set up and
//! removed by the account itself, and the step-up that makes a session's second factor
//! recent again.
//!
//! Passkeys are left out on purpose: registering one, or signing in or stepping up with
//! one, is a WebAuthn ceremony that needs an authenticator (a security key, a phone, a
//! browser's platform authenticator) to sign a challenge. A service calling Roster has no
//! such authenticator; people use passkeys through the console. [`Client::my_mfa`] still
//! lists them.

use chrono::{DateTime, Utc};
use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::client::{Client, Retry};
use crate::error::Error;

/// `GET /v1/account/me/mfa`: the account's second factors.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MfaStatus {
    /// Whether a confirmed authenticator app is set up.
    pub totp: bool,
    /// How many unused recovery codes are left.
    pub recovery_codes_left: u32,
    /// The account's passkeys.
    pub passkeys: Vec<Passkey>,
}

/// A passkey as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Passkey {
    /// Its id.
    pub id: Uuid,
    /// The name its owner gave it.
    pub name: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last signed in or stepped up, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new authenticator-app secret, pending until [`Client::confirm_totp`]; shown only in
/// this answer. `Debug` shows both fields redacted.
#[derive(Debug, Clone, Deserialize)]
pub struct TotpEnrolment {
    /// The secret in base32 (SHA-1, 6 digits, 30 s steps), for typing into an app.
    pub secret: SecretString,
    /// `otpauth://totp/...`, for a QR code; it holds the secret too.
    pub otpauth_uri: SecretString,
}

#[derive(Deserialize)]
struct RecoveryCodes {
    recovery_codes: Vec<SecretString>,
}

#[derive(Serialize)]
struct Code<'a> {
    code: &'a str,
}

#[derive(Serialize)]
struct PasswordConfirmation<'a> {
    password: &'a str,
}

impl Client {
    /// `GET /v1/account/me/mfa`: this account's second factors (a session token only).
    pub async fn my_mfa(&self) -> Result<MfaStatus, Error> {
        self.get("/v1/account/me/mfa").await
    }

    /// `POST /v1/account/me/mfa/totp`: a new pending authenticator-app secret (asking again
    /// replaces a pending one; 409 `mfa_already_enrolled` once confirmed). Needs a recent
    /// sign-in or second factor. Never re-sent once sent.
    pub async fn begin_totp(&self) -> Result<TotpEnrolment, Error> {
        self.call(
            Method::POST,
            "/v1/account/me/mfa/totp",
            None::<&()>,
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `POST /v1/account/me/mfa/totp/confirm`: confirms the pending secret with a code from
    /// the app; logins take two steps from now on. Answers ten recovery codes, shown only
    /// here (an older set stops working). Never re-sent once sent: codes are counted.
    pub async fn confirm_totp(&self, code: &str) -> Result<Vec<SecretString>, Error> {
        let codes: RecoveryCodes = self
            .call(
                Method::POST,
                "/v1/account/me/mfa/totp/confirm",
                Some(&Code { code }),
                Retry::OnlyUnsent,
            )
            .await?;
        Ok(codes.recovery_codes)
    }

    /// `DELETE /v1/account/me/mfa/totp`: removes the authenticator app after checking the
    /// account's password (a wrong one counts as a failed login, so never re-sent once
    /// sent). Needs a recent second factor ([`Client::step_up`]).
    pub async fn remove_totp(&self, password: &str) -> Result<(), Error> {
        self.call_no_content(
            Method::DELETE,
            "/v1/account/me/mfa/totp",
            Some(&PasswordConfirmation { password }),
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `POST /v1/account/me/mfa/recovery-codes`: ten new recovery codes after checking the
    /// password; the old ones stop working. Needs a recent second factor. Never re-sent
    /// once sent.
    pub async fn renew_recovery_codes(&self, password: &str) -> Result<Vec<SecretString>, Error> {
        let codes: RecoveryCodes = self
            .call(
                Method::POST,
                "/v1/account/me/mfa/recovery-codes",
                Some(&PasswordConfirmation { password }),
                Retry::OnlyUnsent,
            )
            .await?;
        Ok(codes.recovery_codes)
    }

    /// `POST /v1/auth/step-up`: makes this session's second factor recent (for
    /// `mfa.step_up_window`) with an authenticator-app code or a recovery code, as creating
    /// API keys, disabling accounts or giving the power to grant require. Wrong codes count
    /// toward the login throttle: never re-sent once sent.
    pub async fn step_up(&self, code: &str) -> Result<(), Error> {
        self.call_no_content(
            Method::POST,
            "/v1/auth/step-up",
            Some(&Code { code }),
            Retry::OnlyUnsent,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn secrets_of_an_enrolment_and_recovery_codes_never_show_in_debug() {
        let enrolment: TotpEnrolment = serde_json::from_str(
            r#"{"secret": "JBSWY3DPEHPK3PXP",
                "otpauth_uri": "otpauth://totp/Roster:ada?secret=JBSWY3DPEHPK3PXP"}"#,
        )
        .unwrap();
        assert_eq!(enrolment.secret.expose_secret(), "JBSWY3DPEHPK3PXP");
        let codes: RecoveryCodes =
            serde_json::from_str(r#"{"recovery_codes": ["7kq2-9fzt-w3mc-0xhd"]}"#).unwrap();
        assert_eq!(
            codes.recovery_codes[0].expose_secret(),
            "7kq2-9fzt-w3mc-0xhd"
        );
        let shown = format!("{enrolment:?} {:?}", codes.recovery_codes);
        assert!(
            !shown.contains("JBSWY3DPEHPK3PXP") && !shown.contains("7kq2"),
            "{shown}"
        );
    }
}

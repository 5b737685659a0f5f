//! What people do for themselves: registering, the sign-up policy, their sessions and
//! password, a forgotten password and a verified address by emailed link. The public
//! routes are sent without this client's token.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::client::{Client, Retry};
use crate::error::Error;
use crate::types::{Account, Page};

/// What a self-registration answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationOutcome {
    /// The account was created (unverified while the service requires verification: it
    /// can log in once its emailed link is followed).
    Created(Box<Account>),
    /// Enumeration-safe mode: the outcome went by email, and the answer is the same whether
    /// or not the address had an account.
    CheckYourEmail,
}

/// `GET /v1/account/registration-policy`: what a sign-up form shows before anyone types.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegistrationPolicy {
    /// Whether self-registration is on right now (the `account-registration` flag).
    pub open: bool,
    /// The domains that may self-register, in canonical form; `*.example.org` is any
    /// subdomain of it but not `example.org` itself. Empty: any domain.
    pub allowed_domains: Vec<String>,
    /// Whether a new account must verify its address before it can log in.
    pub email_verification: EmailVerification,
    /// The bounds of a password.
    pub password: PasswordRules,
}

/// Whether a self-registered account must verify its email address before logging in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailVerification {
    /// It can log in at once.
    Off,
    /// It must follow its emailed link first.
    Required,
}

/// The password policy's bounds, in Unicode scalar values after NFKC normalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PasswordRules {
    /// The fewest characters.
    pub min_length: u32,
    /// The most characters.
    pub max_length: u32,
}

/// One of the caller's live sessions (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LiveSession {
    /// Its id, for [`Client::revoke_my_session`].
    pub id: Uuid,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was last used (written back at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// Its absolute end.
    pub expires_at: DateTime<Utc>,
    /// Whether this is the session making the request.
    pub current: bool,
    /// The `User-Agent` sent at login, if any.
    pub user_agent: Option<String>,
    /// The client's address at login, if known.
    pub source_ip: Option<String>,
    /// How it was opened and stepped up since: `pwd`, `otp`, `recovery`, `passkey`.
    pub auth_methods: Vec<String>,
}

/// `{"status": "check_your_email"}`: the answer of a request whose outcome goes by email,
/// read to be sure the service answered what it documents (nothing else is in it).
#[derive(Deserialize)]
struct CheckYourEmail {
    #[serde(rename = "status")]
    _status: MailedStatus,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum MailedStatus {
    CheckYourEmail,
}

/// A registration answers an account (201) or `{"status": "check_your_email"}` (202).
#[derive(Deserialize)]
#[serde(untagged)]
enum RegisterAnswer {
    Created(Box<Account>),
    CheckYourEmail(CheckYourEmail),
}

#[derive(Serialize)]
struct Registration<'a> {
    email: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct PasswordChange<'a> {
    current_password: &'a str,
    new_password: &'a str,
}

#[derive(Serialize)]
struct EmailAddress<'a> {
    email: &'a str,
}

#[derive(Serialize)]
struct ResetConfirmation<'a> {
    token: &'a str,
    new_password: &'a str,
}

#[derive(Serialize)]
struct LinkToken<'a> {
    token: &'a str,
}

impl Client {
    /// `POST /v1/account/register` (public, while `account-registration` is on): creates an
    /// account with no grants. Never re-sent once sent.
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        name: Option<&str>,
    ) -> Result<RegistrationOutcome, Error> {
        let answer: RegisterAnswer = self
            .without_token()
            .call(
                Method::POST,
                "/v1/account/register",
                Some(&Registration {
                    email,
                    password,
                    name,
                }),
                Retry::OnlyUnsent,
            )
            .await?;
        Ok(match answer {
            RegisterAnswer::Created(account) => RegistrationOutcome::Created(account),
            RegisterAnswer::CheckYourEmail(_) => RegistrationOutcome::CheckYourEmail,
        })
    }

    /// `GET /v1/account/registration-policy` (public): whether sign-up is open and what it
    /// asks for.
    pub async fn registration_policy(&self) -> Result<RegistrationPolicy, Error> {
        self.without_token()
            .get("/v1/account/registration-policy")
            .await
    }

    /// `GET /v1/account/me/sessions`: the live sessions of this client's account, newest
    /// first (a session token only; an API key has no sessions).
    pub async fn my_sessions(&self) -> Result<Page<LiveSession>, Error> {
        self.get("/v1/account/me/sessions").await
    }

    /// `DELETE /v1/account/me/sessions/{id}`: ends one of the account's sessions (this one
    /// included). Retried like a read.
    pub async fn revoke_my_session(&self, id: Uuid) -> Result<(), Error> {
        self.call_no_content(
            Method::DELETE,
            &format!("/v1/account/me/sessions/{id}"),
            None::<&()>,
            Retry::Safe,
        )
        .await
    }

    /// `PUT /v1/account/me/password`: changes this account's password; every other session
    /// of it ends. A wrong `current` is 422 naming `current_password`, and counts as a
    /// failed login: never re-sent once sent.
    pub async fn change_my_password(&self, current: &str, new: &str) -> Result<(), Error> {
        self.call_no_content(
            Method::PUT,
            "/v1/account/me/password",
            Some(&PasswordChange {
                current_password: current,
                new_password: new,
            }),
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `POST /v1/account/password-reset` (public): emails a reset link to `email` if an
    /// active account has it. The answer is the same either way. Never re-sent once sent.
    pub async fn request_password_reset(&self, email: &str) -> Result<(), Error> {
        let _: CheckYourEmail = self
            .without_token()
            .call(
                Method::POST,
                "/v1/account/password-reset",
                Some(&EmailAddress { email }),
                Retry::OnlyUnsent,
            )
            .await?;
        Ok(())
    }

    /// `POST /v1/account/password-reset/confirm` (public): sets a new password with the
    /// emailed link's `rpr_...` token; every session of the account ends.
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        new_password: &str,
    ) -> Result<(), Error> {
        self.without_token()
            .call_no_content(
                Method::POST,
                "/v1/account/password-reset/confirm",
                Some(&ResetConfirmation {
                    token,
                    new_password,
                }),
                Retry::OnlyUnsent,
            )
            .await
    }

    /// `POST /v1/account/verify-email` (public): verifies an address with the emailed
    /// link's `rev_...` token; answers the account, now verified. Does not sign in.
    pub async fn verify_email(&self, token: &str) -> Result<Account, Error> {
        self.without_token()
            .call(
                Method::POST,
                "/v1/account/verify-email",
                Some(&LinkToken { token }),
                Retry::OnlyUnsent,
            )
            .await
    }

    /// `POST /v1/account/verify-email/resend` (public): emails a new verification link if
    /// an active unverified account has `email`. The answer is the same either way.
    pub async fn resend_verification(&self, email: &str) -> Result<(), Error> {
        let _: CheckYourEmail = self
            .without_token()
            .call(
                Method::POST,
                "/v1/account/verify-email/resend",
                Some(&EmailAddress { email }),
                Retry::OnlyUnsent,
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_answer_is_an_account_or_check_your_email() {
        let created: RegisterAnswer = serde_json::from_str(
            r#"{"id": "0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07", "email": "ada@example.com",
                "name": null, "status": "active", "is_superadmin": false,
                "email_verified": false, "created_at": "2026-11-28T10:00:00Z",
                "updated_at": "2026-11-28T10:00:00Z"}"#,
        )
        .unwrap();
        assert!(matches!(created, RegisterAnswer::Created(account) if !account.email_verified));
        let mailed: RegisterAnswer =
            serde_json::from_str(r#"{"status": "check_your_email"}"#).unwrap();
        assert!(matches!(mailed, RegisterAnswer::CheckYourEmail(_)));
    }
}

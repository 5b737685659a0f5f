//! Signing in and out, who the caller is, and the questions services ask: may this be done
//! (`check`), and whose is this token (`introspect`).

use chrono::{DateTime, Utc};
use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::client::{Client, Retry};
use crate::error::Error;
use crate::introspection::{Introspection, IntrospectionBody};
use crate::types::{Account, ApiKey, Grant, Rule};

/// What `login` answers: a session, or the second step for an account with a second factor.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// Signed in.
    Session(Box<Session>),
    /// The password was right; finish with [`Client::login_second_factor`] within
    /// `expires_at`.
    SecondFactor(SecondFactorRequired),
}

/// A new session.
#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    /// The session token (`rst_...`): use it with [`Client::with_token`].
    pub token: SecretString,
    /// The session's id (as listed among the account's sessions).
    pub session_id: Uuid,
    /// Its absolute end (it also ends after the idle timeout).
    pub expires_at: DateTime<Utc>,
    /// The account signed in.
    pub account: Account,
}

/// The second step of a login.
#[derive(Debug, Clone, Deserialize)]
pub struct SecondFactorRequired {
    /// The second step's token (`rmf_...`).
    pub mfa_token: SecretString,
    /// The factors the account can finish with: `otp`, `recovery`, `passkey`.
    pub methods: Vec<String>,
    /// When the second step expires.
    pub expires_at: DateTime<Utc>,
}

/// `GET /v1/account/me`: a session's account or an API key, with its grants.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Me {
    /// Present for a session token.
    pub account: Option<Account>,
    /// Present for an API key.
    pub api_key: Option<ApiKey>,
    /// The caller's grants.
    pub grants: Vec<Grant>,
    /// True while the MFA policy requires this account to set up a second factor first.
    pub mfa_enrolment_required: bool,
}

/// `POST /v1/authz/check`: may the caller, or the given account or API key, do `action` on
/// `scope`?
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRequest {
    /// The action, e.g. `issuer-sign`.
    pub action: String,
    /// One place: `*` or a dot path.
    pub scope: String,
    /// Check this account instead of the caller (needs `account-read` on `*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Uuid>,
    /// Check this API key instead of the caller (needs `account-read` on `*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<Uuid>,
}

impl CheckRequest {
    /// May the caller do `action` on `scope`?
    pub fn new(action: impl Into<String>, scope: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            scope: scope.into(),
            account_id: None,
            api_key_id: None,
        }
    }

    /// Asks about this account instead of the caller.
    #[must_use]
    pub fn for_account(mut self, id: Uuid) -> Self {
        self.account_id = Some(id);
        self
    }

    /// Asks about this API key instead of the caller.
    #[must_use]
    pub fn for_api_key(mut self, id: Uuid) -> Self {
        self.api_key_id = Some(id);
        self
    }
}

/// The answer of a check and what decided it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckResponse {
    /// Whether it is allowed.
    pub allowed: bool,
    /// What decided it.
    pub explanation: Explanation,
}

/// What decided a check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Explanation {
    /// `superadmin`, `allowed_by`, `denied_by`, `no_matching_grant` or `inactive`.
    pub reason: String,
    /// A sentence for people.
    pub message: String,
    /// The deciding grant (`allowed_by`, `denied_by`).
    pub grant: Option<Grant>,
    /// The deciding rule (`allowed_by`, `denied_by`).
    pub rule: Option<Rule>,
}

/// `GET /v1/features`: the feature flags of the node that answered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Features {
    /// Every known flag.
    pub features: Vec<Feature>,
}

/// One feature flag and its state on the node.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Feature {
    /// Its name, e.g. `account-registration`.
    pub name: String,
    /// Whether it is on.
    pub enabled: bool,
    /// Whether it is on when the file does not mention it.
    pub default: bool,
    /// What it switches.
    pub description: String,
}

#[derive(Serialize)]
struct Credentials<'a> {
    email: &'a str,
    password: &'a str,
}

#[derive(Serialize)]
struct SecondFactorCode<'a> {
    mfa_token: &'a str,
    code: &'a str,
}

#[derive(Serialize)]
struct TokenQuestion<'a> {
    token: &'a str,
}

/// The two shapes of a login answer, told apart by `mfa_required`.
#[derive(Deserialize)]
#[serde(untagged)]
enum LoginAnswer {
    SecondFactor(SecondFactorRequired),
    Session(Box<Session>),
}

impl Client {
    /// `POST /v1/auth/login`. Never retried once sent: each attempt counts against the
    /// account's login throttle.
    pub async fn login(&self, email: &str, password: &str) -> Result<LoginOutcome, Error> {
        let answer: LoginAnswer = self
            .without_token()
            .call(
                Method::POST,
                "/v1/auth/login",
                Some(&Credentials { email, password }),
                Retry::OnlyUnsent,
            )
            .await?;
        Ok(match answer {
            LoginAnswer::Session(session) => LoginOutcome::Session(session),
            LoginAnswer::SecondFactor(step) => LoginOutcome::SecondFactor(step),
        })
    }

    /// `POST /v1/auth/login/mfa`: finishes a login with an authenticator app's code or a
    /// recovery code.
    pub async fn login_second_factor(&self, mfa_token: &str, code: &str) -> Result<Session, Error> {
        self.without_token()
            .call(
                Method::POST,
                "/v1/auth/login/mfa",
                Some(&SecondFactorCode { mfa_token, code }),
                Retry::OnlyUnsent,
            )
            .await
    }

    /// `POST /v1/auth/logout`: ends this client's session.
    pub async fn logout(&self) -> Result<(), Error> {
        self.call_no_content(Method::POST, "/v1/auth/logout", None::<&()>, Retry::Safe)
            .await
    }

    /// `GET /v1/account/me`: who this client's token belongs to, with its grants.
    pub async fn me(&self) -> Result<Me, Error> {
        self.get("/v1/account/me").await
    }

    /// `POST /v1/authz/check`: Roster decides, with what decided it.
    pub async fn check(&self, request: &CheckRequest) -> Result<CheckResponse, Error> {
        self.call(Method::POST, "/v1/authz/check", Some(request), Retry::Safe)
            .await
    }

    /// `POST /v1/auth/introspect`: whether `token` can be used now and, if so, whose it is
    /// and what it holds. This client's token must hold `token-introspect` on `*`.
    pub async fn introspect(&self, token: &str) -> Result<Introspection, Error> {
        let body: IntrospectionBody = self
            .call(
                Method::POST,
                "/v1/auth/introspect",
                Some(&TokenQuestion { token }),
                Retry::Safe,
            )
            .await?;
        Introspection::try_from(body)
    }

    /// `GET /v1/features`: the flags of the node that answered.
    pub async fn features(&self) -> Result<Features, Error> {
        self.get("/v1/features").await
    }
}

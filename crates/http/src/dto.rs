//! Wire shapes. Requests deny unknown fields so a typo such as `pasword` is an error.

use chrono::{DateTime, SecondsFormat, Utc};
use roster_app::{FeatureReport, FeatureState, LoginSuccess, OwnSession, RegistrationForm};
use roster_domain::{Account, DisplayName, Grant};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// RFC 3339 UTC with a `Z`, whole seconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `POST /v1/account/register` and `POST /v1/admin/account/register`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: String,
    pub password: SecretString,
    #[serde(default)]
    pub name: Option<String>,
}

impl From<RegisterRequest> for RegistrationForm {
    fn from(request: RegisterRequest) -> Self {
        RegistrationForm {
            email: request.email,
            password: request.password,
            name: request.name,
        }
    }
}

/// `POST /v1/auth/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: SecretString,
}

/// An account as clients see it: never the password or its hash.
#[derive(Debug, Serialize)]
pub struct AccountDto {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub status: &'static str,
    pub is_superadmin: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Account> for AccountDto {
    fn from(account: &Account) -> Self {
        Self {
            id: account.id.to_string(),
            email: account.email.as_str().to_owned(),
            name: account
                .name
                .as_ref()
                .map(DisplayName::as_str)
                .map(str::to_owned),
            status: account.status.as_str(),
            is_superadmin: account.is_superadmin,
            created_at: timestamp(account.created_at),
            updated_at: timestamp(account.updated_at),
        }
    }
}

/// A grant as clients see it.
#[derive(Debug, Serialize)]
pub struct GrantDto {
    pub id: String,
    pub role: String,
    pub scope: String,
}

impl From<&Grant> for GrantDto {
    fn from(grant: &Grant) -> Self {
        Self {
            id: grant.id.to_string(),
            role: grant.role.to_string(),
            scope: grant.scope.to_string(),
        }
    }
}

/// `GET /v1/account/me` for a session.
#[derive(Debug, Serialize)]
pub struct MeResponse {
    pub account: AccountDto,
    pub grants: Vec<GrantDto>,
}

/// `PUT /v1/account/me/password`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: SecretString,
    pub new_password: SecretString,
}

/// `PUT /v1/admin/accounts/{id}/password`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub new_password: SecretString,
}

/// One of the caller's sessions.
#[derive(Debug, Serialize)]
pub struct SessionDto {
    pub id: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub current: bool,
}

impl From<&OwnSession> for SessionDto {
    fn from(own: &OwnSession) -> Self {
        Self {
            id: own.session.id.to_string(),
            created_at: timestamp(own.session.created_at),
            last_seen_at: timestamp(own.session.last_seen_at),
            expires_at: timestamp(own.session.expires_at),
            current: own.current,
        }
    }
}

/// A page of a list: `{"items": [...], "next_cursor": string|null}`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `?limit=&cursor=` plus list-specific filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountListQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub email: Option<String>,
}

/// An account with its grants (admin registration, account details).
#[derive(Debug, Serialize)]
pub struct AccountWithGrantsDto {
    #[serde(flatten)]
    pub account: AccountDto,
    pub grants: Vec<GrantDto>,
}

/// `POST /v1/auth/login` response.
#[derive(Debug, Serialize)]
pub struct LoginResponse {
    pub token: String,
    pub token_type: &'static str,
    pub session_id: String,
    pub expires_at: String,
    pub account: AccountDto,
}

impl From<LoginSuccess> for LoginResponse {
    fn from(success: LoginSuccess) -> Self {
        Self {
            token: success.token.expose_secret().to_owned(),
            token_type: "Bearer",
            session_id: success.session_id.to_string(),
            expires_at: timestamp(success.expires_at),
            account: AccountDto::from(&success.account),
        }
    }
}

/// `GET /v1/features` response.
#[derive(Debug, Serialize)]
pub struct FeaturesResponse {
    pub features: Vec<FeatureDto>,
    pub file: FeatureFileDto,
}

#[derive(Debug, Serialize)]
pub struct FeatureDto {
    pub name: &'static str,
    pub enabled: bool,
    pub default: bool,
    pub description: &'static str,
}

#[derive(Debug, Serialize)]
pub struct FeatureFileDto {
    pub loaded_at: String,
    pub error: Option<String>,
}

impl From<FeatureReport> for FeaturesResponse {
    fn from(report: FeatureReport) -> Self {
        let feature = |state: &FeatureState| FeatureDto {
            name: state.feature.name(),
            enabled: state.enabled,
            default: state.feature.default_enabled(),
            description: state.feature.description(),
        };
        Self {
            features: report.features.iter().map(feature).collect(),
            file: FeatureFileDto {
                loaded_at: timestamp(report.loaded_at),
                error: report.error,
            },
        }
    }
}

/// `GET /healthz` and `GET /readyz` bodies.
#[derive(Debug, Serialize)]
pub struct HealthResponse {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

//! Wire shapes. Requests deny unknown fields so a typo such as `pasword` is an error.

use chrono::{DateTime, SecondsFormat, Utc};
use roster_app::audit::AuditEvent;
use roster_app::ports::{ApiKey, GrantRecord, NewGrant, StoredRole};
use roster_app::{
    CheckForm, CheckOutcome, CreatedApiKey, FeatureReport, FeatureState, GrantForm, LoginSuccess,
    OwnSession, RegistrationForm, RoleForm, RuleForm,
};
use roster_domain::{Account, DisplayName, Grant, Reason};
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

/// A grant as clients see it. `created_at` and `created_by` are shown where the grant was
/// read with its provenance (grant lists, creation responses).
#[derive(Debug, Serialize)]
pub struct GrantDto {
    pub id: String,
    pub role: String,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl From<&Grant> for GrantDto {
    fn from(grant: &Grant) -> Self {
        Self {
            id: grant.id.to_string(),
            role: grant.role.to_string(),
            scope: grant.scope.to_string(),
            created_at: None,
            created_by: None,
        }
    }
}

impl From<&GrantRecord> for GrantDto {
    fn from(record: &GrantRecord) -> Self {
        Self {
            created_at: Some(timestamp(record.created_at)),
            created_by: record.created_by.clone(),
            ..GrantDto::from(&record.grant)
        }
    }
}

impl From<&NewGrant> for GrantDto {
    fn from(grant: &NewGrant) -> Self {
        Self {
            id: grant.id.to_string(),
            role: grant.role.to_string(),
            scope: grant.scope.to_string(),
            created_at: Some(timestamp(grant.created_at)),
            created_by: grant.created_by.clone(),
        }
    }
}

/// `{"role", "scope"}`: a grant to create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub role: String,
    pub scope: String,
}

impl From<GrantRequest> for GrantForm {
    fn from(request: GrantRequest) -> Self {
        GrantForm {
            role: request.role,
            scope: request.scope,
        }
    }
}

/// `POST /v1/admin/account/register`: a registration plus optional grants.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRegisterRequest {
    pub email: String,
    pub password: SecretString,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub grants: Vec<GrantRequest>,
}

/// One rule of a role.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDto {
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

/// `POST /v1/admin/roles` and `PUT /v1/admin/roles/{name}` (where `name` may be left out).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub permissions: Vec<RuleDto>,
}

impl RoleRequest {
    pub fn into_form(self, name: String) -> RoleForm {
        RoleForm {
            name,
            description: self.description,
            permissions: self
                .permissions
                .into_iter()
                .map(|rule| RuleForm {
                    action: rule.action,
                    effect: rule.effect,
                })
                .collect(),
        }
    }
}

/// A role as clients see it.
#[derive(Debug, Serialize)]
pub struct RoleDto {
    pub name: String,
    pub description: String,
    pub permissions: Vec<RuleDto>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&StoredRole> for RoleDto {
    fn from(stored: &StoredRole) -> Self {
        Self {
            name: stored.role.name.to_string(),
            description: stored.role.description.clone(),
            permissions: stored
                .role
                .permissions
                .iter()
                .map(|p| RuleDto {
                    action: p.pattern.to_string(),
                    effect: Some(p.effect.as_str().to_owned()),
                })
                .collect(),
            created_at: timestamp(stored.created_at),
            updated_at: timestamp(stored.updated_at),
        }
    }
}

/// `POST /v1/authz/check`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub action: String,
    pub scope: String,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub api_key_id: Option<String>,
}

impl From<CheckRequest> for CheckForm {
    fn from(request: CheckRequest) -> Self {
        CheckForm {
            action: request.action,
            scope: request.scope,
            account_id: request.account_id,
            api_key_id: request.api_key_id,
        }
    }
}

/// `POST /v1/authz/check` response: the answer and, for debugging, what decided it.
#[derive(Debug, Serialize)]
pub struct CheckResponse {
    pub allowed: bool,
    pub explanation: ExplanationDto,
}

/// What decided a check: `reason` is `superadmin`, `allowed_by`, `denied_by`,
/// `no_matching_grant` or `inactive`; `grant` and `rule` name the deciding rule.
#[derive(Debug, Serialize)]
pub struct ExplanationDto {
    pub reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleDto>,
    pub message: String,
}

impl From<&CheckOutcome> for CheckResponse {
    fn from(outcome: &CheckOutcome) -> Self {
        let explanation = match outcome {
            CheckOutcome::Inactive => ExplanationDto {
                reason: "inactive",
                grant: None,
                rule: None,
                message: "the principal is disabled, revoked or expired".into(),
            },
            CheckOutcome::Decided(decision) => {
                let reason = decision.reason();
                let (code, matched) = match reason {
                    Reason::SuperAdmin => ("superadmin", None),
                    Reason::AllowedBy(m) => ("allowed_by", Some(m)),
                    Reason::DeniedBy(m) => ("denied_by", Some(m)),
                    Reason::NoMatchingGrant => ("no_matching_grant", None),
                };
                ExplanationDto {
                    reason: code,
                    grant: matched.map(|m| GrantDto {
                        id: m.grant.to_string(),
                        role: m.role.to_string(),
                        scope: m.scope.to_string(),
                        created_at: None,
                        created_by: None,
                    }),
                    rule: matched.map(|m| RuleDto {
                        action: m.rule.pattern.to_string(),
                        effect: Some(m.rule.effect.as_str().to_owned()),
                    }),
                    message: reason.to_string(),
                }
            }
        };
        Self {
            allowed: outcome.is_allowed(),
            explanation,
        }
    }
}

/// `GET /v1/admin/audit-events` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditListQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
}

/// An audit event as clients see it.
#[derive(Debug, Serialize)]
pub struct AuditEventDto {
    pub id: String,
    pub at: String,
    pub actor: Option<String>,
    pub action: &'static str,
    pub target: Option<String>,
    pub source_ip: Option<String>,
    pub detail: Option<String>,
}

impl From<&AuditEvent> for AuditEventDto {
    fn from(event: &AuditEvent) -> Self {
        Self {
            id: event.id.to_string(),
            at: timestamp(event.at),
            actor: event.actor.clone(),
            action: event.action.as_str(),
            target: event.target.clone(),
            source_ip: event.source_ip.map(|ip| ip.to_string()),
            detail: event.detail.clone(),
        }
    }
}

/// `GET /v1/account/me`: `account` for a session, `api_key` for an API key, never both.
#[derive(Debug, Serialize)]
pub struct MeResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKeyDto>,
    pub grants: Vec<GrantDto>,
}

/// `POST /v1/admin/api-keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    pub name: String,
    #[serde(default)]
    pub expires_in: Option<String>,
    #[serde(default)]
    pub grants: Vec<GrantRequest>,
}

/// An API key as listed: never the key or its digest.
#[derive(Debug, Serialize)]
pub struct ApiKeyDto {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub created_by: Option<String>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

impl From<&ApiKey> for ApiKeyDto {
    fn from(key: &ApiKey) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name.clone(),
            created_at: timestamp(key.created_at),
            created_by: key.created_by.clone(),
            expires_at: key.expires_at.map(timestamp),
            last_used_at: key.last_used_at.map(timestamp),
            revoked: key.revoked_at.is_some(),
        }
    }
}

/// An API key with its grants (`GET /v1/admin/api-keys/{id}`).
#[derive(Debug, Serialize)]
pub struct ApiKeyWithGrantsDto {
    #[serde(flatten)]
    pub key: ApiKeyDto,
    pub grants: Vec<GrantDto>,
}

/// `POST /v1/admin/api-keys` response: the only time `key` is shown.
#[derive(Debug, Serialize)]
pub struct CreatedApiKeyResponse {
    pub id: String,
    pub name: String,
    pub key: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub grants: Vec<GrantDto>,
}

impl From<CreatedApiKey> for CreatedApiKeyResponse {
    fn from(created: CreatedApiKey) -> Self {
        Self {
            id: created.key.id.to_string(),
            name: created.key.name,
            key: created.secret.expose_secret().to_owned(),
            created_at: timestamp(created.key.created_at),
            expires_at: created.key.expires_at.map(timestamp),
            grants: created.grants.iter().map(GrantDto::from).collect(),
        }
    }
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

/// `?limit=&cursor=` for lists without filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
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

//! Wire shapes. Requests deny unknown fields so a typo such as `pasword` is an error.
//!
//! Every shape derives `ToSchema` (or `IntoParams` for queries) so `crate::openapi` documents
//! exactly what is (de)serialized here.

use chrono::{DateTime, SecondsFormat, Utc};
use roster_app::model::{
    ApiKey, AuditEvent, AuthMethod, GrantRecord, Invitation, NewGrant, Passkey, StoredRole,
};
use roster_app::{
    ActiveToken, AppError, CheckForm, CheckOutcome, CreatedApiKey, FeatureReport, FeatureState,
    FieldError, GrantForm, Introspection, InvitationForm, LoginOutcome, LoginSuccess, MfaStatus,
    OwnSession, RecoveryCodes, RegistrationForm, RegistrationPolicyView, RoleForm, RuleForm,
    SecondFactorPending, TokenHolder, TotpSecret,
};
use roster_domain::{Account, DisplayName, Grant, Permission, Reason};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::openapi::Ref;
use utoipa::openapi::schema::{Array, ArrayBuilder};
use utoipa::{IntoParams, ToSchema};

/// RFC 3339 UTC with a `Z`, whole seconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Public self-registration (`POST /v1/account/register`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(schema_with = crate::schema::email)]
    pub email: String,
    #[schema(schema_with = crate::schema::password)]
    pub password: SecretString,
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_display_name)]
    pub name: Option<String>,
}

impl From<RegisterRequest> for RegistrationForm {
    fn from(request: RegisterRequest) -> Self {
        RegistrationForm::new(request.email, request.password, request.name)
    }
}

/// `GET /v1/account/registration-policy`: what a sign-up form shows before anyone types.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RegistrationPolicy)]
pub struct RegistrationPolicyDto {
    /// Whether public self-registration is on right now (the `account-registration` flag).
    pub open: bool,
    /// The domains whose addresses may self-register, in canonical form (IDNA ASCII, lower
    /// case): `example.org` is that domain only, `*.example.org` any subdomain of it at any
    /// depth but not `example.org` itself. Empty: any domain.
    #[schema(example = json!(["example.org", "*.example.com"]))]
    pub allowed_domains: Vec<String>,
    /// `required`: a new account must verify its email address before it can log in.
    #[schema(value_type = crate::schema::EmailVerificationName)]
    pub email_verification: &'static str,
    pub password: PasswordRulesDto,
}

/// The password policy's bounds, in Unicode scalar values (after NFKC normalization).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PasswordRules)]
pub struct PasswordRulesDto {
    #[schema(example = 15)]
    pub min_length: usize,
    #[schema(example = 128)]
    pub max_length: usize,
}

impl From<RegistrationPolicyView> for RegistrationPolicyDto {
    fn from(view: RegistrationPolicyView) -> Self {
        Self {
            open: view.open,
            allowed_domains: view.allowed_domains,
            email_verification: view.email_verification.as_str(),
            password: PasswordRulesDto {
                min_length: view.password_min_length,
                max_length: view.password_max_length,
            },
        }
    }
}

/// `POST /v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(schema_with = crate::schema::email)]
    pub email: String,
    #[schema(schema_with = crate::schema::any_password)]
    pub password: SecretString,
}

/// An account as clients see it: never the password or its hash.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Account)]
pub struct AccountDto {
    #[schema(format = "uuid")]
    pub id: String,
    /// As given at registration (trimmed).
    #[schema(format = Email, example = "Ada@Example.com")]
    pub email: String,
    #[schema(required = true, example = "Ada")]
    pub name: Option<String>,
    #[schema(value_type = crate::schema::AccountStatusName)]
    pub status: &'static str,
    pub is_superadmin: bool,
    /// Whether the owner has shown they receive mail at the address. False only for a
    /// self-registered account while the server requires verification; such an account
    /// cannot log in (403 `email_unverified`) until it is verified.
    pub email_verified: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
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
            email_verified: account.email_verified,
            created_at: timestamp(account.created_at),
            updated_at: timestamp(account.updated_at),
        }
    }
}

/// A grant as clients see it. `created_at` and `created_by` are shown where the grant was
/// read with its provenance (grant lists, creation responses).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Grant)]
pub struct GrantDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(example = "tenant-admin")]
    pub role: String,
    #[schema(example = "acme.berlin")]
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub created_at: Option<String>,
    /// Who created it: `account:<uuid>` or `api_key:<uuid>`; null when created by the
    /// system (bootstrap).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "account:0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07")]
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
            created_by: record.created_by.map(|by| by.to_string()),
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
            created_by: grant.created_by.map(|by| by.to_string()),
        }
    }
}

/// `{"role", "scope"}`: a grant to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// An existing role's name.
    #[schema(schema_with = crate::schema::role_name)]
    pub role: String,
    #[schema(schema_with = crate::schema::scope)]
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

/// A list of grants to create, each role on a scope at most once (else 422
/// `duplicate_grant`, which `uniqueItems` states).
fn unique_grants(description: &str) -> Array {
    ArrayBuilder::new()
        .items(Ref::from_schema_name("GrantRequest"))
        .unique_items(true)
        .description(Some(format!(
            "{description} A role on a scope at most once."
        )))
        .build()
}

fn registration_grants() -> Array {
    unique_grants("Grants created together with the account (all or nothing).")
}

fn api_key_grants() -> Array {
    unique_grants("The key's own grants (it never inherits its creator's rights).")
}

/// `POST /v1/admin/account/register`: a registration plus optional grants.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminRegisterRequest {
    #[schema(schema_with = crate::schema::email)]
    pub email: String,
    #[schema(schema_with = crate::schema::password)]
    pub password: SecretString,
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_display_name)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = registration_grants)]
    pub grants: Vec<GrantRequest>,
}

/// One rule of a role.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Rule)]
pub struct RuleDto {
    #[schema(schema_with = crate::schema::action_pattern)]
    pub action: String,
    /// `allow` (the default in requests) or `deny`; always present in responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::EffectName>, required = false)]
    pub effect: Option<String>,
}

impl From<&Permission> for RuleDto {
    fn from(rule: &Permission) -> Self {
        Self {
            action: rule.pattern.to_string(),
            effect: Some(rule.effect.as_str().to_owned()),
        }
    }
}

/// `POST /v1/admin/roles`: a new role, named.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoleRequest {
    /// Read as optional so that a missing or null name is reported with the other fields'
    /// problems (422 `missing_field`), not as a malformed body.
    #[serde(default)]
    #[schema(schema_with = crate::schema::role_name, required = true)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::role_description)]
    pub description: Option<String>,
    /// At most 256 rules.
    #[schema(max_items = 256)]
    pub permissions: Vec<RuleDto>,
}

impl NewRoleRequest {
    /// The form to validate, else 422 `missing_field` when the name is missing or null.
    ///
    /// # Errors
    /// `AppError::Validation` naming `name`.
    pub fn into_form(self) -> Result<RoleForm, AppError> {
        let Some(name) = self.name else {
            return Err(AppError::Validation(vec![FieldError::new(
                "name",
                "missing_field",
                "a role needs a name",
            )]));
        };
        Ok(RoleRequest {
            name: None,
            description: self.description,
            permissions: self.permissions,
        }
        .into_form(name))
    }
}

/// `PUT /v1/admin/roles/{name}`: a role's new content (the path names it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// 1 to 64 characters `[a-z0-9][a-z0-9_-]*`; if given, it must be the path's (roles are
    /// not renamed).
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_role_name)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::role_description)]
    pub description: Option<String>,
    /// At most 256 rules.
    #[schema(max_items = 256)]
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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Role)]
pub struct RoleDto {
    #[schema(example = "tenant-admin")]
    pub name: String,
    pub description: String,
    pub permissions: Vec<RuleDto>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&StoredRole> for RoleDto {
    fn from(stored: &StoredRole) -> Self {
        Self {
            name: stored.role.name.to_string(),
            description: stored.role.description.clone(),
            permissions: stored.role.permissions.iter().map(RuleDto::from).collect(),
            created_at: timestamp(stored.created_at),
            updated_at: timestamp(stored.updated_at),
        }
    }
}

/// `POST /v1/authz/check`: may the caller (or the given account or API key) do `action` on
/// `scope`?
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    #[schema(schema_with = crate::schema::action)]
    pub action: String,
    #[schema(schema_with = crate::schema::concrete_scope)]
    pub scope: String,
    /// Check this account instead of the caller (needs `account-read` on `*`).
    #[serde(default)]
    #[schema(format = "uuid")]
    pub account_id: Option<String>,
    /// Check this API key instead of the caller (needs `account-read` on `*`).
    #[serde(default)]
    #[schema(format = "uuid")]
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
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    pub allowed: bool,
    pub explanation: ExplanationDto,
}

/// What decided a check: `reason` is `superadmin`, `allowed_by`, `denied_by`,
/// `no_matching_grant` or `inactive`; `grant` and `rule` name the deciding rule.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Explanation)]
pub struct ExplanationDto {
    #[schema(value_type = crate::schema::CheckReason)]
    pub reason: &'static str,
    /// The deciding grant (`allowed_by`, `denied_by`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub grant: Option<GrantDto>,
    /// The deciding rule (`allowed_by`, `denied_by`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
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

/// `POST /v1/auth/introspect`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntrospectRequest {
    /// The token presented to the service: a session token (`rst_...`) or an API key
    /// (`rak_...`). Anything else, the empty string included, is simply inactive.
    #[schema(value_type = String, format = Password, example = "rst_4f2Q...")]
    pub token: SecretString,
}

/// `POST /v1/auth/introspect` response: `{"active": false}` and nothing else for a token that
/// cannot be used, else whose it is and what it holds.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum IntrospectionResponse {
    Active(ActiveTokenDto),
    Inactive(InactiveTokenDto),
}

/// A token that cannot be used, whatever the reason (unknown, expired, idle, revoked, of a
/// disabled account, held back by the MFA policy, malformed).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InactiveToken)]
pub struct InactiveTokenDto {
    #[schema(schema_with = crate::schema::always_false)]
    pub active: bool,
}

/// A usable token: everything a service needs to decide locally with `roster-domain`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActiveToken)]
pub struct ActiveTokenDto {
    #[schema(schema_with = crate::schema::always_true)]
    pub active: bool,
    pub principal: IntrospectedPrincipalDto,
    /// Every grant of the principal (at most `grants.max_per_holder`), each with its role's
    /// current rules. A super admin is allowed everything whatever these say.
    pub grants: Vec<IntrospectedGrantDto>,
    /// Rises with every change to what the grants allow (a grant given or taken, a held
    /// role's rules replaced): equal versions mean equal grants.
    #[schema(example = 7)]
    pub grants_version: i64,
    /// The session's absolute expiry (it can end sooner: idle timeout, logout, revocation),
    /// or the API key's; null for a key that does not expire.
    #[schema(required = true, format = DateTime)]
    pub expires_at: Option<String>,
}

/// Whose token it is: `kind` `account` (a session) or `api_key`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schema(as = IntrospectedPrincipal)]
pub enum IntrospectedPrincipalDto {
    /// The account behind a session token.
    Account {
        #[schema(format = "uuid")]
        id: String,
        #[schema(format = Email, example = "Ada@Example.com")]
        email: String,
        #[schema(required = true, example = "Ada")]
        name: Option<String>,
        is_superadmin: bool,
    },
    /// An API key (never a super admin).
    ApiKey {
        #[schema(format = "uuid")]
        id: String,
        #[schema(example = "issuer-berlin")]
        name: String,
        /// `account:<uuid>` or `api_key:<uuid>` of the creator.
        #[schema(
            required = true,
            example = "account:0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07"
        )]
        created_by: Option<String>,
        /// Null for a key that never expires.
        #[schema(required = true, format = DateTime)]
        expires_at: Option<String>,
    },
}

/// A grant with its role's rules, as authorization evaluates them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IntrospectedGrant)]
pub struct IntrospectedGrantDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(example = "tenant-admin")]
    pub role: String,
    #[schema(example = "acme.berlin")]
    pub scope: String,
    /// The role's rules, `effect` always present.
    pub permissions: Vec<RuleDto>,
}

impl From<&Grant> for IntrospectedGrantDto {
    fn from(grant: &Grant) -> Self {
        Self {
            id: grant.id.to_string(),
            role: grant.role.to_string(),
            scope: grant.scope.to_string(),
            permissions: grant.permissions.iter().map(RuleDto::from).collect(),
        }
    }
}

impl From<&TokenHolder> for IntrospectedPrincipalDto {
    fn from(holder: &TokenHolder) -> Self {
        match holder {
            TokenHolder::Account(account) => IntrospectedPrincipalDto::Account {
                id: account.id.to_string(),
                email: account.email.as_str().to_owned(),
                name: account
                    .name
                    .as_ref()
                    .map(DisplayName::as_str)
                    .map(str::to_owned),
                is_superadmin: account.is_superadmin,
            },
            TokenHolder::ApiKey(key) => IntrospectedPrincipalDto::ApiKey {
                id: key.id.to_string(),
                name: key.name.clone(),
                created_by: key.created_by.map(|by| by.to_string()),
                expires_at: key.expires_at.map(timestamp),
            },
        }
    }
}

impl From<&ActiveToken> for ActiveTokenDto {
    fn from(token: &ActiveToken) -> Self {
        Self {
            active: true,
            principal: IntrospectedPrincipalDto::from(&token.holder),
            grants: token
                .grants
                .iter()
                .map(IntrospectedGrantDto::from)
                .collect(),
            grants_version: token.grants_version,
            expires_at: token.expires_at.map(timestamp),
        }
    }
}

impl From<&Introspection> for IntrospectionResponse {
    fn from(introspection: &Introspection) -> Self {
        match introspection {
            Introspection::Active(token) => IntrospectionResponse::Active(token.into()),
            Introspection::Inactive => {
                IntrospectionResponse::Inactive(InactiveTokenDto { active: false })
            }
        }
    }
}

/// `GET /v1/admin/audit-events/export`: the time range (either end may be left open).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditExportRange {
    /// Only events recorded at this time or later (RFC 3339).
    #[param(format = DateTime, example = "2026-12-01T00:00:00Z")]
    pub since: Option<String>,
    /// Only events recorded before this time (RFC 3339).
    #[param(format = DateTime, example = "2026-12-02T00:00:00Z")]
    pub until: Option<String>,
}

/// `GET /v1/admin/audit-events` filters, beside the page parameters (so unknown names are
/// not denied here: the query-string rule refuses them before routing).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only events by this actor (exact label; no control characters, as in every query
    /// value).
    #[param(
        example = "account:0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07",
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub actor: Option<String>,
    /// Only events of this action; an unknown one is 400 `invalid_query`.
    #[param(value_type = Option<crate::schema::AuditActionName>)]
    pub action: Option<String>,
}

/// An audit event as clients see it: never a password, token, key or hash.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditEvent)]
pub struct AuditEventDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = DateTime)]
    pub at: String,
    /// `kind:id` label (`account:<uuid>`, `api_key:<uuid>`); null for anonymous requests and
    /// the system.
    #[schema(
        required = true,
        example = "account:0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07"
    )]
    pub actor: Option<String>,
    #[schema(value_type = crate::schema::AuditActionName)]
    pub action: &'static str,
    /// `kind:id` label: `account:<uuid>`, `api_key:<uuid>`, `role:<name>`, `grant:<uuid>`,
    /// `session:<uuid>`, `email:<address>`, `file:<path>`, `feature:<name>`.
    #[schema(required = true, example = "role:tenant-admin")]
    pub target: Option<String>,
    /// The TCP peer address.
    #[schema(required = true, example = "192.0.2.10")]
    pub source_ip: Option<String>,
    /// Names only (a role's rules, a grant's `role@scope`, a key's name).
    #[schema(required = true)]
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
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// Present when the caller used a session token.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub account: Option<AccountDto>,
    /// Present when the caller used an API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub api_key: Option<ApiKeyDto>,
    pub grants: Vec<GrantDto>,
    /// True when the MFA policy requires this account to set up a second factor before it
    /// may do anything but enrol, read this and log out.
    pub mfa_enrolment_required: bool,
}

/// `POST /v1/admin/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    #[schema(schema_with = crate::schema::display_name)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_expires_in)]
    pub expires_in: Option<String>,
    #[serde(default)]
    #[schema(schema_with = api_key_grants)]
    pub grants: Vec<GrantRequest>,
}

/// An API key as listed: never the key or its digest.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApiKey)]
pub struct ApiKeyDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(example = "issuer-berlin")]
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// `account:<uuid>` of the creator.
    #[schema(required = true)]
    pub created_by: Option<String>,
    /// Null for a key that never expires.
    #[schema(required = true, format = DateTime)]
    pub expires_at: Option<String>,
    /// Written at most once a minute.
    #[schema(required = true, format = DateTime)]
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

impl From<&ApiKey> for ApiKeyDto {
    fn from(key: &ApiKey) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name.clone(),
            created_at: timestamp(key.created_at),
            created_by: key.created_by.map(|by| by.to_string()),
            expires_at: key.expires_at.map(timestamp),
            last_used_at: key.last_used_at.map(timestamp),
            revoked: key.revoked_at.is_some(),
        }
    }
}

/// An API key with its grants (`GET /v1/admin/api-keys/{id}`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApiKeyWithGrants)]
pub struct ApiKeyWithGrantsDto {
    #[serde(flatten)]
    pub key: ApiKeyDto,
    pub grants: Vec<GrantDto>,
}

/// `POST /v1/admin/api-keys` response: the only time `key` is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKeyResponse {
    #[schema(format = "uuid")]
    pub id: String,
    pub name: String,
    /// The bearer secret `rak_<id>_<secret>`: shown only here, store it now.
    #[schema(format = Password)]
    pub key: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(required = true, format = DateTime)]
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(schema_with = crate::schema::any_password)]
    pub current_password: SecretString,
    /// Held to the password policy.
    #[schema(schema_with = crate::schema::password)]
    pub new_password: SecretString,
}

/// `PUT /v1/admin/accounts/{id}/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// Held to the password policy.
    #[schema(schema_with = crate::schema::password)]
    pub new_password: SecretString,
}

/// One of the caller's live sessions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Written back at most once a minute.
    #[schema(format = DateTime)]
    pub last_seen_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Whether this is the session making the request.
    pub current: bool,
    /// The `User-Agent` the client sent at login (control and invisible characters removed,
    /// at most 200 characters); null when it sent none.
    #[schema(
        required = true,
        max_length = 200,
        example = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
    )]
    pub user_agent: Option<String>,
    /// The client's address at login (the TCP peer).
    #[schema(required = true, example = "192.0.2.10")]
    pub source_ip: Option<String>,
    /// How the session was opened and stepped up since: `pwd`, `otp`, `recovery`,
    /// `passkey`.
    #[schema(example = json!(["pwd", "otp"]))]
    pub auth_methods: Vec<&'static str>,
}

impl From<&OwnSession> for SessionDto {
    fn from(own: &OwnSession) -> Self {
        Self {
            id: own.session.id.to_string(),
            created_at: timestamp(own.session.created_at),
            last_seen_at: timestamp(own.session.last_seen_at),
            expires_at: timestamp(own.session.expires_at),
            current: own.current,
            user_agent: own.session.user_agent.clone(),
            source_ip: own.session.source_ip.map(|ip| ip.to_string()),
            auth_methods: own
                .session
                .auth_methods
                .iter()
                .map(AuthMethod::as_str)
                .collect(),
        }
    }
}

/// A page of a list: `{"items": [...], "next_cursor": string|null}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back as `?cursor=` for the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// `GET /v1/admin/accounts` filter, beside the page parameters (so unknown names are not
/// denied here: the query-string rule refuses them before routing).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    /// Only the account with this email (exact, after normalization). Any text without
    /// control characters is accepted: one that is no account's email matches nothing.
    #[param(example = "Ada@Example.com", pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub email: Option<String>,
}

/// An account with its grants (admin registration, account details).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AccountWithGrants)]
pub struct AccountWithGrantsDto {
    #[serde(flatten)]
    pub account: AccountDto,
    pub grants: Vec<GrantDto>,
}

/// `POST /v1/auth/login` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// The session token (`rst_...`) to send as `Authorization: Bearer <token>`.
    #[schema(format = Password)]
    pub token: String,
    #[schema(schema_with = crate::schema::token_type)]
    pub token_type: &'static str,
    #[schema(format = "uuid")]
    pub session_id: String,
    /// Absolute end of the session (it also ends after the idle timeout).
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub account: AccountDto,
}

/// `POST /v1/auth/login` for an account with a second factor: no session yet, but the
/// second step (`POST /v1/auth/login/mfa`, or `.../mfa/passkey/start`).
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaRequiredResponse {
    /// Always true: this answer opens no session.
    pub mfa_required: bool,
    /// The second step's token (`rmf_...`): dies after 5 wrong codes or 5 minutes.
    #[schema(format = Password)]
    pub mfa_token: String,
    /// The factors the account can finish with.
    #[schema(example = json!(["otp", "recovery", "passkey"]))]
    pub methods: Vec<&'static str>,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl From<SecondFactorPending> for MfaRequiredResponse {
    fn from(pending: SecondFactorPending) -> Self {
        Self {
            mfa_required: true,
            mfa_token: pending.token.expose_secret().to_owned(),
            methods: pending
                .methods
                .iter()
                .copied()
                .map(AuthMethod::as_str)
                .collect(),
            expires_at: timestamp(pending.expires_at),
        }
    }
}

/// What `POST /v1/auth/login` answers: a session, or the second step.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginAnswer {
    Session(LoginResponse),
    SecondFactor(MfaRequiredResponse),
}

impl From<LoginOutcome> for LoginAnswer {
    fn from(outcome: LoginOutcome) -> Self {
        match outcome {
            LoginOutcome::Session(success) => LoginAnswer::Session(success.into()),
            LoginOutcome::SecondFactor(pending) => LoginAnswer::SecondFactor(pending.into()),
        }
    }
}

/// `POST /v1/auth/login/mfa`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginMfaRequest {
    #[schema(value_type = String, format = Password)]
    pub mfa_token: SecretString,
    /// A six-digit TOTP code, or a recovery code (`xxxx-xxxx-xxxx-xxxx`).
    #[schema(value_type = String, format = Password, max_length = 64)]
    pub code: SecretString,
}

/// `POST /v1/auth/login/mfa/passkey/start`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaTokenRequest {
    #[schema(value_type = String, format = Password)]
    pub mfa_token: SecretString,
}

/// A `PublicKeyCredential` as the browser serialises it (a JSON object; checked by the
/// relying party).
pub type Credential = serde_json::Map<String, serde_json::Value>;

/// `POST /v1/auth/login/mfa/passkey/finish`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginMfaPasskeyRequest {
    #[schema(value_type = String, format = Password)]
    pub mfa_token: SecretString,
    /// The `PublicKeyCredential` from `navigator.credentials.get`, as JSON.
    #[schema(value_type = Object)]
    pub credential: Credential,
}

/// A passkey assertion (`POST /v1/auth/passkey/finish`, `.../step-up/passkey/finish`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyCredentialRequest {
    /// The `PublicKeyCredential` from `navigator.credentials.get`, as JSON.
    #[schema(value_type = Object)]
    pub credential: Credential,
}

/// `POST /v1/account/me/passkeys/register/finish`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPasskeyRequest {
    /// What the owner calls it, e.g. the device it is on (1 to 64 characters).
    #[schema(min_length = 1, max_length = 64, example = "Laptop")]
    pub name: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create`, as JSON.
    #[schema(value_type = Object)]
    pub credential: Credential,
}

/// A code for the step-up or the TOTP confirmation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaCodeRequest {
    /// A six-digit TOTP code (or, for a step-up, a recovery code).
    #[schema(value_type = String, format = Password, max_length = 64)]
    pub code: SecretString,
}

/// A request that needs the account's password (removing TOTP, new recovery codes).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfirmation {
    #[schema(schema_with = crate::schema::any_password)]
    pub password: SecretString,
}

/// `POST /v1/account/me/mfa/totp`: the new secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolmentResponse {
    /// The secret in base32, for typing into an authenticator app.
    #[schema(format = Password)]
    pub secret: String,
    /// `otpauth://totp/...`, for a QR code.
    #[schema(format = Password)]
    pub otpauth_uri: String,
}

impl From<TotpSecret> for TotpEnrolmentResponse {
    fn from(secret: TotpSecret) -> Self {
        Self {
            secret: secret.secret.expose_secret().to_owned(),
            otpauth_uri: secret.otpauth_uri.expose_secret().to_owned(),
        }
    }
}

/// Ten new recovery codes, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    #[schema(example = json!(["7kq2-9fzt-w3mc-0xhd"]))]
    pub recovery_codes: Vec<String>,
}

impl From<RecoveryCodes> for RecoveryCodesResponse {
    fn from(codes: RecoveryCodes) -> Self {
        Self {
            recovery_codes: codes
                .0
                .iter()
                .map(|code| code.expose_secret().to_owned())
                .collect(),
        }
    }
}

/// A passkey as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Passkey)]
pub struct PasskeyDto {
    #[schema(format = "uuid")]
    pub id: String,
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime, required = true)]
    pub last_used_at: Option<String>,
}

impl From<&Passkey> for PasskeyDto {
    fn from(passkey: &Passkey) -> Self {
        Self {
            id: passkey.id.to_string(),
            name: passkey.name.clone(),
            created_at: timestamp(passkey.created_at),
            last_used_at: passkey.last_used_at.map(timestamp),
        }
    }
}

/// `GET /v1/account/me/mfa`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaStatusResponse {
    /// Whether a confirmed authenticator app (TOTP) is set up.
    pub totp: bool,
    pub recovery_codes_left: u32,
    pub passkeys: Vec<PasskeyDto>,
}

impl From<&MfaStatus> for MfaStatusResponse {
    fn from(status: &MfaStatus) -> Self {
        Self {
            totp: status.totp,
            recovery_codes_left: status.recovery_codes_left,
            passkeys: status.passkeys.iter().map(PasskeyDto::from).collect(),
        }
    }
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
#[derive(Debug, Serialize, ToSchema)]
pub struct FeaturesResponse {
    pub features: Vec<FeatureDto>,
    pub file: FeatureFileDto,
}

/// One feature flag and its state on this node.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Feature)]
pub struct FeatureDto {
    #[schema(value_type = crate::schema::FeatureName)]
    pub name: &'static str,
    pub enabled: bool,
    /// Whether it is on when the file does not mention it.
    pub default: bool,
    pub description: &'static str,
}

/// The features file as this node last read it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FeatureFile)]
pub struct FeatureFileDto {
    #[schema(format = DateTime)]
    pub loaded_at: String,
    /// Why the file on disk is not in force (the last good state is kept); null when it is.
    #[schema(required = true)]
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
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` (`/healthz`), `ready` or `unavailable` (`/readyz`).
    #[schema(schema_with = crate::schema::health_status)]
    pub status: &'static str,
    /// Why the service is not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
}

/// `POST /v1/account/password-reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(schema_with = crate::schema::email)]
    pub email: String,
}

/// `POST /v1/account/password-reset/confirm`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirmRequest {
    /// The `rpr_...` token from the emailed link (the part after `#`).
    #[schema(value_type = String, example = "rpr_4f2Q...")]
    pub token: SecretString,
    /// Held to the password policy.
    #[schema(schema_with = crate::schema::password)]
    pub new_password: SecretString,
}

/// `POST /v1/account/verify-email`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The `rev_...` token from the emailed link (the part after `#`).
    #[schema(value_type = String, example = "rev_4f2Q...")]
    pub token: SecretString,
}

/// `POST /v1/account/verify-email/resend`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendVerificationRequest {
    #[schema(schema_with = crate::schema::email)]
    pub email: String,
}

/// The answer to a request whose outcome goes by email, the same whatever the address.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CheckYourEmail)]
pub struct CheckYourEmailDto {
    /// Always `check_your_email`.
    #[schema(example = "check_your_email")]
    pub status: &'static str,
}

impl CheckYourEmailDto {
    pub const ANSWER: CheckYourEmailDto = CheckYourEmailDto {
        status: "check_your_email",
    };
}

/// `POST /v1/admin/invitations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationRequest {
    /// Whom to invite: no account may have this address yet.
    #[schema(schema_with = crate::schema::email)]
    pub email: String,
    /// Suggested display name; the invitee may choose another when accepting.
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_display_name)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = invitation_grants)]
    pub grants: Vec<GrantRequest>,
    /// How long the link works: default `7d`, at most 30 days.
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_invitation_expires_in)]
    pub expires_in: Option<String>,
}

fn invitation_grants() -> Array {
    unique_grants("Grants the account gets when the invitation is accepted.")
}

impl From<CreateInvitationRequest> for InvitationForm {
    fn from(request: CreateInvitationRequest) -> Self {
        InvitationForm {
            email: request.email,
            name: request.name,
            grants: request.grants.into_iter().map(Into::into).collect(),
            expires_in: request.expires_in,
        }
    }
}

/// `POST /v1/admin/invitations/{id}/resend`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendInvitationRequest {
    /// How long the new link works, from now: default `7d`, at most 30 days.
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_invitation_expires_in)]
    pub expires_in: Option<String>,
}

/// `POST /v1/account/invitations/accept`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    /// The `rin_...` token from the emailed link (the part after `#`).
    #[schema(value_type = String, example = "rin_4f2Q...")]
    pub token: SecretString,
    /// Held to the password policy, as at registration.
    #[schema(schema_with = crate::schema::password)]
    pub password: SecretString,
    /// The account's display name; default: the name the inviter gave.
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_display_name)]
    pub name: Option<String>,
}

/// `GET /v1/admin/invitations` filter, beside the page parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationFilter {
    /// Only invitations with this status now (a pending one past `expires_at` is `expired`).
    #[param(value_type = Option<crate::schema::InvitationStatusName>)]
    pub status: Option<String>,
}

/// A grant an invitation gives.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvitedGrant)]
pub struct InvitedGrantDto {
    #[schema(example = "tenant-admin")]
    pub role: String,
    #[schema(example = "acme.berlin")]
    pub scope: String,
}

/// An invitation: never its token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Invitation)]
pub struct InvitationDto {
    #[schema(format = "uuid")]
    pub id: String,
    /// As the inviter gave it (trimmed).
    #[schema(format = Email, example = "Grace@Example.com")]
    pub email: String,
    #[schema(required = true, example = "Grace")]
    pub name: Option<String>,
    pub grants: Vec<InvitedGrantDto>,
    #[schema(value_type = crate::schema::InvitationStatusName)]
    pub status: &'static str,
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// `account:<uuid>` or `api_key:<uuid>` of the inviter.
    #[schema(
        required = true,
        example = "account:0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07"
    )]
    pub created_by: Option<String>,
}

impl InvitationDto {
    /// The invitation as it stands at `now` (its status depends on the time).
    pub fn new(invitation: &Invitation, now: DateTime<Utc>) -> Self {
        Self {
            id: invitation.id.to_string(),
            email: invitation.email.as_str().to_owned(),
            name: invitation
                .name
                .as_ref()
                .map(DisplayName::as_str)
                .map(str::to_owned),
            grants: invitation
                .grants
                .iter()
                .map(|grant| InvitedGrantDto {
                    role: grant.role.to_string(),
                    scope: grant.scope.to_string(),
                })
                .collect(),
            status: invitation.status(now).as_str(),
            expires_at: timestamp(invitation.expires_at),
            created_at: timestamp(invitation.created_at),
            created_by: invitation.created_by.map(|by| by.to_string()),
        }
    }
}

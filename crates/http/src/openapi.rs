//! The OpenAPI 3.1 document of the API, generated from the code in one place.
//!
//! Each handler carries a `#[utoipa::path]` with its path, parameters, body, success
//! response and the problems only it can answer; the DTOs derive `ToSchema`/`IntoParams`.
//! The problems come from [`ApiError`] (status, `code`, headers): a route lists the errors
//! it answers with `problems!`, and what the extractors add to every route that uses them is
//! added here, by [`Conventions`]: a query string that breaks the rule (400 `invalid_query`,
//! every route), `ApiJson` bodies (400 `invalid_body`, 413 `payload_too_large`, 415
//! `unsupported_media_type`), `Caller` (401 `unauthenticated`), and the database (503
//! `unavailable`, 500 `internal_error`). Each problem response lists its codes in
//! `x-problem-codes`.
//!
//! `docs/openapi.json` is this document, checked by `crates/server/tests/api/openapi.rs`.

use roster_app::AppError;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ArrayItems, ObjectBuilder, Schema, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::extract::BODY_LIMIT;
use crate::problem::{ApiError, FieldProblem, Problem, add_problem, problem_response};
use crate::routes::{
    admin_accounts, admin_api_keys, audit, authz, features, grants, health, introspect,
    invitations, login, me, mfa, password_reset, register, roles, verify_email,
};
use crate::schema::BEARER;

const DESCRIPTION: &str = "Accounts and access: registration, sessions, API keys, roles, \
grants on hierarchical scopes, authorization checks and an audit trail.

Conventions:

- JSON in and out, field names in `snake_case`; timestamps are RFC 3339 UTC strings with \
whole seconds; ids are UUID v7 strings.
- Request bodies must be `application/json` (else 415 `unsupported_media_type`), at most \
64 KiB (else 413 `payload_too_large`), and of exactly the documented shape: unknown fields, \
wrong types and malformed JSON are 400 `invalid_body` naming the field.
- Every error is an RFC 9457 problem (`application/problem+json`, schema `Problem`) whose \
`code` is stable and machine-readable; each response below lists the codes it can carry. \
422 `validation_failed` lists every invalid field in `errors[]` with its own `code`.
- Authentication: `Authorization: Bearer <token>` with a session token (from login) or an \
API key. Missing or invalid: 401 `unauthenticated` with `WWW-Authenticate: Bearer`. \
Authenticated but not permitted: 403 `forbidden`.
- Every response carries `X-Request-Id` (the caller's, when it sent a valid one). \
Responses with tokens or account data, and problems, carry `Cache-Control: no-store`.
- Lists take `?limit=` (1 to 200, default 50) and `?cursor=` and answer \
`{\"items\": [...], \"next_cursor\": string|null}`.
- A path with a method it does not support answers 405 `method_not_allowed`; an unknown \
path 404 `not_found`.";

#[derive(OpenApi)]
#[openapi(
    info(title = "Roster", description = DESCRIPTION),
    paths(
        register::register_self,
        register::registration_policy,
        register::register_by_admin,
        login::login,
        login::login_second_factor,
        login::start_login_passkey,
        login::finish_login_passkey,
        login::start_passkey_sign_in,
        login::finish_passkey_sign_in,
        introspect::introspect,
        password_reset::request_password_reset,
        password_reset::confirm_password_reset,
        verify_email::verify,
        verify_email::resend,
        me::logout,
        me::me,
        me::change_password,
        me::sessions,
        me::revoke_session,
        mfa::status,
        mfa::begin_totp,
        mfa::confirm_totp,
        mfa::remove_totp,
        mfa::renew_recovery_codes,
        mfa::start_passkey_registration,
        mfa::finish_passkey_registration,
        mfa::remove_passkey,
        mfa::step_up,
        mfa::start_step_up_passkey,
        mfa::finish_step_up_passkey,
        admin_accounts::list,
        admin_accounts::get,
        admin_accounts::disable,
        admin_accounts::enable,
        admin_accounts::reset_password,
        admin_api_keys::create,
        admin_api_keys::list,
        admin_api_keys::get,
        admin_api_keys::revoke,
        grants::create_for_account,
        grants::list_for_account,
        grants::delete_for_account,
        grants::create_for_api_key,
        grants::list_for_api_key,
        grants::delete_for_api_key,
        roles::create,
        roles::list,
        roles::get,
        roles::replace,
        roles::delete,
        invitations::create,
        invitations::list,
        invitations::get,
        invitations::revoke,
        invitations::resend,
        invitations::accept,
        audit::list,
        audit::export,
        authz::check,
        features::list,
        health::live,
        health::ready,
        health::metrics,
        health::openapi,
    ),
    components(schemas(Problem, FieldProblem)),
    modifiers(&Conventions),
    tags(
        (name = "registration", description = "Creating accounts: public self-registration \
            (while the `account-registration` flag is on, for the allowed domains) and by \
            administrators, and the registration policy a sign-up form shows."),
        (name = "authentication", description = "Logging in and out with session tokens: \
            the password, then (for an account with a second factor) a TOTP code, a recovery \
            code or a passkey; or a passkey alone. And, for services that receive Roster \
            tokens, introspection (`token-introspect` on `*`)."),
        (name = "mfa", description = "The signed-in account's second factors (an \
            authenticator app, recovery codes, passkeys) and the step-up the most dangerous \
            actions need."),
        (name = "password-reset", description = "Forgotten passwords: a single-use link by \
            email."),
        (name = "email-verification", description = "Proving an email address: a \
            single-use link by email, for self-registered accounts while the registration \
            policy requires verification."),
        (name = "me", description = "The signed-in account (or API key): its grants, sessions \
            and password."),
        (name = "accounts", description = "Account administration (`account-read`, \
            `account-disable`, `account-password-reset` on `*`)."),
        (name = "api-keys", description = "Machine credentials (`apikey-manage` on `*`). A key \
            holds exactly its own grants."),
        (name = "roles", description = "Named sets of allow/deny rules (`role-manage` on `*`)."),
        (name = "grants", description = "A role on a scope, for an account or an API key \
            (`grant-manage` on the scope, without escalation)."),
        (name = "authorization", description = "Asking whether a principal may do an action on \
            a scope."),
        (name = "invitations", description = "Inviting people by email, with grants \
            (`account-create` on `*`), and accepting an invitation (public, with the emailed \
            link's token)."),
        (name = "audit", description = "Who did what, when (`audit-read` on `*`)."),
        (name = "operations", description = "Feature flags, health probes, metrics and this \
            document; each can be switched off by its feature flag (404 while off)."),
    )
)]
struct ApiDoc;

/// The document as a value.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as pretty-printed JSON: what `GET /openapi.json` serves and
/// `docs/openapi.json` holds (plus a trailing newline there).
pub fn openapi_json() -> String {
    openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
}

/// The operations a session held back by the MFA policy may still use (they take
/// `EnrollingCaller`): every other secured operation answers it 403
/// `mfa_enrolment_required`.
const OPEN_TO_ENROLMENT: [&str; 8] = [
    "getMe",
    "logout",
    "getMyMfa",
    "beginTotp",
    "confirmTotp",
    "renewRecoveryCodes",
    "startPasskeyRegistration",
    "finishPasskeyRegistration",
];

/// Shared responses, the security scheme, and the problems the extractors add.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Components::new);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`Authorization: Bearer <token>`: a session token (`rst_...`, from \
                         `POST /v1/auth/login`) or an API key (`rak_...`).",
                    ))
                    .build(),
            ),
        );
        refer_to_page_items(components);
        at_most_one_subject(components);
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_shared_responses(operation);
            }
        }
    }
}

/// utoipa inlines a generic parameter's schema (juhaku/utoipa#1586): `Page_Account.items`
/// would repeat the whole `Account` schema. Point the items at the component instead.
fn refer_to_page_items(components: &mut Components) {
    let item_names: Vec<(String, String)> = components
        .schemas
        .keys()
        .filter_map(|name| {
            let item = name.strip_prefix("Page_")?;
            components
                .schemas
                .contains_key(item)
                .then(|| (name.clone(), item.to_owned()))
        })
        .collect();
    for (page, item) in item_names {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&page) else {
            continue;
        };
        if let Some(RefOr::T(Schema::Array(array))) = object.properties.get_mut("items") {
            array.items =
                ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item))));
        }
    }
}

/// `POST /v1/authz/check` names at most one principal to check: `account_id` or
/// `api_key_id`, never both (else 422 `conflicting_subject`). utoipa has no `not`, so the
/// rule is stated as "one of the two is absent or null", beside the derived fields.
fn at_most_one_subject(components: &mut Components) {
    let Some(fields) = components.schemas.remove("CheckRequest") else {
        return;
    };
    let description = match &fields {
        RefOr::T(Schema::Object(object)) => object.description.clone(),
        _ => None,
    };
    let left_out = |field: &str| {
        ObjectBuilder::new()
            .property(field, ObjectBuilder::new().schema_type(Type::Null))
            .build()
    };
    let rule = AnyOfBuilder::new()
        .item(left_out("account_id"))
        .item(left_out("api_key_id"))
        .description(Some("Not both `account_id` and `api_key_id`."));
    components.schemas.insert(
        "CheckRequest".to_owned(),
        AllOfBuilder::new()
            .item(fields)
            .item(rule)
            .description(description)
            .into(),
    );
}

/// Adds the problems the extractors and the edge answer on every route that uses them: a
/// query string that breaks the rule (every route), a body that is not JSON of the shape
/// (`ApiJson`), a missing or bad token (`Caller`), and the database failing (every route that
/// touches it). Merged into the operation's own response of that status when it has one.
fn add_shared_responses(operation: &mut Operation) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let has_body = operation.request_body.is_some();
    let mut shared = vec![(
        ApiError::InvalidQuery {
            name: String::new(),
            code: "unknown_parameter",
            message: String::new(),
        },
        "a query parameter the operation does not document, or one with control characters \
         or not UTF-8 once decoded; `errors[0]` names it.",
    )];
    if has_body {
        shared.extend([
            (
                ApiError::InvalidBody {
                    field: None,
                    message: String::new(),
                },
                "malformed JSON, a wrong type, a missing or unknown field, or trailing data; \
                 `detail` names the field.",
            ),
            (
                ApiError::PayloadTooLarge { limit: BODY_LIMIT },
                "the body exceeds 64 KiB.",
            ),
            (
                ApiError::UnsupportedMediaType,
                "the body is not `application/json`.",
            ),
        ]);
    }
    if secured {
        shared.push((
            AppError::Unauthenticated.into(),
            "the bearer token is missing, malformed, unknown, expired, idle, revoked, or \
             belongs to a disabled account.",
        ));
        let open_to_enrolment = operation
            .operation_id
            .as_deref()
            .is_some_and(|id| OPEN_TO_ENROLMENT.contains(&id));
        if !open_to_enrolment {
            shared.push((
                AppError::MfaEnrolmentRequired.into(),
                "the MFA policy requires this account to set up a second factor first; until \
                 then its session may only read `getMe`, enrol, and log out.",
            ));
        }
    }
    if secured || has_body {
        shared.extend([
            (
                AppError::Unavailable(String::new()).into(),
                "the database is unreachable; retry shortly.",
            ),
            (
                AppError::Internal(String::new()).into(),
                "an unexpected error; the body carries no internals.",
            ),
        ]);
    }
    for (error, when) in shared {
        let status = error.status_and_code().0.to_string();
        let response = operation
            .responses
            .responses
            .entry(status)
            .or_insert_with(|| RefOr::T(problem_response()));
        if let RefOr::T(response) = response {
            add_problem(response, &error, when);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_operation_tagged_and_named() {
        let document: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(document["info"]["title"], "Roster");
        assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
                assert!(
                    operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                    "{method} {path} has no tag"
                );
                assert!(
                    operation["responses"].as_object().unwrap().len() >= 2,
                    "{method} {path} documents no problem"
                );
            }
        }
    }

    /// Whether a property's schema allows `null`.
    fn allows_null(schema: &serde_json::Value) -> bool {
        let null_type = |s: &serde_json::Value| match &s["type"] {
            serde_json::Value::String(kind) => kind == "null",
            serde_json::Value::Array(kinds) => kinds.iter().any(|kind| kind == "null"),
            _ => false,
        };
        null_type(schema)
            || ["oneOf", "anyOf"].iter().any(|key| {
                schema[*key]
                    .as_array()
                    .is_some_and(|choices| choices.iter().any(null_type))
            })
    }

    /// Whether the DTO `T` reads `body`.
    fn reads<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> bool {
        serde_json::from_value::<T>(body).is_ok()
    }

    /// A property may be `null` in the document exactly when the server reads `null` there:
    /// each request schema, with each of its properties set to `null` in turn on a body of
    /// the right shape, is read by its DTO if and only if the document allows that `null`.
    #[test]
    fn request_fields_are_nullable_exactly_where_the_server_accepts_null() {
        use serde_json::json;

        use crate::dto::{
            AcceptInvitationRequest, AdminRegisterRequest, ChangePasswordRequest, CheckRequest,
            CreateApiKeyRequest, CreateInvitationRequest, GrantRequest, LoginRequest,
            NewRoleRequest, PasswordResetConfirmRequest, PasswordResetRequest, RegisterRequest,
            ResendInvitationRequest, ResendVerificationRequest, ResetPasswordRequest, RoleRequest,
            RuleDto, VerifyEmailRequest,
        };
        use crate::dto::{
            IntrospectRequest, LoginMfaPasskeyRequest, LoginMfaRequest, MfaCodeRequest,
            MfaTokenRequest, PasskeyCredentialRequest, PasswordConfirmation,
            RegisterPasskeyRequest,
        };

        type Reader = fn(serde_json::Value) -> bool;
        let credentials = json!({"email": "a@b.example", "password": "p"});
        let requests: [(&str, serde_json::Value, Reader); 26] = [
            (
                "RegisterRequest",
                credentials.clone(),
                reads::<RegisterRequest>,
            ),
            (
                "AdminRegisterRequest",
                credentials.clone(),
                reads::<AdminRegisterRequest>,
            ),
            ("LoginRequest", credentials, reads::<LoginRequest>),
            (
                "GrantRequest",
                json!({"role": "r", "scope": "s"}),
                reads::<GrantRequest>,
            ),
            ("Rule", json!({"action": "a"}), reads::<RuleDto>),
            (
                "RoleRequest",
                json!({"permissions": []}),
                reads::<RoleRequest>,
            ),
            (
                "NewRoleRequest",
                json!({"name": "r", "permissions": []}),
                |body| {
                    // A missing or null name is refused after reading (422 `missing_field`).
                    serde_json::from_value::<NewRoleRequest>(body)
                        .is_ok_and(|request| request.into_form().is_ok())
                },
            ),
            (
                "CheckRequest",
                json!({"action": "a", "scope": "s"}),
                reads::<CheckRequest>,
            ),
            (
                "CreateApiKeyRequest",
                json!({"name": "n"}),
                reads::<CreateApiKeyRequest>,
            ),
            (
                "ChangePasswordRequest",
                json!({"current_password": "a", "new_password": "b"}),
                reads::<ChangePasswordRequest>,
            ),
            (
                "ResetPasswordRequest",
                json!({"new_password": "b"}),
                reads::<ResetPasswordRequest>,
            ),
            (
                "PasswordResetRequest",
                json!({"email": "a@b.c"}),
                reads::<PasswordResetRequest>,
            ),
            (
                "PasswordResetConfirmRequest",
                json!({"token": "t", "new_password": "b"}),
                reads::<PasswordResetConfirmRequest>,
            ),
            (
                "CreateInvitationRequest",
                json!({"email": "a@b.c"}),
                reads::<CreateInvitationRequest>,
            ),
            (
                "ResendInvitationRequest",
                json!({}),
                reads::<ResendInvitationRequest>,
            ),
            (
                "AcceptInvitationRequest",
                json!({"token": "t", "password": "p"}),
                reads::<AcceptInvitationRequest>,
            ),
            (
                "VerifyEmailRequest",
                json!({"token": "t"}),
                reads::<VerifyEmailRequest>,
            ),
            (
                "ResendVerificationRequest",
                json!({"email": "a@b.c"}),
                reads::<ResendVerificationRequest>,
            ),
            (
                "LoginMfaRequest",
                json!({"mfa_token": "t", "code": "c"}),
                reads::<LoginMfaRequest>,
            ),
            (
                "MfaTokenRequest",
                json!({"mfa_token": "t"}),
                reads::<MfaTokenRequest>,
            ),
            (
                "LoginMfaPasskeyRequest",
                json!({"mfa_token": "t", "credential": {}}),
                reads::<LoginMfaPasskeyRequest>,
            ),
            (
                "PasskeyCredentialRequest",
                json!({"credential": {}}),
                reads::<PasskeyCredentialRequest>,
            ),
            (
                "RegisterPasskeyRequest",
                json!({"name": "n", "credential": {}}),
                reads::<RegisterPasskeyRequest>,
            ),
            (
                "MfaCodeRequest",
                json!({"code": "c"}),
                reads::<MfaCodeRequest>,
            ),
            (
                "PasswordConfirmation",
                json!({"password": "p"}),
                reads::<PasswordConfirmation>,
            ),
            (
                "IntrospectRequest",
                json!({"token": "t"}),
                reads::<IntrospectRequest>,
            ),
        ];
        let document: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        let schemas = &document["components"]["schemas"];

        // Every request body of the document is in the table (a new one must be added).
        for item in document["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                let Some(target) = operation
                    .pointer("/requestBody/content/application~1json/schema/$ref")
                    .and_then(|r| r.as_str())
                else {
                    continue;
                };
                let name = target.rsplit('/').next().unwrap();
                assert!(
                    requests.iter().any(|(listed, ..)| *listed == name),
                    "request body {name} is not checked here"
                );
            }
        }

        for (name, base, reader) in requests {
            assert!(reader(base.clone()), "{name}: the base body is not read");
            // A schema with a rule beside its fields (`CheckRequest`) has them in `allOf[0]`.
            let fields = match schemas[name].get("allOf") {
                Some(parts) => &parts[0],
                None => &schemas[name],
            };
            let properties = fields["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{name} has no properties"));
            for (field, schema) in properties {
                let mut body = base.clone();
                body[field] = serde_json::Value::Null;
                assert_eq!(
                    allows_null(schema),
                    reader(body),
                    "{name}.{field}: the document and the server disagree on null ({schema})"
                );
            }
        }
    }

    #[test]
    fn every_reference_resolves() {
        let text = openapi_json();
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut pending = vec![&document];
        while let Some(value) = pending.pop() {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                        let pointer = target.strip_prefix('#').unwrap();
                        assert!(
                            document.pointer(pointer).is_some(),
                            "dangling reference {target}"
                        );
                    }
                    pending.extend(map.values());
                }
                serde_json::Value::Array(items) => pending.extend(items),
                _ => {}
            }
        }
    }
}

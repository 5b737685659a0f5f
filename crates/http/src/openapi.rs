//! The OpenAPI 3.1 document of the API, generated from the code in one place.
//!
//! Each handler carries a `#[utoipa::path]` with its path, parameters, body, success
//! response and the problems only it can answer; the DTOs derive `ToSchema`/`IntoParams`.
//! What the extractors add to every route that uses them is added here, by [`Conventions`],
//! as references to shared responses: `ApiJson` bodies can fail with 400 `invalid_body`,
//! 413 `payload_too_large` and 415 `unsupported_media_type`; `Caller` with 401
//! `unauthenticated`; and every route that touches the database with 503 `unavailable` and
//! 500 `internal_error`.
//!
//! `docs/openapi.json` is this document, checked by `crates/server/tests/api/openapi.rs`.

use std::sync::OnceLock;

use roster_app::Feature;
use roster_app::model::AuditAction;
use roster_domain::{AccountStatus, Effect};
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ArrayItems, Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Components, ContentBuilder, HeaderBuilder, Ref, RefOr, Response, ResponseBuilder,
};
use utoipa::{Modify, OpenApi};

use crate::problem::{FieldProblem, ProblemBody};
use crate::routes::{
    admin_accounts, admin_api_keys, audit, authz, features, grants, health, login, me, register,
    roles,
};

/// The problem body every error response carries (`application/problem+json`).
pub(crate) type Problem = ProblemBody<'static>;

/// Name of the bearer security scheme that secured operations refer to.
pub(crate) const BEARER: &str = "bearer";

/// Media type of every error response.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

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
        register::register_by_admin,
        login::login,
        me::logout,
        me::me,
        me::change_password,
        me::sessions,
        me::revoke_session,
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
        audit::list,
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
            (while the `account-registration` flag is on) and by administrators."),
        (name = "authentication", description = "Logging in and out with session tokens."),
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

/// [`openapi_json`], built once.
pub(crate) fn cached_openapi_json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(openapi_json)
}

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
        for shared in Shared::ALL {
            components
                .responses
                .insert(shared.name().to_owned(), RefOr::T(shared.response()));
        }
        refer_to_page_items(components);
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

/// Adds the extractors' problems to `operation` where it does not document that status.
fn add_shared_responses(operation: &mut Operation) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let has_body = operation.request_body.is_some();
    let mut shared = Vec::new();
    if has_body {
        shared.extend([
            Shared::InvalidBody,
            Shared::PayloadTooLarge,
            Shared::UnsupportedMediaType,
        ]);
    }
    if secured {
        shared.push(Shared::Unauthenticated);
    }
    if secured || has_body {
        shared.extend([Shared::Unavailable, Shared::InternalError]);
    }
    for shared in shared {
        operation
            .responses
            .responses
            .entry(shared.status().to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(shared.name())));
    }
}

/// A problem response that many operations share, kept once under `components/responses`.
#[derive(Debug, Clone, Copy)]
enum Shared {
    InvalidBody,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unauthenticated,
    Unavailable,
    InternalError,
}

impl Shared {
    const ALL: [Shared; 6] = [
        Shared::InvalidBody,
        Shared::PayloadTooLarge,
        Shared::UnsupportedMediaType,
        Shared::Unauthenticated,
        Shared::Unavailable,
        Shared::InternalError,
    ];

    fn name(self) -> &'static str {
        match self {
            Shared::InvalidBody => "InvalidBody",
            Shared::PayloadTooLarge => "PayloadTooLarge",
            Shared::UnsupportedMediaType => "UnsupportedMediaType",
            Shared::Unauthenticated => "Unauthenticated",
            Shared::Unavailable => "Unavailable",
            Shared::InternalError => "InternalError",
        }
    }

    fn status(self) -> &'static str {
        match self {
            Shared::InvalidBody => "400",
            Shared::PayloadTooLarge => "413",
            Shared::UnsupportedMediaType => "415",
            Shared::Unauthenticated => "401",
            Shared::Unavailable => "503",
            Shared::InternalError => "500",
        }
    }

    fn response(self) -> Response {
        let (description, header) = match self {
            Shared::InvalidBody => (
                "`invalid_body`: malformed JSON, a wrong type, a missing or unknown field, or \
                 trailing data; `detail` names the field.",
                None,
            ),
            Shared::PayloadTooLarge => ("`payload_too_large`: the body exceeds 64 KiB.", None),
            Shared::UnsupportedMediaType => (
                "`unsupported_media_type`: the body is not `application/json`.",
                None,
            ),
            Shared::Unauthenticated => (
                "`unauthenticated`: the bearer token is missing, malformed, unknown, expired, \
                 idle, revoked, or belongs to a disabled account.",
                Some(www_authenticate()),
            ),
            Shared::Unavailable => (
                "`unavailable`: the database is unreachable; retry shortly.",
                Some(retry_after()),
            ),
            Shared::InternalError => (
                "`internal_error`: an unexpected error; the body carries no internals.",
                None,
            ),
        };
        let mut response = problem_response(description);
        if let Some((name, header)) = header {
            response.headers.insert(name.to_owned(), header);
        }
        response
    }
}

/// A response with a `Problem` body.
fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn www_authenticate() -> (&'static str, utoipa::openapi::header::Header) {
    (
        "WWW-Authenticate",
        HeaderBuilder::new()
            .schema(string_enum(["Bearer"]))
            .description(Some("Always `Bearer`."))
            .build(),
    )
}

fn retry_after() -> (&'static str, utoipa::openapi::header::Header) {
    (
        "Retry-After",
        HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .build(),
            )
            .description(Some("Seconds to wait before retrying."))
            .build(),
    )
}

fn string_enum<const N: usize>(values: [&'static str; N]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

/// A schema-only type: a string with a closed set of values, kept once under
/// `components/schemas/<name>` and listed from the type that defines the values.
macro_rules! string_enum_schema {
    ($ty:ident, $name:literal, $description:literal, $values:expr) => {
        #[doc = $description]
        #[derive(Debug)]
        pub(crate) struct $ty;

        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
                let mut schema = string_enum($values);
                schema.description = Some($description.to_owned());
                schema.into()
            }
        }

        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}

string_enum_schema!(
    AccountStatusName,
    "AccountStatus",
    "An account's status: a disabled account cannot log in.",
    [AccountStatus::Active, AccountStatus::Disabled].map(AccountStatus::as_str)
);
string_enum_schema!(
    EffectName,
    "Effect",
    "A rule's effect: a matching `deny` anywhere above the target wins over any `allow`.",
    [Effect::Allow, Effect::Deny].map(Effect::as_str)
);
string_enum_schema!(
    AuditActionName,
    "AuditAction",
    "What an audit event records.",
    AuditAction::ALL.map(AuditAction::as_str)
);
string_enum_schema!(
    FeatureName,
    "FeatureName",
    "A feature flag's name, as written in the features file.",
    Feature::ALL.map(Feature::name)
);
string_enum_schema!(
    CheckReason,
    "CheckReason",
    "What decided an authorization check.",
    [
        "superadmin",
        "allowed_by",
        "denied_by",
        "no_matching_grant",
        "inactive",
    ]
);

pub(crate) fn token_type() -> Object {
    string_enum(["Bearer"])
}

pub(crate) fn health_status() -> Object {
    string_enum(["ok", "ready", "unavailable"])
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

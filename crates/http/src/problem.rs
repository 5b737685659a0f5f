//! The one error type of the HTTP layer and its RFC 9457 rendering.
//!
//! Every error response is `application/problem+json` with `type`, `title`, `status`,
//! `detail`, a stable `code`, and for validation errors `errors[]`. 5xx bodies are opaque;
//! their cause is logged once, here.

use actix_web::http::StatusCode;
use std::collections::BTreeMap;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use roster_app::{AppError, FieldError};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, Response, ResponseBuilder};

use crate::metrics::ProblemCode;
use crate::schema::{PROBLEM_JSON, string_enum};

/// An error on its way to the client.
#[derive(Debug)]
pub enum ApiError {
    /// An application-layer refusal or failure.
    App(AppError),
    /// The request body is not `application/json`.
    UnsupportedMediaType,
    /// The request body exceeds the limit.
    PayloadTooLarge { limit: usize },
    /// The body is not valid JSON of the expected shape; `field` names where, when known.
    InvalidBody {
        field: Option<String>,
        message: String,
    },
    /// A query parameter's value is out of range or malformed (400 `invalid_query`).
    InvalidParameter { name: String, message: String },
    /// A query parameter refused before the handler runs (400 `invalid_query`): an unknown
    /// name, control characters, text that is not UTF-8, a value of the wrong type. `code`
    /// goes into `errors[].code`.
    InvalidQuery {
        name: String,
        code: &'static str,
        message: String,
    },
    /// The request body did not arrive within `server.body_timeout`.
    RequestTimeout,
    /// The client's address holds `server.max_connections_per_ip` connections already.
    TooManyConnections,
    /// No such route, or a route switched off by a feature flag that hides it.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The client's per-IP token bucket is empty (`crate::rate_limit`).
    RateLimited { retry_after_secs: u64 },
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError::App(error)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (status, code, _, detail) = self.describe();
        write!(f, "{} {code}: {detail}", status.as_u16())
    }
}

/// The problem body every error response carries (`application/problem+json`), as the
/// OpenAPI document names it.
pub(crate) type Problem = ProblemBody<'static>;

/// An RFC 9457 problem, the body of every error response.
#[derive(Serialize, ToSchema)]
#[schema(as = Problem)]
pub(crate) struct ProblemBody<'a> {
    /// `urn:roster:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:roster:problem:validation_failed")]
    type_uri: String,
    /// Short, human-readable summary of the problem type.
    #[schema(example = "Validation failed")]
    title: &'a str,
    /// The HTTP status code.
    #[schema(example = 422)]
    status: u16,
    /// Human-readable explanation of this occurrence.
    #[schema(example = "One or more fields are invalid; see `errors`.")]
    detail: String,
    /// Stable machine-readable code; each response lists the codes it can carry.
    #[schema(example = "validation_failed")]
    code: &'a str,
    /// For `validation_failed`, every invalid field; for `invalid_query`, the parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    errors: Option<Vec<FieldProblem<'a>>>,
}

/// One invalid field of a `validation_failed` problem.
#[derive(Serialize, ToSchema)]
#[schema(as = FieldError)]
pub(crate) struct FieldProblem<'a> {
    /// Path of the field in the request body, e.g. `email` or `permissions[2].action`; for
    /// `invalid_query`, the name of the query parameter.
    #[schema(example = "password")]
    field: &'a str,
    /// Stable machine-readable code of this field's problem.
    #[schema(example = "password_too_short")]
    code: &'a str,
    /// Human-readable explanation.
    #[schema(example = "password must be at least 15 characters long")]
    message: &'a str,
}

impl ApiError {
    /// (status, code, title, detail) in one place: the whole mapping of the API's errors.
    /// The console maps its failures through this same table.
    pub fn describe(&self) -> (StatusCode, &'static str, &'static str, String) {
        use AppError as E;
        match self {
            ApiError::App(error) => match error {
                E::FeatureDisabled(name) => (
                    StatusCode::FORBIDDEN,
                    "feature_disabled",
                    "Feature disabled",
                    format!("The `{name}` feature is switched off on this server."),
                ),
                E::Validation(_) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "Validation failed",
                    "One or more fields are invalid; see `errors`.".into(),
                ),
                E::EmailTaken => (
                    StatusCode::CONFLICT,
                    "email_taken",
                    "Email taken",
                    "An account with this email address already exists.".into(),
                ),
                E::DomainNotAllowed => (
                    StatusCode::FORBIDDEN,
                    "domain_not_allowed",
                    "Domain not allowed",
                    "Accounts with an email address at this domain cannot be registered here; \
                     see `GET /v1/account/registration-policy` for the allowed domains."
                        .into(),
                ),
                E::EmailUnverified => (
                    StatusCode::FORBIDDEN,
                    "email_unverified",
                    "Email not verified",
                    "The email address of this account is not verified yet; it cannot log in \
                     until it is."
                        .into(),
                ),
                E::InvalidCredentials => (
                    StatusCode::UNAUTHORIZED,
                    "invalid_credentials",
                    "Invalid credentials",
                    "The email or password is incorrect.".into(),
                ),
                E::TooManyAttempts { retry_after_secs } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    "Too many attempts",
                    format!(
                        "Too many failed logins for this account; retry in {retry_after_secs} s."
                    ),
                ),
                E::Unauthenticated => (
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Unauthenticated",
                    "A valid bearer token is required.".into(),
                ),
                E::Forbidden => (
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "Forbidden",
                    "Your grants do not allow this operation.".into(),
                ),
                E::NotFound(what) => (
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "Not found",
                    format!("No such {what}."),
                ),
                E::RoleExists => (
                    StatusCode::CONFLICT,
                    "role_exists",
                    "Role exists",
                    "A role with this name exists already.".into(),
                ),
                E::RoleInUse => (
                    StatusCode::CONFLICT,
                    "role_in_use",
                    "Role in use",
                    "The role is still granted; delete its grants first.".into(),
                ),
                E::RoleNotFound => (
                    StatusCode::NOT_FOUND,
                    "role_not_found",
                    "Role not found",
                    "No role with this name exists.".into(),
                ),
                E::RoleChanged => (
                    StatusCode::CONFLICT,
                    "role_changed",
                    "Role changed",
                    "The role's rules or its grants changed while this request was checked; \
                     nothing was written. Retry to check again."
                        .into(),
                ),
                E::GrantExists => (
                    StatusCode::CONFLICT,
                    "grant_exists",
                    "Grant exists",
                    "This role is already granted on this scope.".into(),
                ),
                E::TooManyGrants { limit } => (
                    StatusCode::CONFLICT,
                    "too_many_grants",
                    "Too many grants",
                    format!(
                        "A holder may hold at most {limit} grants; delete some before adding more."
                    ),
                ),
                E::LastSuperadmin => (
                    StatusCode::CONFLICT,
                    "last_superadmin",
                    "Last super admin",
                    "The last active super admin cannot be disabled.".into(),
                ),
                E::FeaturesFileReadOnly => (
                    StatusCode::CONFLICT,
                    "features_file_read_only",
                    "Features file read-only",
                    "The service may not write the features file (its permissions, or a \
                     read-only mount); switch the flag where the file is managed."
                        .into(),
                ),
                E::FeaturesFileInvalid => (
                    StatusCode::CONFLICT,
                    "features_file_invalid",
                    "Features file invalid",
                    "The features file cannot be edited safely (it does not parse, cannot be \
                     read, or is not the file in force); nothing was written. Fix it by hand \
                     first."
                        .into(),
                ),
                E::TokenInvalid => (
                    StatusCode::GONE,
                    "token_invalid",
                    "Token invalid",
                    "This link is invalid, expired or used already; ask for a new one.".into(),
                ),
                E::InvitationPending => (
                    StatusCode::CONFLICT,
                    "invitation_pending",
                    "Invitation pending",
                    "A pending invitation for this email address exists already; revoke it or \
                     send it again."
                        .into(),
                ),
                E::InvitationAccepted => (
                    StatusCode::CONFLICT,
                    "invitation_accepted",
                    "Invitation accepted",
                    "This invitation was accepted; its account exists (disable the account \
                     instead)."
                        .into(),
                ),
                E::InvitationRevoked => (
                    StatusCode::CONFLICT,
                    "invitation_revoked",
                    "Invitation revoked",
                    "This invitation was revoked; invite the address again instead.".into(),
                ),
                E::InvalidMfaCode => (
                    StatusCode::UNAUTHORIZED,
                    "invalid_mfa_code",
                    "Invalid code",
                    "The code is wrong, expired or used already.".into(),
                ),
                E::InvalidMfaToken => (
                    StatusCode::UNAUTHORIZED,
                    "invalid_mfa_token",
                    "Sign-in expired",
                    "This sign-in is unknown, expired or used up; log in with your password \
                     again."
                        .into(),
                ),
                E::MfaAlreadyEnrolled => (
                    StatusCode::CONFLICT,
                    "mfa_already_enrolled",
                    "Already enrolled",
                    "An authenticator app is set up already; remove it before setting up \
                     another."
                        .into(),
                ),
                E::MfaNotEnrolled => (
                    StatusCode::CONFLICT,
                    "mfa_not_enrolled",
                    "No second factor",
                    "This account has no second factor (of this kind) to use here.".into(),
                ),
                E::MfaEnrolmentRequired => (
                    StatusCode::FORBIDDEN,
                    "mfa_enrolment_required",
                    "Second factor required",
                    "Your account must set up a second factor (an authenticator app or a \
                     passkey) before it can do anything else."
                        .into(),
                ),
                E::MfaStepUpRequired => (
                    StatusCode::FORBIDDEN,
                    "mfa_step_up_required",
                    "Confirm it is you",
                    "This action needs a recent second factor: confirm with a code or a \
                     passkey (POST /v1/auth/step-up), then retry."
                        .into(),
                ),
                E::RecentSignInRequired => (
                    StatusCode::FORBIDDEN,
                    "recent_sign_in_required",
                    "Sign in again",
                    "Changing your second factors needs a recent sign-in: sign in again, then \
                     retry."
                        .into(),
                ),
                E::InvalidCredential(reason) => (
                    StatusCode::BAD_REQUEST,
                    "invalid_credential",
                    "Invalid passkey response",
                    format!("The passkey response was refused: {reason}."),
                ),
                E::Overloaded { .. } => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "overloaded",
                    "Overloaded",
                    "Too much password-hashing work is queued; retry shortly.".into(),
                ),
                E::Unavailable(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Service unavailable",
                    "The database is unreachable; retry shortly.".into(),
                ),
                E::Internal(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "Internal server error",
                    "An unexpected error occurred.".into(),
                ),
            },
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                "The request body must be sent as Content-Type: application/json.".into(),
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
                format!("The request body must not exceed {limit} bytes."),
            ),
            ApiError::InvalidBody { field, message } => (
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "Invalid request body",
                match field {
                    Some(field) => format!("Invalid field `{field}`: {message}"),
                    None => format!("The body is not valid JSON of the expected shape: {message}"),
                },
            ),
            ApiError::InvalidParameter { name, message }
            | ApiError::InvalidQuery { name, message, .. } => (
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "Invalid query parameter",
                format!("Invalid query parameter `{name}`: {message}"),
            ),
            ApiError::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "Request timeout",
                "The request body did not arrive in time.".into(),
            ),
            ApiError::TooManyConnections => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_connections",
                "Too many connections",
                "Too many open connections from your address; close some and retry.".into(),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Not found",
                "No such resource.".into(),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
                "This resource does not support the request's method.".into(),
            ),
            ApiError::RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
                format!("Too many requests from your address; retry in {retry_after_secs} s."),
            ),
        }
    }

    /// `errors[]`: every invalid field of a validation failure, or the one query parameter.
    fn field_errors(&self) -> Option<Vec<FieldProblem<'_>>> {
        fn one<'a>(field: &'a str, code: &'a str, message: &'a str) -> Vec<FieldProblem<'a>> {
            vec![FieldProblem {
                field,
                code,
                message,
            }]
        }
        match self {
            ApiError::App(AppError::Validation(errors)) => Some(
                errors
                    .iter()
                    .map(|e: &FieldError| FieldProblem {
                        field: &e.field,
                        code: e.code,
                        message: &e.message,
                    })
                    .collect(),
            ),
            ApiError::InvalidParameter { name, message } => {
                Some(one(name, "invalid_value", message))
            }
            ApiError::InvalidQuery {
                name,
                code,
                message,
            } => Some(one(name, code, message)),
            _ => None,
        }
    }
}

impl ApiError {
    /// The header a problem carries besides the usual ones: the challenge of a 401, or how
    /// long to wait before retrying.
    fn header(&self) -> Option<(HeaderName, HeaderValue)> {
        match self {
            ApiError::App(AppError::Unauthenticated | AppError::InvalidCredentials) => {
                Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")))
            }
            ApiError::App(
                AppError::Overloaded { retry_after_secs }
                | AppError::TooManyAttempts { retry_after_secs },
            )
            | ApiError::RateLimited { retry_after_secs } => {
                Some((header::RETRY_AFTER, HeaderValue::from(*retry_after_secs)))
            }
            ApiError::App(AppError::Unavailable(_)) | ApiError::TooManyConnections => {
                Some((header::RETRY_AFTER, HeaderValue::from_static("1")))
            }
            _ => None,
        }
    }

    /// Any `invalid_query` refusal, for the OpenAPI document.
    pub(crate) const INVALID_QUERY: ApiError = ApiError::InvalidParameter {
        name: String::new(),
        message: String::new(),
    };

    /// Status and `code`, as the OpenAPI document lists them.
    pub(crate) fn status_and_code(&self) -> (u16, &'static str) {
        let (status, code, _, _) = self.describe();
        (status.as_u16(), code)
    }
}

// ---------------------------------------------------------------------------------------------
// The problems in the OpenAPI document

/// The problems one operation can answer, each with when: `(error, when)`. Status, `code`,
/// media type and headers come from the table that renders the responses ([`ApiError`]), so
/// a route's documentation names errors, never status/code pairs of its own.
pub(crate) fn problem_responses(answers: &[(ApiError, &str)]) -> BTreeMap<String, RefOr<Response>> {
    let mut responses: BTreeMap<String, RefOr<Response>> = BTreeMap::new();
    for (error, when) in answers {
        let status = error.status_and_code().0.to_string();
        let response = responses
            .entry(status)
            .or_insert_with(|| RefOr::T(problem_response()));
        if let RefOr::T(response) = response {
            add_problem(response, error, when);
        }
    }
    responses
}

/// Name of the response extension listing the `code`s a problem response can carry.
pub(crate) const PROBLEM_CODES: &str = "x-problem-codes";

/// An empty problem response: the `Problem` body, no code yet.
pub(crate) fn problem_response() -> Response {
    ResponseBuilder::new()
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .extensions(Some(
            ExtensionsBuilder::new()
                .add(PROBLEM_CODES, serde_json::json!([]))
                .build(),
        ))
        .build()
}

/// The codes `response` documents.
pub(crate) fn documented_codes(response: &Response) -> Vec<String> {
    response
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get(PROBLEM_CODES))
        .and_then(serde_json::Value::as_array)
        .map(|codes| {
            codes
                .iter()
                .filter_map(|code| code.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Adds `error` (its code, when, and its header) to a problem response of its status; a code
/// documented already is left as it is.
pub(crate) fn add_problem(response: &mut Response, error: &ApiError, when: &str) {
    let (_, code) = error.status_and_code();
    if documented_codes(response).iter().any(|known| known == code) {
        return;
    }
    if !response.description.is_empty() {
        response.description.push(' ');
    }
    response.description.push('`');
    response.description.push_str(code);
    response.description.push_str("`: ");
    response.description.push_str(when);
    if let Some(codes) = response
        .extensions
        .get_or_insert_with(Default::default)
        .get_mut(PROBLEM_CODES)
        .and_then(serde_json::Value::as_array_mut)
    {
        codes.push(code.into());
    }
    if let Some((name, _)) = error.header() {
        let name = header_name(&name);
        let header = if name == "Retry-After" {
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some("Seconds to wait before retrying."))
        } else {
            HeaderBuilder::new()
                .schema(string_enum(["Bearer"]))
                .description(Some("Always `Bearer`."))
        };
        response
            .headers
            .entry(name.to_owned())
            .or_insert(header.build());
    }
}

/// The header's name as the document spells it.
fn header_name(name: &HeaderName) -> &'static str {
    if name == header::RETRY_AFTER {
        "Retry-After"
    } else {
        "WWW-Authenticate"
    }
}

/// Declares a type listing the problems of one operation, for its `#[utoipa::path]`
/// `responses(...)`: `problems!(ListProblems { AppError::Forbidden => "no ..." })`. Each
/// entry is an error (an `AppError` or an `ApiError`) and when the operation answers it.
macro_rules! problems {
    ($(#[$meta:meta])* $name:ident { $($error:expr => $when:expr),+ $(,)? }) => {
        $(#[$meta])*
        pub(crate) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::Response>,
            > {
                $crate::problem::problem_responses(&[
                    $(($crate::problem::ApiError::from($error), $when)),+
                ])
            }
        }
    };
}
pub(crate) use problems;

impl ApiError {
    /// Logs the cause of a 5xx once, where it becomes a response (the body never carries it).
    pub fn log_cause(&self) {
        match self {
            ApiError::App(AppError::Internal(cause)) => {
                tracing::error!(%cause, "internal error");
            }
            ApiError::App(AppError::Unavailable(cause)) => {
                tracing::warn!(%cause, "database unavailable");
            }
            _ => {}
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.describe().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, title, detail) = self.describe();
        self.log_cause();
        let body = ProblemBody {
            type_uri: format!("urn:roster:problem:{code}"),
            title,
            status: status.as_u16(),
            detail,
            code,
            errors: self.field_errors(),
        };
        let mut response = HttpResponse::build(status);
        response.extensions_mut().insert(ProblemCode(code));
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(header) = self.header() {
            response.insert_header(header);
        }
        if matches!(
            self,
            ApiError::RequestTimeout | ApiError::TooManyConnections
        ) {
            // The rest of the body, or the extra connection, is not worth keeping.
            response.force_close();
        }
        response.body(serde_json::to_vec(&body).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody as _;
    use roster_app::FeatureEditError;

    use super::*;

    fn rendered(error: AppError) -> (StatusCode, serde_json::Value) {
        let response = ApiError::from(error).error_response();
        let status = response.status();
        let body = response.into_body().try_into_bytes().unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    /// A features file the console cannot edit is the operator's to fix, not a server error;
    /// the problem names neither the path nor the cause (the log has them).
    #[test]
    fn a_features_file_that_cannot_be_edited_is_a_conflict() {
        let path = "/etc/roster/secret-place/_features.conf";
        for (error, code) in [
            (
                FeatureEditError::ReadOnly(format!("{path}: Read-only file system")),
                "features_file_read_only",
            ),
            (
                FeatureEditError::Invalid(format!("{path} line 3: unknown feature \"metrix\"")),
                "features_file_invalid",
            ),
        ] {
            let (status, body) = rendered(AppError::from(error));
            assert_eq!(status, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["code"], code);
            assert_eq!(body["type"], format!("urn:roster:problem:{code}"));
            let text = body.to_string();
            assert!(
                !text.contains("secret-place") && !text.contains("metrix"),
                "{text}"
            );
        }
    }
}

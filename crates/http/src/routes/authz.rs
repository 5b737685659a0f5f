//! `POST /v1/authz/check`.

use actix_web::Responder;
use actix_web::web::Data;
use roster_app::AppError;
use roster_app::Roster;

use crate::dto::{CheckRequest, CheckResponse};
use crate::extract::{ApiJson, Caller};
use crate::problem::{ApiError, problems};
use crate::respond::no_store;

problems!(
    /// The problems `check` answers besides the shared ones.
    CheckProblems {
        AppError::Forbidden => "checking another principal without `account-read` on `*`.",
        ApiError::NotFound => "no such account or API key.",
        AppError::Validation(Vec::new()) => "`errors[].code`: `invalid_action` (`action`), `invalid_scope` or \
            `wildcard_scope` (`scope`), `conflicting_subject` (both ids given), \
            `invalid_id` (`account_id`, `api_key_id`).",
    }
);

/// `{"allowed": bool, "explanation": {...}}` for the caller, or with `account-read` on `*`
/// for another account or API key.
#[utoipa::path(
    post,
    path = "/v1/authz/check",
    operation_id = "checkAuthorization",
    tag = "authorization",
    summary = "Check a permission",
    description = "Whether the caller, or the given account or API key, may do `action` on \
        `scope`, and what decided it. Checking another principal needs `account-read` on `*`. \
        A disabled account or a revoked or expired key is denied (reason `inactive`).",
    request_body = CheckRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decision.", body = CheckResponse),
        CheckProblems,
    ),
)]
pub async fn check(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<impl Responder, ApiError> {
    let outcome = roster.check(&caller, &body.into()).await?;
    Ok(no_store().json(CheckResponse::from(&outcome)))
}

//! `POST /v1/authz/check`.

use actix_web::Responder;
use actix_web::web::Data;
use roster_app::Roster;

use super::no_store;
use crate::dto::{CheckRequest, CheckResponse};
use crate::extract::{ApiJson, Caller};
use crate::problem::ApiError;

/// `{"allowed": bool, "explanation": {...}}` for the caller, or with `account-read` on `*`
/// for another account or API key.
pub async fn check(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<impl Responder, ApiError> {
    let outcome = roster.check(&caller, &body.into()).await?;
    Ok(no_store().json(CheckResponse::from(&outcome)))
}

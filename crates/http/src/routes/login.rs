use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::Roster;

use crate::dto::{LoginRequest, LoginResponse};
use crate::extract::ApiJson;
use crate::problem::ApiError;

/// `POST /v1/auth/login`.
pub async fn login(
    roster: Data<Roster>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<impl Responder, ApiError> {
    let success = roster.login(&body.email, &body.password).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(LoginResponse::from(success)))
}

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::Roster;

use crate::dto::{LoginRequest, LoginResponse};
use crate::extract::{ApiJson, ClientIp};
use crate::problem::ApiError;
use crate::rate_limit::RateLimited;

/// `POST /v1/auth/login`, rate-limited per client IP before the body is read.
pub async fn login(
    _: RateLimited,
    ClientIp(source_ip): ClientIp,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<impl Responder, ApiError> {
    let success = roster.login(&body.email, &body.password, source_ip).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(LoginResponse::from(success)))
}

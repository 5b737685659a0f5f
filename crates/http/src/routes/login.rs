use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::AppError;
use roster_app::Roster;

use crate::dto::{LoginRequest, LoginResponse};
use crate::extract::{ApiJson, Client};
use crate::problem::{ApiError, problems};
use crate::rate_limit::RateLimited;

problems!(
    /// The problems `login` answers besides the shared ones.
    LoginProblems {
        AppError::InvalidCredentials => "unknown email, wrong password or disabled account (one body for all \
            three).",
        AppError::EmailUnverified => "the right password for an account whose email address is not \
            verified yet (a wrong one is `invalid_credentials`, as for any account).",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::TooManyAttempts { retry_after_secs: 1 } => "too many failed logins for this email (no lookup or hashing is done \
            while it waits).",
        AppError::Overloaded { retry_after_secs: 1 } => "too much password-hashing work is queued.",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

/// `POST /v1/auth/login`, rate-limited per client IP before the body is read.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    operation_id = "login",
    tag = "authentication",
    summary = "Log in",
    description = "Exchanges email and password for a new session token (absolute lifetime \
        12 h and idle timeout 1 h by default). Unknown email, wrong password and disabled \
        account give the same answer after the same work; the right password for an account \
        whose email address is not verified yet answers 403 `email_unverified`. Rate-limited per client IP \
        (shared with public registration) and throttled per account after repeated failures. \
        The session records the client's address and `User-Agent` (see `listMySessions`).",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in.", body = LoginResponse),
        LoginProblems,
    ),
)]
pub async fn login(
    _: RateLimited,
    Client(client): Client,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<impl Responder, ApiError> {
    let success = roster.login(&body.email, &body.password, &client).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(LoginResponse::from(success)))
}

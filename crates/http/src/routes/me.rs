//! The signed-in caller: logout, own account, own sessions, own password.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, Responder};
use roster_app::Roster;
use roster_app::model::SessionId;

use super::no_store;
use crate::dto::{
    AccountDto, ApiKeyDto, ChangePasswordRequest, GrantDto, MeResponse, Page, SessionDto,
};
use crate::extract::{ApiJson, Caller};
use crate::openapi::Problem;
use crate::problem::ApiError;
use crate::rate_limit::RateLimited;
use roster_app::AppError;

/// `POST /v1/auth/logout`: the calling session stops working at once.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    operation_id = "logout",
    tag = "authentication",
    summary = "Log out",
    description = "Ends the calling session: its token stops working at once. Other sessions \
        of the account stay.",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out."),
        (status = 401, description = "`unauthenticated`: no valid session token (an API key \
            has no session to act on).",
            body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
    ),
)]
pub async fn logout(
    roster: Data<Roster>,
    Caller(caller): Caller,
) -> Result<impl Responder, ApiError> {
    roster.logout(&caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/account/me`: the account behind a session, or the API key, with its grants.
#[utoipa::path(
    get,
    path = "/v1/account/me",
    operation_id = "getMe",
    tag = "me",
    summary = "Who am I",
    description = "The account behind a session token (`account`), or the API key behind an \
        API key (`api_key`), with all its grants (at most `grants.max_per_holder`, default \
        1000).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller and its grants.", body = MeResponse),
    ),
)]
pub async fn me(Caller(caller): Caller) -> Result<impl Responder, ApiError> {
    Ok(no_store().json(MeResponse {
        account: caller.account().map(AccountDto::from),
        api_key: caller.api_key().map(ApiKeyDto::from),
        grants: caller.principal.grants.iter().map(GrantDto::from).collect(),
    }))
}

/// `GET /v1/account/me/sessions`.
#[utoipa::path(
    get,
    path = "/v1/account/me/sessions",
    operation_id = "listMySessions",
    tag = "me",
    summary = "List my sessions",
    description = "The account's live sessions (not revoked, expired or idle), newest first, \
        in one page.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The live sessions.", body = Page<SessionDto>),
        (status = 401, description = "`unauthenticated`: no valid session token (an API key \
            has no session to act on).",
            body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
    ),
)]
pub async fn sessions(
    roster: Data<Roster>,
    Caller(caller): Caller,
) -> Result<impl Responder, ApiError> {
    let sessions = roster.my_sessions(&caller).await?;
    let items: Vec<SessionDto> = sessions.iter().map(SessionDto::from).collect();
    Ok(no_store().json(Page {
        items,
        next_cursor: None,
    }))
}

/// `DELETE /v1/account/me/sessions/{id}`.
#[utoipa::path(
    delete,
    path = "/v1/account/me/sessions/{id}",
    operation_id = "revokeMySession",
    tag = "me",
    summary = "Revoke one of my sessions",
    description = "Ends one of the caller's sessions at once (it may be the current one).",
    params(("id" = String, Path, format = "uuid", description = "The session's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session was revoked."),
        (status = 401, description = "`unauthenticated`: no valid session token (an API key \
            has no session to act on).",
            body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 404, description = "`not_found`: not a live session of the caller.",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn revoke_session(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
) -> Result<impl Responder, ApiError> {
    let id = id
        .parse()
        .map(SessionId::new)
        .map_err(|_| ApiError::App(AppError::NotFound("session")))?;
    roster.revoke_my_session(&caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /v1/account/me/password`.
#[utoipa::path(
    put,
    path = "/v1/account/me/password",
    operation_id = "changeMyPassword",
    tag = "me",
    summary = "Change my password",
    description = "Every other session of the account is revoked; the calling one stays.",
    request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The password was changed."),
        (status = 401, description = "`unauthenticated`: no valid session token (an API key \
            has no session to act on).",
            body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 422, description = "`validation_failed`; `errors[]`: `current_password` \
            with `incorrect_password`, or `new_password` with `password_too_short`, \
            `password_too_long`, `weak_password`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many requests from this address \
            (checked first, before the token); or `too_many_attempts`: too many wrong current \
            passwords for this account.",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`overloaded`: too much password-hashing or \
            password-strength work is queued; or `unavailable`: the database is unreachable.",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ),
)]
pub async fn change_password(
    _: RateLimited,
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<impl Responder, ApiError> {
    roster
        .change_my_password(&caller, &body.current_password, &body.new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

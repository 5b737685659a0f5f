//! The signed-in caller: logout, own account, own sessions, own password.

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::AppError;
use roster_app::Roster;
use roster_app::model::SessionId;

use crate::dto::{
    AccountDto, ApiKeyDto, ChangePasswordRequest, GrantDto, MeResponse, Page, SessionDto,
};
use crate::extract::{ApiJson, Caller, EnrollingCaller, PathId, PathResource};
use crate::problem::{ApiError, problems};
use crate::rate_limit::RateLimited;
use crate::respond::no_store;

impl PathResource for SessionId {
    const PARAMETER: &'static str = "id";
    const RESOURCE: &'static str = "session";
    fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok().map(SessionId::new)
    }
}

problems!(
    /// The problems `logout` answers besides the shared ones.
    LogoutProblems {
        AppError::Unauthenticated => "no valid session token (an API key has no session to act on).",
    }
);

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
        LogoutProblems,
    ),
)]
pub async fn logout(
    roster: Data<Roster>,
    EnrollingCaller(caller): EnrollingCaller,
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
        1000). Open to a session that must still set up a second factor \
        (`mfa_enrolment_required` is true then).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller and its grants.", body = MeResponse),
    ),
)]
pub async fn me(EnrollingCaller(caller): EnrollingCaller) -> Result<impl Responder, ApiError> {
    Ok(no_store().json(MeResponse {
        account: caller.account().map(AccountDto::from),
        api_key: caller.api_key().map(ApiKeyDto::from),
        grants: caller.principal.grants.iter().map(GrantDto::from).collect(),
        mfa_enrolment_required: caller.mfa_enrolment_required,
    }))
}

problems!(
    /// The problems `sessions` answers besides the shared ones.
    SessionsProblems {
        AppError::Unauthenticated => "no valid session token (an API key has no session to act on).",
    }
);

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
        SessionsProblems,
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

problems!(
    /// The problems `revoke_session` answers besides the shared ones.
    RevokeSessionProblems {
        AppError::Unauthenticated => "no valid session token (an API key has no session to act on).",
        ApiError::NotFound => "not a live session of the caller.",
    }
);

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
        RevokeSessionProblems,
    ),
)]
pub async fn revoke_session(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<SessionId>,
) -> Result<impl Responder, ApiError> {
    roster.revoke_my_session(&caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

problems!(
    /// The problems `change_password` answers besides the shared ones.
    ChangePasswordProblems {
        AppError::Unauthenticated => "no valid session token (an API key has no session to act on).",
        AppError::Validation(Vec::new()) => "`errors[]`: `current_password` with `incorrect_password`, or \
            `new_password` with `password_too_short`, `password_too_long`, \
            `weak_password`.",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address (checked first, before the token).",
        AppError::TooManyAttempts { retry_after_secs: 1 } => "too many wrong current passwords for this account.",
        AppError::Overloaded { retry_after_secs: 1 } => "too much password-hashing or password-strength work is queued.",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

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
        ChangePasswordProblems,
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

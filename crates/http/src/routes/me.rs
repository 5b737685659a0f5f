//! The signed-in caller: logout, own account, own sessions, own password.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, Responder};
use roster_app::Roster;
use roster_app::ports::SessionId;

use super::no_store;
use crate::dto::{AccountDto, ApiKeyDto, ChangePasswordRequest, GrantDto, MeResponse, SessionDto};
use crate::extract::{ApiJson, Caller};
use crate::problem::ApiError;
use roster_app::AppError;

/// `POST /v1/auth/logout`: the calling session stops working at once.
pub async fn logout(
    roster: Data<Roster>,
    Caller(caller): Caller,
) -> Result<impl Responder, ApiError> {
    roster.logout(&caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/account/me`: the account behind a session, or the API key, with its grants.
pub async fn me(Caller(caller): Caller) -> Result<impl Responder, ApiError> {
    Ok(no_store().json(MeResponse {
        account: caller.account.as_ref().map(AccountDto::from),
        api_key: caller.api_key.as_ref().map(ApiKeyDto::from),
        grants: caller.principal.grants.iter().map(GrantDto::from).collect(),
    }))
}

/// `GET /v1/account/me/sessions`.
pub async fn sessions(
    roster: Data<Roster>,
    Caller(caller): Caller,
) -> Result<impl Responder, ApiError> {
    let sessions = roster.my_sessions(&caller).await?;
    let items: Vec<SessionDto> = sessions.iter().map(SessionDto::from).collect();
    Ok(no_store().json(crate::dto::Page {
        items,
        next_cursor: None,
    }))
}

/// `DELETE /v1/account/me/sessions/{id}`.
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
pub async fn change_password(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<impl Responder, ApiError> {
    roster
        .change_my_password(&caller, &body.current_password, &body.new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

//! `/v1/admin/accounts...`: list, read, disable/enable, reset password.

use actix_web::web::{Data, Path, Query};
use actix_web::{HttpResponse, Responder};
use roster_app::{AppError, Roster};
use roster_domain::{AccountId, AccountStatus};

use super::no_store;
use crate::dto::{
    AccountDto, AccountListQuery, AccountWithGrantsDto, GrantDto, Page, ResetPasswordRequest,
};
use crate::extract::{ApiJson, Caller};
use crate::problem::ApiError;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

fn account_id(raw: &str) -> Result<AccountId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::App(AppError::NotFound("account")))
}

/// `?limit=` within 1..=200 (default 50), else 400 naming the parameter.
pub(super) fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        Some(_) => Err(ApiError::InvalidParameter {
            name: "limit".into(),
            message: format!("must be between 1 and {MAX_LIMIT}"),
        }),
    }
}

/// `?cursor=`: the last id of the previous page (any of the UUID ids), else 400 naming it.
pub(super) fn cursor_after<Id: std::str::FromStr>(
    cursor: Option<&str>,
) -> Result<Option<Id>, ApiError> {
    cursor
        .map(|cursor| {
            cursor.parse().map_err(|_| ApiError::InvalidParameter {
                name: "cursor".into(),
                message: "not a cursor from this list".into(),
            })
        })
        .transpose()
}

/// `GET /v1/admin/accounts`.
pub async fn list(
    roster: Data<Roster>,
    Caller(caller): Caller,
    query: Query<AccountListQuery>,
) -> Result<impl Responder, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = cursor_after(query.cursor.as_deref())?;
    let page = roster
        .list_accounts(&caller, query.email.as_deref(), after, limit)
        .await?;
    Ok(no_store().json(Page {
        items: page.accounts.iter().map(AccountDto::from).collect(),
        next_cursor: page.next_after.map(|id| id.to_string()),
    }))
}

/// `GET /v1/admin/accounts/{id}`.
pub async fn get(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
) -> Result<impl Responder, ApiError> {
    let details = roster.account_details(&caller, account_id(&id)?).await?;
    Ok(no_store().json(AccountWithGrantsDto {
        account: AccountDto::from(&details.account),
        grants: details.grants.iter().map(GrantDto::from).collect(),
    }))
}

/// `POST /v1/admin/accounts/{id}/disable`.
pub async fn disable(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
) -> Result<impl Responder, ApiError> {
    let account = roster
        .set_account_status(&caller, account_id(&id)?, AccountStatus::Disabled)
        .await?;
    Ok(no_store().json(AccountDto::from(&account)))
}

/// `POST /v1/admin/accounts/{id}/enable`.
pub async fn enable(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
) -> Result<impl Responder, ApiError> {
    let account = roster
        .set_account_status(&caller, account_id(&id)?, AccountStatus::Active)
        .await?;
    Ok(no_store().json(AccountDto::from(&account)))
}

/// `PUT /v1/admin/accounts/{id}/password`.
pub async fn reset_password(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
    ApiJson(body): ApiJson<ResetPasswordRequest>,
) -> Result<impl Responder, ApiError> {
    roster
        .reset_password(&caller, account_id(&id)?, &body.new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

use actix_web::Responder;
use actix_web::web::Data;
use roster_app::Roster;

use super::created;
use crate::dto::{AccountDto, AccountWithGrantsDto, RegisterRequest};
use crate::extract::{ApiJson, Caller};
use crate::problem::ApiError;

/// Where a created account can be read back (by an administrator).
fn account_location(account: &AccountDto) -> String {
    format!("/v1/admin/accounts/{}", account.id)
}

/// `POST /v1/account/register`: public, only while `account-registration` is on.
pub async fn register_self(
    roster: Data<Roster>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<impl Responder, ApiError> {
    let account = AccountDto::from(&roster.register_self(body.into()).await?);
    Ok(created(account_location(&account), account))
}

/// `POST /v1/admin/account/register`: `account-create` on `*`.
pub async fn register_by_admin(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<impl Responder, ApiError> {
    let account = AccountDto::from(&roster.register_by_admin(&caller, body.into()).await?);
    let location = account_location(&account);
    Ok(created(
        location,
        AccountWithGrantsDto {
            account,
            grants: Vec::new(),
        },
    ))
}

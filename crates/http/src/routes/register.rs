use actix_web::Responder;
use actix_web::web::Data;
use roster_app::{RegistrationForm, Roster};

use super::created;
use crate::dto::{
    AccountDto, AccountWithGrantsDto, AdminRegisterRequest, GrantDto, RegisterRequest,
};
use crate::extract::{ApiJson, Caller, ClientIp};
use crate::problem::ApiError;
use crate::rate_limit::RateLimited;

/// Where a created account can be read back (by an administrator).
fn account_location(account: &AccountDto) -> String {
    format!("/v1/admin/accounts/{}", account.id)
}

/// `POST /v1/account/register`: public, only while `account-registration` is on;
/// rate-limited per client IP before anything else.
pub async fn register_self(
    _: RateLimited,
    ClientIp(source_ip): ClientIp,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<impl Responder, ApiError> {
    let account = AccountDto::from(&roster.register_self(body.into(), source_ip).await?);
    Ok(created(account_location(&account), account))
}

/// `POST /v1/admin/account/register`: `account-create` on `*`, plus the rights to give
/// each of `grants`; the account and its grants are created together or not at all.
pub async fn register_by_admin(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<AdminRegisterRequest>,
) -> Result<impl Responder, ApiError> {
    let form = RegistrationForm {
        email: body.email,
        password: body.password,
        name: body.name,
    };
    let grants = body.grants.into_iter().map(Into::into).collect();
    let (account, grants) = roster.register_by_admin(&caller, form, grants).await?;
    let account = AccountDto::from(&account);
    let location = account_location(&account);
    Ok(created(
        location,
        AccountWithGrantsDto {
            account,
            grants: grants.iter().map(GrantDto::from).collect(),
        },
    ))
}

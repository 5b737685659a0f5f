//! `/v1/admin/accounts...`: list, read, disable/enable, reset password.

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::Roster;
use roster_domain::{AccountId, AccountStatus};

use crate::dto::{
    AccountDto, AccountFilter, AccountWithGrantsDto, GrantDto, Page, ResetPasswordRequest,
};
use crate::extract::{ApiJson, ApiQuery, Caller, PageParams, PathId};
use crate::problem::{ApiError, Problem};
use crate::rate_limit::RateLimited;
use crate::respond::no_store;

/// `GET /v1/admin/accounts`.
#[utoipa::path(
    get,
    path = "/v1/admin/accounts",
    operation_id = "listAccounts",
    tag = "accounts",
    summary = "List accounts",
    description = "Oldest first. Needs `account-read` on `*`.",
    params(PageParams, AccountFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of accounts.", body = Page<AccountDto>),
        (status = 400, description = "`invalid_query`: `limit` outside 1..=200, or a \
            `cursor` not from this list.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: no `account-read` on `*`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list(
    roster: Data<Roster>,
    Caller(caller): Caller,
    page: PageParams,
    ApiQuery(filter): ApiQuery<AccountFilter>,
) -> Result<impl Responder, ApiError> {
    let page = roster
        .list_accounts(&caller, filter.email.as_deref(), page.after()?, page.limit)
        .await?;
    Ok(no_store().json(Page {
        items: page.accounts.iter().map(AccountDto::from).collect(),
        next_cursor: page.next_after.map(|id| id.to_string()),
    }))
}

/// `GET /v1/admin/accounts/{id}`.
#[utoipa::path(
    get,
    path = "/v1/admin/accounts/{id}",
    operation_id = "getAccount",
    tag = "accounts",
    summary = "Read an account",
    description = "The account with all its grants (at most `grants.max_per_holder`, default \
        1000; `GET .../grants` pages them). Needs `account-read` on `*`.",
    params(("id" = String, Path, format = "uuid", description = "The account's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account and its grants.", body = AccountWithGrantsDto),
        (status = 403, description = "`forbidden`: no `account-read` on `*`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such account (also for a malformed id).",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<AccountId>,
) -> Result<impl Responder, ApiError> {
    let details = roster.account_details(&caller, id).await?;
    Ok(no_store().json(AccountWithGrantsDto {
        account: AccountDto::from(&details.account),
        grants: details.grants.iter().map(GrantDto::from).collect(),
    }))
}

/// `POST /v1/admin/accounts/{id}/disable`.
#[utoipa::path(
    post,
    path = "/v1/admin/accounts/{id}/disable",
    operation_id = "disableAccount",
    tag = "accounts",
    summary = "Disable an account",
    description = "Revokes all its sessions at once, and every API key it created (and the \
        keys those created); its logins fail like a wrong password. Enabling it again brings no \
        key back. Disabling a disabled account revokes any key of it still live, else changes \
        nothing. Needs `account-disable` on `*`.",
    params(("id" = String, Path, format = "uuid", description = "The account's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account, now disabled.", body = AccountDto),
        (status = 403, description = "`forbidden`: no `account-disable` on `*`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such account (also for a malformed id).",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_superadmin`: the last active super admin cannot \
            be disabled.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn disable(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<AccountId>,
) -> Result<impl Responder, ApiError> {
    let account = roster
        .set_account_status(&caller, id, AccountStatus::Disabled)
        .await?;
    Ok(no_store().json(AccountDto::from(&account)))
}

/// `POST /v1/admin/accounts/{id}/enable`.
#[utoipa::path(
    post,
    path = "/v1/admin/accounts/{id}/enable",
    operation_id = "enableAccount",
    tag = "accounts",
    summary = "Enable an account",
    description = "Enabling an active account changes nothing. Needs `account-disable` on `*`.",
    params(("id" = String, Path, format = "uuid", description = "The account's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account, now active.", body = AccountDto),
        (status = 403, description = "`forbidden`: no `account-disable` on `*`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such account (also for a malformed id).",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn enable(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<AccountId>,
) -> Result<impl Responder, ApiError> {
    let account = roster
        .set_account_status(&caller, id, AccountStatus::Active)
        .await?;
    Ok(no_store().json(AccountDto::from(&account)))
}

/// `PUT /v1/admin/accounts/{id}/password`.
#[utoipa::path(
    put,
    path = "/v1/admin/accounts/{id}/password",
    operation_id = "resetAccountPassword",
    tag = "accounts",
    summary = "Reset an account's password",
    description = "Revokes all the account's sessions. Needs `account-password-reset` on `*`.",
    params(("id" = String, Path, format = "uuid", description = "The account's id.")),
    request_body = ResetPasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The password was reset."),
        (status = 403, description = "`forbidden`: no `account-password-reset` on `*`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such account (also for a malformed id).",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`; `errors[]`: `new_password` with \
            `password_too_short`, `password_too_long`, `weak_password`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many requests from this address \
            (checked first, before the token).",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`overloaded`: too much password-hashing or \
            password-strength work is queued; or `unavailable`: the database is unreachable.",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ),
)]
pub async fn reset_password(
    _: RateLimited,
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<AccountId>,
    ApiJson(body): ApiJson<ResetPasswordRequest>,
) -> Result<impl Responder, ApiError> {
    roster
        .reset_password(&caller, id, &body.new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

//! `/v1/admin/accounts...`: list, read, disable/enable, reset password.

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::AppError;
use roster_app::Roster;
use roster_domain::{AccountId, AccountStatus};

use crate::dto::{
    AccountDto, AccountFilter, AccountWithGrantsDto, GrantDto, Page, ResetPasswordRequest,
};
use crate::extract::{ApiJson, ApiQuery, Caller, PageParams, PathId};
use crate::problem::{ApiError, problems};
use crate::rate_limit::RateLimited;
use crate::respond::no_store;

problems!(
    /// The problems `list` answers besides the shared ones.
    ListProblems {
        ApiError::INVALID_QUERY => "`limit` outside 1..=200, or a `cursor` not from this list.",
        AppError::Forbidden => "no `account-read` on `*`.",
    }
);

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
        ListProblems,
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

problems!(
    /// The problems `get` answers besides the shared ones.
    GetProblems {
        AppError::Forbidden => "no `account-read` on `*`.",
        ApiError::NotFound => "no such account (also for a malformed id).",
    }
);

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
        GetProblems,
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

problems!(
    /// The problems `disable` answers besides the shared ones.
    DisableProblems {
        AppError::MfaStepUpRequired => "the caller has a second factor and presented none within \
            `mfa.step_up_window` (default 15 minutes): confirm with `stepUp`, then retry.",
        AppError::Forbidden => "no `account-disable` on `*`.",
        ApiError::NotFound => "no such account (also for a malformed id).",
        AppError::LastSuperadmin => "the last active super admin cannot be disabled.",
    }
);

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
        DisableProblems,
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

problems!(
    /// The problems `enable` answers besides the shared ones.
    EnableProblems {
        AppError::Forbidden => "no `account-disable` on `*`.",
        ApiError::NotFound => "no such account (also for a malformed id).",
    }
);

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
        EnableProblems,
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

problems!(
    /// The problems `reset_password` answers besides the shared ones.
    ResetPasswordProblems {
        AppError::MfaStepUpRequired => "the caller has a second factor and presented none within \
            `mfa.step_up_window` (default 15 minutes): confirm with `stepUp`, then retry.",
        AppError::Forbidden => "no `account-password-reset` on `*`.",
        ApiError::NotFound => "no such account (also for a malformed id).",
        AppError::Validation(Vec::new()) => "`errors[]`: `new_password` with `password_too_short`, \
            `password_too_long`, `weak_password`.",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address (checked first, before the token).",
        AppError::Overloaded { retry_after_secs: 1 } => "too much password-hashing or password-strength work is queued.",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

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
        ResetPasswordProblems,
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

//! `/v1/admin/accounts/{id}/grants...` and `/v1/admin/api-keys/{id}/grants...`.

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::AppError;
use roster_app::{Authenticated, Roster};
use roster_domain::{AccountId, ApiKeyId, GrantId, PrincipalId};

use crate::dto::{GrantDto, GrantRequest, Page};
use crate::extract::{ApiJson, Caller, PageParams, PathId};
use crate::problem::{ApiError, problems};
use crate::respond::{created, no_store};

/// Where a holder's grants live: one implementation serves both `/accounts/{id}/grants` and
/// `/api-keys/{id}/grants`.
fn grants_path(holder: PrincipalId) -> String {
    match holder {
        PrincipalId::Account(id) => format!("/v1/admin/accounts/{id}/grants"),
        PrincipalId::ApiKey(id) => format!("/v1/admin/api-keys/{id}/grants"),
    }
}

/// `POST .../{id}/grants`: 201 with the grant.
async fn create(
    roster: &Roster,
    caller: &Authenticated,
    holder: PrincipalId,
    body: GrantRequest,
) -> Result<HttpResponse, ApiError> {
    let grant = roster.create_grant(caller, holder, &body.into()).await?;
    let location = format!("{}/{}", grants_path(holder), grant.id);
    Ok(created(location, GrantDto::from(&grant)))
}

/// `GET .../{id}/grants`: a page of the holder's grants, oldest first.
async fn list(
    roster: &Roster,
    caller: &Authenticated,
    holder: PrincipalId,
    page: PageParams,
) -> Result<HttpResponse, ApiError> {
    let page = roster
        .list_grants(caller, holder, page.after()?, page.limit)
        .await?;
    Ok(no_store().json(Page {
        items: page.grants.iter().map(GrantDto::from).collect(),
        next_cursor: page.next_after.map(|id| id.to_string()),
    }))
}

/// `DELETE .../{id}/grants/{grant_id}`: 204; effective from the next request on.
async fn delete(
    roster: &Roster,
    caller: &Authenticated,
    holder: PrincipalId,
    grant: GrantId,
) -> Result<HttpResponse, ApiError> {
    roster.delete_grant(caller, holder, grant).await?;
    Ok(HttpResponse::NoContent().finish())
}

problems!(
    /// The problems `create_for_account` answers besides the shared ones.
    CreateForAccountProblems {
        AppError::MfaStepUpRequired => "the caller has a second factor and presented none within \
            `mfa.step_up_window` (default 15 minutes): confirm with `stepUp`, then retry.",
        AppError::Forbidden => "no `grant-manage` on the scope, or the role allows more than the \
            caller holds there.",
        ApiError::NotFound => "no such account.",
        AppError::RoleNotFound => "no such role.",
        AppError::GrantExists => "the account holds this role on this scope already.",
        AppError::TooManyGrants { limit: 0 } => "it holds `grants.max_per_holder` grants (default 1000) already.",
        AppError::RoleChanged => "the role's rules changed while the request was checked.",
        AppError::Validation(Vec::new()) => "`errors[].code`: `invalid_role_name` (`role`), `invalid_scope` \
            (`scope`).",
    }
);

/// `POST /v1/admin/accounts/{id}/grants`.
#[utoipa::path(
    post,
    path = "/v1/admin/accounts/{id}/grants",
    operation_id = "createAccountGrant",
    tag = "grants",
    summary = "Grant a role to an account",
    description = "Needs `grant-manage` on the scope and, unless a super admin, every `allow` \
        action of the role on the scope and beneath it (no escalation).",
    params(("id" = String, Path, format = "uuid", description = "The account's id.")),
    request_body = GrantRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The grant was created.", body = GrantDto,
            headers(("Location" = String,
                description = "`/v1/admin/accounts/{id}/grants/{grant_id}`"))),
        CreateForAccountProblems,
    ),
)]
pub async fn create_for_account(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<AccountId>,
    ApiJson(body): ApiJson<GrantRequest>,
) -> Result<impl Responder, ApiError> {
    create(&roster, &caller, PrincipalId::Account(id), body).await
}

problems!(
    /// The problems `list_for_account` answers besides the shared ones.
    ListForAccountProblems {
        ApiError::INVALID_QUERY => "`limit` outside 1..=200, or a `cursor` not from this list.",
        AppError::Forbidden => "no `account-read` on `*`.",
        ApiError::NotFound => "no such account.",
    }
);

/// `GET /v1/admin/accounts/{id}/grants`.
#[utoipa::path(
    get,
    path = "/v1/admin/accounts/{id}/grants",
    operation_id = "listAccountGrants",
    tag = "grants",
    summary = "List an account's grants",
    description = "The account's grants, oldest first, a page at a time. Needs `account-read` \
        on `*`.",
    params(
        ("id" = String, Path, format = "uuid", description = "The account's id."),
        PageParams,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the account's grants.", body = Page<GrantDto>),
        ListForAccountProblems,
    ),
)]
pub async fn list_for_account(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<AccountId>,
    page: PageParams,
) -> Result<impl Responder, ApiError> {
    list(&roster, &caller, PrincipalId::Account(id), page).await
}

problems!(
    /// The problems `delete_for_account` answers besides the shared ones.
    DeleteForAccountProblems {
        AppError::Forbidden => "the caller could not give this grant.",
        ApiError::NotFound => "no such account, or no such grant of it.",
    }
);

/// `DELETE /v1/admin/accounts/{id}/grants/{grant_id}`.
#[utoipa::path(
    delete,
    path = "/v1/admin/accounts/{id}/grants/{grant_id}",
    operation_id = "deleteAccountGrant",
    tag = "grants",
    summary = "Take a grant from an account",
    description = "Needs the same rights as giving it. Effective from the holder's next \
        request.",
    params(
        ("id" = String, Path, format = "uuid", description = "The account's id."),
        ("grant_id" = String, Path, format = "uuid", description = "The grant's id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The grant was deleted."),
        DeleteForAccountProblems,
    ),
)]
pub async fn delete_for_account(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<AccountId>,
    PathId(grant): PathId<GrantId>,
) -> Result<impl Responder, ApiError> {
    delete(&roster, &caller, PrincipalId::Account(id), grant).await
}

problems!(
    /// The problems `create_for_api_key` answers besides the shared ones.
    CreateForApiKeyProblems {
        AppError::MfaStepUpRequired => "the caller has a second factor and presented none within \
            `mfa.step_up_window` (default 15 minutes): confirm with `stepUp`, then retry.",
        AppError::Forbidden => "no `grant-manage` on the scope, or the role allows more than the \
            caller holds there.",
        ApiError::NotFound => "no such API key.",
        AppError::RoleNotFound => "no such role.",
        AppError::GrantExists => "the key holds this role on this scope already.",
        AppError::TooManyGrants { limit: 0 } => "it holds `grants.max_per_holder` grants (default 1000) already.",
        AppError::RoleChanged => "the role's rules changed while the request was checked.",
        AppError::Validation(Vec::new()) => "`errors[].code`: `invalid_role_name` (`role`), `invalid_scope` \
            (`scope`).",
    }
);

/// `POST /v1/admin/api-keys/{id}/grants`.
#[utoipa::path(
    post,
    path = "/v1/admin/api-keys/{id}/grants",
    operation_id = "createApiKeyGrant",
    tag = "grants",
    summary = "Grant a role to an API key",
    description = "Needs `grant-manage` on the scope and, unless a super admin, every `allow` \
        action of the role on the scope and beneath it (no escalation).",
    params(("id" = String, Path, format = "uuid", description = "The API key's id.")),
    request_body = GrantRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The grant was created.", body = GrantDto,
            headers(("Location" = String,
                description = "`/v1/admin/api-keys/{id}/grants/{grant_id}`"))),
        CreateForApiKeyProblems,
    ),
)]
pub async fn create_for_api_key(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<ApiKeyId>,
    ApiJson(body): ApiJson<GrantRequest>,
) -> Result<impl Responder, ApiError> {
    create(&roster, &caller, PrincipalId::ApiKey(id), body).await
}

problems!(
    /// The problems `list_for_api_key` answers besides the shared ones.
    ListForApiKeyProblems {
        ApiError::INVALID_QUERY => "`limit` outside 1..=200, or a `cursor` not from this list.",
        AppError::Forbidden => "no `apikey-manage` on `*`.",
        ApiError::NotFound => "no such API key.",
    }
);

/// `GET /v1/admin/api-keys/{id}/grants`.
#[utoipa::path(
    get,
    path = "/v1/admin/api-keys/{id}/grants",
    operation_id = "listApiKeyGrants",
    tag = "grants",
    summary = "List an API key's grants",
    description = "The key's grants, oldest first, a page at a time. Needs `apikey-manage` on \
        `*`.",
    params(
        ("id" = String, Path, format = "uuid", description = "The API key's id."),
        PageParams,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the key's grants.", body = Page<GrantDto>),
        ListForApiKeyProblems,
    ),
)]
pub async fn list_for_api_key(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<ApiKeyId>,
    page: PageParams,
) -> Result<impl Responder, ApiError> {
    list(&roster, &caller, PrincipalId::ApiKey(id), page).await
}

problems!(
    /// The problems `delete_for_api_key` answers besides the shared ones.
    DeleteForApiKeyProblems {
        AppError::Forbidden => "the caller could not give this grant.",
        ApiError::NotFound => "no such API key, or no such grant of it.",
    }
);

/// `DELETE /v1/admin/api-keys/{id}/grants/{grant_id}`.
#[utoipa::path(
    delete,
    path = "/v1/admin/api-keys/{id}/grants/{grant_id}",
    operation_id = "deleteApiKeyGrant",
    tag = "grants",
    summary = "Take a grant from an API key",
    description = "Needs the same rights as giving it. Effective from the key's next request.",
    params(
        ("id" = String, Path, format = "uuid", description = "The API key's id."),
        ("grant_id" = String, Path, format = "uuid", description = "The grant's id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The grant was deleted."),
        DeleteForApiKeyProblems,
    ),
)]
pub async fn delete_for_api_key(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<ApiKeyId>,
    PathId(grant): PathId<GrantId>,
) -> Result<impl Responder, ApiError> {
    delete(&roster, &caller, PrincipalId::ApiKey(id), grant).await
}

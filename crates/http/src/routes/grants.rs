//! `/v1/admin/accounts/{id}/grants...` and `/v1/admin/api-keys/{id}/grants...`.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, Responder};
use roster_app::{AppError, Authenticated, Roster};
use roster_domain::{GrantId, PrincipalId};

use super::admin_accounts::{cursor_after, page_limit};
use crate::dto::{GrantDto, GrantRequest, Page, PageQuery};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::problem::{ApiError, Problem};
use crate::respond::{created, no_store};

/// Which kind of holder a route serves: one implementation serves both
/// `/accounts/{id}/grants` and `/api-keys/{id}/grants`.
#[derive(Debug, Clone, Copy)]
enum HolderKind {
    Account,
    ApiKey,
}

impl HolderKind {
    fn holder(self, raw: &str) -> Result<PrincipalId, ApiError> {
        match self {
            HolderKind::Account => raw
                .parse()
                .map(PrincipalId::Account)
                .map_err(|_| AppError::NotFound("account").into()),
            HolderKind::ApiKey => raw
                .parse()
                .map(PrincipalId::ApiKey)
                .map_err(|_| AppError::NotFound("api key").into()),
        }
    }

    fn path(self) -> &'static str {
        match self {
            HolderKind::Account => "accounts",
            HolderKind::ApiKey => "api-keys",
        }
    }
}

fn grant_id(raw: &str) -> Result<GrantId, ApiError> {
    raw.parse().map_err(|_| AppError::NotFound("grant").into())
}

/// `POST .../{id}/grants`: 201 with the grant.
async fn create(
    kind: HolderKind,
    roster: &Roster,
    caller: &Authenticated,
    id: &str,
    body: GrantRequest,
) -> Result<HttpResponse, ApiError> {
    let holder = kind.holder(id)?;
    let grant = roster.create_grant(caller, holder, &body.into()).await?;
    let location = format!("/v1/admin/{}/{id}/grants/{}", kind.path(), grant.id);
    Ok(created(location, GrantDto::from(&grant)))
}

/// `GET .../{id}/grants`: a page of the holder's grants, oldest first.
async fn list(
    kind: HolderKind,
    roster: &Roster,
    caller: &Authenticated,
    id: &str,
    query: PageQuery,
) -> Result<HttpResponse, ApiError> {
    let holder = kind.holder(id)?;
    let limit = page_limit(query.limit)?;
    let after = cursor_after(query.cursor.as_deref())?;
    let page = roster.list_grants(caller, holder, after, limit).await?;
    Ok(no_store().json(Page {
        items: page.grants.iter().map(GrantDto::from).collect(),
        next_cursor: page.next_after.map(|id| id.to_string()),
    }))
}

/// `DELETE .../{id}/grants/{grant_id}`: 204; effective from the next request on.
async fn delete(
    kind: HolderKind,
    roster: &Roster,
    caller: &Authenticated,
    (id, grant): (String, String),
) -> Result<HttpResponse, ApiError> {
    roster
        .delete_grant(caller, kind.holder(&id)?, grant_id(&grant)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

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
        (status = 403, description = "`forbidden`: no `grant-manage` on the scope, or the \
            role allows more than the caller holds there.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such account; `role_not_found`: no \
            such role.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`grant_exists`: the account holds this role on this \
            scope already; `too_many_grants`: it holds `grants.max_per_holder` grants \
            (default 1000) already; `role_changed`: the role's rules changed while the \
            request was checked.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`; `errors[].code`: \
            `invalid_role_name` (`role`), `invalid_scope` (`scope`).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_for_account(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
    ApiJson(body): ApiJson<GrantRequest>,
) -> Result<impl Responder, ApiError> {
    create(HolderKind::Account, &roster, &caller, &id, body).await
}

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
        PageQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the account's grants.", body = Page<GrantDto>),
        (status = 400, description = "`invalid_query`: `limit` outside 1..=200, or a \
            `cursor` not from this list.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: no `account-read` on `*`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such account.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_for_account(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
    query: ApiQuery<PageQuery>,
) -> Result<impl Responder, ApiError> {
    list(
        HolderKind::Account,
        &roster,
        &caller,
        &id,
        query.into_inner(),
    )
    .await
}

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
        (status = 403, description = "`forbidden`: the caller could not give this grant.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such account, or no such grant of it.",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete_for_account(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ids: Path<(String, String)>,
) -> Result<impl Responder, ApiError> {
    delete(HolderKind::Account, &roster, &caller, ids.into_inner()).await
}

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
        (status = 403, description = "`forbidden`: no `grant-manage` on the scope, or the \
            role allows more than the caller holds there.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such API key; `role_not_found`: no \
            such role.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`grant_exists`: the key holds this role on this scope \
            already; `too_many_grants`: it holds `grants.max_per_holder` grants (default \
            1000) already; `role_changed`: the role's rules changed while the request was \
            checked.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`; `errors[].code`: \
            `invalid_role_name` (`role`), `invalid_scope` (`scope`).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_for_api_key(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
    ApiJson(body): ApiJson<GrantRequest>,
) -> Result<impl Responder, ApiError> {
    create(HolderKind::ApiKey, &roster, &caller, &id, body).await
}

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
        PageQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the key's grants.", body = Page<GrantDto>),
        (status = 400, description = "`invalid_query`: `limit` outside 1..=200, or a \
            `cursor` not from this list.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: no `apikey-manage` on `*`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such API key.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_for_api_key(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
    query: ApiQuery<PageQuery>,
) -> Result<impl Responder, ApiError> {
    list(
        HolderKind::ApiKey,
        &roster,
        &caller,
        &id,
        query.into_inner(),
    )
    .await
}

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
        (status = 403, description = "`forbidden`: the caller could not give this grant.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such API key, or no such grant of it.",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete_for_api_key(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ids: Path<(String, String)>,
) -> Result<impl Responder, ApiError> {
    delete(HolderKind::ApiKey, &roster, &caller, ids.into_inner()).await
}

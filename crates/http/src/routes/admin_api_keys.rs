//! `/v1/admin/api-keys...`: create, list, read and revoke API keys (`apikey-manage`).

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::AppError;
use roster_app::{GrantForm, Roster};
use roster_domain::ApiKeyId;

use crate::dto::{
    ApiKeyDto, ApiKeyWithGrantsDto, CreateApiKeyRequest, CreatedApiKeyResponse, GrantDto, Page,
};
use crate::extract::{ApiJson, Caller, PageParams, PathId};
use crate::problem::{ApiError, problems};
use crate::respond::{created, no_store};

problems!(
    /// The problems `create` answers besides the shared ones.
    CreateProblems {
        AppError::MfaStepUpRequired => "the caller has a second factor and presented none within \
            `mfa.step_up_window` (default 15 minutes): confirm with `stepUp`, then retry.",
        AppError::Forbidden => "no `apikey-manage` on `*`, or a grant the caller may not give.",
        AppError::RoleNotFound => "a grant names an unknown role.",
        AppError::TooManyGrants { limit: 0 } => "more grants than `grants.max_per_holder` (default 1000).",
        AppError::Validation(Vec::new()) => "`errors[].code`: `invalid_name` (`name`), `invalid_duration` \
            (`expires_in`), `invalid_role_name` and `invalid_scope` \
            (`grants[i].role`, `grants[i].scope`), `duplicate_grant`.",
    }
);

/// `POST /v1/admin/api-keys`: 201 with the key, shown only here.
#[utoipa::path(
    post,
    path = "/v1/admin/api-keys",
    operation_id = "createApiKey",
    tag = "api-keys",
    summary = "Create an API key",
    description = "The secret `key` is in this response only. Needs `apikey-manage` on `*`, and \
        for each grant what creating it later would need. A key created by an expiring API key \
        expires no later than that key (`expires_at` shows when); revoking a key, or disabling \
        the account that created it, revokes it too.",
    request_body = CreateApiKeyRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The key was created.", body = CreatedApiKeyResponse,
            headers(("Location" = String, description = "`/v1/admin/api-keys/{id}`"))),
        CreateProblems,
    ),
)]
pub async fn create(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateApiKeyRequest>,
) -> Result<impl Responder, ApiError> {
    let grants: Vec<GrantForm> = body.grants.into_iter().map(Into::into).collect();
    let created_key = roster
        .create_api_key(&caller, &body.name, body.expires_in.as_deref(), &grants)
        .await?;
    let location = format!("/v1/admin/api-keys/{}", created_key.key.id);
    Ok(created(location, CreatedApiKeyResponse::from(created_key)))
}

problems!(
    /// The problems `list` answers besides the shared ones.
    ListProblems {
        ApiError::INVALID_QUERY => "`limit` outside 1..=200, or a `cursor` not from this list.",
        AppError::Forbidden => "no `apikey-manage` on `*`.",
    }
);

/// `GET /v1/admin/api-keys`.
#[utoipa::path(
    get,
    path = "/v1/admin/api-keys",
    operation_id = "listApiKeys",
    tag = "api-keys",
    summary = "List API keys",
    description = "Oldest first, revoked and expired keys included. Needs `apikey-manage` on \
        `*`.",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of API keys.", body = Page<ApiKeyDto>),
        ListProblems,
    ),
)]
pub async fn list(
    roster: Data<Roster>,
    Caller(caller): Caller,
    page: PageParams,
) -> Result<impl Responder, ApiError> {
    let page = roster
        .list_api_keys(&caller, page.after()?, page.limit)
        .await?;
    Ok(no_store().json(Page {
        items: page.keys.iter().map(ApiKeyDto::from).collect(),
        next_cursor: page.next_after.map(|id| id.to_string()),
    }))
}

problems!(
    /// The problems `get` answers besides the shared ones.
    GetProblems {
        AppError::Forbidden => "no `apikey-manage` on `*`.",
        ApiError::NotFound => "no such API key (also for a malformed id).",
    }
);

/// `GET /v1/admin/api-keys/{id}`.
#[utoipa::path(
    get,
    path = "/v1/admin/api-keys/{id}",
    operation_id = "getApiKey",
    tag = "api-keys",
    summary = "Read an API key",
    description = "The key (never its secret) with all its grants (at most \
        `grants.max_per_holder`, default 1000; `GET .../grants` pages them). Needs \
        `apikey-manage` on `*`.",
    params(("id" = String, Path, format = "uuid", description = "The API key's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The key and its grants.", body = ApiKeyWithGrantsDto),
        GetProblems,
    ),
)]
pub async fn get(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<ApiKeyId>,
) -> Result<impl Responder, ApiError> {
    let details = roster.api_key_details(&caller, id).await?;
    Ok(no_store().json(ApiKeyWithGrantsDto {
        key: ApiKeyDto::from(&details.key),
        grants: details.grants.iter().map(GrantDto::from).collect(),
    }))
}

problems!(
    /// The problems `revoke` answers besides the shared ones.
    RevokeProblems {
        AppError::Forbidden => "no `apikey-manage` on `*`.",
        ApiError::NotFound => "no such API key (also for a malformed id).",
    }
);

/// `DELETE /v1/admin/api-keys/{id}`: revokes at once; 204.
#[utoipa::path(
    delete,
    path = "/v1/admin/api-keys/{id}",
    operation_id = "revokeApiKey",
    tag = "api-keys",
    summary = "Revoke an API key",
    description = "The key stops working at once, and so does every key it created \
        (transitively). Revoking a revoked key changes nothing. Needs `apikey-manage` on `*`.",
    params(("id" = String, Path, format = "uuid", description = "The API key's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The key is revoked."),
        RevokeProblems,
    ),
)]
pub async fn revoke(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<ApiKeyId>,
) -> Result<impl Responder, ApiError> {
    roster.revoke_api_key(&caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

//! `/v1/admin/api-keys...`: create, list, read and revoke API keys (`apikey-manage`).

use actix_web::web::{Data, Path, Query};
use actix_web::{HttpResponse, Responder};
use roster_app::{AppError, GrantForm, Roster};
use roster_domain::ApiKeyId;

use super::admin_accounts::{cursor_after, page_limit};
use super::{created, no_store};
use crate::dto::{
    ApiKeyDto, ApiKeyWithGrantsDto, CreateApiKeyRequest, CreatedApiKeyResponse, GrantDto, Page,
    PageQuery,
};
use crate::extract::{ApiJson, Caller};
use crate::problem::ApiError;

fn api_key_id(raw: &str) -> Result<ApiKeyId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::App(AppError::NotFound("api key")))
}

/// `POST /v1/admin/api-keys`: 201 with the key, shown only here.
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

/// `GET /v1/admin/api-keys`.
pub async fn list(
    roster: Data<Roster>,
    Caller(caller): Caller,
    query: Query<PageQuery>,
) -> Result<impl Responder, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = cursor_after(query.cursor.as_deref())?;
    let page = roster.list_api_keys(&caller, after, limit).await?;
    Ok(no_store().json(Page {
        items: page.keys.iter().map(ApiKeyDto::from).collect(),
        next_cursor: page.next_after.map(|id| id.to_string()),
    }))
}

/// `GET /v1/admin/api-keys/{id}`.
pub async fn get(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
) -> Result<impl Responder, ApiError> {
    let details = roster.api_key_details(&caller, api_key_id(&id)?).await?;
    Ok(no_store().json(ApiKeyWithGrantsDto {
        key: ApiKeyDto::from(&details.key),
        grants: details.grants.iter().map(GrantDto::from).collect(),
    }))
}

/// `DELETE /v1/admin/api-keys/{id}`: revokes at once; 204.
pub async fn revoke(
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
) -> Result<impl Responder, ApiError> {
    roster.revoke_api_key(&caller, api_key_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

//! `/v1/admin/accounts/{id}/grants...` and `/v1/admin/api-keys/{id}/grants...`.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, Responder};
use roster_app::{AppError, Roster};
use roster_domain::{GrantId, PrincipalId};

use super::{created, no_store};
use crate::dto::{GrantDto, GrantRequest, Page};
use crate::extract::{ApiJson, Caller};
use crate::problem::ApiError;

/// Which kind of holder a route serves: resource-level app data, so one set of handlers
/// serves both `/accounts/{id}/grants` and `/api-keys/{id}/grants`.
#[derive(Debug, Clone, Copy)]
pub enum HolderKind {
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
pub async fn create(
    kind: Data<HolderKind>,
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
    ApiJson(body): ApiJson<GrantRequest>,
) -> Result<impl Responder, ApiError> {
    let holder = kind.holder(&id)?;
    let grant = roster.create_grant(&caller, holder, &body.into()).await?;
    let location = format!("/v1/admin/{}/{id}/grants/{}", kind.path(), grant.id);
    Ok(created(location, GrantDto::from(&grant)))
}

/// `GET .../{id}/grants`: every grant of the holder (one page).
pub async fn list(
    kind: Data<HolderKind>,
    roster: Data<Roster>,
    Caller(caller): Caller,
    id: Path<String>,
) -> Result<impl Responder, ApiError> {
    let grants = roster.list_grants(&caller, kind.holder(&id)?).await?;
    Ok(no_store().json(Page {
        items: grants.iter().map(GrantDto::from).collect(),
        next_cursor: None,
    }))
}

/// `DELETE .../{id}/grants/{grant_id}`: 204; effective from the next request on.
pub async fn delete(
    kind: Data<HolderKind>,
    roster: Data<Roster>,
    Caller(caller): Caller,
    ids: Path<(String, String)>,
) -> Result<impl Responder, ApiError> {
    let (id, grant) = ids.into_inner();
    roster
        .delete_grant(&caller, kind.holder(&id)?, grant_id(&grant)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

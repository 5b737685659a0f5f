//! `/v1/admin/roles...` (`role-manage`).

use actix_web::web::{Data, Path, Query};
use actix_web::{HttpResponse, Responder};
use roster_app::{AppError, FieldError, Roster};

use super::admin_accounts::page_limit;
use super::{created, no_store};
use crate::dto::{Page, PageQuery, RoleDto, RoleRequest};
use crate::extract::{ApiJson, Caller};
use crate::problem::ApiError;

/// `POST /v1/admin/roles`: 201 with the role; 409 `role_exists`.
pub async fn create(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<RoleRequest>,
) -> Result<impl Responder, ApiError> {
    let Some(name) = body.name.clone() else {
        return Err(AppError::Validation(vec![FieldError::new(
            "name",
            "missing_field",
            "a role needs a name",
        )])
        .into());
    };
    let role = roster.create_role(&caller, &body.into_form(name)).await?;
    let location = format!("/v1/admin/roles/{}", role.role.name);
    Ok(created(location, RoleDto::from(&role)))
}

/// `GET /v1/admin/roles`, in name order.
pub async fn list(
    roster: Data<Roster>,
    Caller(caller): Caller,
    query: Query<PageQuery>,
) -> Result<impl Responder, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let page = roster
        .list_roles(&caller, query.cursor.as_deref(), limit)
        .await
        .map_err(|error| match error {
            AppError::Validation(_) => ApiError::InvalidParameter {
                name: "cursor".into(),
                message: "not a cursor from this list".into(),
            },
            other => other.into(),
        })?;
    Ok(no_store().json(Page {
        items: page.roles.iter().map(RoleDto::from).collect(),
        next_cursor: page.next_after.map(|name| name.to_string()),
    }))
}

/// `GET /v1/admin/roles/{name}`.
pub async fn get(
    roster: Data<Roster>,
    Caller(caller): Caller,
    name: Path<String>,
) -> Result<impl Responder, ApiError> {
    let role = roster.role(&caller, &name).await?;
    Ok(no_store().json(RoleDto::from(&role)))
}

/// `PUT /v1/admin/roles/{name}`: replaces description and rules. A `name` in the body, if
/// given, must be the path's (roles are not renamed).
pub async fn replace(
    roster: Data<Roster>,
    Caller(caller): Caller,
    name: Path<String>,
    ApiJson(body): ApiJson<RoleRequest>,
) -> Result<impl Responder, ApiError> {
    let name = name.into_inner();
    let given = body.name.clone().unwrap_or_else(|| name.clone());
    let role = roster
        .replace_role(&caller, &name, &body.into_form(given))
        .await?;
    Ok(no_store().json(RoleDto::from(&role)))
}

/// `DELETE /v1/admin/roles/{name}`: 204; 409 `role_in_use` while granted.
pub async fn delete(
    roster: Data<Roster>,
    Caller(caller): Caller,
    name: Path<String>,
) -> Result<impl Responder, ApiError> {
    roster.delete_role(&caller, &name).await?;
    Ok(HttpResponse::NoContent().finish())
}

//! `/v1/admin/roles...` (`role-manage`).

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, Responder};
use roster_app::{AppError, Roster};

use crate::dto::{NewRoleRequest, Page, RoleDto, RoleRequest};
use crate::extract::{ApiJson, Caller, PageParams, RoleNameCursor};
use crate::problem::{ApiError, problems};
use crate::respond::{created, no_store};

problems!(
    /// The problems `create` answers besides the shared ones.
    CreateProblems {
        AppError::Forbidden => "no `role-manage` on `*`.",
        AppError::RoleExists => "a role with this name exists.",
        AppError::Validation(Vec::new()) => "`errors[].code`: `missing_field` (`name`), `invalid_role_name` \
            (`name`), `invalid_description` and `description_too_long`  \
            (`description`), `too_many_rules` (`permissions`), `invalid_action` \
            and  `invalid_effect` (`permissions[i].action`, \
            `permissions[i].effect`).",
    }
);

/// `POST /v1/admin/roles`: 201 with the role; 409 `role_exists`.
#[utoipa::path(
    post,
    path = "/v1/admin/roles",
    operation_id = "createRole",
    tag = "roles",
    summary = "Create a role",
    description = "Needs `role-manage` on `*`.",
    request_body = NewRoleRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The role was created.", body = RoleDto,
            headers(("Location" = String, description = "`/v1/admin/roles/{name}`"))),
        CreateProblems,
    ),
)]
pub async fn create(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<NewRoleRequest>,
) -> Result<impl Responder, ApiError> {
    let role = roster.create_role(&caller, &body.into_form()?).await?;
    let location = format!("/v1/admin/roles/{}", role.role.name);
    Ok(created(location, RoleDto::from(&role)))
}

problems!(
    /// The problems `list` answers besides the shared ones.
    ListProblems {
        ApiError::INVALID_QUERY => "`limit` outside 1..=200, or a `cursor` not from this list.",
        AppError::Forbidden => "no `role-manage` on `*`.",
    }
);

/// `GET /v1/admin/roles`, in name order.
#[utoipa::path(
    get,
    path = "/v1/admin/roles",
    operation_id = "listRoles",
    tag = "roles",
    summary = "List roles",
    description = "In name order. Needs `role-manage` on `*`.",
    params(PageParams<RoleNameCursor>),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of roles.", body = Page<RoleDto>),
        ListProblems,
    ),
)]
pub async fn list(
    roster: Data<Roster>,
    Caller(caller): Caller,
    page: PageParams<RoleNameCursor>,
) -> Result<impl Responder, ApiError> {
    let page = roster
        .list_roles(&caller, page.cursor(), page.limit)
        .await
        .map_err(|error| match error {
            AppError::Validation(_) => PageParams::<RoleNameCursor>::foreign_cursor(),
            other => other.into(),
        })?;
    Ok(no_store().json(Page {
        items: page.roles.iter().map(RoleDto::from).collect(),
        next_cursor: page.next_after.map(|name| name.to_string()),
    }))
}

problems!(
    /// The problems `get` answers besides the shared ones.
    GetProblems {
        AppError::Forbidden => "no `role-manage` on `*`.",
        ApiError::NotFound => "no such role.",
    }
);

/// `GET /v1/admin/roles/{name}`.
#[utoipa::path(
    get,
    path = "/v1/admin/roles/{name}",
    operation_id = "getRole",
    tag = "roles",
    summary = "Read a role",
    description = "Needs `role-manage` on `*`.",
    params(("name" = String, Path, description = "The role's name.", pattern = "^[a-z0-9][a-z0-9_-]*$", max_length = 64)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The role.", body = RoleDto),
        GetProblems,
    ),
)]
pub async fn get(
    roster: Data<Roster>,
    Caller(caller): Caller,
    name: Path<String>,
) -> Result<impl Responder, ApiError> {
    let role = roster.role(&caller, &name).await?;
    Ok(no_store().json(RoleDto::from(&role)))
}

problems!(
    /// The problems `replace` answers besides the shared ones.
    ReplaceProblems {
        AppError::MfaStepUpRequired => "the new rules allow `grant-manage` (the old did not) and the \
            caller has a second factor but presented none within `mfa.step_up_window`.",
        AppError::Forbidden => "no `role-manage` on `*`, or the role is held and the caller may not \
            take the old rules away and give the new ones at every grant of it.",
        ApiError::NotFound => "no such role.",
        AppError::RoleChanged => "the role's rules or grants changed while the request was checked; \
            nothing was written, retry.",
        AppError::Validation(Vec::new()) => "`errors[].code`: `name_mismatch` (`name`), `invalid_role_name` \
            (`name`), `invalid_description` and `description_too_long`  \
            (`description`), `too_many_rules` (`permissions`), `invalid_action` \
            and  `invalid_effect` (`permissions[i].action`, \
            `permissions[i].effect`).",
    }
);

/// `PUT /v1/admin/roles/{name}`: replaces description and rules. A `name` in the body, if
/// given, must be the path's (roles are not renamed).
#[utoipa::path(
    put,
    path = "/v1/admin/roles/{name}",
    operation_id = "replaceRole",
    tag = "roles",
    summary = "Replace a role's description and rules",
    description = "Every holder sees the new rules from its next request. Roles are not \
        renamed: a `name` in the body, if given, must be the path's. Needs `role-manage` on \
        `*`.",
    params(("name" = String, Path, description = "The role's name.", pattern = "^[a-z0-9][a-z0-9_-]*$", max_length = 64)),
    request_body = RoleRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The role as replaced.", body = RoleDto),
        ReplaceProblems,
    ),
)]
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

problems!(
    /// The problems `delete` answers besides the shared ones.
    DeleteProblems {
        AppError::Forbidden => "no `role-manage` on `*`.",
        ApiError::NotFound => "no such role.",
        AppError::RoleInUse => "an account or API key still holds it.",
    }
);

/// `DELETE /v1/admin/roles/{name}`: 204; 409 `role_in_use` while granted.
#[utoipa::path(
    delete,
    path = "/v1/admin/roles/{name}",
    operation_id = "deleteRole",
    tag = "roles",
    summary = "Delete a role",
    description = "Only a role that no account or API key holds. Needs `role-manage` on `*`.",
    params(("name" = String, Path, description = "The role's name.", pattern = "^[a-z0-9][a-z0-9_-]*$", max_length = 64)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The role was deleted."),
        DeleteProblems,
    ),
)]
pub async fn delete(
    roster: Data<Roster>,
    Caller(caller): Caller,
    name: Path<String>,
) -> Result<impl Responder, ApiError> {
    roster.delete_role(&caller, &name).await?;
    Ok(HttpResponse::NoContent().finish())
}

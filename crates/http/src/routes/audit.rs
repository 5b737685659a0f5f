//! `GET /v1/admin/audit-events` (`audit-read`): newest first.

use actix_web::Responder;
use actix_web::web::Data;
use roster_app::Roster;
use roster_app::model::{AuditAction, AuditQuery};

use super::admin_accounts::{cursor_after, page_limit};
use super::no_store;
use crate::dto::{AuditEventDto, AuditListQuery, Page};
use crate::extract::{ApiQuery, Caller};
use crate::openapi::Problem;
use crate::problem::ApiError;

/// `?actor=account:<id>` and `?action=login.failed` filter; `?cursor=` continues.
#[utoipa::path(
    get,
    path = "/v1/admin/audit-events",
    operation_id = "listAuditEvents",
    tag = "audit",
    summary = "List audit events",
    description = "Newest first; `actor` and `action` filter exactly. Needs `audit-read` on `*`.",
    params(AuditListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events.", body = Page<AuditEventDto>),
        (status = 400, description = "`invalid_query`: `limit` outside 1..=200, a \
            `cursor` not from this list, or an unknown `action` (the detail lists the known \
            ones).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: no `audit-read` on `*`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list(
    roster: Data<Roster>,
    Caller(caller): Caller,
    query: ApiQuery<AuditListQuery>,
) -> Result<impl Responder, ApiError> {
    let query = query.into_inner();
    let action = query
        .action
        .as_deref()
        .map(|text| {
            AuditAction::parse(text).ok_or_else(|| ApiError::InvalidParameter {
                name: "action".into(),
                message: format!(
                    "unknown action; known: {}",
                    AuditAction::ALL.map(AuditAction::as_str).join(", ")
                ),
            })
        })
        .transpose()?;
    let audit_query = AuditQuery {
        actor: query.actor,
        action,
        before: cursor_after(query.cursor.as_deref())?,
        limit: page_limit(query.limit)?,
    };
    let page = roster.audit_events(&caller, &audit_query).await?;
    Ok(no_store().json(Page {
        items: page.events.iter().map(AuditEventDto::from).collect(),
        next_cursor: page.next_before.map(|id| id.to_string()),
    }))
}

//! `GET /v1/admin/audit-events` (`audit-read`): newest first.

use actix_web::Responder;
use actix_web::web::Data;
use roster_app::AppError;
use roster_app::Roster;
use roster_app::model::{AuditAction, AuditQuery};

use crate::dto::{AuditEventDto, AuditFilter, Page};
use crate::extract::{ApiQuery, Caller, PageParams};
use crate::problem::{ApiError, problems};
use crate::respond::no_store;

problems!(
    /// The problems `list` answers besides the shared ones.
    ListProblems {
        ApiError::INVALID_QUERY => "`limit` outside 1..=200, a `cursor` not from this list, or an unknown \
            `action` (the detail lists the known ones).",
        AppError::Forbidden => "no `audit-read` on `*`.",
    }
);

/// `?actor=account:<id>` and `?action=login.failed` filter; `?cursor=` continues.
#[utoipa::path(
    get,
    path = "/v1/admin/audit-events",
    operation_id = "listAuditEvents",
    tag = "audit",
    summary = "List audit events",
    description = "Newest first; `actor` and `action` filter exactly. Needs `audit-read` on `*`.",
    params(PageParams, AuditFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events.", body = Page<AuditEventDto>),
        ListProblems,
    ),
)]
pub async fn list(
    roster: Data<Roster>,
    Caller(caller): Caller,
    page: PageParams,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> Result<impl Responder, ApiError> {
    let action = filter
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
        actor: filter.actor,
        action,
        before: page.after()?,
        limit: page.limit,
    };
    let page = roster.audit_events(&caller, &audit_query).await?;
    Ok(no_store().json(Page {
        items: page.events.iter().map(AuditEventDto::from).collect(),
        next_cursor: page.next_before.map(|id| id.to_string()),
    }))
}

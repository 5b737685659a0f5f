//! `GET /v1/admin/audit-events` (`audit-read`): newest first, a page at a time; and
//! `GET /v1/admin/audit-events/export`: every event of a time range, oldest first, streamed as
//! NDJSON for a SIEM.

use actix_web::web::{Bytes, Data};
use actix_web::{HttpResponse, Responder};
use chrono::{DateTime, Utc};
use roster_app::model::{AuditAction, AuditEvent, AuditQuery, AuditRange};
use roster_app::{AppError, Authenticated, Roster};
use uuid::Uuid;

use crate::dto::{AuditEventDto, AuditExportRange, AuditFilter, Page};
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

/// Events read from the database per step of an export: the memory an export holds,
/// whatever the size of the range.
const EXPORT_PAGE: u32 = 500;

problems!(
    /// The problems `export` answers besides the shared ones.
    ExportProblems {
        ApiError::INVALID_QUERY => "`since` or `until` is not an RFC 3339 time.",
        AppError::Forbidden => "no `audit-read` on `*`.",
    }
);

/// Every event recorded in `[since, until)`, oldest first, one JSON object per line.
#[utoipa::path(
    get,
    path = "/v1/admin/audit-events/export",
    operation_id = "exportAuditEvents",
    tag = "audit",
    summary = "Export audit events",
    description = "For a SIEM or an archive: every event recorded at `since` or later and before \
        `until` (RFC 3339; either may be left out), oldest first, as NDJSON: one event per line, \
        in the shape of the list's items. Streamed in pages of 500 read from the database, so \
        the service's memory does not grow with the range. Problems (a bad time, no right) \
        come before the first line; if the database goes away during the stream, the \
        response ends without its final chunk, which HTTP clients report as an error: export \
        again from the last event received. Needs `audit-read` on `*`.",
    params(AuditExportRange),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One event per line, oldest first.",
            content_type = "application/x-ndjson", body = AuditEventDto),
        ExportProblems,
    ),
)]
pub async fn export(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiQuery(range): ApiQuery<AuditExportRange>,
) -> Result<HttpResponse, ApiError> {
    let range = AuditRange {
        since: instant("since", range.since.as_deref())?,
        until: instant("until", range.until.as_deref())?,
    };
    // The first page before the first byte: a refusal or an outage is still a problem.
    let first = roster
        .audit_export_page(&caller, range, None, EXPORT_PAGE)
        .await?;
    let export = Export {
        roster,
        caller,
        range,
        pending: Some(first),
        after: None,
        finished: false,
    };
    let lines = futures_util::stream::unfold(export, Export::next_lines);
    Ok(no_store()
        .content_type("application/x-ndjson")
        .streaming(lines))
}

/// Where a streaming export stands.
struct Export {
    roster: Data<Roster>,
    caller: Authenticated,
    range: AuditRange,
    /// A page read and not sent yet.
    pending: Option<Vec<AuditEvent>>,
    /// The last event sent.
    after: Option<Uuid>,
    /// The last page read was short: nothing follows.
    finished: bool,
}

impl Export {
    /// The next page as NDJSON, or the end.
    async fn next_lines(mut self) -> Option<(Result<Bytes, actix_web::Error>, Export)> {
        let page = match self.pending.take() {
            Some(page) => page,
            None if self.finished => return None,
            None => match self
                .roster
                .audit_export_page(&self.caller, self.range, self.after, EXPORT_PAGE)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, "audit export stopped: the next page could not be read");
                    self.finished = true;
                    let error = actix_web::error::ErrorServiceUnavailable("audit export stopped");
                    return Some((Err(error), self));
                }
            },
        };
        if page.is_empty() {
            return None;
        }
        self.finished = page.len() < EXPORT_PAGE as usize;
        self.after = page.last().map(|event| event.id);
        let mut lines = Vec::with_capacity(page.len() * 256);
        for event in &page {
            if serde_json::to_writer(&mut lines, &AuditEventDto::from(event)).is_err() {
                return None;
            }
            lines.push(b'\n');
        }
        Some((Ok(Bytes::from(lines)), self))
    }
}

/// `text` as an RFC 3339 time, else 400 `invalid_query` naming `name`.
fn instant(name: &str, text: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    text.map(|text| {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|error| ApiError::InvalidParameter {
                name: name.to_owned(),
                message: format!("not an RFC 3339 time such as 2026-12-01T00:00:00Z: {error}"),
            })
    })
    .transpose()
}

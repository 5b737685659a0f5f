//! `AuditLog` on diesel, and [`record`], which every audited write calls inside its own
//! transaction.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use roster_app::model::{AuditAction, AuditEvent, AuditPage, AuditQuery, AuditRange, StoreError};
use roster_app::ports::AuditLog;
use uuid::Uuid;

use crate::connection::{DbConnection, Store};
use crate::errors::{TxError, corrupt, translate};
use crate::rows::{from_db_time, page, to_db_time};
use crate::schema::audit_events;

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditRow<'a> {
    id: String,
    at: NaiveDateTime,
    actor: Option<&'a str>,
    action: &'static str,
    target: Option<&'a str>,
    source_ip: Option<String>,
    detail: Option<&'a str>,
}

/// Column order must match `schema::audit_events`.
#[derive(Debug, Queryable)]
struct AuditRow {
    id: String,
    at: NaiveDateTime,
    actor: Option<String>,
    action: String,
    target: Option<String>,
    source_ip: Option<String>,
    detail: Option<String>,
}

impl AuditRow {
    fn into_event(self) -> Result<AuditEvent, StoreError> {
        Ok(AuditEvent {
            id: self.id.parse().map_err(|e| corrupt("audit event id", e))?,
            at: from_db_time(self.at),
            actor: self.actor,
            action: AuditAction::parse(&self.action)
                .ok_or_else(|| corrupt("audit action", &self.action))?,
            target: self.target,
            source_ip: self
                .source_ip
                .map(|ip| ip.parse())
                .transpose()
                .map_err(|e| corrupt("audit source ip", e))?,
            detail: self.detail,
        })
    }
}

/// Writes `event` on `conn`: call it inside the transaction of the change it records.
pub(crate) fn record(conn: &mut DbConnection, event: &AuditEvent) -> Result<(), TxError> {
    diesel::insert_into(audit_events::table)
        .values(NewAuditRow {
            id: event.id.to_string(),
            at: to_db_time(event.at),
            actor: event.actor.as_deref(),
            action: event.action.as_str(),
            target: event.target.as_deref(),
            source_ip: event.source_ip.map(|ip| ip.to_string()),
            detail: event.detail.as_deref(),
        })
        .execute(conn)?;
    Ok(())
}

#[async_trait]
impl AuditLog for Store {
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let event = event.clone();
        self.run(move |conn| record(conn, &event).map_err(TxError::into_store))
            .await
    }

    async fn list_audit_events(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let query = query.clone();
        self.run(move |conn| {
            let mut select = audit_events::table
                .order(audit_events::id.desc())
                .limit(i64::from(query.limit) + 1)
                .into_boxed();
            if let Some(actor) = &query.actor {
                select = select.filter(audit_events::actor.eq(actor.clone()));
            }
            if let Some(action) = query.action {
                select = select.filter(audit_events::action.eq(action.as_str()));
            }
            if let Some(before) = query.before {
                select = select.filter(audit_events::id.lt(before.to_string()));
            }
            let rows = select.load::<AuditRow>(conn).map_err(translate)?;
            let (events, next_before) = page(rows, query.limit, AuditRow::into_event, |e| e.id)?;
            Ok(AuditPage {
                events,
                next_before,
            })
        })
        .await
    }

    async fn audit_events_oldest_first(
        &self,
        range: AuditRange,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.run(move |conn| {
            let mut select = audit_events::table
                .order(audit_events::id.asc())
                .limit(limit)
                .into_boxed();
            if let Some(since) = range.since {
                select = select.filter(audit_events::at.ge(to_db_time(since)));
            }
            if let Some(until) = range.until {
                select = select.filter(audit_events::at.lt(to_db_time(until)));
            }
            if let Some(after) = after {
                select = select.filter(audit_events::id.gt(after.to_string()));
            }
            select
                .load::<AuditRow>(conn)
                .map_err(translate)?
                .into_iter()
                .map(AuditRow::into_event)
                .collect()
        })
        .await
    }

    async fn delete_audit_events_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError> {
        self.run(move |conn| {
            let old = audit_events::table
                .filter(audit_events::at.lt(to_db_time(cutoff)))
                .order(audit_events::at.asc())
                .select(audit_events::id)
                .limit(limit)
                .load::<String>(conn)
                .map_err(translate)?;
            if old.is_empty() {
                return Ok(0);
            }
            diesel::delete(audit_events::table.filter(audit_events::id.eq_any(&old)))
                .execute(conn)
                .map_err(translate)
        })
        .await
    }
}

//! `GrantStore` on diesel: grants of accounts (`account_grants`) and of API keys
//! (`api_key_grants`), two tables of the same shape so each can cascade from its holder.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use roster_app::model::{
    AuditEvent, GrantInsertion, GrantPage, GrantRecord, Missing, NewGrant, StoreError,
};
use roster_app::ports::GrantStore;
use roster_domain::{Grant, GrantId, PrincipalId};

use crate::audit::record;
use crate::connection::{DbConnection, Store, write_transaction};
use crate::errors::{TxError, translate};
use crate::rows::{GrantDecoder, from_db_time, page, parse_creator, parse_permissions, to_db_time};
use crate::schema::roles;

/// Runs `$body` once, over the tables of `$holder`'s kind: `$grants` names the grant table's
/// schema module (`account_grants` or `api_key_grants`), `$holder_column` its column naming
/// the holder, `$holders` the holders' own table (`accounts` or `api_keys`), and `$holder_id`
/// the holder's id as stored. The two grant tables have the same shape (two tables only so
/// that each cascades from its holder), so every grant query is written once, here; diesel's
/// tables are distinct types, so the body is compiled once per kind.
macro_rules! with_holder_tables {
    (
        $holder:expr,
        |$grants:ident, $holder_column:ident, $holders:ident, $holder_id:ident| $body:expr
    ) => {
        match $holder {
            PrincipalId::Account(id) => {
                use crate::schema::account_grants as $grants;
                use crate::schema::account_grants::account_id as $holder_column;
                #[allow(unused_imports)] // only the holder lock reads it
                use crate::schema::accounts as $holders;
                let $holder_id = id.to_string();
                $body
            }
            PrincipalId::ApiKey(id) => {
                use crate::schema::api_key_grants as $grants;
                use crate::schema::api_key_grants::api_key_id as $holder_column;
                #[allow(unused_imports)] // only the holder lock reads it
                use crate::schema::api_keys as $holders;
                let $holder_id = id.to_string();
                $body
            }
        }
    };
}

/// (id, role_name, scope, permissions, created_at, created_by)
type GrantListRow = (
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<String>,
);

fn into_record(decoder: &mut GrantDecoder, row: GrantListRow) -> Result<GrantRecord, StoreError> {
    let (id, role, scope, permissions, created_at, created_by) = row;
    Ok(GrantRecord {
        grant: decoder.grant((id, role, scope, permissions))?,
        created_at: from_db_time(created_at),
        created_by: created_by.as_deref().map(parse_creator).transpose()?,
    })
}

/// Whether role `name` exists. On PostgreSQL its row is share-locked (`FOR SHARE`) until the
/// transaction ends:
/// - a concurrent role deletion (which locks `FOR UPDATE`) either finishes first and the role
///   is missing here, or waits and then sees the new grant (role in use); without the lock
///   both pass their checks and one fails on the foreign key;
/// - a concurrent update of the role's rules waits for this grant, and then its trigger
///   raises the new holder's grants version with the other holders' (see `grants_cache`);
///   with a weaker lock it could miss the holder and leave it with the old rules cached.
///
/// Returns the role's rules as stored (JSON), `None` when there is no such role.
pub(crate) fn lock_role(conn: &mut DbConnection, name: &str) -> Result<Option<String>, TxError> {
    let query = roles::table
        .filter(roles::name.eq(name))
        .select(roles::permissions);
    let found: Vec<String> = match conn {
        DbConnection::Pg(pg) => query.for_share().load(pg)?,
        DbConnection::Sqlite(_) => query.load(conn)?,
    };
    Ok(found.into_iter().next())
}

/// Inserts `grants` for `holder` inside the caller's transaction. An unknown role is
/// `Missing(Role)`, a repeated (role, scope) `Duplicate(Grant)`, and a role whose rules
/// are no longer those the grant was authorized against `RoleChanged` (an edit of the role
/// committed since: the grant is refused rather than given with rules nobody checked).
pub(crate) fn insert_grants(
    conn: &mut DbConnection,
    holder: PrincipalId,
    grants: &[NewGrant],
) -> Result<(), TxError> {
    for grant in grants {
        let Some(rules) = lock_role(conn, grant.role.as_str())? else {
            return Err(StoreError::Missing(Missing::Role).into());
        };
        if parse_permissions(&rules)? != grant.role_rules {
            return Err(StoreError::RoleChanged.into());
        }
        let inserted = with_holder_tables!(holder, |grants, holder_column, _holders, holder_id| {
            diesel::insert_into(grants::table)
                .values((
                    grants::id.eq(grant.id.to_string()),
                    holder_column.eq(holder_id),
                    grants::role_name.eq(grant.role.as_str()),
                    grants::scope.eq(grant.scope.to_string()),
                    grants::created_at.eq(to_db_time(grant.created_at)),
                    grants::created_by.eq(grant.created_by.map(|by| by.to_string())),
                ))
                .execute(conn)
        });
        inserted.map_err(|e| TxError::Store(translate(e)))?;
    }
    Ok(())
}

/// How many grants `holder` holds, counted under the holder's row lock so that the count
/// stays true until the transaction ends; `None` when there is no such holder.
///
/// SQLite: the caller's transaction is `BEGIN IMMEDIATE`, which holds the database's one
/// write lock. PostgreSQL: the holder's row is locked `FOR NO KEY UPDATE` first, so two
/// transactions inserting grants for one holder serialise here and the second counts the
/// first's grant; the grants-version trigger takes the same lock on insert anyway, and it
/// leaves foreign-key checks (a login inserting a session) unblocked. Callers lock the role
/// before the holder, the order the role-update trigger uses, so neither can deadlock.
fn lock_holder_and_count(
    conn: &mut DbConnection,
    holder: PrincipalId,
) -> Result<Option<i64>, TxError> {
    with_holder_tables!(holder, |grants, holder_column, holders, holder_id| {
        let holder_row = holders::table.find(holder_id.as_str()).select(holders::id);
        let found: Vec<String> = match conn {
            DbConnection::Pg(pg) => holder_row.for_no_key_update().load(pg)?,
            DbConnection::Sqlite(_) => holder_row.load(conn)?,
        };
        if found.is_empty() {
            return Ok(None);
        }
        let held: i64 = grants::table
            .filter(holder_column.eq(holder_id.as_str()))
            .count()
            .get_result(conn)?;
        Ok(Some(held))
    })
}

/// Which of a holder's grants to load.
#[derive(Debug, Clone, Copy)]
enum Selection {
    /// Every grant.
    All,
    /// The one grant with this id.
    One(GrantId),
    /// A page: after this id (from the start when `None`), at most `limit`, plus one more
    /// to tell whether more follow.
    Page(Option<GrantId>, u32),
}

fn load_grants(
    conn: &mut DbConnection,
    holder: PrincipalId,
    selection: Selection,
) -> Result<Vec<GrantRecord>, StoreError> {
    let rows: Vec<GrantListRow> =
        with_holder_tables!(holder, |grants, holder_column, _holders, holder_id| {
            let mut query = grants::table
                .inner_join(roles::table)
                .filter(holder_column.eq(holder_id))
                .select((
                    grants::id,
                    grants::role_name,
                    grants::scope,
                    roles::permissions,
                    grants::created_at,
                    grants::created_by,
                ))
                .order(grants::id)
                .into_boxed();
            match selection {
                Selection::All => {}
                Selection::One(grant) => query = query.filter(grants::id.eq(grant.to_string())),
                Selection::Page(after, limit) => {
                    if let Some(after) = after {
                        query = query.filter(grants::id.gt(after.to_string()));
                    }
                    query = query.limit(i64::from(limit) + 1);
                }
            }
            query.load(conn)
        })
        .map_err(translate)?;
    let mut decoder = GrantDecoder::default();
    rows.into_iter()
        .map(|row| into_record(&mut decoder, row))
        .collect()
}

/// Every grant of `holder` with its role's current rules, in grant order: one indexed join.
pub(crate) fn holder_grants(
    conn: &mut DbConnection,
    holder: PrincipalId,
) -> Result<Vec<Grant>, StoreError> {
    let records = load_grants(conn, holder, Selection::All)?;
    Ok(records.into_iter().map(|record| record.grant).collect())
}

#[async_trait]
impl GrantStore for Store {
    async fn insert_grant(
        &self,
        holder: PrincipalId,
        grant: &NewGrant,
        max_per_holder: u32,
        audit: &AuditEvent,
    ) -> Result<GrantInsertion, StoreError> {
        let grant = grant.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                // Role first, then holder: the lock order of the role-update trigger.
                let role_exists = lock_role(conn, grant.role.as_str())?.is_some();
                let Some(held) = lock_holder_and_count(conn, holder)? else {
                    return Err(StoreError::Missing(Missing::Holder).into());
                };
                if !role_exists {
                    return Err(StoreError::Missing(Missing::Role).into());
                }
                if held >= i64::from(max_per_holder) {
                    return Ok(GrantInsertion::TooManyGrants);
                }
                insert_grants(conn, holder, std::slice::from_ref(&grant))?;
                record(conn, &audit)?;
                Ok(GrantInsertion::Inserted)
            })
        })
        .await
    }

    async fn list_grants(&self, holder: PrincipalId) -> Result<Vec<GrantRecord>, StoreError> {
        self.run(move |conn| load_grants(conn, holder, Selection::All))
            .await
    }

    async fn list_grants_page(
        &self,
        holder: PrincipalId,
        after: Option<GrantId>,
        limit: u32,
    ) -> Result<GrantPage, StoreError> {
        self.run(move |conn| {
            let rows = load_grants(conn, holder, Selection::Page(after, limit))?;
            let (grants, next_after) = page(rows, limit, Ok, |record| record.grant.id)?;
            Ok(GrantPage { grants, next_after })
        })
        .await
    }

    async fn find_grant(
        &self,
        holder: PrincipalId,
        id: GrantId,
    ) -> Result<Option<GrantRecord>, StoreError> {
        self.run(move |conn| {
            Ok(load_grants(conn, holder, Selection::One(id))?
                .into_iter()
                .next())
        })
        .await
    }

    async fn delete_grant(
        &self,
        holder: PrincipalId,
        id: GrantId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let deleted =
                    with_holder_tables!(holder, |grants, holder_column, _holders, holder_id| {
                        diesel::delete(
                            grants::table
                                .find(id.to_string())
                                .filter(holder_column.eq(holder_id)),
                        )
                        .execute(conn)?
                    });
                if deleted > 0 {
                    record(conn, &audit)?;
                }
                Ok(deleted > 0)
            })
        })
        .await
    }
}

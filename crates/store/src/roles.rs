//! `RoleStore` on diesel. Rules are stored as a JSON array in `roles.permissions`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use roster_app::model::{
    AuditEvent, CheckedRole, RoleDeletion, RoleHolder, RoleHolders, RoleHolding, RolePage,
    StoreError, StoredRole,
};
use roster_app::ports::RoleStore;
use roster_domain::{AccountId, ApiKeyId, PrincipalId, Role, RoleName, ScopePath};
use uuid::Uuid;

use crate::audit::record;
use crate::connection::{DbConnection, Store, write_transaction};
use crate::errors::{TxError, corrupt, translate};
use crate::rows::{StoredRule, from_db_time, page, parse_permissions, to_db_time};
use crate::schema::{
    account_grants, accounts, api_key_grants, api_keys, invitation_grants, invitations, roles,
};

/// Column order must match `schema::roles`.
#[derive(Debug, Queryable)]
struct RoleRow {
    name: String,
    description: String,
    permissions: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl RoleRow {
    fn into_stored(self) -> Result<StoredRole, StoreError> {
        Ok(StoredRole {
            role: Role {
                name: RoleName::parse(&self.name).map_err(|e| corrupt("role name", e))?,
                description: self.description,
                permissions: parse_permissions(&self.permissions)?,
            },
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
        })
    }
}

fn rules_json(role: &Role) -> Result<String, StoreError> {
    let rules: Vec<StoredRule> = role
        .permissions
        .iter()
        .map(|p| StoredRule {
            action: p.pattern.to_string(),
            effect: p.effect.as_str().to_owned(),
        })
        .collect();
    serde_json::to_string(&rules).map_err(|e| StoreError::Internal(e.to_string()))
}

/// Every grant of role `name`, as (holder, scope), accounts' first, each in id order.
fn load_holdings(
    conn: &mut DbConnection,
    name: &RoleName,
) -> Result<Result<Vec<RoleHolding>, StoreError>, diesel::result::Error> {
    let by_accounts: Vec<(String, String)> = account_grants::table
        .filter(account_grants::role_name.eq(name.as_str()))
        .order(account_grants::id)
        .select((account_grants::account_id, account_grants::scope))
        .load(conn)?;
    let by_keys: Vec<(String, String)> = api_key_grants::table
        .filter(api_key_grants::role_name.eq(name.as_str()))
        .order(api_key_grants::id)
        .select((api_key_grants::api_key_id, api_key_grants::scope))
        .load(conn)?;
    let account = |id: Uuid| PrincipalId::Account(AccountId::new(id));
    let key = |id: Uuid| PrincipalId::ApiKey(ApiKeyId::new(id));
    Ok(by_accounts
        .into_iter()
        .map(|row| holding(row, account))
        .chain(by_keys.into_iter().map(|row| holding(row, key)))
        .collect())
}

/// Whether role `name` still has the rules and the grants `checked` saw. Called in the
/// updating transaction after the role's row is locked, so no grant of it can be added
/// meanwhile (a grant takes the row `FOR SHARE`; SQLite has one writer).
fn still_as_checked(
    conn: &mut DbConnection,
    name: &RoleName,
    checked: &CheckedRole,
) -> Result<bool, TxError> {
    let query = roles::table
        .filter(roles::name.eq(name.as_str()))
        .select(roles::permissions);
    let rules: Vec<String> = match conn {
        DbConnection::Pg(pg) => query.for_update().load(pg)?,
        DbConnection::Sqlite(_) => query.load(conn)?,
    };
    let Some(rules) = rules.first() else {
        return Ok(true); // gone: the update finds nothing and answers `None`
    };
    if parse_permissions(rules)? != checked.rules {
        return Ok(false);
    }
    let Some(then) = &checked.holdings else {
        return Ok(true);
    };
    let mut now = load_holdings(conn, name)??;
    let mut then = then.clone();
    let order = |h: &RoleHolding| (h.holder.to_string(), h.scope.to_string());
    now.sort_by_key(order);
    then.sort_by_key(order);
    Ok(now == then)
}

/// A (holder id, scope) row of a grant table as a [`RoleHolding`].
fn holding(
    (holder, scope): (String, String),
    principal: impl Fn(Uuid) -> PrincipalId,
) -> Result<RoleHolding, StoreError> {
    Ok(RoleHolding {
        holder: principal(Uuid::parse_str(&holder).map_err(|e| corrupt("grant holder", e))?),
        scope: ScopePath::parse(&scope).map_err(|e| corrupt("grant scope", e))?,
    })
}

/// The first `limit` grants of role `name` with their holders' labels, and how many grants
/// there are in all; `None` when there is no such role. See [`RoleStore::holders`].
fn load_holders(
    conn: &mut DbConnection,
    name: &RoleName,
    limit: u32,
) -> Result<Option<RoleHolders>, TxError> {
    let found: Option<String> = roles::table
        .find(name.as_str())
        .select(roles::name)
        .get_result(conn)
        .optional()?;
    if found.is_none() {
        return Ok(None);
    }
    let by_accounts: Vec<(String, String, String)> = account_grants::table
        .inner_join(accounts::table)
        .filter(account_grants::role_name.eq(name.as_str()))
        .order(account_grants::id)
        .limit(i64::from(limit))
        .select((
            account_grants::account_id,
            accounts::email,
            account_grants::scope,
        ))
        .load(conn)?;
    let room = limit.saturating_sub(u32::try_from(by_accounts.len()).unwrap_or(u32::MAX));
    let by_keys: Vec<(String, String, String)> = if room == 0 {
        Vec::new()
    } else {
        api_key_grants::table
            .inner_join(api_keys::table)
            .filter(api_key_grants::role_name.eq(name.as_str()))
            .order(api_key_grants::id)
            .limit(i64::from(room))
            .select((
                api_key_grants::api_key_id,
                api_keys::name,
                api_key_grants::scope,
            ))
            .load(conn)?
    };
    let held_by_accounts: i64 = account_grants::table
        .filter(account_grants::role_name.eq(name.as_str()))
        .count()
        .get_result(conn)?;
    let held_by_keys: i64 = api_key_grants::table
        .filter(api_key_grants::role_name.eq(name.as_str()))
        .count()
        .get_result(conn)?;
    let account = |id: Uuid| PrincipalId::Account(AccountId::new(id));
    let key = |id: Uuid| PrincipalId::ApiKey(ApiKeyId::new(id));
    let holders = by_accounts
        .into_iter()
        .map(|row| labelled(row, account))
        .chain(by_keys.into_iter().map(|row| labelled(row, key)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(RoleHolders {
        holders,
        total: u64::try_from(held_by_accounts + held_by_keys)
            .map_err(|e| corrupt("grant count", e))?,
    }))
}

/// A (holder id, label, scope) row as a [`RoleHolder`].
fn labelled(
    (holder, label, scope): (String, String, String),
    principal: impl Fn(Uuid) -> PrincipalId,
) -> Result<RoleHolder, StoreError> {
    let RoleHolding { holder, scope } = holding((holder, scope), principal)?;
    Ok(RoleHolder {
        holder,
        label: Some(label),
        scope,
    })
}

#[async_trait]
impl RoleStore for Store {
    async fn insert_role(
        &self,
        role: &Role,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let rules = rules_json(role)?;
        let role = role.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                diesel::insert_into(roles::table)
                    .values((
                        roles::name.eq(role.name.as_str()),
                        roles::description.eq(&role.description),
                        roles::permissions.eq(&rules),
                        roles::created_at.eq(to_db_time(at)),
                        roles::updated_at.eq(to_db_time(at)),
                    ))
                    .execute(conn)?;
                record(conn, &audit)
            })
        })
        .await
    }

    async fn find_role(&self, name: &RoleName) -> Result<Option<StoredRole>, StoreError> {
        let name = name.clone();
        self.run(move |conn| {
            roles::table
                .find(name.as_str())
                .get_result::<RoleRow>(conn)
                .optional()
                .map_err(translate)?
                .map(RoleRow::into_stored)
                .transpose()
        })
        .await
    }

    async fn list_roles(
        &self,
        after: Option<RoleName>,
        limit: u32,
    ) -> Result<RolePage, StoreError> {
        self.run(move |conn| {
            let mut query = roles::table
                .order(roles::name)
                .limit(i64::from(limit) + 1)
                .into_boxed();
            if let Some(after) = &after {
                query = query.filter(roles::name.gt(after.as_str().to_owned()));
            }
            let rows = query.load::<RoleRow>(conn).map_err(translate)?;
            let (roles, next_after) =
                page(rows, limit, RoleRow::into_stored, |r| r.role.name.clone())?;
            Ok(RolePage { roles, next_after })
        })
        .await
    }

    async fn holdings(&self, name: &RoleName) -> Result<Vec<RoleHolding>, StoreError> {
        let name = name.clone();
        self.run(move |conn| load_holdings(conn, &name).map_err(translate)?)
            .await
    }

    async fn holders(
        &self,
        name: &RoleName,
        limit: u32,
    ) -> Result<Option<RoleHolders>, StoreError> {
        let name = name.clone();
        self.run(move |conn| {
            conn.transaction(|conn| {
                // PostgreSQL's default isolation gives each statement its own snapshot; the
                // count must see the grants the list saw. (SQLite's transaction is one
                // snapshot already.)
                if let DbConnection::Pg(pg) = conn {
                    pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
                }
                load_holders(conn, &name, limit)
            })
            .map_err(TxError::into_store)
        })
        .await
    }

    async fn update_role(
        &self,
        role: &Role,
        checked: CheckedRole,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<Option<StoredRole>, StoreError> {
        let rules = rules_json(role)?;
        let role = role.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                if !still_as_checked(conn, &role.name, &checked)? {
                    return Err(StoreError::RoleChanged.into());
                }
                let updated = diesel::update(roles::table.find(role.name.as_str()))
                    .set((
                        roles::description.eq(&role.description),
                        roles::permissions.eq(&rules),
                        roles::updated_at.eq(to_db_time(at)),
                    ))
                    .execute(conn)?;
                if updated == 0 {
                    return Ok(None);
                }
                record(conn, &audit)?;
                let row = roles::table
                    .find(role.name.as_str())
                    .get_result::<RoleRow>(conn)?;
                Ok(Some(row.into_stored()?))
            })
        })
        .await
    }

    async fn delete_role(
        &self,
        name: &RoleName,
        audit: &AuditEvent,
    ) -> Result<RoleDeletion, StoreError> {
        let name = name.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                // On PostgreSQL, lock the role first: a grant being inserted holds it
                // `FOR SHARE` (see `grants::lock_role`), so this waits for that grant and
                // then counts it, instead of failing on the foreign key.
                let query = roles::table
                    .filter(roles::name.eq(name.as_str()))
                    .select(roles::name);
                let found: Vec<String> = match conn {
                    DbConnection::Pg(pg) => query.for_update().load(pg)?,
                    DbConnection::Sqlite(_) => query.load(conn)?,
                };
                if found.is_empty() {
                    return Ok(RoleDeletion::NotFound);
                }
                let held_by_accounts: i64 = account_grants::table
                    .filter(account_grants::role_name.eq(name.as_str()))
                    .count()
                    .get_result(conn)?;
                let held_by_keys: i64 = api_key_grants::table
                    .filter(api_key_grants::role_name.eq(name.as_str()))
                    .count()
                    .get_result(conn)?;
                // An open invitation would give the role on acceptance.
                let held_by_invitations: i64 = invitation_grants::table
                    .inner_join(invitations::table)
                    .filter(invitation_grants::role_name.eq(name.as_str()))
                    .filter(invitations::accepted_at.is_null())
                    .filter(invitations::revoked_at.is_null())
                    .count()
                    .get_result(conn)?;
                if held_by_accounts + held_by_keys + held_by_invitations > 0 {
                    return Ok(RoleDeletion::InUse);
                }
                diesel::delete(roles::table.find(name.as_str())).execute(conn)?;
                record(conn, &audit)?;
                Ok(RoleDeletion::Deleted)
            })
        })
        .await
    }
}

//! `ApiKeyStore` on diesel.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use roster_app::model::{
    ApiKey, ApiKeyPage, AuditEvent, Missing, NewGrant, StoreError, StoredApiKey, TokenDigest,
};
use roster_app::ports::ApiKeyStore;
use roster_domain::{AccountStatus, ApiKeyId, PrincipalId};
use uuid::Uuid;

use crate::audit::record;
use crate::grants::{holder_grants, insert_grants, lock_role};

use crate::connection::{DbConnection, Store, with_backend, write_transaction};
use crate::errors::{TxError, corrupt, translate};
use crate::rows::{ApiKeyRow, NewApiKeyRow, page, to_db_time};
use crate::schema::{accounts, api_keys};

#[async_trait]
impl ApiKeyStore for Store {
    async fn insert_api_key(
        &self,
        key: &ApiKey,
        digest: &TokenDigest,
        grants: &[NewGrant],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let key = key.clone();
        let digest = digest.clone();
        let grants = grants.to_vec();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                // Roles before the creator: the lock order of the role-update trigger.
                for grant in &grants {
                    lock_role(conn, grant.role.as_str())?;
                }
                if !creator_may_create(conn, key.created_by, key.created_at)? {
                    return Err(StoreError::Missing(Missing::Creator).into());
                }
                diesel::insert_into(api_keys::table)
                    .values(NewApiKeyRow::new(&key, &digest))
                    .execute(conn)?;
                insert_grants(conn, PrincipalId::ApiKey(key.id), &grants)?;
                record(conn, &audit)
            })
        })
        .await
    }

    async fn find_api_key(&self, id: ApiKeyId) -> Result<Option<StoredApiKey>, StoreError> {
        let cache = Arc::clone(&self.grants_cache);
        self.run(move |conn| {
            let row = with_backend!(conn, |c| api_keys::table
                .find(id.to_string())
                .get_result::<ApiKeyRow>(c)
                .optional())
            .map_err(translate)?;
            let Some(row) = row else {
                return Ok(None);
            };
            let version = row.grants_version;
            let (key, digest) = row.into_key()?;
            let grants = if key.revoked_at.is_none() {
                cache.get_or_load(PrincipalId::ApiKey(id), version, || {
                    holder_grants(conn, PrincipalId::ApiKey(id))
                })?
            } else {
                Arc::from([])
            };
            Ok(Some(StoredApiKey {
                key,
                digest,
                grants,
                grants_version: version,
            }))
        })
        .await
    }

    async fn list_api_keys(
        &self,
        after: Option<ApiKeyId>,
        limit: u32,
    ) -> Result<ApiKeyPage, StoreError> {
        self.run(move |conn| {
            let mut query = api_keys::table
                .order(api_keys::id)
                .limit(i64::from(limit) + 1)
                .into_boxed();
            if let Some(after) = after {
                query = query.filter(api_keys::id.gt(after.to_string()));
            }
            let rows = query.load::<ApiKeyRow>(conn).map_err(translate)?;
            let (keys, next_after) = page(
                rows,
                limit,
                |row| row.into_key().map(|(key, _)| key),
                |key| key.id,
            )?;
            Ok(ApiKeyPage { keys, next_after })
        })
        .await
    }

    async fn live_keys_created_by(
        &self,
        creator: PrincipalId,
    ) -> Result<Vec<ApiKeyId>, StoreError> {
        self.run(move |conn| {
            let mut live = Vec::new();
            let generations = generations_created_by(conn, creator).map_err(translate)?;
            for generation in generations {
                let ids: Vec<String> = api_keys::table
                    .filter(api_keys::id.eq_any(&generation))
                    .filter(api_keys::revoked_at.is_null())
                    .order(api_keys::id)
                    .select(api_keys::id)
                    .load(conn)
                    .map_err(translate)?;
                for id in ids {
                    let id = Uuid::parse_str(&id).map_err(|e| corrupt("api key id", e))?;
                    live.push(ApiKeyId::new(id));
                }
            }
            Ok(live)
        })
        .await
    }

    async fn revoke_api_key(
        &self,
        id: ApiKeyId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<Option<ApiKey>, StoreError> {
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let at = to_db_time(at);
                let revoked = diesel::update(
                    api_keys::table
                        .find(id.to_string())
                        .filter(api_keys::revoked_at.is_null()),
                )
                .set(api_keys::revoked_at.eq(at))
                .execute(conn)?;
                let children = revoke_keys_created_by(conn, PrincipalId::ApiKey(id), at)?;
                if revoked + children > 0 {
                    record(conn, &audit.clone().revoked_api_keys(children))?;
                }
                let row = api_keys::table
                    .find(id.to_string())
                    .get_result::<ApiKeyRow>(conn)
                    .optional()?;
                Ok(row
                    .map(ApiKeyRow::into_key)
                    .transpose()?
                    .map(|(key, _)| key))
            })
        })
        .await
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.run(move |conn| {
            diesel::update(api_keys::table.find(id.to_string()))
                .set(api_keys::last_used_at.eq(to_db_time(at)))
                .execute(conn)
                .map_err(translate)?;
            Ok(())
        })
        .await
    }

    async fn forget_dead_api_keys(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError> {
        use diesel::dsl::{exists, not};
        use diesel::sql_types::Text;
        let before = to_db_time(before);
        self.run(move |conn| {
            let children = diesel::alias!(api_keys as children);
            // `created_by` of a key's children: `api_key:<id>` (see `PrincipalId`).
            let as_creator = "api_key:".into_sql::<Text>().concat(api_keys::id);
            let dead: Vec<String> = api_keys::table
                .filter(
                    api_keys::revoked_at
                        .le(before)
                        .or(api_keys::expires_at.le(before)),
                )
                .filter(not(exists(
                    children.filter(
                        children
                            .field(api_keys::created_by)
                            .eq(as_creator.nullable()),
                    ),
                )))
                .select(api_keys::id)
                .limit(limit)
                .load(conn)
                .map_err(translate)?;
            if dead.is_empty() {
                return Ok(0);
            }
            // Their grants go with them (ON DELETE CASCADE).
            diesel::delete(api_keys::table.filter(api_keys::id.eq_any(&dead)))
                .execute(conn)
                .map_err(translate)
        })
        .await
    }
}

/// Whether the principal `created_by` may still
/// create a key at `at`: an active account, or a key neither revoked nor expired. Its row is
/// locked `FOR SHARE` on PostgreSQL (SQLite: the transaction holds the write lock), so a
/// concurrent disabling or revocation either waits for this key and then revokes it with
/// the rest, or commits first and this insert is refused. A key without a creator (written by
/// hand) has nothing to check, nor has a creator that names no stored row.
fn creator_may_create(
    conn: &mut DbConnection,
    created_by: Option<PrincipalId>,
    at: DateTime<Utc>,
) -> Result<bool, TxError> {
    match created_by {
        None => Ok(true),
        Some(PrincipalId::Account(id)) => {
            let query = accounts::table
                .find(id.to_string())
                .select(accounts::status);
            let status: Vec<String> = match conn {
                DbConnection::Pg(pg) => query.for_share().load(pg)?,
                DbConnection::Sqlite(_) => query.load(conn)?,
            };
            Ok(status
                .iter()
                .all(|status| status == AccountStatus::Active.as_str()))
        }
        Some(PrincipalId::ApiKey(id)) => {
            let query = api_keys::table
                .find(id.to_string())
                .select((api_keys::revoked_at, api_keys::expires_at));
            let found: Vec<(Option<NaiveDateTime>, Option<NaiveDateTime>)> = match conn {
                DbConnection::Pg(pg) => query.for_share().load(pg)?,
                DbConnection::Sqlite(_) => query.load(conn)?,
            };
            let at = to_db_time(at);
            Ok(found.iter().all(|(revoked_at, expires_at)| {
                revoked_at.is_none() && expires_at.is_none_or(|expires_at| at < expires_at)
            }))
        }
    }
}

/// Revokes at `at` every key `creator` created and, transitively, every key those created;
/// how many were revoked now. Keys revoked earlier keep their time, but their children are
/// still visited (keys minted before revocation cascaded). One indexed query per
/// generation (`api_keys_created_by_idx`).
pub(crate) fn revoke_keys_created_by(
    conn: &mut DbConnection,
    creator: PrincipalId,
    at: NaiveDateTime,
) -> Result<usize, TxError> {
    let mut revoked = 0;
    for generation in generations_created_by(conn, creator)? {
        revoked += diesel::update(
            api_keys::table
                .filter(api_keys::id.eq_any(&generation))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(at))
        .execute(conn)?;
    }
    Ok(revoked)
}

/// The ids of the keys `creator` created, then of those they created, and so on: one list
/// per generation, revoked keys included (their children may still be live).
fn generations_created_by(
    conn: &mut DbConnection,
    creator: PrincipalId,
) -> Result<Vec<Vec<String>>, diesel::result::Error> {
    let mut seen = std::collections::HashSet::new();
    let mut creators = vec![creator.to_string()];
    let mut generations = Vec::new();
    loop {
        let children: Vec<String> = api_keys::table
            .filter(api_keys::created_by.eq_any(&creators))
            .order(api_keys::id)
            .select(api_keys::id)
            .load(conn)?;
        // Ids are unique and a key is created after its creator, so a cycle cannot occur;
        // `seen` makes that a guarantee rather than an assumption about the data.
        let children: Vec<String> = children
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
        if children.is_empty() {
            return Ok(generations);
        }
        creators = children.iter().map(|id| format!("api_key:{id}")).collect();
        generations.push(children);
    }
}

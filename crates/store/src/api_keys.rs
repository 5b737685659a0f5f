//! `ApiKeyStore` on diesel.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use roster_app::audit::AuditEvent;
use roster_app::ports::NewGrant;
use roster_app::ports::{ApiKey, ApiKeyPage, ApiKeyStore, StoreError, StoredApiKey, TokenDigest};
use roster_domain::{ApiKeyId, PrincipalId};

use crate::audit::record;
use crate::grants::{holder_grants, insert_grants};

use crate::connection::{Store, with_backend, write_transaction};
use crate::errors::translate;
use crate::rows::{ApiKeyRow, NewApiKeyRow, page, to_db_time};
use crate::schema::api_keys;

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
            write_transaction(conn, "api key", |conn| {
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
            .map_err(|e| translate(e, "api key"))?;
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
            let rows = query
                .load::<ApiKeyRow>(conn)
                .map_err(|e| translate(e, "api key"))?;
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

    async fn revoke_api_key(
        &self,
        id: ApiKeyId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<Option<ApiKey>, StoreError> {
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, "api key", |conn| {
                let revoked = diesel::update(
                    api_keys::table
                        .find(id.to_string())
                        .filter(api_keys::revoked_at.is_null()),
                )
                .set(api_keys::revoked_at.eq(to_db_time(at)))
                .execute(conn)?;
                if revoked > 0 {
                    record(conn, &audit)?;
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
                .map_err(|e| translate(e, "api key"))?;
            Ok(())
        })
        .await
    }
}

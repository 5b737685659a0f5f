use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_domain::{ApiKeyId, PrincipalId};

use crate::model::{
    ApiKey, ApiKeyPage, AuditEvent, NewGrant, StoreError, StoredApiKey, TokenDigest,
};

/// Port: persistent API keys and their grants.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Inserts a new key with its grants and the audit event: all or nothing. The key's
    /// creator (`created_by`) is checked in the same transaction, under a lock that a
    /// concurrent disabling or revocation of the creator waits for: an account that is no
    /// longer active, or a key that is revoked or expired at `key.created_at`, creates
    /// nothing (else its child could slip past the cascading revocation).
    ///
    /// # Errors
    /// `Duplicate(ApiKeyId)` on an id collision; `Missing(Role)` when a grant names an
    /// unknown role; `Missing(Creator)` when the creator is gone, disabled, revoked or
    /// expired; `Unavailable`.
    async fn insert_api_key(
        &self,
        key: &ApiKey,
        digest: &TokenDigest,
        grants: &[NewGrant],
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Finds a key, its digest and its grants by id, in one database call: what
    /// authenticating with the key needs.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn find_api_key(&self, id: ApiKeyId) -> Result<Option<StoredApiKey>, StoreError>;

    /// Keys in id order after `after`.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn list_api_keys(
        &self,
        after: Option<ApiKeyId>,
        limit: u32,
    ) -> Result<ApiKeyPage, StoreError>;

    /// Revokes the key at `at` (keeping an earlier revocation time), and with it every key it
    /// created, transitively; the audit event is recorded with
    /// [`AuditEvent::revoked_api_keys`] counting those. The key as it now is, `None` when
    /// there is no such key.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn revoke_api_key(
        &self,
        id: ApiKeyId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<Option<ApiKey>, StoreError>;

    /// The keys not yet revoked among those `creator` created, transitively (the keys those
    /// keys created, and so on): what disabling the account or revoking the key would revoke
    /// with it, so that the caller can be checked against each.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn live_keys_created_by(&self, creator: PrincipalId)
    -> Result<Vec<ApiKeyId>, StoreError>;

    /// Records that the key authenticated a request at `at`.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Deletes keys revoked or expired at or before `before`, with their grants, at most
    /// `limit`; how many went. A key that created a key still stored is kept: `created_by`
    /// is the chain along which disabling an account or revoking a key reaches every key
    /// made under it, and deleting a link would cut the keys below it off.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn forget_dead_api_keys(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError>;
}

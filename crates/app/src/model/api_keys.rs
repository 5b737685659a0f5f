//! API keys as stored and listed, and a stored key with what authenticating with it needs.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use roster_domain::{ApiKeyId, Grant, PrincipalId};

use crate::model::TokenDigest;

/// An API key as stored and listed. The key itself is never stored, only its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Who created it; `None` for a key written without a creator.
    pub created_by: Option<PrincipalId>,
    /// `None`: the key does not expire (it can still be revoked).
    pub expires_at: Option<DateTime<Utc>>,
    /// When the key last authenticated a request (written at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether the key may authenticate a request at `now`.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires_at| now < expires_at)
    }
}

/// A stored key with the digest a presented key must match and the key's grants.
#[derive(Debug, Clone)]
pub struct StoredApiKey {
    pub key: ApiKey,
    pub digest: TokenDigest,
    /// The key's grants with their roles' current rules (empty for a revoked key). Shared:
    /// the adapter may hand out the same cached list to many requests.
    pub grants: Arc<[Grant]>,
    /// The key's grants version as read with the key (see
    /// [`SessionRecord::grants_version`](crate::model::SessionRecord::grants_version)).
    pub grants_version: i64,
}

/// One page of API keys in id (creation) order.
#[derive(Debug, Clone, Default)]
pub struct ApiKeyPage {
    pub keys: Vec<ApiKey>,
    /// The id to continue after, when more keys follow.
    pub next_after: Option<ApiKeyId>,
}

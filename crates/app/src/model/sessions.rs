//! Server-side sessions: their public id, a session to open, one found by token digest, one
//! as listed to its owner.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use roster_domain::{Account, AccountId, Grant};
use uuid::Uuid;

use crate::model::TokenDigest;

/// Public identifier of a session (not the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(Uuid);

impl SessionId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A session to persist at login. Only the token's digest is stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub account_id: AccountId,
    pub token_digest: TokenDigest,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A stored session together with its account and the account's grants, as found by token
/// digest in one database call.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub account: Account,
    /// The account's grants with their roles' current rules (empty for a revoked session).
    /// Shared: the adapter may hand out the same cached list to many requests.
    pub grants: Arc<[Grant]>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

/// A session as listed to its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

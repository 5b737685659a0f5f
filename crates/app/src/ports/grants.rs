use async_trait::async_trait;
use roster_domain::{GrantId, PrincipalId};

use crate::model::{AuditEvent, GrantInsertion, GrantPage, GrantRecord, NewGrant, StoreError};

/// Port: grants held by accounts and API keys. Every write records its audit event in the
/// same transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Inserts the grant unless the holder holds `max_per_holder` grants already. The count
    /// is taken under the holder's write lock in the inserting transaction, so concurrent
    /// inserts cannot together pass the cap.
    ///
    /// # Errors
    /// `Duplicate(Grant)` when the holder has this role on this scope already;
    /// `Missing(Role)` for an unknown role; `Missing(Holder)` for an unknown account or
    /// API key; `Unavailable`.
    async fn insert_grant(
        &self,
        holder: PrincipalId,
        grant: &NewGrant,
        max_per_holder: u32,
        audit: &AuditEvent,
    ) -> Result<GrantInsertion, StoreError>;

    /// Every grant of the holder in creation order (bounded by the cap on grants per holder).
    ///
    /// # Errors
    /// `Unavailable`.
    async fn list_grants(&self, holder: PrincipalId) -> Result<Vec<GrantRecord>, StoreError>;

    /// The holder's grants in creation order after `after`, at most `limit`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn list_grants_page(
        &self,
        holder: PrincipalId,
        after: Option<GrantId>,
        limit: u32,
    ) -> Result<GrantPage, StoreError>;

    /// # Errors
    /// `Unavailable`.
    async fn find_grant(
        &self,
        holder: PrincipalId,
        id: GrantId,
    ) -> Result<Option<GrantRecord>, StoreError>;

    /// Deletes the holder's grant; `false` when there is no such grant.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn delete_grant(
        &self,
        holder: PrincipalId,
        id: GrantId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
}

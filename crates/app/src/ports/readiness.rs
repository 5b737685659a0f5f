use async_trait::async_trait;

use crate::model::StoreError;

/// Port: whether the backing database can serve requests (for `GET /readyz`).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Readiness: Send + Sync {
    /// Ok when the database answers and its schema is current.
    ///
    /// # Errors
    /// `Unavailable` with the reason otherwise.
    async fn check_ready(&self) -> Result<(), StoreError>;
}

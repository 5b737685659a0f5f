//! The port through which use cases ask whether a feature is on (the catalog is
//! [`crate::model::Feature`]).

use crate::model::{Feature, FeatureReport};

/// Port: answers whether a feature is on. Implementations must be cheap (an in-memory read)
/// because handlers ask on every request.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait FeatureManager: Send + Sync {
    /// Whether `feature` is on right now.
    fn is_enabled(&self, feature: Feature) -> bool;

    /// The full state for `GET /v1/features` and `roster features list`.
    fn report(&self) -> FeatureReport;
}

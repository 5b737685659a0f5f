//! The port through which use cases ask whether a feature is on, and switch one (the catalog
//! is [`crate::model::Feature`]).

use crate::model::{Feature, FeatureEditError, FeatureReport};

/// Port: answers whether a feature is on, and switches one. `is_enabled` and `report` must be
/// cheap (an in-memory read and at most a metadata check) because handlers ask on every
/// request and pages on every view.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait FeatureManager: Send + Sync {
    /// Whether `feature` is on right now.
    fn is_enabled(&self, feature: Feature) -> bool;

    /// The full state for `GET /v1/features`, `roster features list` and the console.
    fn report(&self) -> FeatureReport;

    /// Switches `feature` on or off in the features file, keeping everything else in it, and
    /// puts the result in force before returning (the next `is_enabled` sees it). Returns
    /// whether the file changed (`false` when the feature already stood in the wanted list).
    ///
    /// Synchronous: a few kilobytes written and synced, rarely (an operator's click).
    ///
    /// # Errors
    /// `ReadOnly` when the service may not write the file; `Invalid` when the file cannot be
    /// edited safely (it does not parse, or the state in force is not the file on disk);
    /// `Failed` for other I/O errors. The file is left as it was in every case.
    fn set(&self, feature: Feature, enabled: bool) -> Result<bool, FeatureEditError>;
}

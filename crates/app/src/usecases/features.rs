//! The feature flags for operators: what is in force and where the features file stands
//! (for anyone holding a built-in action on `*`), and switching a flag (`feature-manage` on
//! `*`): the flags adapter edits the features file as `roster features enable|disable` does
//! and puts the result in force at once; each switch is audited as `feature.changed`.

use roster_domain::BuiltinAction;
use tracing::instrument;

use super::{Authenticated, Roster};
use crate::error::{AppError, FieldError};
use crate::model::{AuditAction, Feature, FeatureReport, FeatureState};

/// The flags as an operator sees them (the console's features page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureOverview {
    /// Every flag in force, and the features file: its path, whether the service may write
    /// it, and its error while the last good state stays in force.
    pub report: FeatureReport,
    /// Whether the caller may switch flags (`feature-manage` on `*`). Whether a switch can
    /// succeed now also needs `report.writable` and no `report.error`.
    pub may_switch: bool,
}

impl Roster {
    /// The flags and the features file, for an operator: a caller allowed `feature-manage`
    /// or any other built-in action on `*` (the public `GET /v1/features` tells less: no
    /// path, no write access).
    ///
    /// # Errors
    /// `Forbidden` for a caller allowed no built-in action on `*`.
    pub fn feature_overview(&self, caller: &Authenticated) -> Result<FeatureOverview, AppError> {
        // `feature-manage` is one of them.
        let operator = BuiltinAction::ALL
            .into_iter()
            .any(|action| caller.require_global(action).is_ok());
        if !operator {
            return Err(AppError::Forbidden);
        }
        let may_switch = caller.require_global(BuiltinAction::FeatureManage).is_ok();
        Ok(FeatureOverview {
            report: self.ports.features.report(),
            may_switch,
        })
    }

    /// Switches the feature called `name` on (`enabled`) or off, and returns its state now in
    /// force. Switching a feature to the list it already stands in changes nothing and writes
    /// no audit event.
    ///
    /// The file is written first and the audit event second: a file and a database cannot
    /// share a transaction. Should the event fail to be written, the switch stays done (each
    /// node also records the reload it applies as `features.reloaded`) and the caller gets
    /// the error, logged with what was switched.
    ///
    /// # Errors
    /// `Forbidden` without `feature-manage` on `*` (checked first); `Validation` (`name`:
    /// `unknown_feature`) for a name outside the catalog; `FeaturesFileReadOnly` when the
    /// service may not write the file; `FeaturesFileInvalid` when it cannot be edited safely
    /// (nothing is written); `Unavailable` when the audit event cannot be written.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn set_feature(
        &self,
        caller: &Authenticated,
        name: &str,
        enabled: bool,
    ) -> Result<FeatureState, AppError> {
        caller.require_global(BuiltinAction::FeatureManage)?;
        let feature = Feature::from_name(name).ok_or_else(|| {
            AppError::Validation(vec![FieldError::new(
                "name",
                "unknown_feature",
                format!(
                    "Unknown feature; known features: {}.",
                    Feature::known_names()
                ),
            )])
        })?;
        let changed = self.ports.features.set(feature, enabled).map_err(|error| {
            // The operator's log gets the cause (it may name the path); the caller a problem.
            tracing::warn!(%feature, enabled, %error, "feature not switched");
            AppError::from(error)
        })?;
        if changed {
            let audit = caller
                .audit(AuditAction::FeatureChanged, self.ports.clock.now())
                .target("feature", feature)
                .detail(if enabled { "enabled" } else { "disabled" });
            if let Err(error) = self.ports.audit.record(&audit).await {
                tracing::error!(
                    %feature,
                    enabled,
                    principal = %caller.principal_label(),
                    %error,
                    "feature switched, but its audit event could not be written"
                );
                return Err(error.into());
            }
            tracing::info!(%feature, enabled, principal = %caller.principal_label(), "feature switched");
        }
        self.ports
            .features
            .report()
            .features
            .into_iter()
            .find(|state| state.feature == feature)
            .ok_or_else(|| AppError::Internal(format!("feature {feature} missing from the report")))
    }
}

#[cfg(test)]
mod tests;

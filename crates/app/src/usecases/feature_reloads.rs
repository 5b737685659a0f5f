//! The audit trail of the features file: every reload (`features.reloaded`, with the values
//! that changed) and every rejected edit (`features.rejected`, with why), as each node
//! applied them.
//!
//! A use case rather than server code so that what an operator later reads in the trail is
//! decided, and tested, in one place; the server only forwards the feature manager's events.

use tracing::instrument;

use super::Roster;
use crate::error::AppError;
use crate::model::FeatureState;
use crate::model::{AuditAction, AuditEvent};

/// What a feature manager tells its listeners after each reload or rejected edit of its
/// file, and what [`Roster::record_feature_reload`] writes to the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadEvent {
    /// A changed, valid file is now in force (any previous error is cleared). `changed` holds
    /// the new state of each feature whose on/off value changed, in catalog order; it is empty
    /// when the edit changed only comments or layout.
    Reloaded { changed: Vec<FeatureState> },
    /// An edit was rejected and the last good state stays in force. Sent once per distinct
    /// error, like the warning in the log.
    Rejected { error: String },
}

impl Roster {
    /// Records one reload or rejected edit of the features file at `file` (its path as the
    /// operator configured it; it becomes the event's `file:` target).
    ///
    /// # Errors
    /// `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn record_feature_reload(
        &self,
        event: &ReloadEvent,
        file: &str,
    ) -> Result<(), AppError> {
        let at = self.ports.clock.now();
        let audit = match event {
            ReloadEvent::Reloaded { changed } => {
                AuditEvent::new(AuditAction::FeaturesReloaded, at).detail(describe_changes(changed))
            }
            ReloadEvent::Rejected { error } => {
                AuditEvent::new(AuditAction::FeaturesRejected, at).detail(error.clone())
            }
        }
        .target("file", file);
        Ok(self.ports.audit.record(&audit).await?)
    }
}

/// `account-registration=off, metrics=on`, or `no value changed` for an edit of comments or
/// layout only.
fn describe_changes(changed: &[FeatureState]) -> String {
    if changed.is_empty() {
        return "no value changed".to_owned();
    }
    changed
        .iter()
        .map(|state| {
            let value = if state.enabled { "on" } else { "off" };
            format!("{}={value}", state.feature.name())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    //! The features-reload audit against mock ports. Self-contained apart from the shared
    //! harness ([`Ports`]) and its clock fixture.

    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::model::StoreError;
    use crate::model::{Feature, FeatureSource};
    use crate::usecases::test_support::{Ports, now};

    const FILE: &str = "/etc/roster/features/_features.conf";

    /// Records the one event the use case writes.
    fn recording(ports: &mut Ports) -> Arc<Mutex<Vec<AuditEvent>>> {
        ports.clock.expect_now().return_const(now());
        let events: Arc<Mutex<Vec<AuditEvent>>> = Arc::default();
        let sink = Arc::clone(&events);
        ports
            .audit
            .expect_record()
            .times(1)
            .returning(move |event| {
                sink.lock().unwrap().push(event.clone());
                Ok(())
            });
        events
    }

    async fn recorded_event(event: ReloadEvent) -> AuditEvent {
        let mut ports = Ports::new();
        let events = recording(&mut ports);
        ports
            .build()
            .record_feature_reload(&event, FILE)
            .await
            .unwrap();
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 1);
        events[0].clone()
    }

    fn state(feature: Feature, enabled: bool) -> FeatureState {
        FeatureState {
            feature,
            enabled,
            source: FeatureSource::EnabledList,
        }
    }

    #[tokio::test]
    async fn a_reload_records_each_changed_value() {
        let event = recorded_event(ReloadEvent::Reloaded {
            changed: vec![
                state(Feature::AccountRegistration, false),
                state(Feature::Metrics, true),
            ],
        })
        .await;
        assert_eq!(event.action, AuditAction::FeaturesReloaded);
        assert_eq!(
            event.detail.as_deref(),
            Some("account-registration=off, metrics=on")
        );
        assert_eq!(event.target, Some(format!("file:{FILE}")));
        assert_eq!(event.at, now());
        assert_eq!(event.actor, None, "the system acted, not a principal");
    }

    #[tokio::test]
    async fn a_reload_that_changes_no_value_says_so() {
        let event = recorded_event(ReloadEvent::Reloaded { changed: vec![] }).await;
        assert_eq!(event.action, AuditAction::FeaturesReloaded);
        assert_eq!(event.detail.as_deref(), Some("no value changed"));
        assert_eq!(event.target, Some(format!("file:{FILE}")));
    }

    #[tokio::test]
    async fn a_rejected_edit_records_why() {
        let event = recorded_event(ReloadEvent::Rejected {
            error: "line 3: unknown feature \"metrix\"".to_owned(),
        })
        .await;
        assert_eq!(event.action, AuditAction::FeaturesRejected);
        assert_eq!(
            event.detail.as_deref(),
            Some("line 3: unknown feature \"metrix\"")
        );
        assert_eq!(event.target, Some(format!("file:{FILE}")));
        assert_eq!(event.at, now());
    }

    #[tokio::test]
    async fn an_unreachable_audit_log_is_an_error() {
        let mut ports = Ports::new();
        ports.clock.expect_now().return_const(now());
        ports
            .audit
            .expect_record()
            .times(1)
            .returning(|_| Err(StoreError::Unavailable("connection refused".into())));
        let result = ports
            .build()
            .record_feature_reload(&ReloadEvent::Reloaded { changed: vec![] }, FILE)
            .await;
        assert!(
            matches!(result, Err(AppError::Unavailable(_))),
            "{result:?}"
        );
    }
}

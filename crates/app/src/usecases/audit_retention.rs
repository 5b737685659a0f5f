//! Audit retention: events older than `audit.retention` (400 days by default) are deleted in
//! bounded batches by the periodic job, or on demand by `roster audit prune`. Each pruning
//! that deleted anything is itself an audit event (`audit.pruned`), which says how many and
//! from before when.

use chrono::{DateTime, Duration, Utc};

use super::HOUSEKEEPING_BATCH;
use super::Roster;
use crate::error::AppError;
use crate::model::{AuditAction, AuditEvent};

/// How long audit events are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSettings {
    /// Events older than this are deleted (`audit.retention`).
    pub retention: Duration,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            retention: Duration::days(400),
        }
    }
}

impl Roster {
    /// The periodic job's pruning: at most `max_batches` batches of events older than
    /// `audit.retention`, so one tick stays short however far behind it is (the next tick
    /// goes on). How many were deleted.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn prune_audit_trail(&self, max_batches: usize) -> Result<usize, AppError> {
        let cutoff = self.ports.clock.now() - self.audit.retention;
        self.prune_audit_events_before(cutoff, max_batches).await
    }

    /// `roster audit prune --older-than AGE`: every event older than `age`, batch after
    /// batch. How many were deleted.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn prune_audit_events_older_than(&self, age: Duration) -> Result<usize, AppError> {
        let cutoff = self.ports.clock.now() - age;
        self.prune_audit_events_before(cutoff, usize::MAX).await
    }

    async fn prune_audit_events_before(
        &self,
        cutoff: DateTime<Utc>,
        max_batches: usize,
    ) -> Result<usize, AppError> {
        let mut deleted = 0;
        let mut failure = None;
        for _ in 0..max_batches {
            match self
                .ports
                .audit
                .delete_audit_events_before(cutoff, HOUSEKEEPING_BATCH)
                .await
            {
                Ok(count) => {
                    deleted += count;
                    if count < usize::try_from(HOUSEKEEPING_BATCH).unwrap_or(usize::MAX) {
                        break;
                    }
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        // What was deleted is recorded even when a later batch failed.
        if deleted > 0 {
            let event =
                AuditEvent::new(AuditAction::AuditPruned, self.ports.clock.now()).detail(format!(
                    "{deleted} events from before {}",
                    cutoff.format("%Y-%m-%d %H:%M UTC")
                ));
            self.ports.audit.record(&event).await?;
            tracing::info!(deleted, %cutoff, "old audit events deleted");
        }
        match failure {
            Some(error) => Err(error.into()),
            None => Ok(deleted),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::model::StoreError;
    use crate::usecases::test_support::*;

    use super::*;

    #[tokio::test]
    async fn batches_run_until_one_comes_back_short_and_the_pruning_is_recorded_once() {
        let mut ports = Ports::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        ports
            .audit
            .expect_delete_audit_events_before()
            .withf(|cutoff, limit| *cutoff == now() - Duration::days(400) && *limit == 1000)
            .returning(move |_, _| {
                let call = counted.fetch_add(1, Ordering::SeqCst);
                Ok(if call < 2 { 1000 } else { 7 })
            });
        ports
            .audit
            .expect_record()
            .withf(|event| {
                event.action == AuditAction::AuditPruned
                    && event.detail.as_deref()
                        == Some("2007 events from before 2025-02-07 15:09 UTC")
            })
            .times(1)
            .returning(|_| Ok(()));
        ports.clock.expect_now().return_const(now());
        let roster = ports.build();

        assert_eq!(roster.prune_audit_trail(10).await.unwrap(), 2007);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_tick_stops_after_its_batches_and_nothing_deleted_records_nothing() {
        let mut ports = Ports::new();
        ports
            .audit
            .expect_delete_audit_events_before()
            .times(2)
            .returning(|_, _| Ok(1000));
        ports.audit.expect_record().times(1).returning(|_| Ok(()));
        ports.clock.expect_now().return_const(now());
        assert_eq!(ports.build().prune_audit_trail(2).await.unwrap(), 2000);

        let mut ports = Ports::new();
        ports
            .audit
            .expect_delete_audit_events_before()
            .returning(|_, _| Ok(0));
        ports.audit.expect_record().never();
        ports.clock.expect_now().return_const(now());
        assert_eq!(ports.build().prune_audit_trail(5).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn what_was_deleted_before_a_failure_is_still_recorded() {
        let mut ports = Ports::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        ports
            .audit
            .expect_delete_audit_events_before()
            .returning(move |_, _| {
                if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                    Ok(1000)
                } else {
                    Err(StoreError::Unavailable("gone".into()))
                }
            });
        ports
            .audit
            .expect_record()
            .withf(|event| {
                event
                    .detail
                    .as_deref()
                    .is_some_and(|d| d.starts_with("1000 events"))
            })
            .times(1)
            .returning(|_| Ok(()));
        ports.clock.expect_now().return_const(now());
        let result = ports
            .build()
            .prune_audit_events_older_than(Duration::days(30))
            .await;
        assert!(
            matches!(result, Err(AppError::Unavailable(_))),
            "{result:?}"
        );
    }
}

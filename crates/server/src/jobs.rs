//! Background work that runs beside the HTTP server for the life of the process: deleting
//! dead sessions and old login failures, forgetting idle rate-limit clients, and auditing
//! every reload of the features file.
//!
//! Kept apart from the wiring so that each job's schedule and failure handling (log and retry
//! at the next tick, never stop the service) can be read in one place, and so that stopping
//! the server stops them all through one handle.

use std::path::Path;

use actix_web::web::Data;
use roster_app::Roster;
use roster_flags::{FileFeatureManager, ReloadEvent};
use roster_http::{ClientRateLimiter, Metrics};
use tokio::task::JoinHandle;

/// The periodic jobs, started together and stopped together.
#[derive(Debug)]
pub(crate) struct PeriodicJobs {
    session_cleanup: JoinHandle<()>,
    forget_idle_clients: JoinHandle<()>,
}

impl PeriodicJobs {
    /// Spawns every periodic job on the current runtime.
    pub(crate) fn start(roster: Roster, rate_limiter: Data<ClientRateLimiter>) -> PeriodicJobs {
        PeriodicJobs {
            session_cleanup: tokio::spawn(clean_up_sessions_periodically(roster)),
            forget_idle_clients: tokio::spawn(forget_idle_clients_periodically(rate_limiter)),
        }
    }

    /// Stops every job (they hold no state worth finishing).
    pub(crate) fn stop(&self) {
        self.session_cleanup.abort();
        self.forget_idle_clients.abort();
    }
}

/// How often dead sessions are deleted.
const SESSION_CLEANUP_INTERVAL: std::time::Duration = std::time::Duration::from_mins(5);

/// Deletes expired, revoked and idle sessions and day-old login failures in bounded
/// batches, forever. Failures (the database being away) are logged and retried at the next
/// tick.
async fn clean_up_sessions_periodically(roster: Roster) {
    let mut ticks = tokio::time::interval(SESSION_CLEANUP_INTERVAL);
    loop {
        ticks.tick().await;
        match roster.clean_up_sessions().await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "dead sessions deleted"),
            Err(error) => {
                tracing::warn!(%error, "session cleanup failed; retrying at the next tick");
            }
        }
        match roster.forget_old_login_failures().await {
            Ok(0) => {}
            Ok(forgotten) => tracing::info!(forgotten, "old login failures forgotten"),
            Err(error) => {
                tracing::warn!(%error, "login failure cleanup failed; retrying at the next tick");
            }
        }
    }
}

/// Drops full rate-limit buckets every minute, keeping the limiter's memory bounded.
async fn forget_idle_clients_periodically(limiter: Data<ClientRateLimiter>) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_mins(1));
    loop {
        ticks.tick().await;
        limiter.forget_idle();
    }
}

/// Records every reload or rejected edit of the features file in the audit trail (each node
/// records what it applied) and counts it in the metrics. The watcher calls back on its own
/// thread; the write runs on the runtime.
pub(crate) fn audit_feature_reloads(
    features: &FileFeatureManager,
    roster: &Roster,
    file: &Path,
    metrics: Data<Metrics>,
) {
    let runtime = tokio::runtime::Handle::current();
    let roster = roster.clone();
    let file = file.display().to_string();
    features.on_change(Box::new(move |event| {
        metrics.observe_feature_reload(match event {
            ReloadEvent::Reloaded { .. } => "reloaded",
            ReloadEvent::Rejected { .. } => "rejected",
        });
        let (roster, event, file) = (roster.clone(), event.clone(), file.clone());
        runtime.spawn(async move {
            if let Err(error) = roster.record_feature_reload(&event, &file).await {
                tracing::warn!(%error, "could not record the features reload in the audit trail");
            }
        });
    }));
}

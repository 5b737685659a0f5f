//! Background work that runs beside the HTTP server for the life of the process: the
//! housekeeping that deletes what outlived its retention, forgetting idle rate-limit clients,
//! delivering queued mail, and auditing every reload of the features file.
//!
//! Kept apart from the wiring so that each job's schedule and failure handling (log and retry
//! at the next tick, never stop the service) can be read in one place, and so that stopping
//! the server stops them all through one handle.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Data;
use roster_app::ports::MailSignal;
use roster_app::{AppError, Roster};
use roster_flags::{FileFeatureManager, ReloadEvent};
use roster_http::{ClientRateLimiter, Metrics};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Wakes the mail sender when a request on this node queued a message, so it goes out at once
/// rather than at the next poll (other nodes' messages wait for the poll).
#[derive(Debug, Default)]
pub struct MailWakeup(Notify);

impl MailSignal for MailWakeup {
    fn notify(&self) {
        // A permit is stored if the sender is busy, so a message queued mid-round is not
        // left for the next poll.
        self.0.notify_one();
    }
}

/// How the mail sender runs.
#[derive(Debug, Clone)]
pub(crate) struct MailJob {
    /// This node's name in claims: host, process id and a random suffix, unique per process.
    pub node: String,
    pub poll_interval: Duration,
    pub wakeup: Arc<MailWakeup>,
    pub metrics: Data<Metrics>,
}

/// The periodic jobs, started together and stopped together.
#[derive(Debug)]
pub(crate) struct PeriodicJobs {
    housekeeping: JoinHandle<()>,
    forget_idle_clients: JoinHandle<()>,
    mail_sender: JoinHandle<()>,
}

impl PeriodicJobs {
    /// Spawns every periodic job on the current runtime.
    pub(crate) fn start(
        roster: Roster,
        rate_limiter: Data<ClientRateLimiter>,
        mail: MailJob,
    ) -> PeriodicJobs {
        PeriodicJobs {
            housekeeping: tokio::spawn(keep_house_periodically(roster.clone())),
            forget_idle_clients: tokio::spawn(forget_idle_clients_periodically(rate_limiter)),
            mail_sender: tokio::spawn(deliver_mail(roster, mail)),
        }
    }

    /// Stops every job (they hold no state worth finishing).
    pub(crate) fn stop(&self) {
        self.housekeeping.abort();
        self.forget_idle_clients.abort();
        self.mail_sender.abort();
    }
}

/// Batches of old audit events deleted per tick at most (a thousand each): a long-neglected
/// trail is worked down over several ticks instead of holding the database in one.
const AUDIT_BATCHES_PER_TICK: usize = 20;

/// How often the housekeeping runs.
const HOUSEKEEPING_INTERVAL: std::time::Duration = std::time::Duration::from_mins(5);

/// Deletes what has outlived its retention, in bounded batches, forever: dead sessions,
/// day-old login failures, finished mail and dead email tokens, spent email counters, audit
/// events past `audit.retention`, expired second steps and passkey ceremonies, dead API keys
/// and closed invitations (docs/operations.md lists each retention). A chore that fails (the
/// database being away) is logged and retried at the next tick; the others still run.
async fn keep_house_periodically(roster: Roster) {
    let mut ticks = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    loop {
        ticks.tick().await;
        report("dead sessions", roster.clean_up_sessions().await);
        report(
            "old login failures",
            roster.forget_old_login_failures().await,
        );
        report(
            "finished mail and dead email tokens",
            roster.forget_finished_mail().await,
        );
        report(
            "old email request counters",
            roster.forget_old_email_counters().await,
        );
        report(
            "audit events past their retention",
            roster.prune_audit_trail(AUDIT_BATCHES_PER_TICK).await,
        );
        report(
            "expired sign-in second steps and passkey ceremonies",
            roster.forget_expired_second_steps().await,
        );
        report("dead API keys", roster.forget_dead_api_keys().await);
        report(
            "closed invitations",
            roster.forget_closed_invitations().await,
        );
    }
}

/// Logs what one housekeeping chore deleted, or why it failed.
fn report(chore: &'static str, outcome: Result<usize, AppError>) {
    match outcome {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, chore, "housekeeping deleted rows"),
        Err(error) => {
            tracing::warn!(%error, chore, "housekeeping failed; retrying at the next tick");
        }
    }
}

/// Delivers queued mail forever: a round every `poll_interval`, or at once when a request on
/// this node queued a message; rounds follow each other while they come back full, so a
/// backlog (after an SMTP outage) drains without waiting for polls. A failed round (the
/// database away) is logged and retried at the next poll; single messages' failures are
/// recorded on them by the use case.
async fn deliver_mail(roster: Roster, job: MailJob) {
    loop {
        match roster.deliver_mail_round(&job.node).await {
            Ok(report) => {
                job.metrics.observe_mail_round(&report);
                if let Ok(stats) = roster.outbox_stats().await {
                    job.metrics.set_mail_queue(&stats);
                }
                // A full batch may mean more are due: go again at once.
                if report.attempted() > 0 && report.sent + report.gave_up == report.attempted() {
                    continue;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "mail delivery round failed; retrying at the next poll");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(job.poll_interval) => {}
            () = job.wakeup.0.notified() => {}
        }
    }
}

/// This process's name in the outbox's claims.
pub(crate) fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    // The tail of a UUID v7 is random.
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &suffix[24..])
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

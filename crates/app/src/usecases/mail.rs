//! The outbound mail queue's sender side: one delivery round (claim due messages, deliver,
//! record each outcome) and the retry policy that spaces attempts. The background job in the
//! server runs rounds a few seconds apart; several nodes may run them at once, since a claim
//! is a lease held by one node.

use chrono::{DateTime, Duration, Utc};
use tracing::instrument;

use super::HOUSEKEEPING_BATCH;
use super::Roster;
use crate::error::AppError;
use crate::model::{
    AuditAction, AuditEvent, ClaimedMail, DeliveryError, DeliveryReport, OutboxStats,
};

/// When a failed message is tried again, and when the sender gives up on it: the first retry
/// within seconds, each wait twice the last, capped, and no more attempts once the message has
/// been queued for `give_up_after` (`mail.give_up_after`, default 3 days: long enough to ride
/// out a weekend's mail-server outage, short enough that a reset link is long dead anyway).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailRetryPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub give_up_after: Duration,
}

impl Default for MailRetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::seconds(5),
            max_delay: Duration::hours(1),
            give_up_after: Duration::days(3),
        }
    }
}

impl MailRetryPolicy {
    /// How long to wait after the `failures`-th failed attempt (1 = the first failure).
    ///
    /// ```
    /// use chrono::Duration;
    /// use roster_app::MailRetryPolicy;
    ///
    /// let policy = MailRetryPolicy::default();
    /// assert_eq!(policy.delay_after(1), Duration::seconds(5));
    /// assert_eq!(policy.delay_after(2), Duration::seconds(10));
    /// assert_eq!(policy.delay_after(5), Duration::seconds(80));
    /// assert_eq!(policy.delay_after(11), Duration::hours(1));
    /// assert_eq!(policy.delay_after(400), Duration::hours(1));
    /// ```
    pub fn delay_after(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        let factor = 1i32 << doublings;
        self.first_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// When to try a message queued at `queued_at` again after its `failures`-th failure at
    /// `now`; `None` when it is time to give up.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use roster_app::MailRetryPolicy;
    ///
    /// let policy = MailRetryPolicy::default();
    /// let queued = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// let now = queued + Duration::seconds(1);
    /// assert_eq!(policy.next_attempt(queued, 1, now), Some(now + Duration::seconds(5)));
    /// let late = queued + Duration::days(3);
    /// assert_eq!(policy.next_attempt(queued, 300, late), None);
    /// ```
    pub fn next_attempt(
        &self,
        queued_at: DateTime<Utc>,
        failures: u32,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let deadline = queued_at + self.give_up_after;
        if now >= deadline {
            return None;
        }
        // The last attempt happens at the deadline rather than an hour past it.
        Some((now + self.delay_after(failures)).min(deadline))
    }
}

/// The longest one delivery may take: the SMTP transport gives up on a silent server well
/// within it. No delivery starts later than this before the end of its lease.
pub const DELIVERY_ALLOWANCE: Duration = Duration::minutes(2);

/// How the sender works through the queue, from settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailSenderSettings {
    pub retry: MailRetryPolicy,
    /// How long a claim lasts: longer than [`DELIVERY_ALLOWANCE`], so a live node never loses
    /// a message it is still sending (no delivery starts later than the allowance before the
    /// end).
    pub lease: Duration,
    /// Messages claimed per round.
    pub batch: i64,
}

impl Default for MailSenderSettings {
    fn default() -> Self {
        Self {
            retry: MailRetryPolicy::default(),
            lease: Duration::minutes(5),
            batch: 20,
        }
    }
}

/// How long finished messages (sent or given up) and dead emailed tokens are kept: long
/// enough to look into a complaint ("the email never came") with `mail_outbox`'s row.
pub const MAIL_RETENTION: Duration = Duration::days(7);

impl Roster {
    /// Deletes messages finished and emailed tokens dead for longer than [`MAIL_RETENTION`],
    /// a bounded batch per call.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn forget_finished_mail(&self) -> Result<usize, AppError> {
        let before = self.ports.clock.now() - MAIL_RETENTION;
        Ok(self
            .ports
            .outbox
            .forget_finished(before, HOUSEKEEPING_BATCH)
            .await?)
    }

    /// One delivery round for `node`: claims the messages that are due and delivers each,
    /// recording the outcome (sent; rescheduled with backoff; given up with the audit event
    /// `mail.gave_up`, which names the message, never its body).
    ///
    /// # Errors
    /// `Unavailable` when the queue cannot be read; failures of single messages are recorded
    /// on them, not returned.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn deliver_mail_round(&self, node: &str) -> Result<DeliveryReport, AppError> {
        let settings = self.mail_sender;
        let now = self.ports.clock.now();
        let claimed = self
            .ports
            .outbox
            .claim(node, now, now + settings.lease, settings.batch)
            .await?;
        // A delivery started late in the lease could still be running when the lease ends and
        // another node claims the message: the rest of the batch waits for the next claim.
        let last_start = now + settings.lease - DELIVERY_ALLOWANCE;
        let mut report = DeliveryReport::default();
        for message in claimed {
            if self.ports.clock.now() > last_start {
                tracing::warn!(
                    "mail delivery is slow: the rest of this batch is left for the next round"
                );
                break;
            }
            self.deliver_one(node, message, &mut report).await?;
        }
        Ok(report)
    }

    async fn deliver_one(
        &self,
        node: &str,
        claimed: ClaimedMail,
        report: &mut DeliveryReport,
    ) -> Result<(), AppError> {
        let ClaimedMail { mail, attempts } = claimed;
        let outcome = self.ports.mailer.deliver(&mail).await;
        let now = self.ports.clock.now();
        let failures = attempts.saturating_add(1);
        let (error, permanent) = match outcome {
            Ok(()) => {
                if !self.ports.outbox.mark_sent(mail.id, node, now).await? {
                    tracing::warn!(id = %mail.id, "mail sent after this node's claim ran out; \
                        another node may send it again (at-least-once)");
                }
                tracing::info!(id = %mail.id, kind = %mail.kind, to = %mail.recipient, "mail sent");
                report.sent += 1;
                return Ok(());
            }
            Err(DeliveryError::Transient(error)) => (error, false),
            Err(DeliveryError::Permanent(error)) => (error, true),
        };
        let next = if permanent {
            None
        } else {
            self.mail_sender
                .retry
                .next_attempt(mail.created_at, failures, now)
        };
        if let Some(at) = next {
            tracing::warn!(id = %mail.id, kind = %mail.kind, to = %mail.recipient,
                attempts = failures, retry_at = %at, %error, "mail delivery failed; will retry");
            self.ports
                .outbox
                .reschedule(mail.id, node, failures, at, &error)
                .await?;
            report.failed += 1;
        } else {
            tracing::error!(id = %mail.id, kind = %mail.kind, to = %mail.recipient,
                attempts = failures, %error, "mail delivery given up");
            let audit = AuditEvent::new(AuditAction::MailGaveUp, now)
                .target("mail", mail.id)
                .detail(format!(
                    "{} to {} after {failures} attempts: {error}",
                    mail.kind, mail.recipient
                ));
            self.ports
                .outbox
                .give_up(mail.id, node, failures, &error, &audit)
                .await?;
            report.gave_up += 1;
        }
        Ok(())
    }

    /// The queue's depth, for metrics.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn outbox_stats(&self) -> Result<OutboxStats, AppError> {
        Ok(self.ports.outbox.stats().await?)
    }
}

#[cfg(test)]
mod tests;

use chrono::Duration;
use mockall::predicate::eq;
use uuid::Uuid;

use super::super::test_support::{Ports, now};
use crate::model::{AuditAction, ClaimedMail, DeliveryError, DeliveryReport, MailKind, SealedMail};

const NODE: &str = "node-a";

fn claimed(n: u128, attempts: u32, queued_ago: Duration) -> ClaimedMail {
    ClaimedMail {
        mail: SealedMail {
            id: Uuid::from_u128(n),
            kind: MailKind::PasswordReset,
            recipient: "ada@example.com".into(),
            sealed: "sealed".into(),
            created_at: now() - queued_ago,
        },
        attempts,
    }
}

fn claims(ports: &mut Ports, messages: Vec<ClaimedMail>) {
    ports.clock_at(now());
    ports
        .outbox
        .expect_claim()
        .with(
            eq(NODE),
            eq(now()),
            eq(now() + Duration::minutes(5)),
            eq(20),
        )
        .times(1)
        .returning(move |_, _, _, _| Ok(messages.clone()));
}

#[tokio::test]
async fn a_delivered_message_is_marked_sent() {
    let mut ports = Ports::new();
    claims(&mut ports, vec![claimed(1, 0, Duration::seconds(1))]);
    ports.mailer.expect_deliver().times(1).returning(|_| Ok(()));
    ports
        .outbox
        .expect_mark_sent()
        .with(eq(Uuid::from_u128(1)), eq(NODE), eq(now()))
        .times(1)
        .returning(|_, _, _| Ok(true));
    let report = ports.build().deliver_mail_round(NODE).await.unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            sent: 1,
            ..DeliveryReport::default()
        }
    );
}

#[tokio::test]
async fn a_transient_failure_is_retried_with_backoff_and_the_error_recorded() {
    let mut ports = Ports::new();
    // Third failure: 5 s, 10 s, then 20 s.
    claims(&mut ports, vec![claimed(2, 2, Duration::minutes(1))]);
    ports
        .mailer
        .expect_deliver()
        .returning(|_| Err(DeliveryError::Transient("connection refused".into())));
    ports
        .outbox
        .expect_reschedule()
        .with(
            eq(Uuid::from_u128(2)),
            eq(NODE),
            eq(3),
            eq(now() + Duration::seconds(20)),
            eq("connection refused"),
        )
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    ports.outbox.expect_give_up().never();
    let report = ports.build().deliver_mail_round(NODE).await.unwrap();
    assert_eq!(report.failed, 1);
}

#[tokio::test]
async fn permanent_failures_and_old_messages_are_given_up_with_an_audit_event() {
    for (message, error) in [
        (
            claimed(3, 0, Duration::seconds(1)),
            DeliveryError::Permanent("550 no such user".into()),
        ),
        (
            claimed(3, 40, Duration::days(3)),
            DeliveryError::Transient("connection refused".into()),
        ),
    ] {
        let mut ports = Ports::new();
        let attempts = message.attempts + 1;
        claims(&mut ports, vec![message]);
        let returned = error.clone();
        ports
            .mailer
            .expect_deliver()
            .returning(move |_| Err(returned.clone()));
        ports.outbox.expect_reschedule().never();
        ports
            .outbox
            .expect_give_up()
            .withf(move |id, node, tries, _, audit| {
                *id == Uuid::from_u128(3)
                    && node == NODE
                    && *tries == attempts
                    && audit.action == AuditAction::MailGaveUp
                    && audit.target.as_deref() == Some("mail:00000000-0000-0000-0000-000000000003")
                    && audit
                        .detail
                        .as_deref()
                        .is_some_and(|d| d.starts_with("password_reset to ada@example.com"))
            })
            .times(1)
            .returning(|_, _, _, _, _| Ok(true));
        let report = ports.build().deliver_mail_round(NODE).await.unwrap();
        assert_eq!(report.gave_up, 1, "{error:?}");
    }
}

#[test]
fn the_retry_policy_never_schedules_past_the_give_up_deadline() {
    let policy = super::MailRetryPolicy::default();
    let queued = now();
    let almost = queued + Duration::days(3) - Duration::seconds(10);
    assert_eq!(
        policy.next_attempt(queued, 20, almost),
        Some(queued + Duration::days(3))
    );
    assert_eq!(policy.delay_after(0), Duration::seconds(5));
}

#[tokio::test]
async fn no_delivery_starts_so_late_in_the_lease_that_it_could_outlive_it() {
    let mut ports = Ports::new();
    // The claim at `now`; then the first delivery takes until just before the last start,
    // and the clock reads past it before the second.
    let readings = std::sync::Mutex::new(vec![
        now(),
        now(),
        now() + Duration::minutes(3) - Duration::seconds(1),
        now() + Duration::minutes(3) + Duration::seconds(1),
    ]);
    ports.clock.expect_now().returning(move || {
        let mut readings = readings.lock().unwrap();
        if readings.len() > 1 {
            readings.remove(0)
        } else {
            readings[0]
        }
    });
    ports
        .outbox
        .expect_claim()
        .times(1)
        .returning(|_, _, _, _| {
            Ok(vec![
                claimed(1, 0, Duration::seconds(1)),
                claimed(2, 0, Duration::seconds(1)),
            ])
        });
    ports.mailer.expect_deliver().times(1).returning(|_| Ok(()));
    ports
        .outbox
        .expect_mark_sent()
        .with(
            eq(Uuid::from_u128(1)),
            eq(NODE),
            mockall::predicate::always(),
        )
        .times(1)
        .returning(|_, _, _| Ok(true));
    let report = ports.build().deliver_mail_round(NODE).await.unwrap();
    assert_eq!(
        report.sent, 1,
        "the second message waits for the next claim"
    );
}

#[tokio::test]
async fn finished_mail_is_forgotten_after_a_week() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports
        .outbox
        .expect_forget_finished()
        .with(eq(now() - Duration::days(7)), eq(1000))
        .times(1)
        .returning(|_, _| Ok(3));
    assert_eq!(ports.build().forget_finished_mail().await.unwrap(), 3);
}

//! The mail outbox and emailed tokens on both backends: claims are leases held by one node,
//! outcomes are recorded only by the claim's holder, a reset is one transaction.

// The shared helpers serve store.rs too; this file uses only some of them.
#[allow(dead_code)]
#[macro_use]
mod common;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use common::TestDb;
use roster_app::model::{
    AuditAction, AuditEvent, AuditQuery, Conflict, EmailRequest, EmailTokenPurpose, MailDelivery,
    MailKind, NewEmailToken, PasswordHash, SealedMail, StoreError, TokenDigest,
};
use roster_app::ports::{AccountRepository, AuditLog, EmailTokenStore, Outbox};
use roster_domain::{Account, AccountId, AccountStatus, Email};
use roster_store::Store;
use uuid::Uuid;

on_both_backends!(
    a_claim_is_a_lease_and_only_its_holder_records_the_outcome,
    failed_messages_wait_for_their_next_attempt_and_give_up_with_an_event,
    a_reset_token_is_stored_with_its_message_and_used_once,
    reset_links_end_with_a_password_change_or_a_disable_and_a_reset_verifies_the_email,
    the_hourly_cap_writes_nothing_beyond_it,
    finished_messages_and_dead_tokens_are_forgotten_and_nothing_else,
    requests_for_unknown_addresses_count_against_the_cap_too,
    a_self_registration_writes_the_account_its_token_and_its_mail_together,
    a_verification_token_verifies_once_and_ends_the_other_links,
);

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn account(email: &str) -> Account {
    let at = now();
    Account {
        id: AccountId::new(Uuid::now_v7()),
        email: Email::parse(email).unwrap(),
        name: None,
        status: AccountStatus::Active,
        is_superadmin: false,
        email_verified: true,
        has_second_factor: false,
        created_at: at,
        updated_at: at,
    }
}

fn sealed(at: DateTime<Utc>) -> SealedMail {
    SealedMail {
        id: Uuid::now_v7(),
        kind: MailKind::PasswordReset,
        recipient: "ada@example.com".into(),
        sealed: "v1.opaque".into(),
        created_at: at,
    }
}

fn digest(n: u8) -> TokenDigest {
    TokenDigest::new(format!("{n:064x}"))
}

async fn stored_account(store: &Store) -> Account {
    let ada = account("ada@example.com");
    store
        .insert(
            &ada,
            &PasswordHash::new("$argon2id$old"),
            &[],
            &AuditEvent::new(AuditAction::AccountRegistered, now()),
        )
        .await
        .unwrap();
    ada
}

/// A reset request for `ada@example.com`; `to` is the account to send to, if any.
fn reset_request(to: Option<&Account>, n: u8, mail: &SealedMail, cap: u32) -> EmailRequest {
    let at = mail.created_at;
    EmailRequest {
        email_key: TokenDigest::new("key-of-ada@example.com"),
        purpose: EmailTokenPurpose::PasswordReset,
        at,
        max_per_hour: cap,
        delivery: to.map(|account| MailDelivery {
            mail: mail.clone(),
            token: Some(NewEmailToken {
                account: account.id,
                digest: digest(n),
                purpose: EmailTokenPurpose::PasswordReset,
                expires_at: at + TimeDelta::minutes(30),
            }),
        }),
    }
}

async fn queue_one(store: &Store, ada: &Account, n: u8, at: DateTime<Utc>) -> SealedMail {
    let mail = sealed(at);
    assert!(
        store
            .request_email(&reset_request(Some(ada), n, &mail, 100))
            .await
            .unwrap()
    );
    mail
}

async fn a_claim_is_a_lease_and_only_its_holder_records_the_outcome(db: TestDb) {
    let store = db.store();
    let ada = stored_account(&store).await;
    let t0 = now();
    let mail = queue_one(&store, &ada, 1, t0).await;
    let lease = TimeDelta::minutes(5);

    let a = store.claim("a", t0, t0 + lease, 10).await.unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].mail, mail);
    assert_eq!(a[0].attempts, 0);
    // While the lease runs nobody else gets it.
    assert!(
        store
            .claim("b", t0, t0 + lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.stats().await.unwrap().queued, 1);
    // After it ran out (node a crashed), node b does; a's late outcome is refused.
    let later = t0 + lease + TimeDelta::seconds(1);
    let b = store.claim("b", later, later + lease, 10).await.unwrap();
    assert_eq!(b.len(), 1);
    assert!(!store.mark_sent(mail.id, "a", later).await.unwrap());
    assert!(store.mark_sent(mail.id, "b", later).await.unwrap());
    assert_eq!(store.stats().await.unwrap().queued, 0);
    // Sent is final.
    let much_later = later + TimeDelta::hours(1);
    assert!(
        store
            .claim("c", much_later, much_later + lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn failed_messages_wait_for_their_next_attempt_and_give_up_with_an_event(db: TestDb) {
    let store = db.store();
    let ada = stored_account(&store).await;
    let t0 = now();
    let mail = queue_one(&store, &ada, 2, t0).await;
    let lease = TimeDelta::minutes(5);
    store.claim("a", t0, t0 + lease, 10).await.unwrap();
    let retry_at = t0 + TimeDelta::seconds(5);
    assert!(
        store
            .reschedule(mail.id, "a", 1, retry_at, "connection refused")
            .await
            .unwrap()
    );
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.queued, stats.retrying), (1, 1));
    // Not before its time, even though the claim was released.
    let early = t0 + TimeDelta::seconds(1);
    assert!(
        store
            .claim("a", early, early + lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store
        .claim("b", retry_at, retry_at + lease, 10)
        .await
        .unwrap();
    assert_eq!(again[0].attempts, 1);

    let event = AuditEvent::new(AuditAction::MailGaveUp, retry_at).target("mail", mail.id);
    assert!(
        store
            .give_up(mail.id, "b", 2, "550 no such user", &event)
            .await
            .unwrap()
    );
    assert_eq!(store.stats().await.unwrap().queued, 0);
    let trail = store
        .list_audit_events(&AuditQuery {
            action: Some(AuditAction::MailGaveUp),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(trail.events.len(), 1);
}

async fn a_reset_token_is_stored_with_its_message_and_used_once(db: TestDb) {
    let store = db.store();
    let ada = stored_account(&store).await;
    let t0 = now();
    queue_one(&store, &ada, 3, t0).await;
    queue_one(&store, &ada, 4, t0).await;
    assert_eq!(store.stats().await.unwrap().queued, 2);

    let found = store.find_password_reset(&digest(3), t0).await.unwrap();
    assert_eq!(found.map(|a| a.id), Some(ada.id));
    // Expired at 30 minutes.
    let expired = t0 + TimeDelta::minutes(30);
    assert!(
        store
            .find_password_reset(&digest(3), expired)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_password_reset(&digest(9), t0)
            .await
            .unwrap()
            .is_none()
    );

    let event = AuditEvent::new(AuditAction::PasswordResetByEmail, t0);
    let new_hash = PasswordHash::new("$argon2id$new");
    assert!(
        store
            .reset_password(&digest(3), ada.id, &new_hash, t0, &event)
            .await
            .unwrap()
    );
    assert_eq!(store.password_hash(ada.id).await.unwrap(), Some(new_hash));
    // Used, and the account's other link with it.
    for n in [3, 4] {
        assert!(
            store
                .find_password_reset(&digest(n), t0)
                .await
                .unwrap()
                .is_none()
        );
        let again = AuditEvent::new(AuditAction::PasswordResetByEmail, t0);
        assert!(
            !store
                .reset_password(&digest(n), ada.id, &PasswordHash::new("$x"), t0, &again)
                .await
                .unwrap()
        );
    }
}

async fn reset_links_end_with_a_password_change_or_a_disable_and_a_reset_verifies_the_email(
    db: TestDb,
) {
    let store = db.store();
    let mut ada = account("ada@example.com");
    ada.email_verified = false;
    store
        .insert(
            &ada,
            &PasswordHash::new("$argon2id$old"),
            &[],
            &AuditEvent::new(AuditAction::AccountRegistered, now()),
        )
        .await
        .unwrap();
    let t0 = now();
    let usable = |n: u8| {
        let store = store.clone();
        async move {
            store
                .find_password_reset(&digest(n), t0)
                .await
                .unwrap()
                .is_some()
        }
    };

    // A password change ends the links mailed before it.
    queue_one(&store, &ada, 1, t0).await;
    assert!(usable(1).await);
    let changed = AuditEvent::new(AuditAction::PasswordChanged, t0);
    assert!(
        store
            .set_password(
                ada.id,
                &PasswordHash::new("$argon2id$new"),
                None,
                t0,
                &changed
            )
            .await
            .unwrap()
    );
    assert!(!usable(1).await);

    // So does a disable, and enabling again does not bring them back.
    queue_one(&store, &ada, 2, t0).await;
    for status in [AccountStatus::Disabled, AccountStatus::Active] {
        let event = AuditEvent::new(AuditAction::AccountDisabled, t0);
        store.set_status(ada.id, status, t0, &event).await.unwrap();
    }
    assert!(!usable(2).await);

    // Following a reset link verifies the address it was sent to.
    queue_one(&store, &ada, 3, t0).await;
    let event = AuditEvent::new(AuditAction::PasswordResetByEmail, t0);
    assert!(
        store
            .reset_password(&digest(3), ada.id, &PasswordHash::new("$x"), t0, &event)
            .await
            .unwrap()
    );
    let stored = store.find_by_id(ada.id).await.unwrap().unwrap();
    assert!(stored.email_verified);
}

async fn the_hourly_cap_writes_nothing_beyond_it(db: TestDb) {
    let store = db.store();
    let ada = stored_account(&store).await;
    let t0 = now();
    for n in 0..2 {
        let written = store
            .request_email(&reset_request(Some(&ada), n, &sealed(t0), 2))
            .await
            .unwrap();
        assert!(written);
    }
    let third = sealed(t0);
    assert!(
        !store
            .request_email(&reset_request(Some(&ada), 7, &third, 2))
            .await
            .unwrap()
    );
    assert_eq!(store.stats().await.unwrap().queued, 2);
    // An hour on, the cap has room again.
    let later = t0 + TimeDelta::hours(1);
    assert!(
        store
            .request_email(&reset_request(Some(&ada), 8, &sealed(later), 2))
            .await
            .unwrap()
    );
}

async fn finished_messages_and_dead_tokens_are_forgotten_and_nothing_else(db: TestDb) {
    let store = db.store();
    let ada = stored_account(&store).await;
    let t0 = now();
    let sent = queue_one(&store, &ada, 1, t0).await;
    let queued = queue_one(&store, &ada, 2, t0).await;
    let claimed = store
        .claim("node-a", t0, t0 + TimeDelta::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(store.mark_sent(sent.id, "node-a", t0).await.unwrap());
    store
        .reschedule(queued.id, "node-a", 1, t0, "connection refused")
        .await
        .unwrap();

    // Nothing has been finished for long enough yet.
    assert_eq!(store.forget_finished(t0, 100).await.unwrap(), 0);

    // Later: the sent message and both tokens (expired at 30 minutes) go; the message still
    // waiting for delivery stays.
    let later = t0 + TimeDelta::hours(1);
    assert_eq!(store.forget_finished(later, 100).await.unwrap(), 3);
    assert_eq!(store.stats().await.unwrap().queued, 1);
    let again = store
        .claim("node-b", later, later + TimeDelta::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|c| c.mail.id).collect::<Vec<_>>(),
        vec![queued.id]
    );
}
async fn requests_for_unknown_addresses_count_against_the_cap_too(db: TestDb) {
    let store = db.store();
    let t0 = now();
    // Two requests while the address has no account: counted, nothing queued.
    for n in 0..2 {
        assert!(
            !store
                .request_email(&reset_request(None, n, &sealed(t0), 2))
                .await
                .unwrap()
        );
    }
    assert_eq!(store.stats().await.unwrap().queued, 0);
    // The account exists now, but the address has used its hour.
    let ada = stored_account(&store).await;
    assert!(
        !store
            .request_email(&reset_request(Some(&ada), 3, &sealed(t0), 2))
            .await
            .unwrap()
    );
    assert!(
        store
            .find_password_reset(&digest(3), t0)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.stats().await.unwrap().queued, 0);
    // A different purpose has its own counter.
    let mut other = reset_request(Some(&ada), 4, &sealed(t0), 2);
    other.purpose = EmailTokenPurpose::EmailVerification;
    assert!(store.request_email(&other).await.unwrap());
    // Counters are forgotten once their hour is over, and then count from zero.
    assert_eq!(store.forget_stale_counters(t0, 10).await.unwrap(), 0);
    let later = t0 + TimeDelta::minutes(61);
    assert_eq!(
        store
            .forget_stale_counters(later - TimeDelta::hours(1), 10)
            .await
            .unwrap(),
        2
    );
    assert!(
        store
            .request_email(&reset_request(Some(&ada), 5, &sealed(t0), 2))
            .await
            .unwrap()
    );
}

fn verification_request(account: &Account, n: u8, at: DateTime<Utc>) -> EmailRequest {
    EmailRequest {
        email_key: TokenDigest::new(format!("key-of-{}", account.email)),
        purpose: EmailTokenPurpose::EmailVerification,
        at,
        max_per_hour: 0,
        delivery: Some(MailDelivery {
            mail: SealedMail {
                kind: MailKind::EmailVerification,
                ..sealed(at)
            },
            token: Some(NewEmailToken {
                account: account.id,
                digest: digest(n),
                purpose: EmailTokenPurpose::EmailVerification,
                expires_at: at + TimeDelta::hours(24),
            }),
        }),
    }
}

fn unverified(email: &str) -> Account {
    Account {
        email_verified: false,
        ..account(email)
    }
}

async fn a_self_registration_writes_the_account_its_token_and_its_mail_together(db: TestDb) {
    let store = db.store();
    let t0 = now();
    let bea = unverified("bea@example.com");
    let hash = PasswordHash::new("$argon2id$bea");
    let event = AuditEvent::new(AuditAction::AccountRegistered, t0);
    // A cap of 0 does not stop the first link of a new account.
    store
        .register_unverified(&bea, &hash, &event, &verification_request(&bea, 1, t0))
        .await
        .unwrap();
    let found = store.find_email_verification(&digest(1), t0).await.unwrap();
    assert_eq!(
        found.map(|a| (a.id, a.email_verified)),
        Some((bea.id, false))
    );
    assert_eq!(store.stats().await.unwrap().queued, 1);

    // The same email again: refused as a duplicate, and nothing of it written.
    let twin = unverified("BEA@example.com");
    let result = store
        .register_unverified(&twin, &hash, &event, &verification_request(&twin, 2, t0))
        .await;
    assert_eq!(result, Err(StoreError::Duplicate(Conflict::Email)));
    assert!(
        store
            .find_email_verification(&digest(2), t0)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.stats().await.unwrap().queued, 1);
}

async fn a_verification_token_verifies_once_and_ends_the_other_links(db: TestDb) {
    let store = db.store();
    let t0 = now();
    let bea = unverified("bea@example.com");
    let event = AuditEvent::new(AuditAction::AccountRegistered, t0);
    store
        .register_unverified(
            &bea,
            &PasswordHash::new("$argon2id$bea"),
            &event,
            &verification_request(&bea, 1, t0),
        )
        .await
        .unwrap();
    let mut resend = verification_request(&bea, 2, t0);
    resend.max_per_hour = 5;
    assert!(store.request_email(&resend).await.unwrap());
    // Expired at its expiry.
    let expiry = t0 + TimeDelta::hours(24);
    assert!(
        store
            .find_email_verification(&digest(1), expiry)
            .await
            .unwrap()
            .is_none()
    );

    let verified = AuditEvent::new(AuditAction::EmailVerified, t0).target("account", bea.id);
    assert!(
        store
            .verify_email(&digest(1), bea.id, t0, &verified)
            .await
            .unwrap()
    );
    let account = store.find_by_id(bea.id).await.unwrap().unwrap();
    assert!(account.email_verified);
    for n in [1, 2] {
        assert!(
            store
                .find_email_verification(&digest(n), t0)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            !store
                .verify_email(&digest(n), bea.id, t0, &verified)
                .await
                .unwrap()
        );
    }
    let events = store
        .list_audit_events(&AuditQuery {
            action: Some(AuditAction::EmailVerified),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(events.events.len(), 1);
}

//! Audit retention on both backends: events recorded before a cutoff are deleted oldest
//! first, at most a batch at a time; newer ones stay.

// The shared helpers serve store.rs too; this file uses only some of them.
#[allow(dead_code)]
#[macro_use]
mod common;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use common::TestDb;
use roster_app::model::{AuditAction, AuditEvent, AuditQuery};
use roster_app::ports::AuditLog;
use roster_store::Store;

on_both_backends!(old_events_go_oldest_first_in_batches_and_newer_ones_stay);

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

async fn details(store: &Store) -> Vec<String> {
    let page = store
        .list_audit_events(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let mut details: Vec<String> = page
        .events
        .into_iter()
        .filter_map(|event| event.detail)
        .collect();
    details.sort();
    details
}

async fn old_events_go_oldest_first_in_batches_and_newer_ones_stay(db: TestDb) {
    let store = db.store();
    let t0 = now();
    for (days, label) in [
        (500, "a 500"),
        (450, "b 450"),
        (401, "c 401"),
        (399, "d 399"),
        (1, "e 1"),
    ] {
        let event =
            AuditEvent::new(AuditAction::LoginFailed, t0 - TimeDelta::days(days)).detail(label);
        store.record(&event).await.unwrap();
    }
    let cutoff = t0 - TimeDelta::days(400);

    assert_eq!(
        store.delete_audit_events_before(cutoff, 2).await.unwrap(),
        2
    );
    assert_eq!(
        details(&store).await,
        ["c 401", "d 399", "e 1"],
        "the two oldest first"
    );
    assert_eq!(
        store.delete_audit_events_before(cutoff, 2).await.unwrap(),
        1
    );
    assert_eq!(
        store.delete_audit_events_before(cutoff, 2).await.unwrap(),
        0
    );
    assert_eq!(details(&store).await, ["d 399", "e 1"]);
}

//! Reading the audit trail with mock ports (recording a reload is `feature_reloads`' job).
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use mockall::predicate::eq;

use crate::error::AppError;
use crate::model::{AuditAction, AuditEvent};
use crate::model::{AuditPage, AuditQuery};
use crate::usecases::test_support::*;

#[tokio::test]
async fn the_audit_trail_is_read_only_with_audit_read() {
    let query = AuditQuery {
        action: Some(AuditAction::GrantCreated),
        limit: 20,
        ..AuditQuery::default()
    };
    let event = AuditEvent::new(AuditAction::GrantCreated, now());
    let page = AuditPage {
        events: vec![event.clone()],
        next_before: Some(event.id),
    };
    let mut ports = Ports::new();
    ports
        .audit
        .expect_list_audit_events()
        .with(eq(query.clone()))
        .times(1)
        .returning(move |_| Ok(page.clone()));
    let roster = ports.build();

    let refused = roster.audit_events(&actor(false, vec![]), &query).await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
    let auditor = actor(false, vec![grant(1, "*", vec![allow("audit-read")])]);
    let listed = roster.audit_events(&auditor, &query).await.unwrap();
    assert_eq!(listed.events, std::slice::from_ref(&event));
    assert_eq!(listed.next_before, Some(event.id));
}

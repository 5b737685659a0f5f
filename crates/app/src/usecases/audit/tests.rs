//! Reading the audit trail with mock ports (recording a reload is `feature_reloads`' job).
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use mockall::predicate::eq;
use roster_domain::{AccountStatus, PrincipalId};
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{AccountPage, AuditAction, AuditEvent};
use crate::model::{AuditPage, AuditQuery};
use crate::usecases::test_support::*;
use crate::usecases::{AuditTrailForm, Authenticated};

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

/// A caller allowed `audit-read` on `*` and each of `more`.
fn auditor_with(more: &[&str]) -> Authenticated {
    let mut rules = vec![allow("audit-read")];
    rules.extend(more.iter().map(|action| allow(action)));
    actor(false, vec![grant(1, "*", rules)])
}

fn trail_form(actor: &str, action: &str) -> AuditTrailForm {
    AuditTrailForm {
        actor: actor.to_owned(),
        action: action.to_owned(),
        before: None,
        limit: 50,
    }
}

/// The target account (see [`target_id`]) grants role viewer to [`api_key_id`].
fn grant_to_key() -> AuditEvent {
    AuditEvent::new(AuditAction::GrantCreated, now())
        .actor(PrincipalId::Account(target_id()))
        .target("grant", Uuid::from_u128(7))
        .detail(format!(
            "viewer@acme.berlin to {}",
            PrincipalId::ApiKey(api_key_id())
        ))
}

/// The audit log answers one page with `events`, for any query, exactly once.
fn ports_listing(events: Vec<AuditEvent>) -> Ports {
    let mut ports = Ports::new();
    ports
        .audit
        .expect_list_audit_events()
        .times(1)
        .returning(move |_| {
            Ok(AuditPage {
                events: events.clone(),
                next_before: None,
            })
        });
    ports
}

#[tokio::test]
async fn names_are_given_only_to_those_who_may_read_them() {
    let events = vec![grant_to_key(), grant_to_key()];
    let target = account("target@example.com", AccountStatus::Active, false);

    // audit-read alone: the labels stay labels, and nothing is looked up.
    let mut ports = ports_listing(events.clone());
    ports.accounts.expect_find_by_id().never();
    ports.api_keys.expect_find_api_key().never();
    let trail = ports
        .build()
        .audit_trail(&auditor_with(&[]), &trail_form("", ""))
        .await
        .unwrap();
    assert_eq!(trail.events, events);
    assert!(trail.names.accounts.is_empty() && trail.names.api_keys.is_empty());

    // With account-read: emails, each account looked up once however often it appears.
    let mut ports = ports_listing(events.clone());
    let found = target.clone();
    ports
        .accounts
        .expect_find_by_id()
        .with(eq(target_id()))
        .times(1)
        .returning(move |_| Ok(Some(found.clone())));
    ports.api_keys.expect_find_api_key().never();
    let trail = ports
        .build()
        .audit_trail(&auditor_with(&["account-read"]), &trail_form("", ""))
        .await
        .unwrap();
    assert_eq!(trail.names.accounts.get(&target_id()), Some(&target.email));
    assert!(trail.names.api_keys.is_empty());

    // With apikey-manage: key names (the grant's holder is named too).
    let mut ports = ports_listing(events);
    ports.accounts.expect_find_by_id().never();
    ports
        .api_keys
        .expect_find_api_key()
        .with(eq(api_key_id()))
        .times(1)
        .returning(|_| Ok(Some(stored_key(None, None, None))));
    let trail = ports
        .build()
        .audit_trail(&auditor_with(&["apikey-manage"]), &trail_form("", ""))
        .await
        .unwrap();
    assert_eq!(
        trail.names.api_keys.get(&api_key_id()).map(String::as_str),
        Some("ci deploy")
    );
    assert!(trail.names.accounts.is_empty());
}

#[tokio::test]
async fn an_actor_given_by_email_is_filtered_by_its_account_label() {
    let target = account("Target@Example.com", AccountStatus::Active, false);
    let label = PrincipalId::Account(target.id).to_string();
    let before = Uuid::from_u128(99);
    let mut ports = Ports::new();
    ports.account_listed_by_email("target@example.com", target);
    ports
        .audit
        .expect_list_audit_events()
        .with(eq(AuditQuery {
            actor: Some(label.clone()),
            action: Some(AuditAction::LoginSucceeded),
            before: Some(before),
            limit: 20,
        }))
        .times(1)
        .returning(|_| Ok(AuditPage::default()));
    let roster = ports.build();

    let form = AuditTrailForm {
        before: Some(before),
        limit: 20,
        ..trail_form(" Target@Example.com ", "login.succeeded")
    };
    let trail = roster
        .audit_trail(&auditor_with(&["account-read"]), &form)
        .await
        .unwrap();

    assert_eq!(trail.actor, Some(label));
    assert!(trail.events.is_empty());
}

#[tokio::test]
async fn a_label_is_taken_as_it_is_and_nothing_else_is_an_actor() {
    let key = PrincipalId::ApiKey(api_key_id()).to_string();
    let mut ports = Ports::new();
    ports.accounts.expect_list().never();
    let wanted = key.clone();
    ports
        .audit
        .expect_list_audit_events()
        .withf(move |query| query.actor.as_deref() == Some(wanted.as_str()))
        .times(1)
        .returning(|_| Ok(AuditPage::default()));
    let roster = ports.build();

    let trail = roster
        .audit_trail(&auditor_with(&[]), &trail_form(&key, ""))
        .await
        .unwrap();
    assert_eq!(trail.actor, Some(key));
}

#[tokio::test]
async fn bad_filters_are_field_errors_before_anything_is_read() {
    // (actor, action, the auditor's further rights, the problems)
    type Case<'a> = (&'a str, &'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        (
            "bob",
            "login.nope",
            &["account-read"],
            &[("actor", "invalid_actor"), ("action", "unknown_action")],
        ),
        ("account:42", "", &[], &[("actor", "invalid_actor")]),
        ("bob@", "", &["account-read"], &[("actor", "invalid_email")]),
        // Looking an email up is reading accounts.
        ("bob@example.com", "", &[], &[("actor", "forbidden")]),
    ];
    for (actor_text, action, more, expected) in cases {
        let mut ports = Ports::new();
        ports.accounts.expect_list().never();
        ports.audit.expect_list_audit_events().never();
        let roster = ports.build();
        let result = roster
            .audit_trail(&auditor_with(more), &trail_form(actor_text, action))
            .await;
        let errors = field_errors(result);
        assert_eq!(
            fields_and_codes(&errors),
            *expected,
            "{actor_text} {action}"
        );
    }
}

#[tokio::test]
async fn an_email_nobody_has_is_a_field_error() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_list()
        .times(1)
        .returning(|_, _, _| Ok(AccountPage::default()));
    ports.audit.expect_list_audit_events().never();
    let roster = ports.build();

    let result = roster
        .audit_trail(
            &auditor_with(&["account-read"]),
            &trail_form("ghost@example.com", ""),
        )
        .await;

    assert_eq!(
        fields_and_codes(&field_errors(result)),
        [("actor", "unknown_account")]
    );
}

#[tokio::test]
async fn the_trail_is_refused_without_audit_read() {
    let mut ports = Ports::new();
    ports.accounts.expect_list().never();
    ports.audit.expect_list_audit_events().never();
    let roster = ports.build();
    let reader = actor(false, vec![grant(1, "*", vec![allow("account-read")])]);

    let refused = roster
        .audit_trail(&reader, &trail_form("someone@example.com", ""))
        .await;

    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
    // `audit-read` below `*` does not count: the trail is global.
    let local = actor(false, vec![grant(1, "acme", vec![allow("audit-read")])]);
    let refused = roster.audit_trail(&local, &trail_form("", "")).await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
}

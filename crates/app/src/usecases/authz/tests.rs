//! Checking another principal with mock ports: its grants come from the same one-call lookup
//! as a session's (`find_with_grants`, cached by the store), never from a second query.

use std::sync::Arc;

use chrono::Duration;
use mockall::predicate::eq;
use roster_domain::{AccountStatus, PrincipalId};
use roster_domain::{Decision, Reason};

use crate::error::AppError;
use crate::model::AccountWithGrants;
use crate::usecases::test_support::*;
use crate::usecases::{Authenticated, CheckForm, CheckOutcome};

fn check_of(target: PrincipalId, action: &str) -> CheckForm {
    let (account_id, api_key_id) = match target {
        PrincipalId::Account(id) => (Some(id.to_string()), None),
        PrincipalId::ApiKey(id) => (None, Some(id.to_string())),
    };
    CheckForm {
        action: action.to_owned(),
        scope: "acme.berlin".to_owned(),
        account_id,
        api_key_id,
    }
}

/// An auditor: `account-read` on `*`, nothing else.
fn auditor() -> crate::usecases::Authenticated {
    actor(false, vec![grant(1, "*", vec![allow("account-read")])])
}

/// The target account (see [`target_id`]) in `status`, holding `issuer-*` on `acme`, found
/// exactly once.
fn ports_with_target(status: AccountStatus) -> Ports {
    let mut ports = Ports::new();
    let found = AccountWithGrants {
        account: account("target@example.com", status, false),
        grants: vec![grant(9, "acme", vec![allow("issuer-*")])].into(),
    };
    ports
        .accounts
        .expect_find_with_grants()
        .with(eq(target_id()))
        .times(1)
        .returning(move |_| Ok(Some(found.clone())));
    ports.accounts.expect_find_by_id().never();
    ports
}

#[tokio::test]
async fn another_account_is_checked_against_the_grants_found_with_it() {
    let roster = ports_with_target(AccountStatus::Active).build();
    let target = PrincipalId::Account(target_id());

    let allowed = roster
        .check(&auditor(), &check_of(target, "issuer-create"))
        .await
        .unwrap();

    assert!(allowed.is_allowed(), "{allowed:?}");
    drop(roster);
    let roster = ports_with_target(AccountStatus::Active).build();
    let denied = roster
        .check(&auditor(), &check_of(target, "role-manage"))
        .await
        .unwrap();
    assert!(!denied.is_allowed(), "{denied:?}");
}

#[tokio::test]
async fn a_disabled_account_is_inactive_whatever_its_grants() {
    let roster = ports_with_target(AccountStatus::Disabled).build();

    let outcome = roster
        .check(
            &auditor(),
            &check_of(PrincipalId::Account(target_id()), "issuer-create"),
        )
        .await
        .unwrap();

    assert_eq!(outcome, CheckOutcome::Inactive);
}

#[tokio::test]
async fn an_unknown_account_is_not_found() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_find_with_grants()
        .times(1)
        .returning(|_| Ok(None));
    let roster = ports.build();

    let result = roster
        .check(
            &auditor(),
            &check_of(PrincipalId::Account(target_id()), "issuer-create"),
        )
        .await;

    assert!(
        matches!(result, Err(AppError::NotFound("account"))),
        "{result:?}"
    );
}

fn check_form(action: &str, scope: &str) -> CheckForm {
    CheckForm {
        action: action.into(),
        scope: scope.into(),
        account_id: None,
        api_key_id: None,
    }
}

/// May sign on acme, and read accounts everywhere.
fn reader() -> Authenticated {
    actor(
        false,
        vec![
            grant(1, "acme", vec![allow("issuer-sign")]),
            grant(2, "*", vec![allow("account-read")]),
        ],
    )
}

/// May sign on acme; may not read other principals.
fn signer() -> Authenticated {
    actor(false, vec![grant(1, "acme", vec![allow("issuer-sign")])])
}

#[test]
fn only_an_allowing_decision_is_allowed() {
    assert!(CheckOutcome::Decided(Decision::Allowed(Reason::SuperAdmin)).is_allowed());
    assert!(!CheckOutcome::Decided(Decision::Denied(Reason::NoMatchingGrant)).is_allowed());
    assert!(!CheckOutcome::Inactive.is_allowed());
}

#[tokio::test]
async fn a_caller_checks_itself_without_any_lookup() {
    let mut ports = Ports::new();
    ports.accounts.expect_find_with_grants().never();
    ports.api_keys.expect_find_api_key().never();
    let roster = ports.build();
    let caller = signer();

    let implicit = roster
        .check(&caller, &check_form("issuer-sign", "acme.berlin"))
        .await
        .unwrap();
    assert!(implicit.is_allowed(), "{implicit:?}");
    let denied = roster
        .check(&caller, &check_form("issuer-sign", "other"))
        .await
        .unwrap();
    assert!(!denied.is_allowed(), "{denied:?}");
    // Naming itself needs no account-read either.
    let explicit = CheckForm {
        account_id: Some(uuid::Uuid::from_u128(0xad).to_string()),
        ..check_form("issuer-sign", "acme")
    };
    let outcome = roster.check(&caller, &explicit).await.unwrap();
    assert!(outcome.is_allowed(), "{outcome:?}");
}

#[tokio::test]
async fn checking_another_principal_needs_account_read_on_root() {
    let mut ports = Ports::new();
    ports.accounts.expect_find_with_grants().never();
    ports.api_keys.expect_find_api_key().never();
    let roster = ports.build();

    for form in [
        CheckForm {
            account_id: Some(target_id().to_string()),
            ..check_form("issuer-sign", "acme")
        },
        CheckForm {
            api_key_id: Some(api_key_id().to_string()),
            ..check_form("issuer-sign", "acme")
        },
    ] {
        let result = roster.check(&signer(), &form).await;
        assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
    }
}

#[tokio::test]
async fn another_account_is_checked_over_its_own_grants() {
    let mut ports = Ports::new();
    // The target may delete issuers on acme; the caller may not.
    ports.target_account(false, vec![grant(9, "acme", vec![allow("issuer-delete")])]);
    let roster = ports.build();
    let form = |action: &str| CheckForm {
        account_id: Some(target_id().to_string()),
        ..check_form(action, "acme.berlin")
    };

    let allowed = roster
        .check(&reader(), &form("issuer-delete"))
        .await
        .unwrap();
    assert!(allowed.is_allowed(), "{allowed:?}");
    let denied = roster.check(&reader(), &form("issuer-sign")).await.unwrap();
    assert!(
        matches!(denied, CheckOutcome::Decided(Decision::Denied(_))),
        "{denied:?}"
    );
}

#[tokio::test]
async fn a_super_admin_target_is_allowed_everything() {
    let mut ports = Ports::new();
    ports.target_account(true, vec![]);
    let roster = ports.build();
    let form = CheckForm {
        account_id: Some(target_id().to_string()),
        ..check_form("issuer-delete", "anywhere")
    };

    let outcome = roster.check(&reader(), &form).await.unwrap();
    assert_eq!(
        outcome,
        CheckOutcome::Decided(Decision::Allowed(Reason::SuperAdmin))
    );
}

#[tokio::test]
async fn an_api_key_is_checked_over_its_grants_while_usable() {
    let mut usable = stored_key(Some(now() + Duration::days(1)), None, None);
    usable.grants = Arc::from([grant(9, "acme", vec![allow("issuer-sign")])]);
    let mut expired = usable.clone();
    expired.key.expires_at = Some(now());
    let mut revoked = usable.clone();
    revoked.key.revoked_at = Some(now() - Duration::minutes(1));
    for (stored, expected) in [
        (usable, "allowed"),
        (expired, "inactive"),
        (revoked, "inactive"),
    ] {
        let mut ports = Ports::new();
        ports.clock_at(now());
        ports
            .api_keys
            .expect_find_api_key()
            .with(eq(api_key_id()))
            .times(1)
            .returning(move |_| Ok(Some(stored.clone())));
        let roster = ports.build();
        let form = CheckForm {
            api_key_id: Some(api_key_id().to_string()),
            ..check_form("issuer-sign", "acme")
        };

        let outcome = roster.check(&reader(), &form).await.unwrap();
        let seen = match outcome {
            CheckOutcome::Inactive => "inactive",
            outcome @ CheckOutcome::Decided(_) if outcome.is_allowed() => "allowed",
            CheckOutcome::Decided(_) => "denied",
        };
        assert_eq!(seen, expected);
    }
}

#[tokio::test]
async fn an_unknown_subject_is_not_found() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_find_with_grants()
        .returning(|_| Ok(None));
    ports.api_keys.expect_find_api_key().returning(|_| Ok(None));
    let roster = ports.build();

    let account = roster
        .check(
            &reader(),
            &CheckForm {
                account_id: Some(target_id().to_string()),
                ..check_form("issuer-sign", "acme")
            },
        )
        .await;
    assert!(
        matches!(account, Err(AppError::NotFound("account"))),
        "{account:?}"
    );
    let key = roster
        .check(
            &reader(),
            &CheckForm {
                api_key_id: Some(api_key_id().to_string()),
                ..check_form("issuer-sign", "acme")
            },
        )
        .await;
    assert!(matches!(key, Err(AppError::NotFound("api key"))), "{key:?}");
}

#[tokio::test]
async fn the_check_form_reports_each_problem_by_field() {
    let roster = Ports::new().build();
    let cases: [(CheckForm, Vec<(&str, &str)>); 5] = [
        (
            check_form("issuer-sign", "acme.*"),
            vec![("scope", "wildcard_scope")],
        ),
        (
            CheckForm {
                account_id: Some("not-a-uuid".into()),
                ..check_form("issuer-sign", "acme")
            },
            vec![("account_id", "invalid_id")],
        ),
        (
            CheckForm {
                api_key_id: Some("not-a-uuid".into()),
                ..check_form("issuer-sign", "acme")
            },
            vec![("api_key_id", "invalid_id")],
        ),
        (
            CheckForm {
                account_id: Some(target_id().to_string()),
                api_key_id: Some(api_key_id().to_string()),
                ..check_form("issuer-sign", "acme")
            },
            vec![("api_key_id", "conflicting_subject")],
        ),
        (
            check_form("Not An Action", "acme..x"),
            vec![("action", "invalid_action"), ("scope", "empty_segment")],
        ),
    ];
    for (form, expected) in cases {
        let errors = field_errors(roster.check(&reader(), &form).await);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let expected_fields: Vec<&str> = expected.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, expected_fields, "{form:?}");
        assert_eq!(fields_and_codes(&errors)[..1], expected[..1], "{form:?}");
    }
}

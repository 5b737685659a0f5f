//! Checking another principal with mock ports: its grants come from the same one-call lookup
//! as a session's (`find_with_grants`, cached by the store), never from a second query.

use mockall::predicate::eq;
use roster_domain::{AccountStatus, PrincipalId};

use crate::error::AppError;
use crate::model::AccountWithGrants;
use crate::usecases::test_support::*;
use crate::usecases::{CheckForm, CheckOutcome};

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

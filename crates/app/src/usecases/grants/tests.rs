//! Grants with mock ports: the privilege principle refuses before any write.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use roster_domain::{ActionPattern, Grant, Permission, PrincipalId, RoleName};

use crate::error::AppError;
use crate::usecases::test_support::*;
use crate::usecases::{Authenticated, GrantForm};

/// A delegate holding `grant-manage` and everything else on `acme.berlin` only.
fn berlin_admin() -> Authenticated {
    actor(false, vec![grant(5, "acme.berlin", vec![allow("all")])])
}

#[tokio::test]
async fn a_delegate_cannot_give_its_superior_a_deny() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports.target_account(false, vec![grant(9, "acme", vec![allow("all")])]);
    let locked = role_record("locked", vec![Permission::deny(ActionPattern::All)]);
    ports
        .roles
        .expect_find_role()
        .returning(move |_| Ok(Some(locked.clone())));
    ports.grants.expect_insert_grant().never();
    let roster = ports.build();

    let form = GrantForm {
        role: "locked".into(),
        scope: "acme.berlin".into(),
    };
    let result = roster
        .create_grant(&berlin_admin(), PrincipalId::Account(target_id()), &form)
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

#[tokio::test]
async fn a_grant_is_taken_away_only_by_who_could_give_it() {
    let deny_grant = crate::model::GrantRecord {
        grant: Grant {
            role: RoleName::parse("locked").unwrap(),
            ..grant(7, "acme.berlin", vec![Permission::deny(ActionPattern::All)])
        },
        created_at: now(),
        created_by: None,
    };
    let grant_id = deny_grant.grant.id;
    // The holder is restricted by the deny, and holds all on acme besides: lifting the
    // deny would free rights on acme.berlin's subtree the delegate cannot vouch for.
    let held = vec![
        grant(9, "acme", vec![allow("all")]),
        deny_grant.grant.clone(),
    ];
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports.target_account(false, held);
    ports
        .grants
        .expect_find_grant()
        .returning(move |_, _| Ok(Some(deny_grant.clone())));
    ports.grants.expect_delete_grant().never();
    let roster = ports.build();

    let result = roster
        .delete_grant(&berlin_admin(), PrincipalId::Account(target_id()), grant_id)
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

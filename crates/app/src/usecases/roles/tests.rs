//! Roles with mock ports: changing a held role's rules needs the rights it changes.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use roster_domain::{AccountId, PrincipalId, ScopePath};
use uuid::Uuid;

use crate::error::AppError;
use crate::usecases::test_support::*;
use crate::usecases::{RoleForm, RuleForm};

#[tokio::test]
async fn role_manage_alone_cannot_change_the_rules_of_a_held_role() {
    let role_admin = actor(false, vec![grant(6, "*", vec![allow("role-manage")])]);
    let mut ports = Ports::new();
    let current = role_record("role-admin", vec![allow("role-manage")]);
    ports
        .roles
        .expect_find_role()
        .returning(move |_| Ok(Some(current.clone())));
    ports.roles.expect_holdings().times(1).returning(|_| {
        Ok(vec![crate::model::RoleHolding {
            holder: PrincipalId::Account(AccountId::new(Uuid::from_u128(0xad))),
            scope: ScopePath::root(),
        }])
    });
    ports.roles.expect_update_role().never();
    let roster = ports.build();

    let form = RoleForm {
        name: "role-admin".into(),
        description: None,
        permissions: vec![RuleForm {
            action: "all".into(),
            effect: None,
        }],
    };
    let result = roster.replace_role(&role_admin, "role-admin", &form).await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

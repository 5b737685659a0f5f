//! Roles with mock ports: changing a held role's rules needs the rights it changes.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use roster_domain::{AccountId, Permission, PrincipalId, RoleName, ScopePath};
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

fn role_admin() -> crate::usecases::Authenticated {
    actor(false, vec![grant(6, "*", vec![allow("role-manage")])])
}

fn rule(action: &str, effect: Option<&str>) -> RuleForm {
    RuleForm {
        action: action.into(),
        effect: effect.map(str::to_owned),
    }
}

fn role_form(description: Option<&str>, permissions: Vec<RuleForm>) -> RoleForm {
    RoleForm {
        name: "issuer-admin".into(),
        description: description.map(str::to_owned),
        permissions,
    }
}

/// The codes `create_role` reports for `form`, with a store that accepts whatever is valid.
async fn create_role_codes(form: &RoleForm) -> Vec<(String, &'static str)> {
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports.roles.expect_insert_role().returning(|_, _, _| Ok(()));
    let roster = ports.build();
    match roster.create_role(&role_admin(), form).await {
        Ok(_) => Vec::new(),
        Err(AppError::Validation(errors)) => {
            errors.into_iter().map(|e| (e.field, e.code)).collect()
        }
        Err(other) => panic!("expected a validation outcome, got {other:?}"),
    }
}

#[tokio::test]
async fn a_role_description_may_hold_line_breaks_and_tabs_but_no_other_control_character() {
    let accepted = role_form(Some("Issues cards.\r\nSee:\tthe runbook"), vec![]);
    assert_eq!(create_role_codes(&accepted).await, []);
    for bad in ["bell\u{7}", "nul\0", "escape\u{1b}[31m"] {
        let form = role_form(Some(bad), vec![]);
        assert_eq!(
            create_role_codes(&form).await,
            [("description".to_owned(), "invalid_description")],
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn a_role_description_may_not_hide_or_reorder_text() {
    for bad in ["abc\u{202e}cba", "zero\u{200b}width"] {
        let form = role_form(Some(bad), vec![]);
        assert_eq!(
            create_role_codes(&form).await,
            [("description".to_owned(), "invalid_description")],
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn a_role_description_is_limited_to_max_description_characters() {
    use crate::usecases::roles::MAX_DESCRIPTION;
    // Multi-byte characters: the limit counts characters, not bytes.
    let longest = "é".repeat(MAX_DESCRIPTION);
    assert_eq!(
        create_role_codes(&role_form(Some(&longest), vec![])).await,
        []
    );
    let too_long = "é".repeat(MAX_DESCRIPTION + 1);
    assert_eq!(
        create_role_codes(&role_form(Some(&too_long), vec![])).await,
        [("description".to_owned(), "description_too_long")]
    );
}

#[tokio::test]
async fn a_role_holds_at_most_max_rules_rules() {
    use crate::usecases::roles::MAX_RULES;
    let rules = |n: usize| {
        (0..n)
            .map(|i| rule(&format!("issuer-r{i}"), None))
            .collect()
    };
    assert_eq!(
        create_role_codes(&role_form(None, rules(MAX_RULES))).await,
        []
    );
    assert_eq!(
        create_role_codes(&role_form(None, rules(MAX_RULES + 1))).await,
        [("permissions".to_owned(), "too_many_rules")]
    );
}

#[tokio::test]
async fn a_role_form_reports_every_bad_rule_and_name_at_once() {
    let form = RoleForm {
        name: "Bad Name".into(),
        description: None,
        permissions: vec![
            rule("issuer-sign", Some("deny")),
            rule("Not An Action", Some("maybe")),
            rule("issuer-sign", Some("permit")),
        ],
    };
    let codes = create_role_codes(&form).await;
    let fields: Vec<&str> = codes.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "name",
            "permissions[1].action",
            "permissions[1].effect",
            "permissions[2].effect"
        ]
    );
}

#[tokio::test]
async fn create_role_needs_role_manage_and_stores_the_parsed_rules() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports
        .roles
        .expect_insert_role()
        .withf(|role, at, audit| {
            role.name.as_str() == "issuer-admin"
                && role.description == "Issues cards."
                && role.permissions
                    == [
                        allow("issuer-*"),
                        Permission::deny(pattern("issuer-delete")),
                    ]
                && *at == now()
                && audit.target.as_deref() == Some("role:issuer-admin")
                && audit.detail.as_deref() == Some("allow issuer-*, deny issuer-delete")
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    let roster = ports.build();
    let form = role_form(
        Some("Issues cards."),
        vec![rule("issuer-*", None), rule("issuer-delete", Some("deny"))],
    );

    let refused = roster.create_role(&actor(false, vec![]), &form).await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");

    let stored = roster.create_role(&role_admin(), &form).await.unwrap();
    assert_eq!(stored.role.name.as_str(), "issuer-admin");
    assert_eq!((stored.created_at, stored.updated_at), (now(), now()));
}

#[tokio::test]
async fn create_role_reports_a_taken_name() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports
        .roles
        .expect_insert_role()
        .times(1)
        .returning(|_, _, _| {
            Err(crate::model::StoreError::Duplicate(
                crate::model::Conflict::Role,
            ))
        });
    let roster = ports.build();

    let result = roster
        .create_role(&role_admin(), &role_form(None, vec![]))
        .await;
    assert!(matches!(result, Err(AppError::RoleExists)), "{result:?}");
}

#[tokio::test]
async fn listing_and_reading_roles_need_role_manage() {
    let page = crate::model::RolePage {
        roles: vec![role_record("issuer-admin", vec![allow("issuer-*")])],
        next_after: None,
    };
    let mut ports = Ports::new();
    ports
        .roles
        .expect_list_roles()
        .withf(|after, limit| after.as_ref().map(RoleName::as_str) == Some("a-role") && *limit == 5)
        .times(1)
        .returning(move |_, _| Ok(page.clone()));
    ports.roles.expect_find_role().times(2).returning(|name| {
        Ok((name.as_str() == "issuer-admin")
            .then(|| role_record("issuer-admin", vec![allow("issuer-*")])))
    });
    let roster = ports.build();
    let nobody = actor(false, vec![]);

    let refused = roster.list_roles(&nobody, None, 5).await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
    let refused = roster.role(&nobody, "issuer-admin").await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");

    let listed = roster
        .list_roles(&role_admin(), Some("a-role"), 5)
        .await
        .unwrap();
    assert_eq!(listed.roles.len(), 1);
    let bad_cursor = roster
        .list_roles(&role_admin(), Some("Not A Cursor"), 5)
        .await;
    assert_eq!(
        fields_and_codes(&field_errors(bad_cursor)),
        [("cursor", "invalid_cursor")]
    );

    let found = roster.role(&role_admin(), "issuer-admin").await.unwrap();
    assert_eq!(found.role.name.as_str(), "issuer-admin");
    let missing = roster.role(&role_admin(), "other-role").await;
    assert!(
        matches!(missing, Err(AppError::NotFound("role"))),
        "{missing:?}"
    );
    // A name that cannot exist is simply not found, without a lookup.
    let invalid = roster.role(&role_admin(), "Not A Role").await;
    assert!(
        matches!(invalid, Err(AppError::NotFound("role"))),
        "{invalid:?}"
    );
}

#[tokio::test]
async fn a_role_is_not_renamed_by_a_replacement() {
    let mut ports = Ports::new();
    ports.roles.expect_find_role().never();
    ports.roles.expect_update_role().never();
    let roster = ports.build();

    let result = roster
        .replace_role(&role_admin(), "other-role", &role_form(None, vec![]))
        .await;
    assert_eq!(
        fields_and_codes(&field_errors(result)),
        [("name", "name_mismatch")]
    );
}

/// `issuer-admin` with [allow issuer-*], held by the target account on acme.berlin.
fn held_issuer_role(ports: &mut Ports) {
    let current = role_record("issuer-admin", vec![allow("issuer-*")]);
    ports
        .roles
        .expect_find_role()
        .returning(move |_| Ok(Some(current.clone())));
}

fn berlin_holding() -> Vec<crate::model::RoleHolding> {
    vec![crate::model::RoleHolding {
        holder: PrincipalId::Account(target_id()),
        scope: ScopePath::parse("acme.berlin").unwrap(),
    }]
}

/// Records what `update_role` was asked to confirm, and answers the stored role.
fn update_succeeds(ports: &mut Ports) -> Calls<crate::model::CheckedRole> {
    let calls: Calls<crate::model::CheckedRole> = Calls::default();
    let sink = std::sync::Arc::clone(&calls);
    ports
        .roles
        .expect_update_role()
        .times(1)
        .returning(move |role, checked, at, _| {
            sink.lock().unwrap().push(checked);
            Ok(Some(crate::model::StoredRole {
                role: role.clone(),
                created_at: at,
                updated_at: at,
            }))
        });
    calls
}

#[tokio::test]
async fn a_super_admin_changes_a_held_role_without_weighing_its_holders() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    held_issuer_role(&mut ports);
    ports.roles.expect_holdings().never();
    let checked = update_succeeds(&mut ports);
    let roster = ports.build();

    let form = role_form(None, vec![rule("all", None)]);
    let stored = roster
        .replace_role(&actor(true, vec![]), "issuer-admin", &form)
        .await
        .unwrap();
    assert_eq!(stored.role.permissions, [allow("all")]);
    assert_eq!(
        recorded(&checked),
        [crate::model::CheckedRole {
            rules: vec![allow("issuer-*")],
            holdings: None
        }]
    );
}

#[tokio::test]
async fn editing_only_the_description_of_a_held_role_needs_role_manage_alone() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    held_issuer_role(&mut ports);
    ports.roles.expect_holdings().never();
    let checked = update_succeeds(&mut ports);
    let roster = ports.build();

    let form = role_form(Some("Issues cards."), vec![rule("issuer-*", None)]);
    let stored = roster
        .replace_role(&role_admin(), "issuer-admin", &form)
        .await
        .unwrap();
    assert_eq!(stored.role.description, "Issues cards.");
    assert_eq!(recorded(&checked)[0].holdings, None);
}

/// Manages roles everywhere, and grants everything on acme.
fn acme_role_admin() -> crate::usecases::Authenticated {
    actor(
        false,
        vec![
            grant(6, "*", vec![allow("role-manage")]),
            grant(7, "acme", vec![allow("all")]),
        ],
    )
}

#[tokio::test]
async fn changing_allow_rules_weighs_each_holding_without_loading_holders() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    held_issuer_role(&mut ports);
    ports
        .roles
        .expect_holdings()
        .times(1)
        .returning(|_| Ok(berlin_holding()));
    // Without deny rules the holders' own grants do not matter.
    ports.accounts.expect_find_by_id().never();
    ports.accounts.expect_find_with_grants().never();
    let checked = update_succeeds(&mut ports);
    let roster = ports.build();

    let form = role_form(None, vec![rule("issuer-sign", None)]);
    roster
        .replace_role(&acme_role_admin(), "issuer-admin", &form)
        .await
        .unwrap();
    assert_eq!(recorded(&checked)[0].holdings, Some(berlin_holding()));

    // Widening beyond what the caller holds where the role is held is refused.
    let mut ports = Ports::new();
    held_issuer_role(&mut ports);
    ports
        .roles
        .expect_holdings()
        .returning(|_| Ok(berlin_holding()));
    ports.roles.expect_update_role().never();
    let roster = ports.build();
    let berlin_only = actor(
        false,
        vec![
            grant(6, "*", vec![allow("role-manage")]),
            grant(
                7,
                "acme.berlin",
                vec![allow("issuer-*"), allow("grant-manage")],
            ),
        ],
    );
    let result = roster
        .replace_role(
            &berlin_only,
            "issuer-admin",
            &role_form(None, vec![rule("all", None)]),
        )
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

#[tokio::test]
async fn adding_a_deny_rule_weighs_the_holders_own_grants_once_each() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    held_issuer_role(&mut ports);
    let mut holdings = berlin_holding();
    holdings.push(crate::model::RoleHolding {
        holder: PrincipalId::Account(target_id()),
        scope: ScopePath::parse("acme.paris").unwrap(),
    });
    let expected = holdings.clone();
    ports
        .roles
        .expect_holdings()
        .times(1)
        .returning(move |_| Ok(holdings.clone()));
    let target = crate::usecases::test_support::account(
        "target@example.com",
        roster_domain::AccountStatus::Active,
        false,
    );
    let found = crate::model::AccountWithGrants {
        account: target,
        grants: vec![grant(9, "acme", vec![allow("issuer-*")])].into(),
    };
    ports
        .accounts
        .expect_find_with_grants()
        .times(1)
        .returning(move |_| Ok(Some(found.clone())));
    let checked = update_succeeds(&mut ports);
    let roster = ports.build();

    let form = role_form(
        None,
        vec![rule("issuer-*", None), rule("issuer-delete", Some("deny"))],
    );
    roster
        .replace_role(&acme_role_admin(), "issuer-admin", &form)
        .await
        .unwrap();
    assert_eq!(recorded(&checked)[0].holdings, Some(expected));
}

#[tokio::test]
async fn a_deny_rule_cannot_be_added_over_rights_the_caller_does_not_hold() {
    // The holder holds issuer-* on all of acme; the caller only on acme.berlin. A deny on
    // the berlin holding cuts rights the caller cannot vouch for.
    for holder_gone in [false, true] {
        let mut ports = Ports::new();
        ports.clock_at(now());
        held_issuer_role(&mut ports);
        ports
            .roles
            .expect_holdings()
            .returning(|_| Ok(berlin_holding()));
        if holder_gone {
            ports
                .accounts
                .expect_find_with_grants()
                .returning(|_| Ok(None));
            update_succeeds(&mut ports);
        } else {
            ports.target_account(false, vec![grant(9, "acme", vec![allow("issuer-*")])]);
            ports.roles.expect_update_role().never();
        }
        let roster = ports.build();
        let berlin_only = actor(
            false,
            vec![
                grant(6, "*", vec![allow("role-manage")]),
                grant(7, "acme.berlin", vec![allow("all")]),
            ],
        );

        let form = role_form(
            None,
            vec![rule("issuer-*", None), rule("issuer-delete", Some("deny"))],
        );
        let result = roster
            .replace_role(&berlin_only, "issuer-admin", &form)
            .await;
        if holder_gone {
            // Deleted meanwhile: its grants went with it, so nothing is cut.
            assert!(result.is_ok(), "{result:?}");
        } else {
            assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
        }
    }
}

#[tokio::test]
async fn a_held_role_unchanged_by_a_held_super_admin_is_not_weighed_for_it() {
    // A super admin's rights do not depend on its grants.
    let mut ports = Ports::new();
    ports.clock_at(now());
    held_issuer_role(&mut ports);
    ports
        .roles
        .expect_holdings()
        .returning(|_| Ok(berlin_holding()));
    ports.target_account(true, vec![]);
    update_succeeds(&mut ports);
    let roster = ports.build();

    let form = role_form(
        None,
        vec![rule("issuer-*", None), rule("issuer-delete", Some("deny"))],
    );
    roster
        .replace_role(&acme_role_admin(), "issuer-admin", &form)
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_role_maps_each_store_outcome() {
    use crate::model::RoleDeletion;
    for (outcome, expected) in [
        (RoleDeletion::Deleted, "Ok(())"),
        (RoleDeletion::NotFound, "Err(NotFound(\"role\"))"),
        (RoleDeletion::InUse, "Err(RoleInUse)"),
    ] {
        let mut ports = Ports::new();
        ports.clock_at(now());
        ports
            .roles
            .expect_delete_role()
            .withf(|name, audit| {
                name.as_str() == "issuer-admin"
                    && audit.target.as_deref() == Some("role:issuer-admin")
            })
            .times(1)
            .returning(move |_, _| Ok(outcome));
        let roster = ports.build();

        let refused = roster
            .delete_role(&actor(false, vec![]), "issuer-admin")
            .await;
        assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
        let result = roster.delete_role(&role_admin(), "issuer-admin").await;
        assert_eq!(format!("{result:?}"), expected);
    }
}

/// `issuer-admin` held by one account on acme.berlin and one API key on `*`, as the store
/// answers (labels always filled in), of 7 grants in all.
fn two_named_holders() -> crate::model::RoleHolders {
    crate::model::RoleHolders {
        holders: vec![
            crate::model::RoleHolder {
                holder: PrincipalId::Account(target_id()),
                label: Some("ada@example.com".into()),
                scope: ScopePath::parse("acme.berlin").unwrap(),
            },
            crate::model::RoleHolder {
                holder: PrincipalId::ApiKey(roster_domain::ApiKeyId::new(Uuid::from_u128(0xc1))),
                label: Some("ci-deploy".into()),
                scope: ScopePath::root(),
            },
        ],
        total: 7,
    }
}

/// The labels `role_holders` answers `caller` with, the store holding [`two_named_holders`].
async fn holder_labels(caller: &crate::usecases::Authenticated) -> Vec<Option<String>> {
    let mut ports = Ports::new();
    ports
        .roles
        .expect_holders()
        .times(1)
        .returning(|_, _| Ok(Some(two_named_holders())));
    let roster = ports.build();
    let found = roster
        .role_holders(caller, "issuer-admin", 2)
        .await
        .unwrap();
    assert_eq!(found.total, 7);
    found.holders.into_iter().map(|h| h.label).collect()
}

#[tokio::test]
async fn role_holders_need_role_manage_and_an_existing_role() {
    let mut ports = Ports::new();
    ports
        .roles
        .expect_holders()
        .withf(|name, limit| name.as_str() == "issuer-admin" && *limit == 3)
        .times(1)
        .returning(|_, _| Ok(None));
    let roster = ports.build();

    let refused = roster
        .role_holders(&actor(false, vec![]), "issuer-admin", 3)
        .await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
    let missing = roster.role_holders(&role_admin(), "issuer-admin", 3).await;
    assert!(
        matches!(missing, Err(AppError::NotFound("role"))),
        "{missing:?}"
    );
    // A name that cannot exist is not looked up.
    let invalid = roster.role_holders(&role_admin(), "Not A Role", 3).await;
    assert!(
        matches!(invalid, Err(AppError::NotFound("role"))),
        "{invalid:?}"
    );
}

#[tokio::test]
async fn role_holders_are_read_at_most_max_holders_listed_at_once() {
    use crate::usecases::roles::MAX_HOLDERS_LISTED;
    let mut ports = Ports::new();
    ports
        .roles
        .expect_holders()
        .withf(|_, limit| *limit == MAX_HOLDERS_LISTED)
        .times(1)
        .returning(|_, _| Ok(Some(crate::model::RoleHolders::default())));
    let roster = ports.build();
    let found = roster
        .role_holders(&role_admin(), "issuer-admin", u32::MAX)
        .await
        .unwrap();
    assert_eq!(found, crate::model::RoleHolders::default());
}

#[tokio::test]
async fn role_holders_are_named_only_to_those_who_may_read_them() {
    // role-manage alone: who holds the role stays hidden, where and how many do not.
    assert_eq!(holder_labels(&role_admin()).await, [None, None]);
    let reads_accounts = actor(
        false,
        vec![grant(
            6,
            "*",
            vec![allow("role-manage"), allow("account-read")],
        )],
    );
    assert_eq!(
        holder_labels(&reads_accounts).await,
        [Some("ada@example.com".to_owned()), None]
    );
    let manages_keys = actor(
        false,
        vec![grant(
            6,
            "*",
            vec![allow("role-manage"), allow("apikey-manage")],
        )],
    );
    assert_eq!(
        holder_labels(&manages_keys).await,
        [None, Some("ci-deploy".to_owned())]
    );
    // account-read on a scope below `*` is not reading accounts.
    let reads_acme = actor(
        false,
        vec![
            grant(6, "*", vec![allow("role-manage")]),
            grant(7, "acme", vec![allow("account-read")]),
        ],
    );
    assert_eq!(holder_labels(&reads_acme).await, [None, None]);
    assert_eq!(
        holder_labels(&actor(true, vec![])).await,
        [
            Some("ada@example.com".to_owned()),
            Some("ci-deploy".to_owned())
        ]
    );
}

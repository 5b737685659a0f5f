//! The privilege principle as properties, over random callers, holders, roles and scopes:
//! whatever a non-super-admin is allowed to change, the change never gives anyone (the caller
//! included) a right the caller did not hold, and never takes from anyone a right the caller
//! did not hold; whatever it may act on holds nothing the caller does not.
//!
//! Each property is checked on many (action, target) pairs per generated case, and
//! `the_strategies_often_allow_the_change` keeps the properties from passing vacuously.

mod common;

use common::{grant_scope, target};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use roster_domain::{
    AccountId, Action, ActionPattern, Effect, Grant, GrantId, Permission, Principal, PrincipalId,
    Rights, Role, RoleName, ScopePath, evaluate, may_act_on, may_change_grant,
    may_manage_grants_on,
};
use uuid::Uuid;

/// The actions checked, `grant-manage` among them; patterns are built to hit them.
const ACTIONS: [&str; 6] = ["grant-manage", "grant-read", "a", "ab", "a-b", "b"];
const PREFIXES: [&str; 4] = ["grant-", "a", "a-", "b"];

fn action() -> impl Strategy<Value = Action> {
    prop::sample::select(&ACTIONS[..]).prop_map(|a| Action::parse(a).unwrap())
}

fn pattern() -> impl Strategy<Value = ActionPattern> {
    prop_oneof![
        1 => Just(ActionPattern::All),
        3 => action().prop_map(ActionPattern::Exact),
        2 => prop::sample::select(&PREFIXES[..]).prop_map(|p| ActionPattern::Prefix(p.to_owned())),
    ]
}

fn rule(allow_weight: u32, deny_weight: u32) -> impl Strategy<Value = Permission> {
    let effect =
        prop_oneof![allow_weight => Just(Effect::Allow), deny_weight => Just(Effect::Deny)];
    (pattern(), effect).prop_map(|(pattern, effect)| Permission { pattern, effect })
}

fn grant(n: usize, scope: ScopePath, permissions: Vec<Permission>) -> Grant {
    Grant {
        id: GrantId::new(Uuid::from_u128(n as u128)),
        role: RoleName::parse(&format!("role-{n}")).unwrap(),
        scope,
        permissions,
    }
}

fn grants(max: usize) -> impl Strategy<Value = Vec<Grant>> {
    prop::collection::vec(
        (grant_scope(4), prop::collection::vec(rule(3, 1), 1..=3)),
        0..=max,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(n, (scope, rules))| grant(n, scope, rules))
            .collect()
    })
}

/// A caller: an administrative grant (`all`, or `grant-manage` with some other rights) on
/// some scope, beside random grants (denies included).
fn caller() -> impl Strategy<Value = Principal> {
    let admin_rules = prop_oneof![
        Just(vec![Permission::allow(ActionPattern::All)]),
        prop::collection::vec(rule(1, 0), 0..=3).prop_map(|mut rules| {
            rules.push(Permission::allow(
                ActionPattern::parse("grant-manage").unwrap(),
            ));
            rules
        }),
    ];
    (grant_scope(4), admin_rules, grants(4)).prop_map(|(scope, rules, mut others)| {
        others.push(grant(100, scope, rules));
        principal(others)
    })
}

fn role() -> impl Strategy<Value = Role> {
    prop::collection::vec(rule(1, 1), 1..=3).prop_map(|permissions| Role {
        name: RoleName::parse("given").unwrap(),
        description: String::new(),
        permissions,
    })
}

/// (action, concrete target) pairs to compare rights on.
fn probes() -> impl Strategy<Value = Vec<(Action, ScopePath)>> {
    prop::collection::vec((action(), target(4)), 24)
}

fn principal(grants: Vec<Grant>) -> Principal {
    Principal {
        id: PrincipalId::Account(AccountId::new(Uuid::nil())),
        is_superadmin: false,
        grants: grants.into(),
    }
}

fn allows(grants: &[Grant], action: &Action, target: &ScopePath) -> bool {
    evaluate(grants, action, target).is_allowed()
}

fn rights(grants: &[Grant]) -> Rights<'_> {
    Rights {
        is_superadmin: false,
        grants,
    }
}

/// `grants` plus `role` on `scope`, as the store would hold them after the grant.
fn with_grant(grants: &[Grant], role: &Role, scope: &ScopePath) -> Vec<Grant> {
    let mut after = grants.to_vec();
    after.push(grant(999, scope.clone(), role.permissions.clone()));
    after
}

/// Every right that differs between `before` and `after` is one the caller holds.
fn only_within_callers_rights(
    caller: &Principal,
    before: &[Grant],
    after: &[Grant],
    probes: &[(Action, ScopePath)],
) -> Result<(), TestCaseError> {
    for (action, target) in probes {
        if allows(before, action, target) != allows(after, action, target) {
            prop_assert!(
                caller.allows(action, target),
                "{action} on {target} changed for the holder but the caller does not hold it"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn giving_a_role_changes_only_rights_the_caller_holds(
        caller in caller(),
        holder in grants(5),
        role in role(),
        scope in grant_scope(4),
        probes in probes(),
    ) {
        if may_change_grant(&caller, rights(&holder), &role, &scope) {
            let after = with_grant(&holder, &role, &scope);
            only_within_callers_rights(&caller, &holder, &after, &probes)?;
        }
    }

    #[test]
    fn taking_a_role_away_changes_only_rights_the_caller_holds(
        caller in caller(),
        others in grants(5),
        role in role(),
        scope in grant_scope(4),
        probes in probes(),
    ) {
        let holder = with_grant(&others, &role, &scope);
        if may_change_grant(&caller, rights(&holder), &role, &scope) {
            only_within_callers_rights(&caller, &holder, &others, &probes)?;
        }
    }

    #[test]
    fn a_caller_never_ends_with_a_right_it_did_not_have(
        caller in caller(),
        role in role(),
        scope in grant_scope(4),
        probes in probes(),
    ) {
        let before = caller.grants.to_vec();
        if may_change_grant(&caller, rights(&before), &role, &scope) {
            let after = with_grant(&before, &role, &scope);
            for (action, target) in &probes {
                prop_assert!(
                    !allows(&after, action, target) || allows(&before, action, target),
                    "giving itself {role:?} on {scope} gained {action} on {target}"
                );
            }
        }
        // Nor by taking away a grant it holds (a deny lifted from itself).
        let restricted = with_grant(&before, &role, &scope);
        if may_change_grant(&principal(restricted.clone()), rights(&restricted), &role, &scope) {
            for (action, target) in &probes {
                prop_assert!(
                    !allows(&before, action, target) || allows(&restricted, action, target),
                    "taking {role:?} on {scope} from itself gained {action} on {target}"
                );
            }
        }
    }

    #[test]
    fn acting_on_a_principal_needs_every_right_it_holds(
        caller in caller(),
        target_grants in grants(5),
        probes in probes(),
    ) {
        if may_act_on(&caller, rights(&target_grants)) {
            for (action, target) in &probes {
                prop_assert!(
                    !allows(&target_grants, action, target) || caller.allows(action, target),
                    "the target holds {action} on {target}, the caller does not"
                );
            }
        }
    }

    #[test]
    fn managing_grants_on_a_scope_needs_grant_manage_everywhere_beneath_it(
        caller in caller(),
        scope in grant_scope(4),
        target in target(4),
    ) {
        let manage = Action::parse("grant-manage").unwrap();
        if may_manage_grants_on(&caller.grants, &scope) && scope.covers(&target) {
            prop_assert!(caller.allows(&manage, &target));
        }
    }

    #[test]
    fn super_admins_are_changed_and_acted_on_only_by_super_admins(
        caller in caller(),
        role in role(),
        scope in grant_scope(4),
    ) {
        let superadmin = Rights { is_superadmin: true, grants: &[] };
        prop_assert!(!may_change_grant(&caller, superadmin, &role, &scope));
        prop_assert!(!may_act_on(&caller, superadmin));
    }
}

/// The properties above hold vacuously if the change is never allowed: make sure the
/// strategies produce allowed changes, restricting ones included, in a fair share of cases.
#[test]
fn the_strategies_often_allow_the_change() {
    let mut runner = TestRunner::deterministic();
    let strategy = (caller(), grants(5), role(), grant_scope(4));
    let (mut allowed, mut allowed_with_deny, mut acted_on) = (0, 0, 0);
    let cases = 2000;
    for _ in 0..cases {
        let (caller, holder, role, scope) = strategy.new_tree(&mut runner).unwrap().current();
        if may_change_grant(&caller, rights(&holder), &role, &scope) {
            allowed += 1;
            if role.permissions.iter().any(|r| r.effect == Effect::Deny) && !holder.is_empty() {
                allowed_with_deny += 1;
            }
        }
        if may_act_on(&caller, rights(&holder)) && !holder.is_empty() {
            acted_on += 1;
        }
    }
    assert!(
        allowed * 10 >= cases,
        "only {allowed} of {cases} changes allowed"
    );
    assert!(
        allowed_with_deny * 40 >= cases,
        "only {allowed_with_deny} of {cases} restricting changes allowed"
    );
    assert!(
        acted_on * 40 >= cases,
        "only {acted_on} of {cases} targets acted on"
    );
}

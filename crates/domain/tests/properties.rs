//! Properties of evaluation through the public API, complementing the unit properties in
//! `src/authz.rs` (which add whole grants and check [`evaluate`] over shallow scopes and a
//! fixed list of actions).
//!
//! Here: full-depth scopes (up to 8 segments), generated action names and prefixes, up to 24
//! grants; rules added to or changed in an *existing* grant (a role being edited); and every
//! property is checked on the compiled [`PermissionSet`] and on [`Principal`] as well as on
//! [`evaluate`].

mod common;

use common::{grant_scope, target};
use proptest::prelude::*;
use roster_domain::{
    AccountId, Action, ActionPattern, Decision, Effect, Grant, GrantId, Permission, PermissionSet,
    Principal, PrincipalId, Reason, RoleName, ScopePath, evaluate,
};
use uuid::Uuid;

/// Short names over a tiny alphabet so that exact and prefix rules often match.
fn action() -> impl Strategy<Value = Action> {
    "[ab][ab:.-]{0,4}".prop_map(|s| Action::parse(&s).unwrap())
}

fn pattern() -> impl Strategy<Value = ActionPattern> {
    prop_oneof![
        1 => Just(ActionPattern::All),
        3 => action().prop_map(ActionPattern::Exact),
        3 => "[ab][ab:.-]{0,2}".prop_map(ActionPattern::Prefix),
    ]
}

fn rule(effect: Option<Effect>) -> impl Strategy<Value = Permission> {
    let effect = match effect {
        Some(effect) => Just(effect).boxed(),
        None => prop_oneof![3 => Just(Effect::Allow), 1 => Just(Effect::Deny)].boxed(),
    };
    (pattern(), effect).prop_map(|(pattern, effect)| Permission { pattern, effect })
}

fn grants() -> impl Strategy<Value = Vec<Grant>> {
    prop::collection::vec(
        (grant_scope(8), prop::collection::vec(rule(None), 0..=4)),
        1..=24,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(n, (scope, permissions))| Grant {
                id: GrantId::new(Uuid::from_u128(n as u128)),
                role: RoleName::parse(&format!("role-{n}")).unwrap(),
                scope,
                permissions,
            })
            .collect()
    })
}

fn principal(is_superadmin: bool, grants: Vec<Grant>) -> Principal {
    Principal {
        id: PrincipalId::Account(AccountId::new(Uuid::nil())),
        is_superadmin,
        grants: grants.into(),
    }
}

/// The decision, after checking that every way of making it agrees.
fn decide(grants: &[Grant], action: &Action, target: &ScopePath) -> bool {
    let decision = evaluate(grants, action, target);
    let set = PermissionSet::compile(grants);
    let who = principal(false, grants.to_vec());
    assert_eq!(set.allows(action, target), decision.is_allowed());
    assert_eq!(who.allows(action, target), decision.is_allowed());
    assert_eq!(
        who.permission_set().allows(action, target),
        decision.is_allowed()
    );
    decision.is_allowed()
}

/// `grants` with `extra` appended to the rules of grant `index % len`.
fn with_rule(grants: &[Grant], index: usize, extra: Permission) -> Vec<Grant> {
    let mut changed = grants.to_vec();
    let len = changed.len();
    changed[index % len].permissions.push(extra);
    changed
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn compiled_set_agrees_with_evaluate_at_full_depth(
        grants in grants(),
        action in action(),
        target in target(8),
    ) {
        let decision = evaluate(&grants, &action, &target);
        let set = PermissionSet::compile(&grants);
        prop_assert_eq!(set.allows(&action, &target), decision.is_allowed());
        prop_assert_eq!(&set.explain(&action, &target), &decision);
        let who = principal(false, grants);
        prop_assert_eq!(who.allows(&action, &target), decision.is_allowed());
        prop_assert_eq!(who.permission_set().allows(&action, &target), decision.is_allowed());
        prop_assert_eq!(who.explain(&action, &target), decision);
    }

    #[test]
    fn adding_an_allow_rule_to_a_role_never_removes_a_permission(
        grants in grants(),
        index in any::<usize>(),
        extra in rule(Some(Effect::Allow)),
        action in action(),
        target in target(8),
    ) {
        if decide(&grants, &action, &target) {
            prop_assert!(decide(&with_rule(&grants, index, extra), &action, &target));
        }
    }

    #[test]
    fn adding_a_deny_rule_to_a_role_never_adds_a_permission(
        grants in grants(),
        index in any::<usize>(),
        extra in rule(Some(Effect::Deny)),
        action in action(),
        target in target(8),
    ) {
        if !decide(&grants, &action, &target) {
            prop_assert!(!decide(&with_rule(&grants, index, extra), &action, &target));
        }
    }

    #[test]
    fn changing_a_grant_never_affects_scopes_outside_its_subtree(
        grants in grants(),
        index in any::<usize>(),
        replacement in prop::collection::vec(rule(None), 0..=4),
        action in action(),
        target in target(8),
    ) {
        let index = index % grants.len();
        prop_assume!(!grants[index].scope.covers(&target));
        let mut changed = grants.clone();
        changed[index].permissions = replacement;
        prop_assert_eq!(decide(&changed, &action, &target), decide(&grants, &action, &target));
        prop_assert_eq!(
            PermissionSet::compile(&changed).explain(&action, &target),
            evaluate(&grants, &action, &target)
        );
    }

    #[test]
    fn the_deciding_rule_covers_the_target_and_matches_the_action(
        grants in grants(),
        action in action(),
        target in target(8),
    ) {
        let decision = PermissionSet::compile(&grants).explain(&action, &target);
        match decision.reason() {
            Reason::AllowedBy(m) | Reason::DeniedBy(m) => {
                let effect = if decision.is_allowed() { Effect::Allow } else { Effect::Deny };
                prop_assert_eq!(m.rule.effect, effect);
                prop_assert!(m.scope.covers(&target));
                prop_assert!(m.rule.matches(&action));
                let grant = grants.iter().find(|g| g.id == m.grant).unwrap();
                prop_assert_eq!(&grant.scope, &m.scope);
                prop_assert_eq!(&grant.role, &m.role);
                prop_assert!(grant.permissions.contains(&m.rule));
            }
            Reason::NoMatchingGrant => prop_assert!(!decision.is_allowed()),
            Reason::SuperAdmin => prop_assert!(false, "not a super admin"),
        }
    }

    #[test]
    fn super_admins_are_allowed_whatever_their_grants(
        grants in grants(),
        action in action(),
        target in target(8),
    ) {
        let admin = principal(true, grants);
        prop_assert!(admin.allows(&action, &target));
        prop_assert!(admin.permission_set().allows(&action, &target));
        prop_assert_eq!(admin.explain(&action, &target), Decision::Allowed(Reason::SuperAdmin));
    }
}

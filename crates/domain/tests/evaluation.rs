//! The evaluation rules of the API contract ("Scopes, actions and evaluation"), one named row
//! per cell, through the public API only.
//!
//! Every row is decided four ways that must agree: the reference [`evaluate`],
//! [`Principal::allows`] / [`Principal::explain`], a compiled [`PermissionSet::compile`] and
//! [`Principal::permission_set`].

use roster_domain::{
    AccountId, Action, ActionPattern, Decision, Effect, Grant, GrantId, Permission, PermissionSet,
    Principal, PrincipalId, Reason, RoleName, ScopePath, evaluate,
};
use uuid::Uuid;

fn scope(s: &str) -> ScopePath {
    ScopePath::parse(s).unwrap_or_else(|e| panic!("scope {s:?}: {e}"))
}

fn action(s: &str) -> Action {
    Action::parse(s).unwrap_or_else(|e| panic!("action {s:?}: {e}"))
}

/// A grant of role `role` on `scope_path` with rules written `"allow all"`, `"deny issuer-*"`.
fn grant(n: u128, role: &str, scope_path: &str, rules: &[&str]) -> Grant {
    let permissions = rules
        .iter()
        .map(|rule| {
            let (effect, pattern) = rule.split_once(' ').expect("'<effect> <pattern>'");
            Permission {
                pattern: ActionPattern::parse(pattern).unwrap(),
                effect: Effect::parse(effect).unwrap(),
            }
        })
        .collect();
    Grant {
        id: GrantId::new(Uuid::from_u128(n)),
        role: RoleName::parse(role).unwrap(),
        scope: scope(scope_path),
        permissions,
    }
}

fn principal(is_superadmin: bool, grants: Vec<Grant>) -> Principal {
    Principal {
        id: PrincipalId::Account(AccountId::new(Uuid::from_u128(7))),
        is_superadmin,
        grants: grants.into(),
    }
}

/// One cell of the table.
struct Row {
    name: &'static str,
    superadmin: bool,
    grants: Vec<Grant>,
    action: &'static str,
    target: &'static str,
    allowed: bool,
}

fn row(
    name: &'static str,
    grants: Vec<Grant>,
    action: &'static str,
    target: &'static str,
    allowed: bool,
) -> Row {
    Row {
        name,
        superadmin: false,
        grants,
        action,
        target,
        allowed,
    }
}

fn superadmin_row(
    name: &'static str,
    grants: Vec<Grant>,
    action: &'static str,
    target: &'static str,
) -> Row {
    Row {
        name,
        superadmin: true,
        grants,
        action,
        target,
        allowed: true,
    }
}

/// Decides `row` every way and checks each against the expectation (and so each other).
fn check(row: &Row) {
    let Row {
        name,
        superadmin,
        grants,
        action: action_name,
        target,
        allowed,
    } = row;
    let (action, target) = (action(action_name), scope(target));
    let at = format!("{name}: {action} on {target}");
    let who = principal(*superadmin, grants.clone());

    assert_eq!(
        who.allows(&action, &target),
        *allowed,
        "Principal::allows, {at}"
    );
    let explained = who.explain(&action, &target);
    assert_eq!(explained.is_allowed(), *allowed, "Principal::explain, {at}");
    assert_eq!(
        who.permission_set().allows(&action, &target),
        *allowed,
        "Principal::permission_set().allows, {at}"
    );
    assert_eq!(
        who.permission_set().explain(&action, &target),
        explained,
        "PermissionSet::explain, {at}"
    );

    if *superadmin {
        assert_eq!(explained, Decision::Allowed(Reason::SuperAdmin), "{at}");
        assert!(PermissionSet::superadmin().allows(&action, &target), "{at}");
        return;
    }
    let decision = evaluate(grants, &action, &target);
    assert_eq!(decision.is_allowed(), *allowed, "evaluate, {at}");
    assert_eq!(explained, decision, "Principal::explain vs evaluate, {at}");
    let compiled = PermissionSet::compile(grants);
    assert_eq!(
        compiled.allows(&action, &target),
        *allowed,
        "PermissionSet::compile(..).allows, {at}"
    );
    assert_eq!(compiled.explain(&action, &target), decision, "{at}");
}

fn check_all(rows: &[Row]) {
    let mut names = std::collections::HashSet::new();
    for row in rows {
        assert!(names.insert(row.name), "duplicate row name {:?}", row.name);
        check(row);
    }
}

fn allow_all_on(scope_path: &str) -> Vec<Grant> {
    vec![grant(1, "admin", scope_path, &["allow all"])]
}

#[test]
fn a_grant_covers_its_scope_and_everything_beneath() {
    check_all(&[
        row(
            "same scope",
            allow_all_on("acme"),
            "issuer-read",
            "acme",
            true,
        ),
        row(
            "child",
            allow_all_on("acme"),
            "issuer-read",
            "acme.berlin",
            true,
        ),
        row(
            "grandchild",
            allow_all_on("acme"),
            "issuer-read",
            "acme.berlin.issuer",
            true,
        ),
        row(
            "eight segments deep",
            allow_all_on("acme"),
            "issuer-read",
            "acme.berlin.issuer.a.b.c.d.e",
            true,
        ),
        row(
            "tenant covers its service",
            allow_all_on("acme.berlin"),
            "issuer-read",
            "acme.berlin.issuer",
            true,
        ),
    ]);
}

#[test]
fn a_grant_never_reaches_up_or_sideways() {
    check_all(&[
        row(
            "not the parent",
            allow_all_on("acme.berlin"),
            "issuer-read",
            "acme",
            false,
        ),
        row(
            "not the root",
            allow_all_on("acme.berlin"),
            "issuer-read",
            "*",
            false,
        ),
        row(
            "not a sibling",
            allow_all_on("acme.berlin"),
            "issuer-read",
            "acme.paris",
            false,
        ),
        row(
            "not a sibling sharing a name prefix",
            allow_all_on("acme.berlin"),
            "issuer-read",
            "acme.berlinx",
            false,
        ),
        row(
            "not a sibling's child",
            allow_all_on("acme.berlin"),
            "issuer-read",
            "acme.paris.issuer",
            false,
        ),
        row(
            "not the same name under another organization",
            allow_all_on("acme.berlin"),
            "issuer-read",
            "globex.berlin",
            false,
        ),
        row(
            "not the parent of a service grant",
            allow_all_on("acme.berlin.issuer"),
            "issuer-read",
            "acme.berlin",
            false,
        ),
    ]);
}

#[test]
fn the_root_covers_everything_and_organizations_do_not() {
    check_all(&[
        row(
            "root covers global resources",
            allow_all_on("*"),
            "account-read",
            "*",
            true,
        ),
        row(
            "root covers an organization",
            allow_all_on("*"),
            "issuer-read",
            "acme",
            true,
        ),
        row(
            "root covers another organization",
            allow_all_on("*"),
            "issuer-read",
            "globex",
            true,
        ),
        row(
            "root covers eight segments",
            allow_all_on("*"),
            "issuer-read",
            "a.b.c.d.e.f.g.h",
            true,
        ),
        row(
            "organization does not cover global resources",
            allow_all_on("acme"),
            "account-read",
            "*",
            false,
        ),
        row(
            "organization does not cover another organization",
            allow_all_on("acme"),
            "issuer-read",
            "globex",
            false,
        ),
        row(
            "organization does not cover a longer name",
            allow_all_on("acme"),
            "issuer-read",
            "acmecorp",
            false,
        ),
    ]);
}

#[test]
fn a_wildcard_segment_matches_any_one_segment() {
    let every_issuer = || allow_all_on("acme.*.issuer");
    let every_tenant = || allow_all_on("acme.*");
    check_all(&[
        row(
            "acme.*.issuer covers a tenant's issuer",
            every_issuer(),
            "issuer-read",
            "acme.berlin.issuer",
            true,
        ),
        row(
            "acme.*.issuer covers another tenant's issuer",
            every_issuer(),
            "issuer-read",
            "acme.paris.issuer",
            true,
        ),
        row(
            "acme.*.issuer covers beneath the issuer",
            every_issuer(),
            "issuer-read",
            "acme.berlin.issuer.x",
            true,
        ),
        row(
            "acme.*.issuer does not cover the tenant",
            every_issuer(),
            "issuer-read",
            "acme.berlin",
            false,
        ),
        row(
            "acme.*.issuer does not cover acme.issuer (* is exactly one segment)",
            every_issuer(),
            "issuer-read",
            "acme.issuer",
            false,
        ),
        row(
            "acme.*.issuer does not cover another service",
            every_issuer(),
            "issuer-read",
            "acme.berlin.dev",
            false,
        ),
        row(
            "acme.*.issuer does not cover the organization",
            every_issuer(),
            "issuer-read",
            "acme",
            false,
        ),
        row(
            "acme.*.issuer does not cover another organization",
            every_issuer(),
            "issuer-read",
            "globex.berlin.issuer",
            false,
        ),
        row(
            "acme.* covers every tenant",
            every_tenant(),
            "issuer-read",
            "acme.berlin",
            true,
        ),
        row(
            "acme.* covers beneath every tenant",
            every_tenant(),
            "issuer-read",
            "acme.berlin.issuer",
            true,
        ),
        row(
            "acme.* does not cover the organization",
            every_tenant(),
            "issuer-read",
            "acme",
            false,
        ),
        row(
            "two wildcard segments",
            allow_all_on("acme.*.*"),
            "issuer-read",
            "acme.berlin.issuer",
            true,
        ),
        row(
            "two wildcard segments need two segments",
            allow_all_on("acme.*.*"),
            "issuer-read",
            "acme.berlin",
            false,
        ),
    ]);
}

#[test]
fn action_patterns() {
    let on_acme = |rule: &str| vec![grant(1, "r", "acme", &[rule])];
    check_all(&[
        row(
            "all matches a built-in",
            on_acme("allow all"),
            "account-read",
            "acme",
            true,
        ),
        row(
            "all matches any action",
            on_acme("allow all"),
            "issuer:keys.rotate",
            "acme",
            true,
        ),
        row(
            "all matches the action named all",
            on_acme("allow all"),
            "all",
            "acme",
            true,
        ),
        row(
            "prefix matches",
            on_acme("allow issuer-*"),
            "issuer-read",
            "acme",
            true,
        ),
        row(
            "prefix matches the bare prefix",
            on_acme("allow issuer-*"),
            "issuer-",
            "acme",
            true,
        ),
        row(
            "prefix is not a word match",
            on_acme("allow issuer-*"),
            "issuers",
            "acme",
            false,
        ),
        row(
            "prefix must be at the start",
            on_acme("allow issuer-*"),
            "xissuer-read",
            "acme",
            false,
        ),
        row(
            "prefix needs every character",
            on_acme("allow issuer-*"),
            "issuer",
            "acme",
            false,
        ),
        row(
            "exact matches itself",
            on_acme("allow issuer-read"),
            "issuer-read",
            "acme",
            true,
        ),
        row(
            "exact does not match longer",
            on_acme("allow issuer-read"),
            "issuer-reader",
            "acme",
            false,
        ),
        row(
            "exact does not match shorter",
            on_acme("allow issuer-read"),
            "issuer-rea",
            "acme",
            false,
        ),
        row(
            "the action named all is exact",
            on_acme("allow all-*"),
            "all",
            "acme",
            false,
        ),
    ]);
}

#[test]
fn deny_wins_across_grants() {
    // Role A allows everything on acme; role B denies everything on acme.berlin.
    let split = || {
        vec![
            grant(1, "role-a", "acme", &["allow all"]),
            grant(2, "role-b", "acme.berlin", &["deny all"]),
        ]
    };
    // Same grants listed the other way round: order never matters.
    let split_reversed = || {
        let mut grants = split();
        grants.reverse();
        grants
    };
    let issuer_deny = || {
        vec![
            grant(1, "role-a", "acme", &["allow all"]),
            grant(2, "role-b", "acme.berlin", &["deny issuer-*"]),
        ]
    };
    check_all(&[
        row(
            "deny beneath the allow applies beneath",
            split(),
            "issuer-read",
            "acme.berlin.x",
            false,
        ),
        row(
            "deny applies at its own scope",
            split(),
            "issuer-read",
            "acme.berlin",
            false,
        ),
        row(
            "deny does not reach a sibling",
            split(),
            "issuer-read",
            "acme.paris",
            true,
        ),
        row(
            "deny does not reach the parent",
            split(),
            "issuer-read",
            "acme",
            true,
        ),
        row(
            "deny wins in either grant order",
            split_reversed(),
            "issuer-read",
            "acme.berlin.x",
            false,
        ),
        row(
            "reversed order still allows the sibling",
            split_reversed(),
            "issuer-read",
            "acme.paris",
            true,
        ),
        row(
            "a deny for some actions spares the others",
            issuer_deny(),
            "account-read",
            "acme.berlin.x",
            true,
        ),
        row(
            "a deny for some actions hits those",
            issuer_deny(),
            "issuer-sign",
            "acme.berlin.x",
            false,
        ),
        row(
            "deny at the root beats allow beneath",
            vec![
                grant(1, "role-a", "acme.berlin", &["allow all"]),
                grant(2, "role-b", "*", &["deny issuer-sign"]),
            ],
            "issuer-sign",
            "acme.berlin",
            false,
        ),
        row(
            "deny through a wildcard segment",
            vec![
                grant(1, "role-a", "acme", &["allow all"]),
                grant(2, "role-b", "acme.*.issuer", &["deny all"]),
            ],
            "issuer-read",
            "acme.berlin.issuer",
            false,
        ),
        row(
            "wildcard deny spares other services",
            vec![
                grant(1, "role-a", "acme", &["allow all"]),
                grant(2, "role-b", "acme.*.issuer", &["deny all"]),
            ],
            "issuer-read",
            "acme.berlin.dev",
            true,
        ),
        row(
            "deny within one role",
            vec![grant(1, "role-a", "acme", &["allow all", "deny issuer-*"])],
            "issuer-sign",
            "acme",
            false,
        ),
        row(
            "deny alone grants nothing",
            vec![grant(2, "role-b", "acme", &["deny issuer-*"])],
            "account-read",
            "acme",
            false,
        ),
    ]);
}

#[test]
fn union_across_roles() {
    let two_roles = || {
        vec![
            grant(1, "reader", "acme", &["allow issuer-read"]),
            grant(2, "signer", "acme.berlin", &["allow issuer-sign"]),
        ]
    };
    check_all(&[
        row(
            "first role's action",
            two_roles(),
            "issuer-read",
            "acme.berlin",
            true,
        ),
        row(
            "second role's action",
            two_roles(),
            "issuer-sign",
            "acme.berlin",
            true,
        ),
        row(
            "second role's action beneath",
            two_roles(),
            "issuer-sign",
            "acme.berlin.issuer",
            true,
        ),
        row(
            "second role stays in its subtree",
            two_roles(),
            "issuer-sign",
            "acme.paris",
            false,
        ),
        row(
            "second role does not reach up",
            two_roles(),
            "issuer-sign",
            "acme",
            false,
        ),
        row(
            "neither role's action",
            two_roles(),
            "issuer-delete",
            "acme.berlin",
            false,
        ),
        row(
            "the same role on two scopes",
            vec![
                grant(1, "reader", "acme.berlin", &["allow issuer-read"]),
                grant(2, "reader", "acme.paris", &["allow issuer-read"]),
            ],
            "issuer-read",
            "acme.paris.issuer",
            true,
        ),
    ]);
}

#[test]
fn no_grants_means_denied() {
    check_all(&[
        row("no grants at the root", vec![], "account-read", "*", false),
        row(
            "no grants at an organization",
            vec![],
            "issuer-read",
            "acme",
            false,
        ),
        row(
            "a grant without rules",
            vec![grant(1, "empty", "*", &[])],
            "account-read",
            "*",
            false,
        ),
    ]);
    let decision = evaluate(&[], &action("account-read"), &ScopePath::root());
    assert_eq!(decision, Decision::Denied(Reason::NoMatchingGrant));
}

#[test]
fn super_admins_are_always_allowed() {
    let deny_everything = || vec![grant(1, "locked", "*", &["deny all"])];
    check_all(&[
        superadmin_row(
            "super admin without grants, root",
            vec![],
            "role-manage",
            "*",
        ),
        superadmin_row(
            "super admin without grants, deep",
            vec![],
            "issuer-sign",
            "acme.berlin.issuer",
        ),
        superadmin_row(
            "super admin despite deny all on the root",
            deny_everything(),
            "role-manage",
            "*",
        ),
        superadmin_row(
            "super admin despite a deny at the target",
            vec![grant(1, "locked", "acme.berlin", &["deny issuer-*"])],
            "issuer-sign",
            "acme.berlin",
        ),
        superadmin_row(
            "super admin outside their grants",
            allow_all_on("acme"),
            "audit-read",
            "globex",
        ),
    ]);
    // The same grants without the flag: denied, by the deny rule.
    let who = principal(false, deny_everything());
    assert!(matches!(
        who.explain(&action("role-manage"), &ScopePath::root()),
        Decision::Denied(Reason::DeniedBy(_))
    ));
}

#[test]
fn explanations_name_the_deciding_grant() {
    let grants = vec![
        grant(1, "role-a", "acme", &["allow all"]),
        grant(2, "role-b", "acme.berlin", &["deny issuer-*"]),
    ];
    let set = PermissionSet::compile(&grants);
    let sign = action("issuer-sign");

    let Decision::Denied(Reason::DeniedBy(by)) = set.explain(&sign, &scope("acme.berlin.x")) else {
        panic!("expected a deny");
    };
    assert_eq!((by.grant, by.role.as_str()), (grants[1].id, "role-b"));
    assert_eq!(by.scope, scope("acme.berlin"));
    assert_eq!(by.rule.to_string(), "deny issuer-*");

    let Decision::Allowed(Reason::AllowedBy(by)) = set.explain(&sign, &scope("acme.paris")) else {
        panic!("expected an allow");
    };
    assert_eq!((by.grant, by.role.as_str()), (grants[0].id, "role-a"));
    assert_eq!(by.rule.to_string(), "allow all");
}

//! Delegated administration without escalation.
//!
//! One principle, applied to every administrative capability short of super admin: **a
//! caller can never turn a permission into more rights than it holds, nor use it against a
//! principal who holds more than the caller.** Concretely:
//!
//! - [`may_delegate`]: giving a role on a scope needs every action the role allows, held
//!   throughout the scope's subtree.
//! - [`may_manage_grants_on`]: `grant-manage` must be held throughout the target scope; a deny
//!   of `grant-manage` anywhere the target scope may reach binds (a wildcard or parent scope
//!   cannot be used to reach around it).
//! - [`may_change_grant`]: giving *or taking away* a role on a scope for a holder needs both of
//!   the above, and, for each deny rule of the role, every right of the holder that the deny
//!   would cut (or, taken away, would free) held by the caller on that right's whole scope.
//!   Nobody but a super admin changes a super admin's grants.
//! - [`may_act_on`]: resetting a password, disabling or enabling an account, revoking a key:
//!   the caller must hold every right the target holds (a super admin only by a super admin).
//!
//! Every check is conservative: when in doubt (wildcards, overlapping denies), it says no.

use crate::action::{ActionPattern, BuiltinAction};
use crate::grant::Grant;
use crate::principal::Principal;
use crate::role::{Effect, Permission, Role};
use crate::scope::ScopePath;

/// What a principal holds, as the target of a grant change or an administrative action: an
/// existing account or key ([`Principal::rights`]), or [`Rights::NONE`] for one being created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights<'a> {
    /// Super admins hold everything, whatever their grants say.
    pub is_superadmin: bool,
    /// The grants held.
    pub grants: &'a [Grant],
}

impl Rights<'_> {
    /// A principal that holds nothing: an account or API key being created.
    pub const NONE: Rights<'static> = Rights {
        is_superadmin: false,
        grants: &[],
    };
}

impl Principal {
    /// What this principal holds, as the target of a check by another.
    pub fn rights(&self) -> Rights<'_> {
        Rights {
            is_superadmin: self.is_superadmin,
            grants: &self.grants,
        }
    }
}

/// Whether a principal with `grants` holds every action `role` allows, throughout `scope`'s
/// subtree, so that granting `role` on `scope` gives nobody more than the principal has.
///
/// The check is conservative: an allow counts only from a grant that covers `scope`, and any
/// deny rule on a grant whose scope may overlap the subtree (above it, inside it, or through a
/// `*` segment) that could match one of the role's actions makes the answer `false`.
///
/// ```
/// use roster_domain::{
///     ActionPattern, Grant, GrantId, Permission, Role, RoleName, ScopePath, may_delegate,
/// };
/// use uuid::Uuid;
///
/// let parse = |s| ScopePath::parse(s).unwrap();
/// let role = |rules: Vec<Permission>| Role {
///     name: RoleName::parse("r").unwrap(),
///     description: String::new(),
///     permissions: rules,
/// };
/// let issuer = |s| ActionPattern::parse(s).unwrap();
/// let org_admin = vec![Grant {
///     id: GrantId::new(Uuid::nil()),
///     role: RoleName::parse("org-admin")?,
///     scope: parse("acme"),
///     permissions: vec![Permission::allow(issuer("issuer-*"))],
/// }];
///
/// let reader = role(vec![Permission::allow(issuer("issuer-read"))]);
/// assert!(may_delegate(&org_admin, &reader, &parse("acme.berlin")));
/// assert!(!may_delegate(&org_admin, &reader, &parse("globex")));
/// assert!(!may_delegate(&org_admin, &role(vec![Permission::allow(ActionPattern::All)]), &parse("acme")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn may_delegate(grants: &[Grant], role: &Role, scope: &ScopePath) -> bool {
    role.allowed_patterns()
        .all(|pattern| holds(grants, pattern, scope))
}

/// Whether `grants` hold `grant-manage` throughout `scope`'s subtree.
///
/// Stricter than evaluating `grant-manage` on `scope`: a deny of `grant-manage` on any scope
/// the subtree may reach (a sub-scope, or one matched through a `*` segment) binds too, so a
/// delegate denied grant management on `acme.berlin` cannot grant on `acme`, `acme.*` or
/// `acme.*.issuer` and so reach into `acme.berlin` around its deny.
///
/// ```
/// use roster_domain::{
///     ActionPattern, Grant, GrantId, Permission, RoleName, ScopePath, may_manage_grants_on,
/// };
/// use uuid::Uuid;
///
/// let parse = |s| ScopePath::parse(s).unwrap();
/// let grant = |scope, rule| Grant {
///     id: GrantId::new(Uuid::nil()),
///     role: RoleName::parse("r").unwrap(),
///     scope: parse(scope),
///     permissions: vec![rule],
/// };
/// let manage = ActionPattern::parse("grant-manage")?;
/// let delegate = [
///     grant("acme", Permission::allow(manage.clone())),
///     grant("acme.berlin", Permission::deny(manage)),
/// ];
/// assert!(may_manage_grants_on(&delegate, &parse("acme.paris")));
/// assert!(!may_manage_grants_on(&delegate, &parse("acme.berlin.issuer")));
/// assert!(!may_manage_grants_on(&delegate, &parse("acme")));
/// assert!(!may_manage_grants_on(&delegate, &parse("acme.*")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn may_manage_grants_on(grants: &[Grant], scope: &ScopePath) -> bool {
    let manage = ActionPattern::Exact(BuiltinAction::GrantManage.action());
    holds(grants, &manage, scope)
}

/// Whether `caller` may give `role` on `scope` to the principal holding `holder`, or take
/// such a grant away: the two are checked alike, since each changes the holder's rights in
/// the same place.
///
/// Super admins may always; nobody else may change a super admin's grants. Otherwise the
/// caller needs [`may_manage_grants_on`] the scope, [`may_delegate`] the role there, and, for
/// each deny rule of the role, every allow rule of the holder that the deny overlaps (on a
/// scope that overlaps `scope`) held by the caller on that grant's whole scope. So a
/// delegate cannot restrict, or lift a restriction on, a principal whose rights reach beyond
/// the delegate's, and a principal cannot lift a deny placed on itself.
///
/// ```
/// use roster_domain::{
///     AccountId, ActionPattern, Grant, GrantId, Permission, Principal, PrincipalId, Rights,
///     Role, RoleName, ScopePath, may_change_grant,
/// };
/// use uuid::Uuid;
///
/// let parse = |s| ScopePath::parse(s).unwrap();
/// let all = |scope| Grant {
///     id: GrantId::new(Uuid::nil()),
///     role: RoleName::parse("admin").unwrap(),
///     scope: parse(scope),
///     permissions: vec![Permission::allow(ActionPattern::All)],
/// };
/// let principal = |grants: Vec<Grant>| Principal {
///     id: PrincipalId::Account(AccountId::new(Uuid::nil())),
///     is_superadmin: false,
///     grants: grants.into(),
/// };
/// let org_admin = principal(vec![all("acme")]);
/// let berlin_admin = principal(vec![all("acme.berlin")]);
/// let locked = Role {
///     name: RoleName::parse("locked")?,
///     description: String::new(),
///     permissions: vec![Permission::deny(ActionPattern::All)],
/// };
/// let berlin = parse("acme.berlin");
/// // The delegate cannot lock its superior out of Berlin ...
/// assert!(!may_change_grant(&berlin_admin, org_admin.rights(), &locked, &berlin));
/// // ... but the superior can restrict the delegate, and anyone may be given a role.
/// assert!(may_change_grant(&org_admin, berlin_admin.rights(), &locked, &berlin));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn may_change_grant(
    caller: &Principal,
    holder: Rights<'_>,
    role: &Role,
    scope: &ScopePath,
) -> bool {
    if caller.is_superadmin {
        return true;
    }
    !holder.is_superadmin
        && may_manage_grants_on(&caller.grants, scope)
        && may_delegate(&caller.grants, role, scope)
        && denies_within_reach(&caller.grants, holder.grants, role, scope)
}

/// Whether `caller` may act on a principal holding `target` (reset its password, disable or
/// enable it, revoke it): the caller must hold every action the target is allowed, on each
/// of the target's grant scopes, so an account with a lesser administrative permission can
/// never take over, or switch off, one that holds more. Only super admins act on super admins.
///
/// ```
/// use roster_domain::{
///     AccountId, ActionPattern, Grant, GrantId, Permission, Principal, PrincipalId, Rights,
///     RoleName, ScopePath, may_act_on,
/// };
/// use uuid::Uuid;
///
/// let grant = |scope: &str, action: &str| Grant {
///     id: GrantId::new(Uuid::nil()),
///     role: RoleName::parse("r").unwrap(),
///     scope: ScopePath::parse(scope).unwrap(),
///     permissions: vec![Permission::allow(ActionPattern::parse(action).unwrap())],
/// };
/// let helpdesk = Principal {
///     id: PrincipalId::Account(AccountId::new(Uuid::nil())),
///     is_superadmin: false,
///     grants: vec![grant("*", "account-*"), grant("acme", "issuer-read")].into(),
/// };
/// let reader = [grant("acme.berlin", "issuer-read")];
/// let operator = [grant("acme.berlin", "issuer-sign")];
/// assert!(may_act_on(&helpdesk, Rights { is_superadmin: false, grants: &reader }));
/// assert!(!may_act_on(&helpdesk, Rights { is_superadmin: false, grants: &operator }));
/// assert!(!may_act_on(&helpdesk, Rights { is_superadmin: true, grants: &[] }));
/// ```
pub fn may_act_on(caller: &Principal, target: Rights<'_>) -> bool {
    if caller.is_superadmin {
        return true;
    }
    !target.is_superadmin
        && target.grants.iter().all(|grant| {
            allow_rules(grant).all(|pattern| holds(&caller.grants, pattern, &grant.scope))
        })
}

/// For each deny rule of `role` (given or taken away on `scope`): every allow rule of the
/// holder that the deny may cut or free, on a grant whose scope may meet `scope`, is held by
/// the caller on that grant's whole scope (the narrower of the two patterns suffices).
fn denies_within_reach(caller: &[Grant], holder: &[Grant], role: &Role, scope: &ScopePath) -> bool {
    let reached = || {
        holder
            .iter()
            .filter(|grant| may_overlap(&grant.scope, scope))
    };
    let mut denies = role
        .permissions
        .iter()
        .filter(|rule| rule.effect == Effect::Deny);
    denies.all(|deny| {
        reached().all(|grant| {
            allow_rules(grant)
                .filter(|allow| overlap(allow, &deny.pattern))
                .all(|allow| holds(caller, narrower(allow, &deny.pattern), &grant.scope))
        })
    })
}

/// The patterns of `grant`'s allow rules.
fn allow_rules(grant: &Grant) -> impl Iterator<Item = &ActionPattern> + '_ {
    grant
        .permissions
        .iter()
        .filter(|rule| rule.effect == Effect::Allow)
        .map(|rule: &Permission| &rule.pattern)
}

/// Every action matching `pattern` is allowed to the holder of `grants` throughout `scope`.
fn holds(grants: &[Grant], pattern: &ActionPattern, scope: &ScopePath) -> bool {
    let allowed = grants.iter().any(|grant| {
        grant.scope.covers(scope) && allow_rules(grant).any(|rule| includes(rule, pattern))
    });
    let denied = grants.iter().any(|grant| {
        may_overlap(&grant.scope, scope)
            && grant
                .permissions
                .iter()
                .any(|rule| rule.effect == Effect::Deny && overlap(&rule.pattern, pattern))
    });
    allowed && !denied
}

/// Of two overlapping patterns, the one matching fewer actions (patterns nest: when two
/// overlap, one includes the other).
fn narrower<'a>(a: &'a ActionPattern, b: &'a ActionPattern) -> &'a ActionPattern {
    if includes(a, b) { b } else { a }
}

/// Whether every action `inner` matches is matched by `outer`.
fn includes(outer: &ActionPattern, inner: &ActionPattern) -> bool {
    match (outer, inner) {
        (ActionPattern::All, _) => true,
        (_, ActionPattern::All) | (ActionPattern::Exact(_), ActionPattern::Prefix(_)) => false,
        (ActionPattern::Exact(a), ActionPattern::Exact(b)) => a == b,
        (ActionPattern::Prefix(p), ActionPattern::Exact(action)) => {
            action.as_str().starts_with(p.as_str())
        }
        (ActionPattern::Prefix(p), ActionPattern::Prefix(q)) => q.starts_with(p.as_str()),
    }
}

/// Whether some action is matched by both patterns.
fn overlap(a: &ActionPattern, b: &ActionPattern) -> bool {
    match (a, b) {
        (ActionPattern::All, _) | (_, ActionPattern::All) => true,
        (ActionPattern::Exact(x), ActionPattern::Exact(y)) => x == y,
        (ActionPattern::Exact(x), ActionPattern::Prefix(p))
        | (ActionPattern::Prefix(p), ActionPattern::Exact(x)) => x.as_str().starts_with(p.as_str()),
        (ActionPattern::Prefix(p), ActionPattern::Prefix(q)) => {
            p.starts_with(q.as_str()) || q.starts_with(p.as_str())
        }
    }
}

/// Whether some concrete scope lies in both subtrees: one path is a prefix of the other,
/// with `*` matching any segment.
fn may_overlap(a: &ScopePath, b: &ScopePath) -> bool {
    a.segments()
        .zip(b.segments())
        .all(|(x, y)| x == y || x == "*" || y == "*")
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::account::AccountId;
    use crate::grant::GrantId;
    use crate::principal::PrincipalId;
    use crate::role::{Permission, RoleName};

    fn scope(s: &str) -> ScopePath {
        ScopePath::parse(s).unwrap()
    }

    fn pattern(s: &str) -> ActionPattern {
        ActionPattern::parse(s).unwrap()
    }

    fn grant(on: &str, rules: Vec<Permission>) -> Grant {
        Grant {
            id: GrantId::new(Uuid::nil()),
            role: RoleName::parse("held").unwrap(),
            scope: scope(on),
            permissions: rules,
        }
    }

    fn role(rules: Vec<Permission>) -> Role {
        Role {
            name: RoleName::parse("given").unwrap(),
            description: String::new(),
            permissions: rules,
        }
    }

    fn allow(p: &str) -> Permission {
        Permission::allow(pattern(p))
    }

    fn deny(p: &str) -> Permission {
        Permission::deny(pattern(p))
    }

    fn principal(grants: &[Grant]) -> Principal {
        Principal {
            id: PrincipalId::Account(AccountId::new(Uuid::nil())),
            is_superadmin: false,
            grants: grants.to_vec().into(),
        }
    }

    fn rights(grants: &[Grant]) -> Rights<'_> {
        Rights {
            is_superadmin: false,
            grants,
        }
    }

    #[test]
    fn a_deny_of_grant_manage_binds_wherever_the_target_may_reach() {
        let delegate = [
            grant("acme", vec![allow("grant-manage")]),
            grant("acme.berlin", vec![deny("grant-manage")]),
            grant("acme.*.vault", vec![deny("grant-*")]),
        ];
        let cases: &[(&str, bool)] = &[
            ("acme.paris.issuer", true),
            ("acme.paris.issuer.keys", true),
            ("acme.paris", false),
            ("acme.paris.*", false),
            ("acme.berlin", false),
            ("acme.berlin.issuer", false),
            ("acme", false),
            ("acme.*", false),
            ("acme.*.issuer", false),
            ("acme.paris.vault", false),
            ("acme.paris.vault.keys", false),
            ("globex", false),
            ("*", false),
        ];
        for (target, expected) in cases {
            assert_eq!(
                may_manage_grants_on(&delegate, &scope(target)),
                *expected,
                "{target}"
            );
        }
        let unrelated_denies = [
            grant("acme", vec![allow("grant-manage")]),
            grant(
                "acme.berlin",
                vec![deny("grant-read"), deny("grant-manage-*"), deny("x")],
            ),
        ];
        assert!(may_manage_grants_on(&unrelated_denies, &scope("acme")));
        assert!(!may_manage_grants_on(
            &[grant("acme", vec![allow("grant-read")])],
            &scope("acme")
        ));
    }

    #[test]
    fn pattern_relations() {
        let cases: &[(&str, &str, bool, bool)] = &[
            // outer, inner, outer includes inner, the two overlap
            ("all", "x", true, true),
            ("x", "all", false, true),
            ("x", "x", true, true),
            ("x", "y", false, false),
            ("issuer-*", "issuer-read", true, true),
            ("issuer-read", "issuer-*", false, true),
            ("issuer-*", "audit-read", false, false),
            ("issuer-*", "issuer-key-*", true, true),
            ("issuer-key-*", "issuer-*", false, true),
            ("issuer-*", "audit-*", false, false),
            ("issuer-read", "issuer-readx", false, false),
        ];
        for (a, b, includes_expected, overlap_expected) in cases {
            let (a, b) = (pattern(a), pattern(b));
            assert_eq!(includes(&a, &b), *includes_expected, "{a} includes {b}");
            assert_eq!(overlap(&a, &b), *overlap_expected, "{a} overlaps {b}");
            assert_eq!(overlap(&b, &a), *overlap_expected, "{b} overlaps {a}");
            if *overlap_expected {
                let expected = if *includes_expected { &b } else { &a };
                assert_eq!(narrower(&a, &b), expected, "narrower of {a} and {b}");
            }
        }
    }

    #[test]
    fn scope_overlap() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "acme", true),
            ("acme", "acme", true),
            ("acme", "acme.berlin", true),
            ("acme.berlin", "acme", true),
            ("acme.berlin", "acme.paris", false),
            ("acme", "globex", false),
            ("acme.*", "acme.berlin.x", true),
            ("acme.berlin.x", "acme.*", true),
            ("acme.*.x", "acme.berlin.y", false),
            ("acme.*.x", "acme.*.y", false),
            ("acme.*.x", "acme.*", true),
        ];
        for (a, b, expected) in cases {
            assert_eq!(may_overlap(&scope(a), &scope(b)), *expected, "{a} ~ {b}");
            assert_eq!(may_overlap(&scope(b), &scope(a)), *expected, "{b} ~ {a}");
        }
    }

    /// name, caller, holder, role, scope, allowed
    type Case<'a> = (&'a str, &'a [Grant], &'a [Grant], &'a Role, &'a str, bool);

    #[test]
    fn grant_changes_table() {
        let org_admin = [grant("acme", vec![allow("all")])];
        let berlin_admin = [grant("acme.berlin", vec![allow("all")])];
        let member = [grant("acme.berlin", vec![allow("issuer-read")])];
        let elsewhere = [
            grant("acme.berlin", vec![allow("issuer-read")]),
            grant("globex", vec![allow("issuer-read")]),
        ];
        let self_restricted = [
            grant("acme", vec![allow("all")]),
            grant("acme.berlin", vec![deny("secret-*")]),
        ];
        let locked = role(vec![deny("all")]);
        let no_secrets = role(vec![deny("secret-read")]);
        let reader = role(vec![allow("issuer-read")]);
        let cases: &[Case] = &[
            (
                "a superior restricts a delegate",
                &org_admin,
                &berlin_admin,
                &locked,
                "acme.berlin",
                true,
            ),
            (
                "a delegate cannot restrict its superior",
                &berlin_admin,
                &org_admin,
                &locked,
                "acme.berlin",
                false,
            ),
            (
                "a delegate restricts a member",
                &berlin_admin,
                &member,
                &locked,
                "acme.berlin",
                true,
            ),
            (
                "a delegate gives its superior a plain role",
                &berlin_admin,
                &org_admin,
                &reader,
                "acme.berlin",
                true,
            ),
            (
                "a deny elsewhere leaves other rights alone",
                &berlin_admin,
                &elsewhere,
                &locked,
                "acme.berlin",
                true,
            ),
            (
                "a deny reaching another org's rights",
                &berlin_admin,
                &elsewhere,
                &locked,
                "*",
                false,
            ),
            (
                "a deny of one action needs it on the holder's scope",
                &berlin_admin,
                &org_admin,
                &role(vec![deny("x")]),
                "acme.berlin",
                false,
            ),
            (
                "the narrower pattern is enough",
                &[grant(
                    "acme",
                    vec![allow("grant-manage"), allow("secret-read")],
                )],
                &org_admin,
                &no_secrets,
                "acme.berlin",
                true,
            ),
            (
                "held on the holder's whole grant scope",
                &[grant(
                    "acme.berlin",
                    vec![allow("grant-manage"), allow("secret-read")],
                )],
                &org_admin,
                &no_secrets,
                "acme.berlin",
                false,
            ),
            (
                "a deny the caller is itself under",
                &[
                    grant("acme", vec![allow("grant-manage"), allow("secret-*")]),
                    grant("acme.vault", vec![deny("secret-read")]),
                ],
                &org_admin,
                &no_secrets,
                "acme.berlin",
                false,
            ),
            (
                "a holder cannot lift its own deny",
                &self_restricted,
                &self_restricted,
                &role(vec![deny("secret-*")]),
                "acme.berlin",
                false,
            ),
            (
                "no grant-manage, no change",
                &[grant("acme", vec![allow("issuer-*")])],
                &member,
                &reader,
                "acme.berlin",
                false,
            ),
            (
                "no escalation through a plain role",
                &[grant("acme", vec![allow("grant-manage")])],
                &member,
                &reader,
                "acme.berlin",
                false,
            ),
        ];
        for (name, caller, holder, role, on, expected) in cases {
            let caller = principal(caller);
            assert_eq!(
                may_change_grant(&caller, rights(holder), role, &scope(on)),
                *expected,
                "{name}"
            );
        }
    }

    #[test]
    fn super_admins_change_and_are_changed_only_by_super_admins() {
        let everything = [grant("*", vec![allow("all")])];
        let caller = principal(&everything);
        let superadmin = Rights {
            is_superadmin: true,
            grants: &[],
        };
        let plain = role(vec![allow("x")]);
        assert!(!may_change_grant(
            &caller,
            superadmin,
            &plain,
            &scope("acme")
        ));
        assert!(!may_act_on(&caller, superadmin));
        assert!(may_act_on(&caller, rights(&everything)));
        let mut boss = principal(&[]);
        boss.is_superadmin = true;
        assert!(may_change_grant(&boss, superadmin, &plain, &scope("acme")));
        assert!(may_change_grant(
            &boss,
            rights(&[]),
            &role(vec![allow("all")]),
            &scope("*")
        ));
        assert!(may_act_on(&boss, superadmin));
    }

    #[test]
    fn acting_on_a_principal_needs_all_it_holds() {
        let helpdesk = principal(&[
            grant("*", vec![allow("account-*")]),
            grant("acme", vec![allow("issuer-*")]),
            grant("acme.vault", vec![deny("issuer-key-*")]),
        ]);
        let cases: &[(&str, &[Grant], bool)] = &[
            ("holds nothing", &[], true),
            (
                "a deny-only grant",
                &[grant("globex", vec![deny("all")])],
                true,
            ),
            (
                "less",
                &[grant("acme.berlin", vec![allow("issuer-read")])],
                true,
            ),
            (
                "the same prefix",
                &[grant("acme", vec![allow("issuer-*")])],
                false,
            ),
            (
                "elsewhere",
                &[grant("globex", vec![allow("issuer-read")])],
                false,
            ),
            ("above", &[grant("*", vec![allow("issuer-read")])], false),
            ("wider", &[grant("acme.berlin", vec![allow("all")])], false),
            (
                "where the caller is denied",
                &[grant("acme", vec![allow("issuer-key-read")])],
                false,
            ),
            (
                "beside the caller's deny",
                &[grant("acme.paris", vec![allow("issuer-key-read")])],
                true,
            ),
            (
                "one right too many",
                &[
                    grant("acme", vec![allow("issuer-read")]),
                    grant("acme", vec![allow("audit-read")]),
                ],
                false,
            ),
        ];
        for (name, target, expected) in cases {
            assert_eq!(may_act_on(&helpdesk, rights(target)), *expected, "{name}");
        }
    }

    #[test]
    fn delegation_table() {
        let allow = |p| Permission::allow(pattern(p));
        let deny = |p| Permission::deny(pattern(p));
        let org_admin = vec![grant("acme", vec![allow("all")])];
        let issuer_ops = vec![grant("acme", vec![allow("issuer-*")])];
        let with_deny = vec![
            grant("acme", vec![allow("all")]),
            grant("acme.berlin.vault", vec![deny("secret-read")]),
        ];
        let cases: &[(&str, &[Grant], Role, &str, bool)] = &[
            (
                "holder of all may give all below",
                &org_admin,
                role(vec![allow("all")]),
                "acme.berlin",
                true,
            ),
            (
                "not outside its scope",
                &org_admin,
                role(vec![allow("x")]),
                "globex",
                false,
            ),
            (
                "not above its scope",
                &org_admin,
                role(vec![allow("x")]),
                "*",
                false,
            ),
            (
                "prefix holder gives an exact action",
                &issuer_ops,
                role(vec![allow("issuer-read")]),
                "acme",
                true,
            ),
            (
                "prefix holder gives a narrower prefix",
                &issuer_ops,
                role(vec![allow("issuer-key-*")]),
                "acme",
                true,
            ),
            (
                "prefix holder cannot give all",
                &issuer_ops,
                role(vec![allow("all")]),
                "acme",
                false,
            ),
            (
                "prefix holder cannot give a wider prefix",
                &issuer_ops,
                role(vec![allow("issuer*")]),
                "acme",
                false,
            ),
            (
                "every allow rule must be held",
                &issuer_ops,
                role(vec![allow("issuer-read"), allow("audit-read")]),
                "acme",
                false,
            ),
            (
                "deny rules of the role need nothing",
                &issuer_ops,
                role(vec![allow("issuer-read"), deny("all")]),
                "acme",
                true,
            ),
            (
                "a deny inside the subtree blocks",
                &with_deny,
                role(vec![allow("secret-read")]),
                "acme.berlin",
                false,
            ),
            (
                "a deny elsewhere does not",
                &with_deny,
                role(vec![allow("secret-read")]),
                "acme.paris",
                true,
            ),
            (
                "an unrelated deny does not",
                &with_deny,
                role(vec![allow("issuer-read")]),
                "acme.berlin",
                true,
            ),
            (
                "a wildcard scope is held through a covering grant",
                &org_admin,
                role(vec![allow("x")]),
                "acme.*.issuer",
                true,
            ),
            (
                "no grants, nothing to give",
                &[],
                role(vec![allow("x")]),
                "acme",
                false,
            ),
            (
                "no grants, a deny-only role restricts only",
                &[],
                role(vec![deny("x")]),
                "acme",
                true,
            ),
        ];
        for (name, grants, role, on, expected) in cases {
            assert_eq!(may_delegate(grants, role, &scope(on)), *expected, "{name}");
        }
    }
}

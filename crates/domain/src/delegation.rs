//! Delegated administration without escalation: a principal may hand out a role on a scope
//! only if it already holds, on that scope and everything beneath it, every action the role
//! allows.

use crate::action::ActionPattern;
use crate::grant::Grant;
use crate::role::{Effect, Role};
use crate::scope::ScopePath;

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
    role.permissions
        .iter()
        .filter(|rule| rule.effect == Effect::Allow)
        .all(|rule| holds(grants, &rule.pattern, scope))
}

/// Every action matching `pattern` is allowed to the holder of `grants` throughout `scope`.
fn holds(grants: &[Grant], pattern: &ActionPattern, scope: &ScopePath) -> bool {
    let allowed = grants.iter().any(|grant| {
        grant.scope.covers(scope)
            && grant
                .permissions
                .iter()
                .any(|rule| rule.effect == Effect::Allow && includes(&rule.pattern, pattern))
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
    use crate::grant::GrantId;
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

//! Authorization: the pure, total decision of whether grants allow an action on a scope.
//!
//! The rule (from the API contract): allowed iff some grant whose scope covers the target
//! has an `allow` rule matching the action, and no grant whose scope covers the target has a
//! `deny` rule matching it. The union is over every grant; no grant means denied. Super
//! admins bypass this entirely (see [`Principal`](crate::Principal)).
//!
//! [`evaluate`] is the reference implementation, a scan over the grants;
//! [`PermissionSet`] is a compiled form for many checks against the same grants, and agrees
//! with [`evaluate`] exactly.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::action::{Action, ActionPattern};
use crate::grant::{Grant, GrantId};
use crate::role::{Effect, Permission, RoleName};
use crate::scope::{MAX_SCOPE_DEPTH, ScopePath};

/// The outcome of an authorization check, with what decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The action is permitted.
    Allowed(Reason),
    /// The action is refused.
    Denied(Reason),
}

impl Decision {
    /// Whether the action is permitted.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed(_))
    }

    /// What decided.
    pub fn reason(&self) -> &Reason {
        match self {
            Decision::Allowed(reason) | Decision::Denied(reason) => reason,
        }
    }

    /// Consumes the decision, returning what decided.
    pub fn into_reason(self) -> Reason {
        match self {
            Decision::Allowed(reason) | Decision::Denied(reason) => reason,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allowed(reason) => write!(f, "allowed: {reason}"),
            Decision::Denied(reason) => write!(f, "denied: {reason}"),
        }
    }
}

/// Why a [`Decision`] came out as it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The principal is a super admin (allowed).
    SuperAdmin,
    /// This allow rule permitted the action and no deny rule applied (allowed). When several
    /// allow rules match, the first in grant order, then rule order.
    AllowedBy(Match),
    /// This deny rule forbade the action (denied). When several deny rules match, the first
    /// in grant order, then rule order.
    DeniedBy(Match),
    /// No grant covering the target has a rule matching the action (denied).
    NoMatchingGrant,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::SuperAdmin => f.write_str("super admin"),
            Reason::AllowedBy(m) | Reason::DeniedBy(m) => write!(f, "{m}"),
            Reason::NoMatchingGrant => f.write_str("no grant matches"),
        }
    }
}

/// The rule that decided, and the grant it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The grant holding the rule.
    pub grant: GrantId,
    /// The grant's role.
    pub role: RoleName,
    /// The grant's scope (which covers the target).
    pub scope: ScopePath,
    /// The matching rule.
    pub rule: Permission,
}

impl Match {
    fn of(grant: &Grant, rule: &Permission) -> Match {
        Match {
            grant: grant.id,
            role: grant.role.clone(),
            scope: grant.scope.clone(),
            rule: rule.clone(),
        }
    }
}

/// `rule 'deny issuer-*' of role 'ops' on scope 'acme' (grant <id>)`.
impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule '{}' of role '{}' on scope '{}' (grant {})",
            self.rule, self.role, self.scope, self.grant
        )
    }
}

/// Decides whether `grants` allow `action` on `target`.
///
/// Allowed iff some grant whose scope [covers](ScopePath::covers) `target` has an allow rule
/// matching `action`, and no grant whose scope covers `target` has a deny rule matching it.
/// With no grants, denied. Super admins are handled by
/// [`Principal::explain`](crate::Principal::explain), not here.
///
/// ```
/// use roster_domain::{
///     evaluate, Action, ActionPattern, Grant, GrantId, Permission, Reason, RoleName, ScopePath,
/// };
/// use uuid::Uuid;
///
/// let grant = |n: u128, scope: &str, rule: Permission| Grant {
///     id: GrantId::new(Uuid::from_u128(n)),
///     role: RoleName::parse("r").unwrap(),
///     scope: ScopePath::parse(scope).unwrap(),
///     permissions: vec![rule],
/// };
/// let sign = Action::parse("issuer-sign")?;
/// let grants = [
///     grant(1, "acme", Permission::allow(ActionPattern::All)),
///     grant(2, "acme.berlin", Permission::deny(ActionPattern::parse("issuer-*")?)),
/// ];
///
/// assert!(evaluate(&grants, &sign, &ScopePath::parse("acme.paris")?).is_allowed());
/// let decision = evaluate(&grants, &sign, &ScopePath::parse("acme.berlin.issuer")?);
/// assert!(!decision.is_allowed()); // deny wins
/// assert!(matches!(decision.reason(), Reason::DeniedBy(m) if m.grant == grants[1].id));
/// assert_eq!(
///     evaluate(&[], &sign, &ScopePath::root()).reason(),
///     &Reason::NoMatchingGrant
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn evaluate(grants: &[Grant], action: &Action, target: &ScopePath) -> Decision {
    let mut allowed: Option<Match> = None;
    for grant in grants.iter().filter(|g| g.scope.covers(target)) {
        for rule in grant.permissions.iter().filter(|r| r.matches(action)) {
            match rule.effect {
                Effect::Deny => return Decision::Denied(Reason::DeniedBy(Match::of(grant, rule))),
                Effect::Allow => {
                    if allowed.is_none() {
                        allowed = Some(Match::of(grant, rule));
                    }
                }
            }
        }
    }
    match allowed {
        Some(m) => Decision::Allowed(Reason::AllowedBy(m)),
        None => Decision::Denied(Reason::NoMatchingGrant),
    }
}

/// Grants compiled for fast checks: a trie over scope segments whose nodes hold the allow
/// and deny rules of the grants made at that scope.
///
/// [`PermissionSet::allows`] visits only the nodes along the target's path (a `*` segment in
/// a grant is a separate branch, so at most `2^depth` nodes), costing
/// O(scope depth × rules at the visited nodes) rather than O(all grants). It agrees exactly
/// with [`evaluate`].
///
/// ```
/// use roster_domain::{
///     evaluate, Action, ActionPattern, Grant, GrantId, PermissionSet, Permission, RoleName,
///     ScopePath,
/// };
/// use uuid::Uuid;
///
/// let grants = vec![Grant {
///     id: GrantId::new(Uuid::nil()),
///     role: RoleName::parse("issuer-operator")?,
///     scope: ScopePath::parse("acme.*.issuer")?,
///     permissions: vec![Permission::allow(ActionPattern::parse("issuer-*")?)],
/// }];
/// let set = PermissionSet::compile(&grants);
/// let sign = Action::parse("issuer-sign")?;
/// let target = ScopePath::parse("acme.berlin.issuer")?;
///
/// assert!(set.allows(&sign, &target));
/// assert!(!set.allows(&sign, &ScopePath::parse("acme.berlin")?));
/// assert_eq!(set.explain(&sign, &target), evaluate(&grants, &sign, &target));
/// assert!(PermissionSet::superadmin().allows(&sign, &ScopePath::root()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PermissionSet {
    superadmin: bool,
    root: Node,
    /// Kept for [`PermissionSet::explain`], which scans for the deciding rule.
    grants: Vec<Grant>,
}

/// One scope in the trie: the rules granted exactly here, and the scopes beneath.
#[derive(Debug, Clone, Default)]
struct Node {
    allow: RuleSet,
    deny: RuleSet,
    /// Children by concrete segment name.
    children: HashMap<String, Node>,
    /// The child for a `*` segment, which matches any one concrete segment.
    any: Option<Box<Node>>,
}

/// The action patterns of one effect at one node.
#[derive(Debug, Clone, Default)]
struct RuleSet {
    all: bool,
    exact: HashSet<Action>,
    prefixes: Vec<String>,
}

impl RuleSet {
    fn insert(&mut self, pattern: &ActionPattern) {
        match pattern {
            ActionPattern::All => self.all = true,
            ActionPattern::Exact(action) => {
                self.exact.insert(action.clone());
            }
            ActionPattern::Prefix(prefix) => {
                if !self.prefixes.contains(prefix) {
                    self.prefixes.push(prefix.clone());
                }
            }
        }
    }

    fn matches(&self, action: &Action) -> bool {
        self.all
            || self.exact.contains(action)
            || self
                .prefixes
                .iter()
                .any(|p| action.as_str().starts_with(p.as_str()))
    }
}

impl Node {
    /// Walks the nodes covering `path` (depth first, this node first): whether one denies
    /// `action`, setting `allowed` when one allows it. Stops at the first deny.
    fn denies(&self, action: &Action, path: &[&str], allowed: &mut bool) -> bool {
        if self.deny.matches(action) {
            return true;
        }
        *allowed = *allowed || self.allow.matches(action);
        let Some((segment, rest)) = path.split_first() else {
            return false;
        };
        // A `*` segment in the target is never a key of `children`, so only the grant's `*`
        // branch follows it, as `ScopePath::covers` specifies.
        self.children
            .get(*segment)
            .is_some_and(|child| child.denies(action, rest, allowed))
            || self
                .any
                .as_ref()
                .is_some_and(|child| child.denies(action, rest, allowed))
    }

    fn descend(&mut self, segment: &str) -> &mut Node {
        if segment == "*" {
            self.any.get_or_insert_with(Box::default)
        } else {
            self.children.entry(segment.to_owned()).or_default()
        }
    }
}

impl PermissionSet {
    /// A set that allows nothing.
    pub fn empty() -> PermissionSet {
        PermissionSet::default()
    }

    /// A set that allows every action on every scope, for super admins.
    pub fn superadmin() -> PermissionSet {
        PermissionSet {
            superadmin: true,
            ..PermissionSet::default()
        }
    }

    /// Compiles `grants` into a trie.
    pub fn compile(grants: &[Grant]) -> PermissionSet {
        let mut root = Node::default();
        for grant in grants {
            let node = grant
                .scope
                .segments()
                .fold(&mut root, |node, segment| node.descend(segment));
            for rule in &grant.permissions {
                match rule.effect {
                    Effect::Allow => node.allow.insert(&rule.pattern),
                    Effect::Deny => node.deny.insert(&rule.pattern),
                }
            }
        }
        PermissionSet {
            superadmin: false,
            root,
            grants: grants.to_vec(),
        }
    }

    /// Whether this is the super-admin set.
    pub fn is_superadmin(&self) -> bool {
        self.superadmin
    }

    /// The grants the set was compiled from (empty for [`PermissionSet::superadmin`]).
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Whether the grants allow `action` on `target`; the same answer as [`evaluate`].
    pub fn allows(&self, action: &Action, target: &ScopePath) -> bool {
        if self.superadmin {
            return true;
        }
        // The target's segments on the stack: a check allocates nothing.
        let mut path = [""; MAX_SCOPE_DEPTH];
        for (slot, segment) in path.iter_mut().zip(target.segments()) {
            *slot = segment;
        }
        let mut allowed = false;
        let denied = self
            .root
            .denies(action, &path[..target.depth()], &mut allowed);
        !denied && allowed
    }

    /// The decision with what decided it; the same as [`evaluate`] over the compiled grants
    /// (or [`Reason::SuperAdmin`] for the super-admin set).
    pub fn explain(&self, action: &Action, target: &ScopePath) -> Decision {
        if self.superadmin {
            return Decision::Allowed(Reason::SuperAdmin);
        }
        evaluate(&self.grants, action, target)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;

    fn scope(s: &str) -> ScopePath {
        ScopePath::parse(s).unwrap()
    }

    fn action(s: &str) -> Action {
        Action::parse(s).unwrap()
    }

    /// A grant from `"allow all"`, `"deny issuer-*"`-style rules.
    fn grant(n: u128, scope_path: &str, rules: &[&str]) -> Grant {
        let permissions = rules
            .iter()
            .map(|rule| {
                let (effect, pattern) = rule.split_once(' ').unwrap();
                Permission {
                    pattern: ActionPattern::parse(pattern).unwrap(),
                    effect: Effect::parse(effect).unwrap(),
                }
            })
            .collect();
        Grant {
            id: GrantId::new(Uuid::from_u128(n)),
            role: RoleName::parse(&format!("role-{n}")).unwrap(),
            scope: scope(scope_path),
            permissions,
        }
    }

    /// Evaluates one cell both ways and checks they agree.
    fn decide(grants: &[Grant], action_name: &str, target: &str) -> bool {
        let (action, target) = (action(action_name), scope(target));
        let decision = evaluate(grants, &action, &target);
        let set = PermissionSet::compile(grants);
        assert_eq!(set.allows(&action, &target), decision.is_allowed());
        assert_eq!(set.explain(&action, &target), decision);
        decision.is_allowed()
    }

    #[test]
    fn evaluation_table() {
        #[rustfmt::skip]
        let rows: &[(&str, &[Grant], &str, &str, bool)] = &[
            // (what, grants, action, target, allowed)
            ("same scope", &[grant(1, "acme", &["allow all"])], "x", "acme", true),
            ("ancestor covers descendant", &[grant(1, "acme", &["allow all"])], "x", "acme.berlin.issuer", true),
            ("no upward reach", &[grant(1, "acme.berlin", &["allow all"])], "x", "acme", false),
            ("no upward reach to the root", &[grant(1, "acme", &["allow all"])], "x", "*", false),
            ("no sideways reach", &[grant(1, "acme.berlin", &["allow all"])], "x", "acme.paris", false),
            ("no sideways reach by name prefix", &[grant(1, "acme", &["allow all"])], "x", "acmecorp", false),
            ("root covers an organization", &[grant(1, "*", &["allow all"])], "x", "acme", true),
            ("root covers the root", &[grant(1, "*", &["allow account-read"])], "account-read", "*", true),
            ("organization does not cover the root", &[grant(1, "acme", &["allow account-read"])], "account-read", "*", false),
            ("* segment matches one segment", &[grant(1, "acme.*.issuer", &["allow all"])], "x", "acme.berlin.issuer", true),
            ("* segment covers beneath", &[grant(1, "acme.*.issuer", &["allow all"])], "x", "acme.berlin.issuer.keys", true),
            ("* segment needs the segment", &[grant(1, "acme.*.issuer", &["allow all"])], "x", "acme.berlin", false),
            ("* segment keeps later segments", &[grant(1, "acme.*.issuer", &["allow all"])], "x", "acme.berlin.dev", false),
            ("all matches any action", &[grant(1, "acme", &["allow all"])], "anything:at.all", "acme", true),
            ("prefix matches", &[grant(1, "acme", &["allow issuer-*"])], "issuer-sign", "acme", true),
            ("prefix needs the whole prefix", &[grant(1, "acme", &["allow issuer-*"])], "issuer", "acme", false),
            ("prefix does not match others", &[grant(1, "acme", &["allow issuer-*"])], "account-read", "acme", false),
            ("exact matches", &[grant(1, "acme", &["allow account-read"])], "account-read", "acme", true),
            ("exact is exact", &[grant(1, "acme", &["allow account-read"])], "account-reader", "acme", false),
            ("deny wins within a role", &[grant(1, "acme", &["allow all", "deny issuer-*"])], "issuer-sign", "acme", false),
            ("deny leaves other actions", &[grant(1, "acme", &["allow all", "deny issuer-*"])], "issuer", "acme", true),
            ("deny wins across grants", &[grant(1, "acme", &["allow all"]), grant(2, "acme", &["deny issuer-sign"])], "issuer-sign", "acme", false),
            ("deny wins whatever the order", &[grant(2, "acme", &["deny issuer-sign"]), grant(1, "acme", &["allow all"])], "issuer-sign", "acme", false),
            ("deny at an ancestor wins", &[grant(1, "acme.berlin", &["allow all"]), grant(2, "acme", &["deny issuer-*"])], "issuer-sign", "acme.berlin.issuer", false),
            ("deny at the root wins", &[grant(1, "acme", &["allow all"]), grant(2, "*", &["deny issuer-sign"])], "issuer-sign", "acme", false),
            ("deny beneath does not reach up", &[grant(1, "acme", &["allow all"]), grant(2, "acme.berlin", &["deny all"])], "x", "acme", true),
            ("deny beneath does not reach sideways", &[grant(1, "acme", &["allow all"]), grant(2, "acme.berlin", &["deny all"])], "x", "acme.paris", true),
            ("deny beneath applies beneath", &[grant(1, "acme", &["allow all"]), grant(2, "acme.berlin", &["deny all"])], "x", "acme.berlin.dev", false),
            ("deny through a * segment", &[grant(1, "acme", &["allow all"]), grant(2, "acme.*", &["deny all"])], "x", "acme.berlin", false),
            ("* segment deny spares the parent", &[grant(1, "acme", &["allow all"]), grant(2, "acme.*", &["deny all"])], "x", "acme", true),
            ("deny alone allows nothing", &[grant(1, "acme", &["deny issuer-*"])], "account-read", "acme", false),
            ("union across roles, first", &[grant(1, "acme", &["allow account-read"]), grant(2, "acme.berlin", &["allow issuer-*"])], "account-read", "acme.berlin", true),
            ("union across roles, second", &[grant(1, "acme", &["allow account-read"]), grant(2, "acme.berlin", &["allow issuer-*"])], "issuer-sign", "acme.berlin", true),
            ("union stays within each scope", &[grant(1, "acme", &["allow account-read"]), grant(2, "acme.berlin", &["allow issuer-*"])], "issuer-sign", "acme", false),
            ("no grants", &[], "account-read", "*", false),
            ("a grant without rules", &[grant(1, "*", &[])], "account-read", "*", false),
        ];
        for (what, grants, action, target, expected) in rows {
            assert_eq!(
                decide(grants, action, target),
                *expected,
                "{what}: {action} on {target}"
            );
        }
    }

    #[test]
    fn reasons_name_the_deciding_rule() {
        let grants = [
            grant(1, "acme", &["allow issuer-*"]),
            grant(2, "acme", &["allow all"]),
            grant(
                3,
                "acme.berlin",
                &["deny issuer-key-delete", "deny issuer-*"],
            ),
        ];
        let decision = evaluate(&grants, &action("issuer-sign"), &scope("acme.paris"));
        let Decision::Allowed(Reason::AllowedBy(m)) = &decision else {
            panic!("{decision:?}");
        };
        assert_eq!(m.grant, grants[0].id);
        assert_eq!(m.role.as_str(), "role-1");
        assert_eq!(m.scope, scope("acme"));
        assert_eq!(m.rule.to_string(), "allow issuer-*");

        let decision = evaluate(&grants, &action("issuer-key-delete"), &scope("acme.berlin"));
        let Decision::Denied(Reason::DeniedBy(m)) = &decision else {
            panic!("{decision:?}");
        };
        assert_eq!(m.grant, grants[2].id);
        assert_eq!(m.rule.to_string(), "deny issuer-key-delete");
        assert_eq!(
            decision.to_string(),
            format!(
                "denied: rule 'deny issuer-key-delete' of role 'role-3' on scope 'acme.berlin' (grant {})",
                grants[2].id
            )
        );

        let decision = evaluate(&grants, &action("x"), &scope("other"));
        assert_eq!(decision, Decision::Denied(Reason::NoMatchingGrant));
        assert_eq!(decision.to_string(), "denied: no grant matches");
        assert_eq!(decision.into_reason(), Reason::NoMatchingGrant);
    }

    #[test]
    fn superadmin_set_allows_everything() {
        let set = PermissionSet::superadmin();
        assert!(set.is_superadmin());
        assert!(set.allows(&action("anything"), &ScopePath::root()));
        assert!(set.allows(&action("x"), &scope("acme.berlin")));
        assert_eq!(
            set.explain(&action("x"), &scope("acme")),
            Decision::Allowed(Reason::SuperAdmin)
        );
        let empty = PermissionSet::empty();
        assert!(!empty.is_superadmin());
        assert!(!empty.allows(&action("x"), &ScopePath::root()));
        assert!(empty.grants().is_empty());
    }

    // ---- properties ----------------------------------------------------------------------

    const SEGMENTS: [&str; 3] = ["acme", "berlin", "x"];
    const ACTIONS: [&str; 6] = [
        "issuer-sign",
        "issuer-read",
        "issuer",
        "account-read",
        "a",
        "ab",
    ];
    const PREFIXES: [&str; 4] = ["issuer-", "issuer", "a", "account-"];

    fn concrete_scope() -> impl Strategy<Value = ScopePath> {
        prop::collection::vec(prop::sample::select(&SEGMENTS[..]), 0..=4).prop_map(|segments| {
            if segments.is_empty() {
                ScopePath::root()
            } else {
                ScopePath::parse(&segments.join(".")).unwrap()
            }
        })
    }

    /// Grant scopes: concrete ones, and ones with `*` in any segment but the first.
    fn grant_scope() -> impl Strategy<Value = ScopePath> {
        let segment = prop_oneof![3 => prop::sample::select(&SEGMENTS[..]), 1 => Just("*")];
        (
            prop::sample::select(&SEGMENTS[..]),
            prop::collection::vec(segment, 0..=3),
            prop::bool::weighted(0.15),
        )
            .prop_map(|(first, rest, root)| {
                if root {
                    return ScopePath::root();
                }
                let mut segments = vec![first];
                segments.extend(rest);
                ScopePath::parse(&segments.join(".")).unwrap()
            })
    }

    fn arb_action() -> impl Strategy<Value = Action> {
        prop::sample::select(&ACTIONS[..]).prop_map(|a| Action::parse(a).unwrap())
    }

    fn pattern() -> impl Strategy<Value = ActionPattern> {
        prop_oneof![
            1 => Just(ActionPattern::All),
            3 => arb_action().prop_map(ActionPattern::Exact),
            2 => prop::sample::select(&PREFIXES[..])
                .prop_map(|p| ActionPattern::Prefix(p.to_owned())),
        ]
    }

    fn rules(effect: Option<Effect>) -> impl Strategy<Value = Vec<Permission>> {
        let effect = match effect {
            Some(e) => Just(e).boxed(),
            None => prop_oneof![3 => Just(Effect::Allow), 1 => Just(Effect::Deny)].boxed(),
        };
        prop::collection::vec(
            (pattern(), effect).prop_map(|(pattern, effect)| Permission { pattern, effect }),
            0..=3,
        )
    }

    fn arb_grant(effect: Option<Effect>) -> impl Strategy<Value = Grant> {
        (any::<u128>(), grant_scope(), rules(effect)).prop_map(|(n, scope, permissions)| Grant {
            id: GrantId::new(Uuid::from_u128(n)),
            role: RoleName::parse("generated").unwrap(),
            scope,
            permissions,
        })
    }

    fn grants() -> impl Strategy<Value = Vec<Grant>> {
        prop::collection::vec(arb_grant(None), 0..=6)
    }

    fn with(grants: &[Grant], extra: Grant) -> Vec<Grant> {
        let mut all = grants.to_vec();
        all.push(extra);
        all
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn compiled_set_agrees_with_evaluate(
            grants in grants(),
            action in arb_action(),
            target in concrete_scope(),
        ) {
            let decision = evaluate(&grants, &action, &target);
            let set = PermissionSet::compile(&grants);
            prop_assert_eq!(set.allows(&action, &target), decision.is_allowed());
            prop_assert_eq!(set.explain(&action, &target), decision);
        }

        #[test]
        fn compiled_set_agrees_on_wildcard_targets_too(
            grants in grants(),
            action in arb_action(),
            target in grant_scope(),
        ) {
            let set = PermissionSet::compile(&grants);
            prop_assert_eq!(
                set.allows(&action, &target),
                evaluate(&grants, &action, &target).is_allowed()
            );
        }

        #[test]
        fn adding_an_allow_grant_never_removes_a_permission(
            grants in grants(),
            extra in arb_grant(Some(Effect::Allow)),
            action in arb_action(),
            target in concrete_scope(),
        ) {
            if evaluate(&grants, &action, &target).is_allowed() {
                prop_assert!(evaluate(&with(&grants, extra), &action, &target).is_allowed());
            }
        }

        #[test]
        fn adding_a_deny_grant_never_adds_a_permission(
            grants in grants(),
            extra in arb_grant(Some(Effect::Deny)),
            action in arb_action(),
            target in concrete_scope(),
        ) {
            if !evaluate(&grants, &action, &target).is_allowed() {
                prop_assert!(!evaluate(&with(&grants, extra), &action, &target).is_allowed());
            }
        }

        #[test]
        fn a_grant_never_reaches_outside_its_subtree(
            grants in grants(),
            extra in arb_grant(None),
            action in arb_action(),
            target in concrete_scope(),
        ) {
            prop_assume!(!extra.scope.covers(&target));
            prop_assert_eq!(
                evaluate(&with(&grants, extra), &action, &target),
                evaluate(&grants, &action, &target)
            );
        }

        #[test]
        fn a_covering_deny_always_wins(
            grants in grants(),
            action in arb_action(),
            target in concrete_scope(),
        ) {
            let denied = grants.iter().any(|g| {
                g.scope.covers(&target)
                    && g.permissions.iter().any(|p| p.effect == Effect::Deny && p.matches(&action))
            });
            if denied {
                prop_assert!(!evaluate(&grants, &action, &target).is_allowed());
            }
        }

        #[test]
        fn a_grant_never_reaches_a_parent(
            grant in arb_grant(Some(Effect::Allow)),
            action in arb_action(),
        ) {
            let mut parent = grant.scope.parent();
            while let Some(scope) = parent {
                prop_assert!(!evaluate(std::slice::from_ref(&grant), &action, &scope).is_allowed());
                parent = scope.parent();
            }
        }
    }
}

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
use crate::scope::ScopePath;

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
        let mut allowed = false;
        let mut frontier: Vec<&Node> = vec![&self.root];
        let mut next: Vec<&Node> = Vec::new();
        let mut segments = target.segments();
        loop {
            for node in &frontier {
                if node.deny.matches(action) {
                    return false;
                }
                allowed = allowed || node.allow.matches(action);
            }
            let Some(segment) = segments.next() else {
                break;
            };
            next.clear();
            for node in &frontier {
                // A `*` segment in the target is never a key of `children`, so only the
                // grant's `*` branch follows it, as `ScopePath::covers` specifies.
                if let Some(child) = node.children.get(segment) {
                    next.push(child);
                }
                if let Some(child) = &node.any {
                    next.push(child);
                }
            }
            if next.is_empty() {
                break;
            }
            std::mem::swap(&mut frontier, &mut next);
        }
        allowed
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

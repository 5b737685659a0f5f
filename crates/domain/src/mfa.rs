//! Multi-factor rules: who must have a second factor, which grants are dangerous enough to
//! ask for a fresh one, and when a second factor counts as fresh. Pure logic; the
//! application applies it to sessions and requests.

use chrono::{DateTime, Duration, Utc};

use crate::{Action, BuiltinAction, Effect, Grant, Permission};

/// Who must enrol a second factor (`mfa.required_for_superadmins`,
/// `mfa.required_for_actions`). Both off by default, so a first run stays simple.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MfaPolicy {
    /// Super admins must enrol.
    pub required_for_superadmins: bool,
    /// An account holding an allow rule that matches any of these actions, on any scope,
    /// must enrol.
    pub required_for_actions: Vec<Action>,
}

impl MfaPolicy {
    /// Whether the policy asks a principal with these rights for a second factor.
    ///
    /// ```
    /// use roster_domain::mfa::MfaPolicy;
    /// use roster_domain::{Action, ActionPattern, Grant, GrantId, Permission, RoleName, ScopePath};
    /// use uuid::Uuid;
    ///
    /// let policy = MfaPolicy {
    ///     required_for_superadmins: true,
    ///     required_for_actions: vec![Action::parse("grant-manage")?],
    /// };
    /// let grant = |pattern: &str| Grant {
    ///     id: GrantId::new(Uuid::nil()),
    ///     role: RoleName::parse("r").unwrap(),
    ///     scope: ScopePath::parse("acme").unwrap(),
    ///     permissions: vec![Permission::allow(ActionPattern::parse(pattern).unwrap())],
    /// };
    /// assert!(policy.covers(true, &[]));
    /// assert!(policy.covers(false, &[grant("grant-*")]));
    /// assert!(!policy.covers(false, &[grant("credential-issue")]));
    /// assert!(!MfaPolicy::default().covers(true, &[grant("all")]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn covers(&self, is_superadmin: bool, grants: &[Grant]) -> bool {
        (is_superadmin && self.required_for_superadmins)
            || self.required_for_actions.iter().any(|action| {
                grants
                    .iter()
                    .flat_map(|grant| &grant.permissions)
                    .any(|rule| rule.effect == Effect::Allow && rule.pattern.matches(action))
            })
    }

    /// Whether the policy asks anything of anyone.
    pub fn is_off(&self) -> bool {
        !self.required_for_superadmins && self.required_for_actions.is_empty()
    }
}

/// Whether granting a role with these rules needs a fresh second factor: it allows
/// `grant-manage` (which `all` and `grant-*` do too), so its holder could hand out anything.
pub fn grant_needs_step_up(permissions: &[Permission]) -> bool {
    let grant_manage = BuiltinAction::GrantManage.action();
    permissions
        .iter()
        .any(|rule| rule.effect == Effect::Allow && rule.pattern.matches(&grant_manage))
}

/// Whether a second factor presented at `presented_at` still counts at `now` for a step-up
/// window of `window`.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use roster_domain::mfa::second_factor_is_fresh;
///
/// let now = Utc.with_ymd_and_hms(2026, 12, 8, 12, 0, 0).unwrap();
/// let window = Duration::minutes(15);
/// assert!(second_factor_is_fresh(Some(now - Duration::minutes(14)), now, window));
/// assert!(!second_factor_is_fresh(Some(now - Duration::minutes(15)), now, window));
/// assert!(!second_factor_is_fresh(None, now, window));
/// ```
pub fn second_factor_is_fresh(
    presented_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    window: Duration,
) -> bool {
    presented_at.is_some_and(|at| now < at + window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ActionPattern;

    fn allow(pattern: &str) -> Permission {
        Permission::allow(ActionPattern::parse(pattern).unwrap())
    }

    #[test]
    fn granting_what_can_grant_needs_a_step_up() {
        assert!(grant_needs_step_up(&[allow("all")]));
        assert!(grant_needs_step_up(&[allow("grant-manage")]));
        assert!(grant_needs_step_up(&[
            allow("credential-issue"),
            allow("grant-*")
        ]));
        assert!(!grant_needs_step_up(&[allow("credential-issue")]));
        assert!(!grant_needs_step_up(&[Permission::deny(
            ActionPattern::parse("grant-manage").unwrap()
        )]));
        assert!(!grant_needs_step_up(&[]));
    }

    #[test]
    fn a_deny_rule_does_not_bring_an_account_under_the_policy() {
        let policy = MfaPolicy {
            required_for_superadmins: false,
            required_for_actions: vec![Action::parse("role-manage").unwrap()],
        };
        let grant = Grant {
            id: crate::GrantId::new(uuid::Uuid::nil()),
            role: crate::RoleName::parse("r").unwrap(),
            scope: crate::ScopePath::parse("acme").unwrap(),
            permissions: vec![Permission::deny(ActionPattern::parse("all").unwrap())],
        };
        assert!(!policy.covers(false, &[grant]));
        assert!(!policy.covers(true, &[]));
    }
}

//! Roles: named sets of allow and deny rules over actions.

use std::fmt;
use std::str::FromStr;

use crate::action::{Action, ActionPattern};
use crate::grammar::{IdentProblem, check_ident, is_name_char};

/// The longest role name accepted, in characters.
pub const MAX_ROLE_NAME_LENGTH: usize = 64;

/// A role's name: `[a-z0-9][a-z0-9_-]{0,63}`, e.g. `tenant-admin`.
///
/// ```
/// use roster_domain::RoleName;
///
/// assert_eq!(RoleName::parse("tenant-admin")?.as_str(), "tenant-admin");
/// assert!(RoleName::parse("Tenant Admin").is_err());
/// # Ok::<(), roster_domain::RoleNameError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleName(String);

/// Why a role name is refused. Messages never echo the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleNameError {
    /// The input is empty.
    #[error("role name is empty")]
    Empty,
    /// More than [`MAX_ROLE_NAME_LENGTH`] characters.
    #[error("role name is longer than {max} characters")]
    TooLong {
        /// [`MAX_ROLE_NAME_LENGTH`].
        max: usize,
    },
    /// The first character is not a lower-case ASCII letter or digit.
    #[error("role name must start with a lower-case letter or a digit")]
    InvalidFirstCharacter,
    /// A character other than `a-z`, `0-9`, `_`, `-` at this zero-based position.
    #[error(
        "role name contains an invalid character at position {position} (allowed: a-z, 0-9, '_', '-')"
    )]
    InvalidCharacter {
        /// Zero-based character position.
        position: usize,
    },
}

impl RoleNameError {
    /// The stable machine-readable code: always `"invalid_role_name"`.
    pub fn code(&self) -> &'static str {
        "invalid_role_name"
    }
}

impl RoleName {
    /// Validates a role name.
    pub fn parse(input: &str) -> Result<RoleName, RoleNameError> {
        check_ident(input, MAX_ROLE_NAME_LENGTH, is_name_char).map_err(
            |problem| match problem {
                IdentProblem::Empty => RoleNameError::Empty,
                IdentProblem::TooLong => RoleNameError::TooLong {
                    max: MAX_ROLE_NAME_LENGTH,
                },
                IdentProblem::InvalidFirst => RoleNameError::InvalidFirstCharacter,
                IdentProblem::InvalidChar { position } => {
                    RoleNameError::InvalidCharacter { position }
                }
            },
        )?;
        Ok(RoleName(input.to_owned()))
    }

    /// The role name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for RoleName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RoleName {
    type Err = RoleNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RoleName::parse(s)
    }
}

/// Whether a rule grants or forbids. A matching deny anywhere wins over every allow.
///
/// ```
/// use roster_domain::Effect;
///
/// assert_eq!(Effect::parse("deny"), Some(Effect::Deny));
/// assert_eq!(Effect::Allow.as_str(), "allow");
/// assert_eq!(Effect::default(), Effect::Allow);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Effect {
    /// The rule permits the matching actions (the default when a role omits the effect).
    #[default]
    Allow,
    /// The rule forbids the matching actions, whatever other grants allow.
    Deny,
}

impl Effect {
    /// The wire form: `"allow"` or `"deny"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }

    /// Parses the exact wire form; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Effect::Allow),
            "deny" => Some(Effect::Deny),
            _ => None,
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule of a role: an action pattern and its effect.
///
/// ```
/// use roster_domain::{Action, ActionPattern, Effect, Permission};
///
/// let rule = Permission::deny(ActionPattern::parse("issuer-*")?);
/// assert_eq!(rule.effect, Effect::Deny);
/// assert!(rule.matches(&Action::parse("issuer-sign")?));
/// assert_eq!(rule.to_string(), "deny issuer-*");
/// # Ok::<(), roster_domain::ActionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Permission {
    /// Which actions the rule applies to.
    pub pattern: ActionPattern,
    /// Allow or deny.
    pub effect: Effect,
}

impl Permission {
    /// An allow rule.
    pub fn allow(pattern: ActionPattern) -> Permission {
        Permission {
            pattern,
            effect: Effect::Allow,
        }
    }

    /// A deny rule.
    pub fn deny(pattern: ActionPattern) -> Permission {
        Permission {
            pattern,
            effect: Effect::Deny,
        }
    }

    /// Whether the rule's pattern matches `action` (whatever the effect).
    pub fn matches(&self, action: &Action) -> bool {
        self.pattern.matches(action)
    }
}

/// `<effect> <pattern>`, e.g. `allow all` or `deny issuer-*`.
impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.effect, self.pattern)
    }
}

/// A named set of rules, granted to principals on scopes through [`Grant`](crate::Grant)s.
///
/// ```
/// use roster_domain::{ActionPattern, Permission, Role, RoleName};
///
/// let role = Role {
///     name: RoleName::parse("issuer-operator")?,
///     description: "Runs the issuer, cannot delete keys".to_owned(),
///     permissions: vec![
///         Permission::allow(ActionPattern::parse("issuer-*")?),
///         Permission::deny(ActionPattern::parse("issuer-key-delete")?),
///     ],
/// };
/// assert_eq!(role.permissions.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The unique name.
    pub name: RoleName,
    /// Free text for administrators.
    pub description: String,
    /// The rules, in the order they were given.
    pub permissions: Vec<Permission>,
}

impl Role {
    /// The actions patterns this role allows (its `allow` rules), e.g. to check that a
    /// caller granting the role holds them itself (no escalation).
    pub fn allowed_patterns(&self) -> impl Iterator<Item = &ActionPattern> + '_ {
        self.permissions
            .iter()
            .filter(|p| p.effect == Effect::Allow)
            .map(|p| &p.pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_name_grammar() {
        let max = "r".repeat(64);
        for ok in ["tenant-admin", "a", "0", "snake_case", "a-", max.as_str()] {
            assert_eq!(RoleName::parse(ok).unwrap().to_string(), ok);
        }
        let over = "r".repeat(65);
        let bad: &[(&str, RoleNameError)] = &[
            ("", RoleNameError::Empty),
            (&over, RoleNameError::TooLong { max: 64 }),
            ("Admin", RoleNameError::InvalidFirstCharacter),
            ("-admin", RoleNameError::InvalidFirstCharacter),
            (
                "tenant.admin",
                RoleNameError::InvalidCharacter { position: 6 },
            ),
            (
                "tenant:admin",
                RoleNameError::InvalidCharacter { position: 6 },
            ),
            (
                "tenant admin",
                RoleNameError::InvalidCharacter { position: 6 },
            ),
            ("admin*", RoleNameError::InvalidCharacter { position: 5 }),
        ];
        for (input, expected) in bad {
            assert_eq!(RoleName::parse(input).as_ref(), Err(expected), "{input:?}");
            assert_eq!(expected.code(), "invalid_role_name");
        }
    }

    #[test]
    fn effects() {
        for effect in [Effect::Allow, Effect::Deny] {
            assert_eq!(Effect::parse(effect.as_str()), Some(effect));
        }
        assert_eq!(Effect::parse("Allow"), None);
        assert_eq!(Effect::parse(""), None);
    }

    #[test]
    fn permissions() {
        let all = Permission::allow(ActionPattern::All);
        assert_eq!(all.effect, Effect::Allow);
        assert_eq!(all.to_string(), "allow all");
        let deny = Permission::deny(ActionPattern::parse("issuer-*").unwrap());
        assert_eq!(deny.effect, Effect::Deny);
        assert!(deny.matches(&Action::parse("issuer-sign").unwrap()));
        assert!(!deny.matches(&Action::parse("account-read").unwrap()));

        let role = Role {
            name: RoleName::parse("ops").unwrap(),
            description: String::new(),
            permissions: vec![all.clone(), deny],
        };
        assert_eq!(
            role.allowed_patterns().collect::<Vec<_>>(),
            [&ActionPattern::All]
        );
    }
}

//! Actions (what a principal wants to do) and the patterns roles use to match them.

use std::fmt;
use std::str::FromStr;

use crate::grammar::{IdentProblem, check_ident, is_action_char};

/// The longest action accepted, in characters.
pub const MAX_ACTION_LENGTH: usize = 64;

/// An action name: `[a-z0-9][a-z0-9:._-]{0,63}`, e.g. `account-read` or `issuer:sign`.
///
/// ```
/// use roster_domain::Action;
///
/// let action = Action::parse("issuer-sign")?;
/// assert_eq!(action.as_str(), "issuer-sign");
/// assert!(Action::parse("Issuer").is_err());
/// assert!(Action::parse(&"a".repeat(65)).is_err());
/// # Ok::<(), roster_domain::ActionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Action(String);

/// Why an action or action pattern is refused. Messages never echo the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// The input is empty.
    #[error("action is empty")]
    Empty,
    /// More than [`MAX_ACTION_LENGTH`] characters.
    #[error("action is longer than {max} characters")]
    TooLong {
        /// [`MAX_ACTION_LENGTH`].
        max: usize,
    },
    /// The first character is not a lower-case ASCII letter or digit.
    #[error("action must start with a lower-case letter or a digit")]
    InvalidFirstCharacter,
    /// A character other than `a-z`, `0-9`, `:`, `.`, `_`, `-` at this zero-based position.
    #[error(
        "action contains an invalid character at position {position} (allowed: a-z, 0-9, ':', '.', '_', '-')"
    )]
    InvalidCharacter {
        /// Zero-based character position.
        position: usize,
    },
    /// A pattern `*` with nothing before it (use `all` to match every action).
    #[error("action pattern '*' needs a prefix before the '*' (use 'all' to match every action)")]
    EmptyPrefix,
}

impl ActionError {
    /// The stable machine-readable code: always `"invalid_action"`.
    pub fn code(&self) -> &'static str {
        "invalid_action"
    }
}

fn action_error(problem: IdentProblem) -> ActionError {
    match problem {
        IdentProblem::Empty => ActionError::Empty,
        IdentProblem::TooLong => ActionError::TooLong {
            max: MAX_ACTION_LENGTH,
        },
        IdentProblem::InvalidFirst => ActionError::InvalidFirstCharacter,
        IdentProblem::InvalidChar { position } => ActionError::InvalidCharacter { position },
    }
}

impl Action {
    /// Validates an action name.
    pub fn parse(input: &str) -> Result<Action, ActionError> {
        check_ident(input, MAX_ACTION_LENGTH, is_action_char).map_err(action_error)?;
        Ok(Action(input.to_owned()))
    }

    /// The action name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Action {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Action {
    type Err = ActionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::parse(s)
    }
}

/// Which actions a role's rule applies to.
///
/// | written        | pattern                   | matches                        |
/// |----------------|---------------------------|--------------------------------|
/// | `all`          | `All`                     | every action                   |
/// | `issuer-*`     | `Prefix("issuer-")`       | actions starting with `issuer-`|
/// | `account-read` | `Exact(account-read)`     | that action only               |
///
/// ```
/// use roster_domain::{Action, ActionPattern};
///
/// let pattern = ActionPattern::parse("issuer-*")?;
/// assert_eq!(pattern, ActionPattern::Prefix("issuer-".to_owned()));
/// assert!(pattern.matches(&Action::parse("issuer-sign")?));
/// assert!(!pattern.matches(&Action::parse("issuer")?));
/// assert_eq!(pattern.to_string(), "issuer-*");
///
/// assert!(ActionPattern::parse("all")?.matches(&Action::parse("anything")?));
/// # Ok::<(), roster_domain::ActionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActionPattern {
    /// Every action (written `all`).
    All,
    /// Exactly this action.
    Exact(Action),
    /// Every action starting with this prefix (written with a trailing `*`). The prefix
    /// produced by [`ActionPattern::parse`] is non-empty and uses action characters.
    Prefix(String),
}

impl ActionPattern {
    /// Parses `all`, `<prefix>*` or an exact action.
    pub fn parse(input: &str) -> Result<ActionPattern, ActionError> {
        if input == "all" {
            return Ok(ActionPattern::All);
        }
        if let Some(prefix) = input.strip_suffix('*') {
            if prefix.is_empty() {
                return Err(ActionError::EmptyPrefix);
            }
            check_ident(prefix, MAX_ACTION_LENGTH, is_action_char).map_err(action_error)?;
            return Ok(ActionPattern::Prefix(prefix.to_owned()));
        }
        Action::parse(input).map(ActionPattern::Exact)
    }

    /// Whether `action` is one of the actions this pattern names.
    pub fn matches(&self, action: &Action) -> bool {
        match self {
            ActionPattern::All => true,
            ActionPattern::Exact(exact) => exact == action,
            ActionPattern::Prefix(prefix) => action.as_str().starts_with(prefix.as_str()),
        }
    }
}

/// The written form, which [`ActionPattern::parse`] reads back.
impl fmt::Display for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionPattern::All => f.write_str("all"),
            ActionPattern::Exact(action) => f.write_str(action.as_str()),
            ActionPattern::Prefix(prefix) => write!(f, "{prefix}*"),
        }
    }
}

impl FromStr for ActionPattern {
    type Err = ActionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActionPattern::parse(s)
    }
}

impl From<Action> for ActionPattern {
    fn from(action: Action) -> Self {
        ActionPattern::Exact(action)
    }
}

/// The actions Roster itself checks.
///
/// All are checked at scope `*` except [`BuiltinAction::GrantManage`], checked at the scope
/// of the grant being managed.
///
/// ```
/// use roster_domain::BuiltinAction;
///
/// assert_eq!(BuiltinAction::AccountCreate.name(), "account-create");
/// assert_eq!(BuiltinAction::GrantManage.action().as_str(), "grant-manage");
/// assert_eq!(BuiltinAction::FeatureManage.name(), "feature-manage");
/// assert_eq!(BuiltinAction::TokenIntrospect.name(), "token-introspect");
/// assert_eq!(BuiltinAction::ALL.len(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuiltinAction {
    /// `account-create`: create accounts through the admin API.
    AccountCreate,
    /// `account-read`: list and read accounts, check another principal's permissions.
    AccountRead,
    /// `account-disable`: disable and re-enable accounts.
    AccountDisable,
    /// `account-password-reset`: set another account's password.
    AccountPasswordReset,
    /// `role-manage`: create, change and delete roles.
    RoleManage,
    /// `apikey-manage`: manage other accounts' API keys.
    ApikeyManage,
    /// `audit-read`: read the audit log.
    AuditRead,
    /// `grant-manage`: create and delete grants, at the grant's scope.
    GrantManage,
    /// `feature-manage`: switch feature flags on and off (the console's features page).
    FeatureManage,
    /// `token-introspect`: ask about any presented token (`POST /v1/auth/introspect`): whose
    /// it is, and its grants; typically held by a service's API key.
    TokenIntrospect,
}

impl BuiltinAction {
    /// Every built-in action, in declaration order.
    pub const ALL: [BuiltinAction; 10] = [
        BuiltinAction::AccountCreate,
        BuiltinAction::AccountRead,
        BuiltinAction::AccountDisable,
        BuiltinAction::AccountPasswordReset,
        BuiltinAction::RoleManage,
        BuiltinAction::ApikeyManage,
        BuiltinAction::AuditRead,
        BuiltinAction::GrantManage,
        BuiltinAction::FeatureManage,
        BuiltinAction::TokenIntrospect,
    ];

    /// The action's name, e.g. `account-create`.
    pub fn name(self) -> &'static str {
        match self {
            BuiltinAction::AccountCreate => "account-create",
            BuiltinAction::AccountRead => "account-read",
            BuiltinAction::AccountDisable => "account-disable",
            BuiltinAction::AccountPasswordReset => "account-password-reset",
            BuiltinAction::RoleManage => "role-manage",
            BuiltinAction::ApikeyManage => "apikey-manage",
            BuiltinAction::AuditRead => "audit-read",
            BuiltinAction::GrantManage => "grant-manage",
            BuiltinAction::FeatureManage => "feature-manage",
            BuiltinAction::TokenIntrospect => "token-introspect",
        }
    }

    /// The action as an [`Action`] value.
    pub fn action(self) -> Action {
        // Every name above satisfies the grammar (tested); skip re-validation.
        Action(self.name().to_owned())
    }
}

impl From<BuiltinAction> for Action {
    fn from(builtin: BuiltinAction) -> Self {
        builtin.action()
    }
}

impl fmt::Display for BuiltinAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_grammar() {
        let max = "a".repeat(64);
        let over = "a".repeat(65);
        let ok = [
            "a",
            "0",
            "account-read",
            "issuer:sign",
            "issuer.keys.rotate",
            "snake_case",
            "9lives",
            "a-",
            "all",
            max.as_str(),
        ];
        for input in ok {
            assert_eq!(Action::parse(input).unwrap().as_str(), input);
        }
        let bad: &[(&str, ActionError)] = &[
            ("", ActionError::Empty),
            (&over, ActionError::TooLong { max: 64 }),
            ("Account-read", ActionError::InvalidFirstCharacter),
            (
                "account-Read",
                ActionError::InvalidCharacter { position: 8 },
            ),
            ("-read", ActionError::InvalidFirstCharacter),
            (":read", ActionError::InvalidFirstCharacter),
            (".read", ActionError::InvalidFirstCharacter),
            ("read all", ActionError::InvalidCharacter { position: 4 }),
            ("read*", ActionError::InvalidCharacter { position: 4 }),
            ("é", ActionError::InvalidFirstCharacter),
            ("aé", ActionError::InvalidCharacter { position: 1 }),
            ("a\u{0}", ActionError::InvalidCharacter { position: 1 }),
        ];
        for (input, expected) in bad {
            assert_eq!(Action::parse(input).as_ref(), Err(expected), "{input:?}");
            assert_eq!(expected.code(), "invalid_action");
        }
    }

    #[test]
    fn pattern_grammar_and_round_trip() {
        let cases = [
            ("all", ActionPattern::All),
            ("issuer-*", ActionPattern::Prefix("issuer-".to_owned())),
            ("a*", ActionPattern::Prefix("a".to_owned())),
            ("issuer:*", ActionPattern::Prefix("issuer:".to_owned())),
            (
                "account-read",
                ActionPattern::Exact(Action::parse("account-read").unwrap()),
            ),
        ];
        for (input, expected) in cases {
            let pattern = ActionPattern::parse(input).unwrap();
            assert_eq!(pattern, expected);
            assert_eq!(pattern.to_string(), input);
            assert_eq!(input.parse::<ActionPattern>().unwrap(), expected);
        }
        let prefix_max = format!("{}*", "a".repeat(64));
        assert!(ActionPattern::parse(&prefix_max).is_ok());
        let bad: &[(&str, ActionError)] = &[
            ("", ActionError::Empty),
            ("*", ActionError::EmptyPrefix),
            ("**", ActionError::InvalidFirstCharacter),
            ("a**", ActionError::InvalidCharacter { position: 1 }),
            ("is*suer", ActionError::InvalidCharacter { position: 2 }),
            ("*-read", ActionError::InvalidFirstCharacter),
            ("All", ActionError::InvalidFirstCharacter),
            ("Issuer-*", ActionError::InvalidFirstCharacter),
        ];
        for (input, expected) in bad {
            assert_eq!(
                ActionPattern::parse(input).as_ref(),
                Err(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn pattern_matching() {
        let action = |s| Action::parse(s).unwrap();
        let pattern = |s| ActionPattern::parse(s).unwrap();
        let rows = [
            ("all", "anything", true),
            ("issuer-*", "issuer-sign", true),
            ("issuer-*", "issuer-", true),
            ("issuer-*", "issuer", false),
            ("issuer-*", "issuers-sign", false),
            ("issuer-*", "xissuer-sign", false),
            ("account-read", "account-read", true),
            ("account-read", "account-reader", false),
            ("account-read", "account-rea", false),
        ];
        for (p, a, expected) in rows {
            assert_eq!(pattern(p).matches(&action(a)), expected, "{p} vs {a}");
        }
    }

    #[test]
    fn builtins() {
        let names: Vec<&str> = BuiltinAction::ALL.iter().map(|b| b.name()).collect();
        assert_eq!(
            names,
            [
                "account-create",
                "account-read",
                "account-disable",
                "account-password-reset",
                "role-manage",
                "apikey-manage",
                "audit-read",
                "grant-manage",
                "feature-manage",
                "token-introspect",
            ]
        );
        for builtin in BuiltinAction::ALL {
            assert_eq!(Action::parse(builtin.name()).unwrap(), builtin.action());
            assert_eq!(Action::from(builtin).as_str(), builtin.to_string());
        }
    }

    #[test]
    fn messages_never_echo_the_input() {
        for input in ["Sécret\u{1b}[31m", "secret value", "\u{0}"] {
            let message = Action::parse(input).unwrap_err().to_string();
            assert!(!message.contains("ecret") && !message.chars().any(char::is_control));
        }
    }
}

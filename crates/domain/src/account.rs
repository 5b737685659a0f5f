//! Accounts: identity, status and display name.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::email::Email;

/// The identifier of an [`Account`]: a UUID (v7 preferred, generated outside the domain).
///
/// ```
/// use roster_domain::AccountId;
///
/// let id: AccountId = "0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b".parse()?;
/// assert_eq!(id.to_string(), "0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b");
/// assert_eq!(AccountId::new(*id.as_uuid()), id);
/// # Ok::<(), uuid::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(Uuid);

/// Implements the shared API of the UUID identifiers.
macro_rules! uuid_id {
    ($name:ident) => {
        impl $name {
            /// Wraps a UUID.
            pub const fn new(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The wrapped UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        /// The hyphenated lower-case form, e.g. `0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b`.
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        /// Parses any form `uuid` accepts (hyphenated, simple, braced, URN).
        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}
pub(crate) use uuid_id;

uuid_id!(AccountId);

/// Whether an account may be used.
///
/// ```
/// use roster_domain::AccountStatus;
///
/// assert_eq!(AccountStatus::parse("disabled"), Some(AccountStatus::Disabled));
/// assert_eq!(AccountStatus::Active.as_str(), "active");
/// assert_eq!(AccountStatus::parse("Active"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountStatus {
    /// The account can log in and its API keys work.
    Active,
    /// The account cannot log in; its sessions and keys are refused.
    Disabled,
}

impl AccountStatus {
    /// The wire and storage form: `"active"` or `"disabled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
        }
    }

    /// Parses the exact wire form; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(AccountStatus::Active),
            "disabled" => Some(AccountStatus::Disabled),
            _ => None,
        }
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest display name accepted, in Unicode scalar values.
pub const MAX_NAME_LENGTH: usize = 200;

/// A person's display name: trimmed, 1 to 200 characters, no control characters.
///
/// ```
/// use roster_domain::DisplayName;
///
/// assert_eq!(DisplayName::parse("  Ada Lovelace ")?.as_str(), "Ada Lovelace");
/// assert!(DisplayName::parse("   ").is_err());
/// assert!(DisplayName::parse("Ada\nLovelace").is_err());
/// # Ok::<(), roster_domain::NameError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

/// Why a display name is refused. Messages never echo the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Nothing but whitespace was given.
    #[error("name is empty")]
    Empty,
    /// More than [`MAX_NAME_LENGTH`] characters after trimming.
    #[error("name is longer than {max} characters")]
    TooLong {
        /// [`MAX_NAME_LENGTH`].
        max: usize,
    },
    /// The name contains a control character (newline, tab, NUL, ...).
    #[error("name contains a control character")]
    ControlCharacter,
}

impl NameError {
    /// The stable machine-readable code: always `"invalid_name"`.
    pub fn code(&self) -> &'static str {
        "invalid_name"
    }
}

impl DisplayName {
    /// Trims and validates a display name.
    pub fn parse(input: &str) -> Result<DisplayName, NameError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter);
        }
        if name.chars().count() > MAX_NAME_LENGTH {
            return Err(NameError::TooLong {
                max: MAX_NAME_LENGTH,
            });
        }
        Ok(DisplayName(name.to_owned()))
    }

    /// The trimmed name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the name, returning the string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DisplayName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DisplayName::parse(s)
    }
}

/// An account as the domain sees it: plain data, never the password or its hash.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use roster_domain::{Account, AccountId, AccountStatus, DisplayName, Email};
/// use uuid::Uuid;
///
/// let now = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
/// let mut account = Account {
///     id: AccountId::new(Uuid::nil()),
///     email: Email::parse("Ada@Example.com")?,
///     name: Some(DisplayName::parse("Ada")?),
///     status: AccountStatus::Active,
///     is_superadmin: false,
///     created_at: now,
///     updated_at: now,
/// };
/// assert!(account.can_log_in());
/// account.status = AccountStatus::Disabled;
/// assert!(!account.can_log_in());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// The account's identifier.
    pub id: AccountId,
    /// The email, unique by its canonical form.
    pub email: Email,
    /// The optional display name.
    pub name: Option<DisplayName>,
    /// Active or disabled.
    pub status: AccountStatus,
    /// Super admins are allowed every action on every scope.
    pub is_superadmin: bool,
    /// When the account was created (set by the application, not the domain).
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
}

impl Account {
    /// Whether the account may log in or use its API keys: only when active.
    pub fn can_log_in(&self) -> bool {
        self.status == AccountStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn ids_round_trip() {
        let text = "0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b";
        let id: AccountId = text.parse().unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(Uuid::from(id), *id.as_uuid());
        // Other UUID spellings parse; display is always hyphenated lower case.
        let upper: AccountId = "0190A4B27C3D7E8F9A0B1C2D3E4F5A6B".parse().unwrap();
        assert_eq!(upper, id);
        assert!("not-a-uuid".parse::<AccountId>().is_err());
        assert!(AccountId::new(Uuid::from_u128(1)) < AccountId::new(Uuid::from_u128(2)));
    }

    #[test]
    fn statuses() {
        for status in [AccountStatus::Active, AccountStatus::Disabled] {
            assert_eq!(AccountStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert_eq!(AccountStatus::parse("ACTIVE"), None);
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse(" Ada ").unwrap().as_str(), "Ada");
        assert_eq!(
            DisplayName::parse("Jürgen Groß").unwrap().to_string(),
            "Jürgen Groß"
        );
        let max = "ü".repeat(200);
        assert_eq!(DisplayName::parse(&max).unwrap().as_str(), max);
        assert_eq!(
            DisplayName::parse(&"ü".repeat(201)),
            Err(NameError::TooLong { max: 200 })
        );
        assert_eq!(DisplayName::parse(""), Err(NameError::Empty));
        assert_eq!(DisplayName::parse(" \t\n "), Err(NameError::Empty));
        assert_eq!(
            DisplayName::parse("Ada\u{0}"),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(
            DisplayName::parse("Ada\tL"),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(
            DisplayName::parse("Ada\u{1b}[31m"),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(NameError::Empty.code(), "invalid_name");
    }

    #[test]
    fn only_active_accounts_log_in() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
        let mut account = Account {
            id: AccountId::new(Uuid::nil()),
            email: Email::parse("ada@example.com").unwrap(),
            name: None,
            status: AccountStatus::Active,
            is_superadmin: false,
            created_at: now,
            updated_at: now,
        };
        assert!(account.can_log_in());
        account.status = AccountStatus::Disabled;
        assert!(!account.can_log_in());
        account.is_superadmin = true;
        assert!(
            !account.can_log_in(),
            "super admins are disabled like anyone"
        );
    }
}

//! Accounts: identity, status and display name.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::email::Email;
use crate::text::{TextProblem, check_display_text};

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

/// A person's (or an API key's) display name: trimmed, 1 to 200 characters, no control
/// characters, no bidirectional controls and no invisible characters beyond the joiners and
/// variation selectors that scripts and emoji need (see
/// [`text::check_display_text`](crate::text::check_display_text)).
///
/// ```
/// use roster_domain::{DisplayName, NameError};
///
/// assert_eq!(DisplayName::parse("  Ada Lovelace ")?.as_str(), "Ada Lovelace");
/// assert!(DisplayName::parse("   ").is_err());
/// assert!(DisplayName::parse("Ada\nLovelace").is_err());
/// assert_eq!(DisplayName::parse("Ada\u{202e}gpj.exe"), Err(NameError::BidiControl));
/// assert_eq!(DisplayName::parse("Ada\u{200b}"), Err(NameError::InvisibleCharacter));
/// assert!(DisplayName::parse("علی\u{200c}رضا").is_ok());
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
    /// The name contains a bidirectional control such as RIGHT-TO-LEFT OVERRIDE, which
    /// reorders how the text around it is displayed.
    #[error("name contains a bidirectional control character")]
    BidiControl,
    /// The name contains an invisible character (zero-width space, soft hyphen, byte order
    /// mark, tag character, ...) other than a joiner or variation selector inside a word.
    #[error("name contains an invisible character (such as a zero-width space)")]
    InvisibleCharacter,
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
        match check_display_text(name) {
            Ok(()) => Ok(DisplayName(name.to_owned())),
            Err(TextProblem::BidiControl) => Err(NameError::BidiControl),
            Err(TextProblem::Invisible) => Err(NameError::InvisibleCharacter),
        }
    }

    /// Parses a name read back from storage: every rule of [`DisplayName::parse`] except the
    /// refusal of bidirectional controls and invisible characters, which came later, so that
    /// accounts named before those rules still load. Input from clients always goes through
    /// [`DisplayName::parse`].
    ///
    /// ```
    /// use roster_domain::DisplayName;
    ///
    /// assert_eq!(DisplayName::parse_stored("Ada\u{200b}")?.as_str(), "Ada\u{200b}");
    /// assert!(DisplayName::parse_stored("Ada\nLovelace").is_err());
    /// # Ok::<(), roster_domain::NameError>(())
    /// ```
    ///
    /// # Errors
    /// As [`DisplayName::parse`], less the bidirectional and invisible character rules.
    pub fn parse_stored(input: &str) -> Result<DisplayName, NameError> {
        match DisplayName::parse(input) {
            Err(NameError::BidiControl | NameError::InvisibleCharacter) => {
                Ok(DisplayName(input.trim().to_owned()))
            }
            other => other,
        }
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
///     email_verified: true,
///     has_second_factor: false,
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
    /// Whether the owner has shown they receive mail at the address. Accounts created by an
    /// administrator, the bootstrap or an invitation are; a self-registered one is not while
    /// the server requires verification, and then it cannot log in until it is.
    pub email_verified: bool,
    /// Whether the account has a second factor (a confirmed TOTP or a passkey): its logins
    /// take two steps, and its most dangerous actions a recent second factor.
    pub has_second_factor: bool,
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
    fn names_that_hide_or_reorder_text_are_refused() {
        let cases: &[(&str, NameError)] = &[
            ("Ada\u{202e}gpj.exe", NameError::BidiControl),
            ("\u{202e}nimda", NameError::BidiControl),
            ("Ada\u{2067}Lovelace\u{2069}", NameError::BidiControl),
            ("Ada\u{200f}", NameError::BidiControl),
            ("Ada\u{200b}Lovelace", NameError::InvisibleCharacter),
            ("\u{200b}", NameError::InvisibleCharacter),
            ("Ad\u{ad}a", NameError::InvisibleCharacter),
            ("\u{feff}Ada", NameError::InvisibleCharacter),
            ("ad\u{200d}min", NameError::InvisibleCharacter),
            ("\u{3164}", NameError::InvisibleCharacter),
            ("Ada\u{e0061}\u{e0062}", NameError::InvisibleCharacter),
        ];
        for (input, expected) in cases {
            assert_eq!(
                DisplayName::parse(input).as_ref(),
                Err(expected),
                "{input:?}"
            );
            assert_eq!(expected.code(), "invalid_name");
            let message = expected.to_string();
            assert!(!message.contains("Ada") && !message.contains("gpj"));
        }
        for accepted in [
            "Иван Петров",
            "Σοφία",
            "李小龍",
            "שרה כהן",
            "علی\u{200c}رضا",
            "Ada 👩\u{200d}💻",
            "❤\u{fe0f}",
            // Names are not identifiers: mixed scripts are fine here.
            "Ada Лавлейс",
        ] {
            assert_eq!(
                DisplayName::parse(accepted).unwrap().as_str(),
                accepted,
                "{accepted:?}"
            );
        }
    }

    proptest::proptest! {
        /// No accepted name holds a bidirectional control, or an invisible character next
        /// to ASCII or whitespace.
        #[test]
        fn accepted_names_hide_nothing(
            chars in proptest::collection::vec(proptest::sample::select(&[
                'A', 'd', ' ', 'ü', 'Ж', 'ع', '👩', '💻', '\u{200b}', '\u{200c}', '\u{200d}',
                '\u{ad}', '\u{fe0f}', '\u{feff}', '\u{202e}', '\u{2066}', '\u{200f}',
                '\u{e0041}',
            ][..]), 1..12)
        ) {
            let input: String = chars.into_iter().collect();
            if let Ok(name) = DisplayName::parse(&input) {
                let name: Vec<char> = name.as_str().chars().collect();
                proptest::prop_assert!(!name.iter().any(|&c| crate::text::is_bidi_control(c)), "{input:?}");
                for (i, &c) in name.iter().enumerate() {
                    if crate::text::is_invisible(c) {
                        let before = i.checked_sub(1).map(|j| name[j]);
                        proptest::prop_assert!(
                            before.is_some_and(|b| !b.is_ascii() && !b.is_whitespace()),
                            "{input:?}"
                        );
                        proptest::prop_assert!(matches!(c, '\u{200c}' | '\u{200d}' | '\u{fe0f}'), "{input:?}");
                    }
                }
            }
        }
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
            email_verified: true,
            has_second_factor: false,
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

//! Resources as Roster answers them, shared by several groups of routes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An account (never its password or hash).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    /// Its id.
    pub id: Uuid,
    /// Its email address, as registered (trimmed).
    pub email: String,
    /// Its display name.
    pub name: Option<String>,
    /// Active or disabled.
    pub status: AccountStatus,
    /// Super admins are allowed everything.
    pub is_superadmin: bool,
    /// Whether the owner has shown they receive mail at the address.
    pub email_verified: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An account with every grant it holds (admin registration, account details, an accepted
/// invitation).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountWithGrants {
    /// The account.
    #[serde(flatten)]
    pub account: Account,
    /// Every grant of the account (at most `grants.max_per_holder`; the grant list pages
    /// them).
    pub grants: Vec<Grant>,
}

/// An account's status: a disabled account cannot log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// It can log in.
    Active,
    /// It cannot log in; its sessions ended when it was disabled.
    Disabled,
}

/// An API key as listed (never the key or its digest).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiKey {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// `account:<uuid>` of its creator.
    pub created_by: Option<String>,
    /// When it expires, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (written at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// An API key with every grant it holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiKeyWithGrants {
    /// The key (never its secret).
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// Every grant of the key.
    pub grants: Vec<Grant>,
}

/// A grant: a role on a scope. `created_at` and `created_by` come with grant lists and
/// creation answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Grant {
    /// Its id.
    pub id: Uuid,
    /// The granted role.
    pub role: String,
    /// Where it applies: this scope and everything beneath.
    pub scope: String,
    /// When it was given.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// `account:<uuid>` or `api_key:<uuid>` of who gave it; `None` for the system.
    #[serde(default)]
    pub created_by: Option<String>,
}

/// A role given on a scope, as requests name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantRequest {
    /// The role's name.
    pub role: String,
    /// The scope, `*` for everywhere.
    pub scope: String,
}

impl GrantRequest {
    /// `role` on `scope`.
    pub fn new(role: impl Into<String>, scope: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            scope: scope.into(),
        }
    }
}

/// One rule of a role: an action pattern allowed or denied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// An action, `all`, or a prefix ending in `*`.
    pub action: String,
    /// Allow or deny (`None` means allow in requests; answers always carry it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
}

/// A rule's effect: a matching deny anywhere above the target wins over any allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Allows the matching actions.
    Allow,
    /// Denies them, whatever else allows them.
    Deny,
}

impl Rule {
    /// Allows the actions `action` matches (an action, `all`, or a prefix ending in `*`).
    pub fn allow(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            effect: Some(Effect::Allow),
        }
    }

    /// Denies the actions `action` matches, whatever else allows them.
    pub fn deny(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            effect: Some(Effect::Deny),
        }
    }
}

/// One page of a list; pass `next_cursor` back for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Which page of a list to read. The default is the first page at the service's default
/// size (50); `None` fields are left out of the query.
///
/// ```
/// use roster_client::PageRequest;
///
/// let first = PageRequest::default().limit(20);
/// let second = first.clone().after("0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07");
/// assert_eq!(second.limit, Some(20));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PageRequest {
    /// Items per page, 1 to 200 (the service answers 400 `invalid_query` otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, passed back unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl PageRequest {
    /// At most `limit` items per page.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The page after the one whose `next_cursor` this is.
    #[must_use]
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// The request for the page after `page` (same size), or `None` when `page` was the
    /// last.
    #[must_use]
    pub fn next_of<T>(&self, page: &Page<T>) -> Option<PageRequest> {
        page.next_cursor
            .as_ref()
            .map(|cursor| self.clone().after(cursor.clone()))
    }
}

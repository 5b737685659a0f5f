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

/// One page of a list; pass `next_cursor` back for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

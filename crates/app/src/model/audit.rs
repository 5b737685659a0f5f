//! Audit events: who did what to which target, when and from where. Each is written in the
//! same database transaction as the change it records, so a change without its event (or an
//! event without its change) cannot exist. Events never carry a secret. Read back newest first,
//! by [`AuditQuery`].

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What happened. The string forms (`account.registered`, ...) are stable: clients filter
/// on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    AccountRegistered,
    AccountCreated,
    SuperadminCreated,
    LoginSucceeded,
    LoginFailed,
    Logout,
    SessionRevoked,
    PasswordChanged,
    PasswordReset,
    AccountDisabled,
    AccountEnabled,
    RoleCreated,
    RoleUpdated,
    RoleDeleted,
    GrantCreated,
    GrantDeleted,
    ApiKeyCreated,
    ApiKeyRevoked,
    FeaturesReloaded,
    FeaturesRejected,
    FeatureChanged,
}

impl AuditAction {
    /// Every action, for validating filters.
    pub const ALL: [AuditAction; 21] = [
        AuditAction::AccountRegistered,
        AuditAction::AccountCreated,
        AuditAction::SuperadminCreated,
        AuditAction::LoginSucceeded,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::SessionRevoked,
        AuditAction::PasswordChanged,
        AuditAction::PasswordReset,
        AuditAction::AccountDisabled,
        AuditAction::AccountEnabled,
        AuditAction::RoleCreated,
        AuditAction::RoleUpdated,
        AuditAction::RoleDeleted,
        AuditAction::GrantCreated,
        AuditAction::GrantDeleted,
        AuditAction::ApiKeyCreated,
        AuditAction::ApiKeyRevoked,
        AuditAction::FeaturesReloaded,
        AuditAction::FeaturesRejected,
        AuditAction::FeatureChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::AccountRegistered => "account.registered",
            AuditAction::AccountCreated => "account.created",
            AuditAction::SuperadminCreated => "account.superadmin_created",
            AuditAction::LoginSucceeded => "login.succeeded",
            AuditAction::LoginFailed => "login.failed",
            AuditAction::Logout => "session.logout",
            AuditAction::SessionRevoked => "session.revoked",
            AuditAction::PasswordChanged => "password.changed",
            AuditAction::PasswordReset => "password.reset",
            AuditAction::AccountDisabled => "account.disabled",
            AuditAction::AccountEnabled => "account.enabled",
            AuditAction::RoleCreated => "role.created",
            AuditAction::RoleUpdated => "role.updated",
            AuditAction::RoleDeleted => "role.deleted",
            AuditAction::GrantCreated => "grant.created",
            AuditAction::GrantDeleted => "grant.deleted",
            AuditAction::ApiKeyCreated => "api_key.created",
            AuditAction::ApiKeyRevoked => "api_key.revoked",
            AuditAction::FeaturesReloaded => "features.reloaded",
            AuditAction::FeaturesRejected => "features.rejected",
            AuditAction::FeatureChanged => "feature.changed",
        }
    }

    pub fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit record. `actor` and `target` are `kind:id` labels (`account:<uuid>`,
/// `api_key:<uuid>`, `role:<name>`, `grant:<uuid>`, `email:<canonical>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// Who acted; `None` for anonymous requests (self-registration, login) and the system.
    pub actor: Option<String>,
    pub action: AuditAction,
    pub target: Option<String>,
    /// The client's address (the TCP peer), when the event came from a request.
    pub source_ip: Option<IpAddr>,
    /// A short, secret-free description (a role's rules, a grant's role and scope, ...).
    pub detail: Option<String>,
}

impl AuditEvent {
    pub fn new(action: AuditAction, at: DateTime<Utc>) -> AuditEvent {
        AuditEvent {
            id: Uuid::now_v7(),
            at,
            actor: None,
            action,
            target: None,
            source_ip: None,
            detail: None,
        }
    }

    #[must_use]
    pub fn actor(mut self, actor: impl fmt::Display) -> Self {
        self.actor = Some(actor.to_string());
        self
    }

    #[must_use]
    pub fn target(mut self, kind: &str, id: impl fmt::Display) -> Self {
        self.target = Some(format!("{kind}:{id}"));
        self
    }

    #[must_use]
    pub fn from_ip(mut self, ip: Option<IpAddr>) -> Self {
        self.source_ip = ip;
        self
    }

    /// Adds to the detail how many API keys the change revoked along with it (the keys an
    /// account or a key created, transitively). The store calls this inside the transaction
    /// that revokes them, where the number is known.
    ///
    /// ```
    /// use chrono::Utc;
    /// use roster_app::model::{AuditAction, AuditEvent};
    ///
    /// let event = AuditEvent::new(AuditAction::AccountDisabled, Utc::now()).revoked_api_keys(2);
    /// assert_eq!(event.detail.as_deref(), Some("revoked 2 API keys it created (directly or through its keys)"));
    /// ```
    #[must_use]
    pub fn revoked_api_keys(mut self, count: usize) -> Self {
        let keys = if count == 1 { "key" } else { "keys" };
        let note = format!("revoked {count} API {keys} it created (directly or through its keys)");
        self.detail = Some(match self.detail.take() {
            Some(detail) => format!("{detail}; {note}"),
            None => note,
        });
        self
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        // Details may quote operator input (a features file's error); PostgreSQL text cannot
        // hold NUL, so it is replaced rather than failing the write.
        self.detail = Some(detail.into().replace('\0', "\u{fffd}"));
        self
    }
}
/// Which events to list: newest first, before the cursor, optionally one actor or action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub before: Option<Uuid>,
    pub limit: u32,
}

/// One page of events, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// The id to continue before, when older events follow.
    pub next_before: Option<Uuid>,
}

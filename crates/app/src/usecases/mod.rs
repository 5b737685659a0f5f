//! The use cases. [`Roster`] holds the ports and the policies from settings; each use case is
//! a method on it, in a module of its own.

mod admin_accounts;
mod authenticate;
mod login;
mod register;
mod sessions;

use std::sync::Arc;

use chrono::Duration;
use roster_domain::PasswordPolicy;

use crate::features::FeatureManager;
use crate::ports::{AccountRepository, Clock, PasswordHasher, SessionStore, TokenSource};

pub use admin_accounts::AccountDetails;
pub use authenticate::Authenticated;
pub use login::LoginSuccess;
pub use register::RegistrationForm;
pub use sessions::OwnSession;

/// Session lifetimes, from settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// Absolute lifetime from login.
    pub ttl: Duration,
    /// A session unused for this long stops working.
    pub idle_timeout: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::hours(12),
            idle_timeout: Duration::hours(1),
        }
    }
}

/// Every port the use cases need, as trait objects chosen by the composition root.
#[derive(Clone)]
pub struct RosterPorts {
    pub accounts: Arc<dyn AccountRepository>,
    pub sessions: Arc<dyn SessionStore>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub features: Arc<dyn FeatureManager>,
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<dyn TokenSource>,
}

impl std::fmt::Debug for RosterPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RosterPorts").finish_non_exhaustive()
    }
}

/// The application: ports plus policies. Cheap to clone (everything is behind `Arc`).
#[derive(Debug, Clone)]
pub struct Roster {
    ports: RosterPorts,
    password_policy: PasswordPolicy,
    sessions: SessionSettings,
}

impl Roster {
    pub fn new(
        ports: RosterPorts,
        password_policy: PasswordPolicy,
        sessions: SessionSettings,
    ) -> Self {
        Self {
            ports,
            password_policy,
            sessions,
        }
    }

    /// The feature manager, for handlers that gate whole routes (`GET /v1/features`, ...).
    pub fn features(&self) -> &dyn FeatureManager {
        self.ports.features.as_ref()
    }

    /// The password policy in force.
    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.password_policy
    }
}

#[cfg(test)]
mod tests;

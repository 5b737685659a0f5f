//! Login throttling state.

use chrono::{DateTime, Utc};

/// Failed logins recorded for one canonical email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Consecutive failures since the last success.
    pub failures: u32,
    /// Logins are refused before any hashing until then.
    pub locked_until: Option<DateTime<Utc>>,
}

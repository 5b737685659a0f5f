use chrono::{DateTime, SubsecRound, Utc};

/// Port: the current time. Injected so expiry logic can be tested without sleeping.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, truncated to whole microseconds (the precision PostgreSQL keeps), so a value
    /// read back from either database equals the value written.
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

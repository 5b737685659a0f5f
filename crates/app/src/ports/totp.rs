use chrono::{DateTime, Utc};
use roster_domain::Account;

use crate::model::{SealedTotpSecret, TotpEnrolment, TotpError};

/// Port: RFC 6238 TOTP (SHA-1, 6 digits, 30-second steps) with secrets sealed under the
/// service's key. The rules around it (replay, drift allowed, who must enrol) are the
/// application's.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Totp: Send + Sync {
    /// A new random secret for `account`, sealed, with its text and `otpauth://` URI.
    fn new_secret(&self, account: &Account) -> TotpEnrolment;

    /// The time step (Unix seconds / 30) whose code `code` is, looking at `now`'s step and
    /// one step either side; `None` when it is none of them. Compares in constant time.
    ///
    /// # Errors
    /// `Unreadable` when the sealed secret does not open for this account.
    fn matching_step(
        &self,
        account: &Account,
        sealed: &SealedTotpSecret,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, TotpError>;
}

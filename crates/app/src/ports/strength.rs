use async_trait::async_trait;
use roster_domain::{PasswordProblem, PlainPassword};

use crate::model::HashError;

/// Port: the strength estimate of a new password ([`PlainPassword::weakness`]), which costs up
/// to a few hundred milliseconds of CPU, run off the async threads with bounded concurrency.
///
/// It shares [`HashError`] with the hashing port: both are bounded pools of password work,
/// and a full queue is the same `overloaded` answer to the client.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PasswordStrength: Send + Sync {
    /// `Some(Weak)` when `password` is too easy to guess or contains one of `user_inputs`
    /// (the account's email, its local part, its name); `None` when it is strong enough. An
    /// estimate that runs out of its time budget counts as weak.
    ///
    /// # Errors
    /// `Overloaded` when the queue is full; `Internal` when the workers are gone.
    async fn weakness(
        &self,
        password: &PlainPassword,
        user_inputs: Vec<String>,
    ) -> Result<Option<PasswordProblem>, HashError>;
}

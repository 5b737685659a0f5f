use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::model::{DeliveryError, MailError, MailMessage, SealedMail};

/// Port: the mail adapter. Renders and seals a message when it is queued (so the outbox holds
/// only ciphertext) and delivers a sealed message later (SMTP, or an `.eml` file).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Renders the message's templates and encrypts the result under the secret key.
    ///
    /// # Errors
    /// `MailError` when a template fails to render (a broken operator override).
    fn seal(
        &self,
        message: &MailMessage,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<SealedMail, MailError>;

    /// Opens the message and sends it with `Message-ID: <{id}@{domain of mail.from}>`, so a
    /// retry of a message that did arrive is recognisable as the same message.
    ///
    /// # Errors
    /// `Transient` when a retry may succeed, `Permanent` when none can.
    async fn deliver(&self, mail: &SealedMail) -> Result<(), DeliveryError>;
}

//! Roster's mail adapter: the [`Mailer`](roster_app::ports::Mailer) port.
//!
//! - [`templates`]: subject, plain text and HTML per kind of message, compiled in and
//!   overridable from `mail.templates_dir` (minijinja; HTML auto-escaped). A broken override
//!   stops start-up, naming the file.
//! - [`sealing`]: rendered messages are encrypted (XChaCha20-Poly1305 under the service's
//!   secret key) before they are queued, so the database alone never yields a token.
//! - [`delivery`]: SMTP through lettre (`mail.smtp_url`) or, with none, one RFC 5322 `.eml`
//!   file per message in `mail.outbox_dir`, named by the message id, so a retry overwrites.

pub mod delivery;
pub mod sealing;
pub mod templates;

use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use roster_app::model::{DeliveryError, MailError, MailMessage, SealedMail};
use roster_app::ports::Mailer;
use secrecy::SecretString;
use uuid::Uuid;

pub use delivery::Transport;
pub use roster_crypto::sealing::{SecretKey, SecretKeyError};
pub use templates::{TemplateError, Templates};

/// Where mail goes and how it is written, from settings.
#[derive(Debug)]
pub struct MailSettings {
    /// `mail.from`, e.g. `Roster <roster@localhost>`.
    pub from: String,
    /// `mail.smtp_url`; `None` writes `.eml` files into `outbox_dir`.
    pub smtp_url: Option<SecretString>,
    /// `mail.outbox_dir`.
    pub outbox_dir: PathBuf,
    /// `mail.templates_dir`: files here replace the built-in templates of the same name.
    pub templates_dir: Option<PathBuf>,
}

/// Why the mail adapter cannot start. Each message names the setting or file to fix.
#[derive(Debug, thiserror::Error)]
pub enum MailSetupError {
    #[error("mail.from: {0}")]
    From(String),
    #[error("mail.smtp_url: {0}")]
    SmtpUrl(String),
    #[error("mail.outbox_dir {path}: {source}")]
    OutboxDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// The mail adapter: renders, seals, opens and delivers.
#[derive(Debug)]
pub struct MailAdapter {
    templates: Templates,
    key: SecretKey,
    from: Mailbox,
    /// The domain of `mail.from`: the right-hand side of every `Message-ID`.
    domain: String,
    transport: Transport,
}

impl MailAdapter {
    /// Loads the templates (and checks every override renders), parses `mail.from`, and
    /// prepares the transport (an SMTP URL is parsed here; the outbox folder is created).
    ///
    /// # Errors
    /// A bad `mail.from` or `mail.smtp_url`, an outbox folder that cannot be created, a
    /// template that does not parse or render.
    pub fn new(settings: &MailSettings, key: SecretKey) -> Result<MailAdapter, MailSetupError> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| MailSetupError::From(format!("{e}")))?;
        let domain = from.email.domain().to_owned();
        let templates = Templates::load(settings.templates_dir.as_deref())?;
        let transport = Transport::new(settings.smtp_url.as_ref(), &settings.outbox_dir)?;
        Ok(MailAdapter {
            templates,
            key,
            from,
            domain,
            transport,
        })
    }

    /// Where messages go, for the start-up log (an SMTP URL without its credentials).
    pub fn describe(&self) -> String {
        self.transport.describe()
    }
}

#[async_trait]
impl Mailer for MailAdapter {
    fn seal(
        &self,
        message: &MailMessage,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<SealedMail, MailError> {
        let rendered = self
            .templates
            .render(message)
            .map_err(|e| MailError(e.to_string()))?;
        let kind = message.kind();
        let recipient = message.to().to_string();
        let sealed = sealing::seal(&self.key, &rendered, id, kind, &recipient)
            .map_err(|e| MailError(e.to_string()))?;
        Ok(SealedMail {
            id,
            kind,
            recipient,
            sealed,
            created_at: at,
        })
    }

    async fn deliver(&self, mail: &SealedMail) -> Result<(), DeliveryError> {
        // A message this node cannot open was most likely sealed by a node with another key
        // (a replica started without the shared `secrets.key`): retried later, when a node
        // that holds the right key may claim it, rather than given up at once. It is still
        // given up after `mail.give_up_after`.
        let rendered = sealing::open(&self.key, &mail.sealed, mail.id, mail.kind, &mail.recipient)
            .map_err(|e| {
                DeliveryError::Transient(format!(
                    "{e}: sealed with another secret key? every node must share secrets.key"
                ))
            })?;
        let message = delivery::build(&self.from, &self.domain, mail, &rendered)?;
        self.transport.send(mail.id, message).await
    }
}

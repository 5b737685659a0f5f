//! Outbound mail as the application sees it: what a message says ([`MailMessage`]), the sealed
//! form the outbox stores ([`SealedMail`]), what the sender claims back ([`ClaimedMail`]), how a
//! delivery can fail ([`DeliveryError`]) and the single-use tokens that links carry
//! ([`EmailTokenPurpose`]). Rendering, encryption and SMTP live in the mail adapter.

use std::fmt;

use chrono::{DateTime, Utc};
use roster_domain::{AccountId, Email};
use secrecy::SecretString;
use uuid::Uuid;

use super::TokenDigest;

/// What kind of message this is: chooses the templates, and is the one thing about a queued
/// message that metrics and logs may show (with its id and recipient).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    PasswordReset,
    EmailVerification,
    Invitation,
    AccountExists,
}

impl MailKind {
    pub const ALL: [MailKind; 4] = [
        MailKind::PasswordReset,
        MailKind::EmailVerification,
        MailKind::Invitation,
        MailKind::AccountExists,
    ];

    /// The stable name: the outbox column, the template file stem.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::PasswordReset => "password_reset",
            MailKind::EmailVerification => "email_verification",
            MailKind::Invitation => "invitation",
            MailKind::AccountExists => "account_exists",
        }
    }

    /// The kind named by [`MailKind::as_str`].
    ///
    /// ```
    /// use roster_app::model::MailKind;
    ///
    /// assert_eq!(MailKind::parse("password_reset"), Some(MailKind::PasswordReset));
    /// assert_eq!(MailKind::parse("spam"), None);
    /// ```
    pub fn parse(text: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for MailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an email says, before it is rendered. Links carry single-use tokens, so they are
/// secrets: they exist in clear only until the mail adapter seals the rendered message.
#[derive(Debug)]
pub enum MailMessage {
    /// A link to set a new password (`{public_url}/console/password-reset#rpr_...`).
    PasswordReset {
        to: Email,
        link: SecretString,
        expires_at: DateTime<Utc>,
    },
    /// A link that proves the address (`{public_url}/console/verify-email#rev_...`).
    EmailVerification {
        to: Email,
        link: SecretString,
        expires_at: DateTime<Utc>,
    },
    /// An invitation to join (`{public_url}/console/invitation#rin_...`).
    Invitation {
        to: Email,
        /// The invitee's display name, when the inviter gave one.
        name: Option<String>,
        /// Who invites, as the invitee should read it (a name or an email).
        inviter: String,
        link: SecretString,
        expires_at: DateTime<Utc>,
    },
    /// Someone tried to register this address, which has an account already: tells the owner,
    /// with where to reset the password (no token: the owner asks for one there).
    AccountExists {
        to: Email,
        /// `{public_url}/console/password-reset`.
        reset_page: String,
    },
}

impl MailMessage {
    pub fn kind(&self) -> MailKind {
        match self {
            MailMessage::PasswordReset { .. } => MailKind::PasswordReset,
            MailMessage::EmailVerification { .. } => MailKind::EmailVerification,
            MailMessage::Invitation { .. } => MailKind::Invitation,
            MailMessage::AccountExists { .. } => MailKind::AccountExists,
        }
    }

    pub fn to(&self) -> &Email {
        match self {
            MailMessage::PasswordReset { to, .. }
            | MailMessage::EmailVerification { to, .. }
            | MailMessage::Invitation { to, .. }
            | MailMessage::AccountExists { to, .. } => to,
        }
    }
}

/// A rendered message, encrypted: what the outbox stores. `sealed` is opaque outside the mail
/// adapter and useless without the key, so the database alone never yields a token.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedMail {
    /// Also the `Message-ID` (`<{id}@{domain}>`), stable across retries.
    pub id: Uuid,
    pub kind: MailKind,
    /// The address as it will be written in `To:` (not a secret; shown in logs and events).
    pub recipient: String,
    pub sealed: String,
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for SealedMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedMail")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("recipient", &self.recipient)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A queued message claimed by one node for one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMail {
    pub mail: SealedMail,
    /// Failed attempts so far (0 on the first try).
    pub attempts: u32,
}

/// How the outbox stands, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Messages neither sent nor given up.
    pub queued: i64,
    /// Of those, messages that failed at least once.
    pub retrying: i64,
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u64,
    /// Attempts that failed and will be retried.
    pub failed: u64,
    pub gave_up: u64,
}

impl DeliveryReport {
    pub fn attempted(&self) -> u64 {
        self.sent + self.failed + self.gave_up
    }
}

/// Why a message could not be delivered. The text is for logs and the outbox's `last_error`:
/// never the message body (it holds the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying: connection refused, timeout, a 4xx SMTP reply, a full disk.
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    /// Retrying cannot help: the recipient was rejected (5xx), the message cannot be opened
    /// with this key (the key changed), it cannot be built.
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

/// The mail adapter could not render or seal a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot prepare the message: {0}")]
pub struct MailError(pub String);

/// What a single-use emailed token is for. Tokens of one purpose are never accepted for
/// another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailTokenPurpose {
    PasswordReset,
    EmailVerification,
    Invitation,
}

impl EmailTokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailTokenPurpose::PasswordReset => "password_reset",
            EmailTokenPurpose::EmailVerification => "email_verification",
            EmailTokenPurpose::Invitation => "invitation",
        }
    }

    /// The token's recognisable prefix (`rpr_`, `rev_`, `rin_`).
    pub fn prefix(self) -> &'static str {
        match self {
            EmailTokenPurpose::PasswordReset => "rpr_",
            EmailTokenPurpose::EmailVerification => "rev_",
            EmailTokenPurpose::Invitation => "rin_",
        }
    }

    /// The console page the link opens, under `{public_url}/console/`.
    pub fn page(self) -> &'static str {
        match self {
            EmailTokenPurpose::PasswordReset => "password-reset",
            EmailTokenPurpose::EmailVerification => "verify-email",
            EmailTokenPurpose::Invitation => "invitation",
        }
    }
}

/// One request that may email a link, as the store writes it: always the per-address hourly
/// counter, and the message (with its token) when there is one to send and the counter allows.
/// Every path of a public email form (known address or not) makes one of these, so every path
/// does one comparable write transaction and the answer's timing does not tell them apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRequest {
    /// The digest of the canonical email: the counter's key, so the table keeps no list of the
    /// addresses people typed.
    pub email_key: TokenDigest,
    /// Which counter: reset requests and verification emails are capped separately.
    pub purpose: EmailTokenPurpose,
    pub at: DateTime<Utc>,
    /// Emails per address and purpose per hour; requests beyond are counted and send nothing.
    pub max_per_hour: u32,
    /// `None` for an unknown address or an account that gets nothing (disabled, verified).
    pub delivery: Option<MailDelivery>,
}

/// The message to queue, and the token its link carries (none for a message without a link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailDelivery {
    pub mail: SealedMail,
    pub token: Option<NewEmailToken>,
}

/// A single-use emailed token, stored as its digest only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmailToken {
    pub account: AccountId,
    pub digest: TokenDigest,
    pub purpose: EmailTokenPurpose,
    pub expires_at: DateTime<Utc>,
}

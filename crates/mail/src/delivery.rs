//! Building the MIME message and sending it: over SMTP (lettre, async on tokio; TLS through
//! native-tls, i.e. OpenSSL) or, with no `mail.smtp_url`, as an `.eml` file.

use std::path::{Path, PathBuf};

use lettre::message::{Mailbox, MultiPart, header};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use roster_app::model::{DeliveryError, SealedMail};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::MailSetupError;
use crate::templates::Rendered;

/// How long one SMTP command may wait for the server (lettre's default is a minute).
const SMTP_COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Where messages go.
#[derive(Debug)]
pub enum Transport {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The URL without user and password, for logs.
        shown: String,
    },
    /// One `<id>.eml` file per message.
    Files(PathBuf),
}

/// `scheme://host:port` of an SMTP URL, with its `tls` parameter: what may be logged (never
/// the user or password, even in a URL that does not parse).
fn without_credentials(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return "(an SMTP URL that does not parse)".to_owned();
    };
    let host = parsed.host_str().unwrap_or("");
    let port = parsed
        .port()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    let tls = parsed
        .query_pairs()
        .find(|(name, _)| name == "tls")
        .map(|(_, tls)| format!("?tls={tls}"))
        .unwrap_or_default();
    format!("{}://{host}{port}{tls}", parsed.scheme())
}

/// Whether the URL sends a password over a connection that is never encrypted: `smtp://`
/// with credentials and no `tls` parameter, to a host other than this machine.
fn sends_password_in_clear(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let loopback = match parsed.host() {
        // `smtp` is not a "special" scheme to the URL standard: its IPv4 hosts come back as
        // names.
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    parsed.scheme() == "smtp"
        && !parsed.username().is_empty()
        && !parsed.query_pairs().any(|(name, _)| name == "tls")
        && !loopback
}

impl Transport {
    /// SMTP for a URL, else the `.eml` folder (created here).
    ///
    /// # Errors
    /// An SMTP URL lettre cannot use; a folder that cannot be created.
    pub fn new(
        smtp_url: Option<&SecretString>,
        outbox_dir: &Path,
    ) -> Result<Transport, MailSetupError> {
        let Some(url) = smtp_url else {
            create_private_dir(outbox_dir).map_err(|source| MailSetupError::OutboxDir {
                path: outbox_dir.to_owned(),
                source,
            })?;
            return Ok(Transport::Files(outbox_dir.to_owned()));
        };
        let url = url.expose_secret();
        if sends_password_in_clear(url) {
            tracing::warn!(
                smtp = %without_credentials(url),
                "mail.smtp_url has a password but no TLS: the password and every emailed link \
                 cross the network in clear; use smtps:// or ?tls=starttls"
            );
        }
        // The contract's `?tls=starttls` is lettre's `?tls=required`: STARTTLS, and refuse
        // to go on without it.
        let lettre_url = url.replace("tls=starttls", "tls=required");
        let shown = without_credentials(url);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&lettre_url)
            .map_err(|e| {
                MailSetupError::SmtpUrl(format!(
                    "{shown}: {e} (expected smtp://host:port, smtps://host:port or \
                     smtp://host:port?tls=starttls, with user:password@ if needed)"
                ))
            })?
            // Each SMTP command waits at most this long, so one delivery ends well within
            // the sender's allowance (roster_app's DELIVERY_ALLOWANCE, two minutes).
            .timeout(Some(SMTP_COMMAND_TIMEOUT))
            .build();
        Ok(Transport::Smtp { transport, shown })
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp { shown, .. } => format!("mail is sent over SMTP to {shown}"),
            Transport::Files(dir) => format!(
                "no mail.smtp_url: messages are written as .eml files to {}",
                dir.display()
            ),
        }
    }

    /// Sends (or writes) one message.
    ///
    /// # Errors
    /// `Permanent` for an SMTP 5xx reply; `Transient` for anything a retry may fix.
    pub async fn send(&self, id: Uuid, message: Message) -> Result<(), DeliveryError> {
        match self {
            Transport::Smtp { transport, .. } => match transport.send(message).await {
                Ok(_) => Ok(()),
                Err(error) if error.is_permanent() => {
                    Err(DeliveryError::Permanent(error.to_string()))
                }
                Err(error) => Err(DeliveryError::Transient(error.to_string())),
            },
            Transport::Files(dir) => write_eml(dir, id, &message.formatted())
                .await
                .map_err(|e| DeliveryError::Transient(format!("writing the .eml file: {e}"))),
        }
    }
}

/// Creates the `.eml` folder; on Unix a new folder is the service user's alone (0700): the
/// files in it hold live tokens.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes `<id>.eml` through a temporary file and a rename, so a reader never sees half a
/// message and a retry replaces the file rather than adding one. The file holds the link's
/// token in clear, so on Unix only the service's own user may read it (mode 0600).
async fn write_eml(dir: &Path, id: Uuid, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;

    let path = dir.join(format!("{id}.eml"));
    let partial = dir.join(format!(".{id}.eml.partial"));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&partial).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&partial, &path).await
}

/// The MIME message: `multipart/alternative` with the plain text first and the HTML second,
/// and `Message-ID: <{id}@{domain}>`, the same on every attempt.
///
/// # Errors
/// `Permanent` when the recipient is not a usable address.
pub fn build(
    from: &Mailbox,
    domain: &str,
    mail: &SealedMail,
    rendered: &Rendered,
) -> Result<Message, DeliveryError> {
    let to: Mailbox = mail
        .recipient
        .parse()
        .map_err(|e| DeliveryError::Permanent(format!("recipient: {e}")))?;
    let date: std::time::SystemTime = mail.created_at.into();
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", mail.id)))
        .date(date)
        .header(header::MIME_VERSION_1_0)
        .multipart(MultiPart::alternative_plain_html(
            rendered.text.clone(),
            rendered.html.clone(),
        ))
        .map_err(|e| DeliveryError::Permanent(format!("building the message: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_smtp_urls_never_carry_credentials() {
        assert_eq!(
            without_credentials("smtp://user:s3cret@mail.example.org:587?tls=starttls"),
            "smtp://mail.example.org:587?tls=starttls"
        );
        assert_eq!(
            without_credentials("smtps://u:p%40w@mail.example.org"),
            "smtps://mail.example.org"
        );
        // A password with a `?` in it, not percent-encoded: nothing of it is shown.
        let shown = without_credentials("smtp://u:p?ss@mail.example.org:587");
        assert!(!shown.contains("ss"), "{shown}");
    }

    #[test]
    fn a_password_without_tls_to_another_host_is_flagged() {
        assert!(sends_password_in_clear("smtp://u:p@mail.example.org:25"));
        assert!(!sends_password_in_clear(
            "smtp://u:p@mail.example.org:587?tls=starttls"
        ));
        assert!(!sends_password_in_clear("smtps://u:p@mail.example.org"));
        assert!(!sends_password_in_clear("smtp://mail.example.org:25"));
        assert!(!sends_password_in_clear("smtp://u:p@127.0.0.1:25"));
        assert!(!sends_password_in_clear("smtp://u:p@localhost:25"));
        assert_eq!(
            without_credentials("smtp://localhost:25"),
            "smtp://localhost:25"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn eml_files_are_readable_by_the_owner_alone() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let id = Uuid::now_v7();
        write_eml(dir.path(), id, b"Subject: hello\r\n\r\nrpr_secret")
            .await
            .unwrap();
        // A second write of the same message replaces the first, still owner-only.
        write_eml(dir.path(), id, b"Subject: hello\r\n\r\nrpr_secret")
            .await
            .unwrap();

        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(
            files.len(),
            1,
            "one file per message id, no partial left behind"
        );
        let mode = std::fs::metadata(dir.path().join(format!("{id}.eml")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

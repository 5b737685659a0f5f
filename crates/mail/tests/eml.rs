//! The `.eml` transport end to end: seal, deliver, parse the file as MIME.

use chrono::{TimeZone, Utc};
use mail_parser::MessageParser;
use roster_app::model::{DeliveryError, MailMessage};
use roster_app::ports::Mailer;
use roster_domain::Email;
use roster_mail::{MailAdapter, MailSettings, SecretKey};
use secrecy::SecretString;
use uuid::Uuid;

fn adapter(dir: &std::path::Path, key: SecretKey) -> MailAdapter {
    MailAdapter::new(
        &MailSettings {
            from: "Roster <roster@mail.example.org>".into(),
            smtp_url: None,
            outbox_dir: dir.to_owned(),
            templates_dir: None,
        },
        key,
    )
    .unwrap()
}

#[tokio::test]
async fn a_message_becomes_one_parseable_eml_file_per_id_with_a_stable_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate();
    let mailer = adapter(dir.path(), key.clone());
    assert!(mailer.describe().contains("written as .eml files to"));
    let id = Uuid::now_v7();
    let at = Utc.with_ymd_and_hms(2026, 3, 14, 15, 9, 26).unwrap();
    let link = "http://localhost:8080/console/password-reset#rpr_0123456789";
    let sealed = mailer
        .seal(
            &MailMessage::PasswordReset {
                to: Email::parse("Ada@Example.com").unwrap(),
                link: SecretString::from(link),
                expires_at: at,
            },
            id,
            at,
        )
        .unwrap();
    assert!(!sealed.sealed.contains("rpr_"));

    // Delivered twice (a retry after a lost acknowledgement): still one file.
    mailer.deliver(&sealed).await.unwrap();
    mailer.deliver(&sealed).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
    let bytes = std::fs::read(dir.path().join(format!("{id}.eml"))).unwrap();
    let message = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(
        message.message_id(),
        Some(format!("{id}@mail.example.org").as_str())
    );
    assert_eq!(message.subject(), Some("Reset your Roster password"));
    assert!(message.body_text(0).unwrap().contains(link));
    // minijinja escapes `/` in HTML (`&#x2f;`), which browsers read back as `/`.
    let html = message.body_html(0).unwrap().replace("&#x2f;", "/");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert_eq!(
        message
            .to()
            .and_then(|to| to.first())
            .and_then(|a| a.address()),
        Some(sealed.recipient.as_str())
    );

    // Another key (a node that does not share it) cannot open it: a transient failure, so
    // that a node holding the right key delivers it later instead of the message being lost.
    let stranger = adapter(dir.path(), SecretKey::generate());
    assert!(matches!(
        stranger.deliver(&sealed).await,
        Err(DeliveryError::Transient(reason)) if reason.contains("secrets.key")
    ));
}

//! The message templates: for each kind a subject (`{kind}.subject.txt`), a plain-text body
//! (`{kind}.txt`) and an HTML body (`{kind}.html`), compiled in from `crates/mail/templates/`.
//! A file of the same name in `mail.templates_dir` replaces the built-in one. Every template
//! is parsed and rendered once with sample values at start-up (undefined variables are
//! errors), so a broken override stops the service with the file's name rather than failing
//! the first real message.
//!
//! Variables: `to` (the recipient), `link` (the token link; not in `account_exists`),
//! `expires_at` (`2026-03-14 15:39 UTC`), and for invitations `name`
//! (may be empty) and `inviter`; `reset_page` in `account_exists`. HTML templates are
//! auto-escaped; plain-text ones are not.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, context};
use roster_app::model::{MailKind, MailMessage};
use roster_domain::Email;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// A rendered message: what is sealed into the outbox.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bodies hold the token.
        f.debug_struct("Rendered")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A template that does not load, parse or render, named by its file.
#[derive(Debug, thiserror::Error)]
#[error("mail template {file}: {reason}")]
pub struct TemplateError {
    pub file: String,
    pub reason: String,
}

const BUILT_IN: [(&str, &str); 12] = [
    (
        "password_reset.subject.txt",
        include_str!("../templates/password_reset.subject.txt"),
    ),
    (
        "password_reset.txt",
        include_str!("../templates/password_reset.txt"),
    ),
    (
        "password_reset.html",
        include_str!("../templates/password_reset.html"),
    ),
    (
        "email_verification.subject.txt",
        include_str!("../templates/email_verification.subject.txt"),
    ),
    (
        "email_verification.txt",
        include_str!("../templates/email_verification.txt"),
    ),
    (
        "email_verification.html",
        include_str!("../templates/email_verification.html"),
    ),
    (
        "invitation.subject.txt",
        include_str!("../templates/invitation.subject.txt"),
    ),
    (
        "invitation.txt",
        include_str!("../templates/invitation.txt"),
    ),
    (
        "invitation.html",
        include_str!("../templates/invitation.html"),
    ),
    (
        "account_exists.subject.txt",
        include_str!("../templates/account_exists.subject.txt"),
    ),
    (
        "account_exists.txt",
        include_str!("../templates/account_exists.txt"),
    ),
    (
        "account_exists.html",
        include_str!("../templates/account_exists.html"),
    ),
];

/// The loaded templates.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    /// Where each template came from, for error messages.
    sources: Vec<(String, String)>,
}

impl Templates {
    /// The built-in templates, each replaced by `dir/<name>` when that file exists.
    ///
    /// # Errors
    /// A file that cannot be read, does not parse, or does not render with sample values.
    pub fn load(dir: Option<&Path>) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            // Template names are the fixed, lower-case names in `BUILT_IN`.
            if Path::new(name)
                .extension()
                .is_some_and(|extension| extension == "html")
            {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        let mut sources = Vec::new();
        for (name, built_in) in BUILT_IN {
            let (origin, text) = match dir.map(|dir| dir.join(name)) {
                Some(path) if path.exists() => {
                    let text = std::fs::read_to_string(&path).map_err(|e| TemplateError {
                        file: path.display().to_string(),
                        reason: e.to_string(),
                    })?;
                    (path.display().to_string(), text)
                }
                _ => (format!("(built-in) {name}"), built_in.to_owned()),
            };
            env.add_template_owned(name, text)
                .map_err(|e| TemplateError {
                    file: origin.clone(),
                    reason: e.to_string(),
                })?;
            sources.push((name.to_owned(), origin));
        }
        let templates = Templates { env, sources };
        for message in samples() {
            templates.render(&message)?;
        }
        Ok(templates)
    }

    /// Renders the subject and both bodies of a message.
    ///
    /// # Errors
    /// A template that fails to render (checked at load, so only a bug gets here).
    pub fn render(&self, message: &MailMessage) -> Result<Rendered, TemplateError> {
        let kind = message.kind();
        let values = values(message);
        let one = |suffix: &str| -> Result<String, TemplateError> {
            let name = format!("{}.{suffix}", kind.as_str());
            let origin = self
                .sources
                .iter()
                .find(|(n, _)| *n == name)
                .map_or_else(|| name.clone(), |(_, origin)| origin.clone());
            let template = self.env.get_template(&name).map_err(|e| TemplateError {
                file: origin.clone(),
                reason: e.to_string(),
            })?;
            template.render(&values).map_err(|e| TemplateError {
                file: origin,
                reason: e.to_string(),
            })
        };
        Ok(Rendered {
            // A subject is one line: a template's trailing newline or a stray line break
            // must not become a header injection.
            subject: one("subject.txt")?
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            text: one("txt")?,
            html: one("html")?,
        })
    }
}

fn when(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn values(message: &MailMessage) -> Value {
    match message {
        MailMessage::PasswordReset {
            to,
            link,
            expires_at,
        }
        | MailMessage::EmailVerification {
            to,
            link,
            expires_at,
        } => context! {
            to => to.to_string(),
            link => link.expose_secret(),
            expires_at => when(expires_at),
        },
        MailMessage::Invitation {
            to,
            name,
            inviter,
            link,
            expires_at,
        } => context! {
            to => to.to_string(),
            name => name.clone().unwrap_or_default(),
            inviter => inviter,
            link => link.expose_secret(),
            expires_at => when(expires_at),
        },
        MailMessage::AccountExists { to, reset_page } => context! {
            to => to.to_string(),
            reset_page => reset_page,
        },
    }
}

/// One message of every kind, to render each template once at load.
fn samples() -> Vec<MailMessage> {
    let to = Email::parse("someone@example.org").expect("a valid sample address");
    let link = || SecretString::from("https://roster.example.org/console/page#rxx_sample");
    let expires_at = Utc
        .with_ymd_and_hms(2030, 1, 1, 12, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
        + Duration::minutes(30);
    let samples = vec![
        MailMessage::PasswordReset {
            to: to.clone(),
            link: link(),
            expires_at,
        },
        MailMessage::EmailVerification {
            to: to.clone(),
            link: link(),
            expires_at,
        },
        MailMessage::Invitation {
            to: to.clone(),
            name: Some("Ada <Lovelace>".into()),
            inviter: "admin@example.org".into(),
            link: link(),
            expires_at,
        },
        MailMessage::AccountExists {
            to,
            reset_page: "https://roster.example.org/console/password-reset".into(),
        },
    ];
    debug_assert_eq!(samples.len(), MailKind::ALL.len());
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reset() -> MailMessage {
        MailMessage::PasswordReset {
            to: Email::parse("ada@example.com").unwrap(),
            link: SecretString::from("http://localhost:8080/console/password-reset#rpr_abc&<x>"),
            expires_at: Utc.with_ymd_and_hms(2026, 3, 14, 15, 39, 0).unwrap(),
        }
    }

    #[test]
    fn built_in_templates_render_every_kind_with_the_link_in_both_bodies() {
        let templates = Templates::load(None).unwrap();
        let rendered = templates.render(&reset()).unwrap();
        assert!(!rendered.subject.contains('\n'));
        assert!(rendered.text.contains("#rpr_abc&<x>"), "{}", rendered.text);
        // Escaped in HTML, so a link cannot inject markup.
        assert!(
            rendered.html.contains("#rpr_abc&amp;&lt;x&gt;"),
            "{}",
            rendered.html
        );
        assert!(rendered.text.contains("2026-03-14 15:39 UTC"));
        for message in samples() {
            templates.render(&message).unwrap();
        }
    }

    #[test]
    fn an_override_replaces_the_built_in_template_and_a_broken_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("password_reset.subject.txt"),
            "Reset for {{ to }}\n",
        )
        .unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(
            templates.render(&reset()).unwrap().subject,
            "Reset for ada@example.com"
        );

        std::fs::write(dir.path().join("invitation.html"), "{{ no_such_variable }}").unwrap();
        let error = Templates::load(Some(dir.path())).unwrap_err();
        assert!(error.file.ends_with("invitation.html"), "{error}");
        std::fs::write(dir.path().join("invitation.html"), "{% if %}").unwrap();
        let error = Templates::load(Some(dir.path())).unwrap_err();
        assert!(error.file.ends_with("invitation.html"), "{error}");
    }
}

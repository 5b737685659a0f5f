//! Outbound mail and password reset against a real SMTP server (aiosmtpd, started by each
//! test on a free port; skipped with a loud message when the machine lacks it, failed when
//! `ROSTER_REQUIRE_SMTP=1`), and the `.eml` default.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::{AppOptions, Db, PASSWORD, TestApp, spawn_app_with, unique_email};
use crate::on_both_databases;

const REQUIRE_VAR: &str = "ROSTER_REQUIRE_SMTP";
const NEW_PASSWORD: &str = "violet submarine tangerine lantern";
/// How long a test waits for mail before it fails (a deadline, not a timing assertion).
const PATIENCE: Duration = Duration::from_mins(1);

/// A Python that can import aiosmtpd: Debian's first (a pyenv shim may come first on PATH).
fn python_with_aiosmtpd() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running aiosmtpd that stores every message it accepts as a file.
pub(crate) struct SmtpSink {
    child: Child,
    port: u16,
    dir: PathBuf,
    _keep: Option<TempDir>,
}

impl SmtpSink {
    /// `None` (after saying SKIPPED) when the machine has no aiosmtpd.
    pub(crate) fn available() -> Option<&'static str> {
        let python = python_with_aiosmtpd();
        if python.is_none() {
            assert!(
                std::env::var_os(REQUIRE_VAR).is_none(),
                "{REQUIRE_VAR} is set but python3-aiosmtpd is not installed"
            );
            eprintln!(
                "SKIPPED: SMTP tests need python3-aiosmtpd (apt-get install python3-aiosmtpd); \
                 set {REQUIRE_VAR}=1 to fail instead"
            );
        }
        python
    }

    /// Starts a sink on `port`, storing into `dir` (a fresh temporary folder when `None`).
    pub(crate) fn start(python: &str, port: u16, dir: Option<PathBuf>) -> SmtpSink {
        let (dir, keep) = if let Some(dir) = dir {
            (dir, None)
        } else {
            let temp = tempfile::tempdir().unwrap();
            (temp.path().to_owned(), Some(temp))
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("aiosmtpd starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        SmtpSink {
            child,
            port,
            dir,
            _keep: keep,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, raw.
    pub(crate) fn messages(&self) -> Vec<Vec<u8>> {
        eml_files(&self.dir)
    }

    /// Waits until at least `count` messages arrived; returns them all.
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<Vec<u8>> {
        wait_for_files(&self.dir, count).await
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn eml_files(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

pub(crate) async fn wait_for_files(dir: &Path, count: usize) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let files = eml_files(dir);
        if files.len() >= count {
            return files;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} messages in {}, have {}",
            dir.display(),
            files.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the tests read from a received message.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) message_id: String,
    pub(crate) to: String,
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) html: String,
}

pub(crate) fn parse(raw: &[u8]) -> Received {
    let message = MessageParser::default().parse(raw).expect("a MIME message");
    Received {
        message_id: message.message_id().expect("a Message-ID").to_owned(),
        to: message
            .to()
            .and_then(|to| to.first())
            .and_then(|address| address.address())
            .expect("a recipient")
            .to_owned(),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).expect("a text part").into_owned(),
        html: message.body_html(0).expect("an HTML part").into_owned(),
    }
}

/// The `rpr_` token of the link in a reset message's text.
pub(crate) fn reset_token(received: &Received) -> String {
    link_token(received, "password-reset", "rpr_")
}

/// The token of the link to `/console/{page}#{prefix}...` in a message's text.
pub(crate) fn link_token(received: &Received, page: &str, prefix: &str) -> String {
    let link = format!("/console/{page}#");
    let start = received
        .text
        .find(&format!("{link}{prefix}"))
        .unwrap_or_else(|| panic!("no {page} link in {}", received.text))
        + link.len();
    received.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

pub(crate) fn smtp_options(url: &str) -> AppOptions {
    AppOptions {
        env: vec![
            ("ROSTER__MAIL__SMTP_URL".into(), url.to_owned()),
            ("ROSTER__MAIL__POLL_INTERVAL".into(), "200ms".into()),
            (
                "ROSTER__MAIL__FROM".into(),
                "Roster <roster@mail.test>".into(),
            ),
        ],
        ..AppOptions::default()
    }
}

async fn ask_reset(app: &TestApp, email: &str) -> (u16, Vec<u8>) {
    let response = app
        .post_json(
            "/v1/account/password-reset",
            &json!({ "email": email }),
            None,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/v1/account/password-reset/confirm",
        &json!({ "token": token, "new_password": password }),
        None,
    )
    .await
}

/// Waits until the outbox holds nothing to send (every message sent or given up).
pub(crate) async fn wait_until_outbox_empty(app: &TestApp) {
    let roster = app.components(&[]).roster;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let stats = roster.outbox_stats().await.unwrap();
        if stats.queued == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "outbox not drained: {stats:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_reset_link_arrives_by_smtp_and_sets_a_new_password_once(db: Db) {
    let Some(python) = SmtpSink::available() else {
        return;
    };
    let smtp = SmtpSink::start(python, free_port(), None);
    let Some(app) = spawn_app_with(db, smtp_options(&smtp.url())).await else {
        return;
    };
    let member = app.new_account("reset").await;

    let (status, known) = ask_reset(&app, &member.email).await;
    assert_eq!(status, 202);
    assert_eq!(
        serde_json::from_slice::<Value>(&known).unwrap(),
        json!({ "status": "check_your_email" })
    );
    // The answer for an unknown email is the same, byte for byte.
    let (status, unknown) = ask_reset(&app, &unique_email("nobody")).await;
    assert_eq!((status, &unknown), (202, &known));

    let received = parse(&smtp.wait_for(1).await[0]);
    assert_eq!(received.to, member.email);
    assert_eq!(received.subject, "Reset your Roster password");
    assert!(received.message_id.ends_with("@mail.test"), "{received:?}");
    let token = reset_token(&received);
    assert!(token.starts_with("rpr_") && token.len() == 47, "{token}");
    // The HTML part carries the same link (minijinja escapes `/` as `&#x2f;`).
    assert!(
        received
            .html
            .replace("&#x2f;", "/")
            .contains(&format!("/console/password-reset#{token}"))
    );

    // A weak password is refused naming the field, and does not use the token up.
    let weak = confirm(&app, &token, "password").await;
    assert_eq!(weak.status(), 422);
    let body: Value = weak.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "new_password");

    let confirmed = confirm(&app, &token, NEW_PASSWORD).await;
    assert_eq!(confirmed.status(), 204);
    // Every session of the account is gone; the new password works, the old one not.
    let me = app.get_as("/v1/account/me", &member.token).await;
    assert_eq!(me.status(), 401);
    assert_eq!(app.login(&member.email, PASSWORD).await.status(), 401);
    app.login_token(&member.email, NEW_PASSWORD).await;

    // Single use.
    let again = confirm(&app, &token, "another quite long passphrase here").await;
    assert_eq!(again.status(), 410);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["code"], "token_invalid");
    let forged = confirm(&app, &format!("rpr_{}", "A".repeat(43)), NEW_PASSWORD).await;
    assert_eq!(forged.status(), 410);

    // Only the one message went out: the unknown email got none.
    wait_until_outbox_empty(&app).await;
    assert_eq!(smtp.messages().len(), 1);
}

async fn an_smtp_outage_loses_nothing_and_sends_nothing_twice(db: Db) {
    let Some(python) = SmtpSink::available() else {
        return;
    };
    // The server's address is known, but nothing listens there yet.
    let port = free_port();
    let mail_dir = tempfile::tempdir().unwrap();
    let Some(app) = spawn_app_with(db, smtp_options(&format!("smtp://127.0.0.1:{port}"))).await
    else {
        return;
    };
    let mut emails = Vec::new();
    for n in 0..3 {
        let member = app.new_account(&format!("outage{n}")).await;
        assert_eq!(ask_reset(&app, &member.email).await.0, 202);
        emails.push(member.email);
    }
    // Wait until every message failed at least once.
    let roster = app.components(&[]).roster;
    let deadline = Instant::now() + PATIENCE;
    while roster.outbox_stats().await.unwrap().retrying < 3 {
        assert!(Instant::now() < deadline, "messages were not attempted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let smtp = SmtpSink::start(python, port, Some(mail_dir.path().to_owned()));
    smtp.wait_for(3).await;
    wait_until_outbox_empty(&app).await;
    let received: Vec<Received> = smtp.messages().iter().map(|raw| parse(raw)).collect();
    assert_eq!(received.len(), 3, "{received:?}");
    let ids: HashSet<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    let recipients: HashSet<&str> = received.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(recipients, emails.iter().map(String::as_str).collect());
}

on_both_databases!(
    a_reset_link_arrives_by_smtp_and_sets_a_new_password_once,
    an_smtp_outage_loses_nothing_and_sends_nothing_twice,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgresql_send_each_message_exactly_once() {
    let Some(python) = SmtpSink::available() else {
        return;
    };
    let smtp = SmtpSink::start(python, free_port(), None);
    let options = smtp_options(&smtp.url());
    let Some(app) = spawn_app_with(Db::Postgres, options.clone()).await else {
        return;
    };
    let sibling = app.start_sibling(&options.env).await;
    let mut emails = HashSet::new();
    for n in 0..8 {
        let member = app.new_account(&format!("cluster{n}")).await;
        // Half the requests reach each node; both nodes' senders claim from one queue.
        let url = if n % 2 == 0 {
            app.url("/v1/account/password-reset")
        } else {
            format!("{sibling}/v1/account/password-reset")
        };
        let response = app
            .client
            .post(url)
            .json(&json!({ "email": member.email }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        emails.insert(member.email);
    }
    smtp.wait_for(8).await;
    wait_until_outbox_empty(&app).await;
    let received: Vec<Received> = smtp.messages().iter().map(|raw| parse(raw)).collect();
    assert_eq!(received.len(), 8);
    let ids: HashSet<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), 8);
    let recipients: HashSet<String> = received.iter().map(|m| m.to.clone()).collect();
    assert_eq!(recipients, emails);
}

async fn without_smtp_messages_are_written_as_eml_files(db: Db) {
    let Some(app) = spawn_app_with(db, AppOptions::default()).await else {
        return;
    };
    let member = app.new_account("eml").await;
    assert_eq!(ask_reset(&app, &member.email).await.0, 202);
    let files = wait_for_files(&app.outbox_dir(), 1).await;
    let received = parse(&files[0]);
    assert_eq!(received.to, member.email);
    assert!(received.message_id.ends_with("@localhost"));
    let token = reset_token(&received);
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status(), 204);
}

async fn the_per_account_hourly_cap_answers_the_same_and_sends_nothing_more(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            env: vec![("ROSTER__PASSWORD_RESET__MAX_PER_HOUR".into(), "2".into())],
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let member = app.new_account("capped").await;
    let mut answers = HashSet::new();
    for _ in 0..4 {
        answers.insert(ask_reset(&app, &member.email).await);
    }
    assert_eq!(answers.len(), 1, "{answers:?}");
    wait_for_files(&app.outbox_dir(), 2).await;
    wait_until_outbox_empty(&app).await;
    assert_eq!(eml_files(&app.outbox_dir()).len(), 2);
}

on_both_databases!(
    without_smtp_messages_are_written_as_eml_files,
    the_per_account_hourly_cap_answers_the_same_and_sends_nothing_more,
);

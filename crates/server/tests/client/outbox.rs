//! The links Roster emails, read from the `.eml` files it writes when no SMTP server is set
//! (`data/outbox` in its working directory), for the client's tests of the emailed flows.

use std::path::Path;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;

use crate::support::Roster;

/// Settings that deliver queued mail within a fraction of a second, not the default 5 s.
pub const QUICK_MAIL: (&str, &str) = ("ROSTER__MAIL__POLL_INTERVAL", "100ms");

/// How long a test waits for a message before it fails (a deadline, not a timing
/// assertion).
const PATIENCE: Duration = Duration::from_mins(1);

/// The token of the `nth` (from 1, oldest first) link to `/console/{page}#...` emailed to
/// `to`, once it arrived.
pub async fn emailed_token(roster: &Roster, to: &str, page: &str, nth: usize) -> String {
    let outbox = roster.workdir.path().join("data/outbox");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let tokens = link_tokens(&outbox, to, page);
        if let Some(token) = tokens.get(nth - 1) {
            return token.clone();
        }
        assert!(
            Instant::now() < deadline,
            "expected {nth} `{page}` links to {to} in {}, have {}",
            outbox.display(),
            tokens.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The tokens of every `/console/{page}#` link to `to`, oldest first: files are named by
/// message id, a UUID v7, so their names sort by time.
fn link_tokens(outbox: &Path, to: &str, page: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(outbox) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    paths.sort();
    let marker = format!("/console/{page}#");
    paths
        .iter()
        .filter_map(|path| {
            let raw = std::fs::read(path).ok()?;
            let message = MessageParser::default().parse(&raw)?;
            let recipient = message.to()?.first()?.address()?.to_owned();
            if !recipient.eq_ignore_ascii_case(to) {
                return None;
            }
            let text = message.body_text(0)?.into_owned();
            let start = text.find(&marker)? + marker.len();
            Some(
                text[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect(),
            )
        })
        .collect()
}

//! Accepting an invitation through the emailed link: the console's script moves the token
//! from the fragment into the form and out of the address bar; the new account is signed in
//! with exactly the invited grants, with self-registration switched off.

use mail_parser::MessageParser;
use serde_json::json;

use crate::axe;
use crate::harness::{Console, eventually};

const INVITEE_PASSWORD: &str = "marble giraffe lighthouse umbrella";

/// The link in the first `.eml` message in the server's outbox folder (no SMTP server is
/// configured, so messages are written there).
fn emailed_link(console: &Console) -> Option<String> {
    let dir = console.workdir.path().join("data/outbox");
    let path = std::fs::read_dir(dir)
        .ok()?
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "eml"))?;
    let raw = std::fs::read(path).ok()?;
    let message = MessageParser::default().parse(&raw)?;
    let text = message.body_text(0)?.into_owned();
    let start = text.find("http")?;
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    link.contains("/console/invitation#rin_").then_some(link)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_is_accepted_through_the_emailed_link() {
    let Some(console) = Console::start() else {
        return;
    };
    console.workdir.write_features(
        "enabledFeatures = [\n]\n\ndisabledFeatures = [\n    account-registration\n]\n",
    );
    let admin = console.admin_token().await;
    let (status, body) = console
        .api(
            reqwest::Method::POST,
            "/v1/admin/roles",
            Some(&admin),
            Some(json!({"name": "doc-reader", "permissions": [{"action": "doc-read"}]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let email = "grace@invited.example";
    let (status, body) = console
        .api(
            reqwest::Method::POST,
            "/v1/admin/invitations",
            Some(&admin),
            Some(json!({"email": email, "grants": [{"role": "doc-reader", "scope": "acme"}]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let link = eventually("the invitation email", || async { emailed_link(&console) }).await;
    // The link names `server.public_url` (unset here): open the same path and fragment on
    // this test's server.
    let from = link.find("/console/invitation#").unwrap();
    let (path, token) = link[from..].split_once('#').unwrap();
    let browser = console.browser().await;
    browser.goto(&format!("{path}#{token}")).await;
    assert_eq!(
        browser.value("#token").await,
        token,
        "the script filled the form"
    );
    assert!(
        !browser.url().await.contains('#'),
        "the fragment left the address bar"
    );
    axe::check(&browser, "accepting an invitation").await;

    browser.fill("#name", "Grace").await;
    browser.fill("#password", INVITEE_PASSWORD).await;
    browser
        .click("form[action='/console/invitation'] button[type=submit]")
        .await;
    browser.wait_for_path("/console/account").await;
    assert!(
        browser
            .source()
            .await
            .contains("Welcome! Your account is ready.")
    );

    let session = console
        .api_login(email, INVITEE_PASSWORD)
        .await
        .expect("the invited account signs in");
    let (_, me) = console
        .api(reqwest::Method::GET, "/v1/account/me", Some(&session), None)
        .await;
    let grants = me["grants"].as_array().expect("grants");
    assert_eq!(grants.len(), 1, "{me}");
    assert_eq!(grants[0]["role"], "doc-reader");
    assert_eq!(grants[0]["scope"], "acme");
    assert_eq!(me["account"]["email_verified"], true);
    browser.close().await;
}

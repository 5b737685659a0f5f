//! The emailed password-reset link in a browser: the console's script takes the token from
//! the fragment into the form, hides the field and clears the address bar; the user sets a
//! new password with one click and signs in with it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::axe;
use crate::harness::{Console, PASSWORD};

const NEW_PASSWORD: &str = "violet submarine tangerine lantern";

/// The `rpr_` token of the first `.eml` the server writes (no SMTP server configured: the
/// embedded default writes into `data/outbox` under its working directory).
async fn emailed_reset_token(console: &Console) -> String {
    let outbox = console.workdir.path().join("data/outbox");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let file = std::fs::read_dir(&outbox).ok().and_then(|entries| {
            entries
                .map(|entry| entry.unwrap().path())
                .find(|path| path.extension().is_some_and(|ext| ext == "eml"))
        });
        if let Some(file) = file {
            let raw = std::fs::read(file).unwrap();
            let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let text = message.body_text(0).unwrap().into_owned();
            let start = text.find("#rpr_").expect("a reset link") + 1;
            return text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
        }
        assert!(
            Instant::now() < deadline,
            "no email in {}",
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emailed_reset_link_fills_the_form_and_the_new_password_signs_in() {
    let Some(console) = Console::start() else {
        return;
    };
    let email = "forgetful@example.com";
    console.account(email, "Forgetful").await;
    let (status, _) = console
        .api(
            reqwest::Method::POST,
            "/v1/account/password-reset",
            None,
            Some(json!({ "email": email })),
        )
        .await;
    assert_eq!(status, 202);
    let token = emailed_reset_token(&console).await;

    let browser = console.browser().await;
    // The sign-in page leads to the request form.
    browser.goto("/console/login").await;
    browser.click("a[href='/console/password-reset']").await;
    browser.wait_for_path("/console/password-reset").await;
    assert!(browser.find("#token").await.is_displayed().await.unwrap());

    // The link as emailed (on this server's origin).
    browser
        .goto(&format!("/console/password-reset#{token}"))
        .await;
    assert_eq!(browser.value("#token").await, token);
    assert!(!browser.find("#token").await.is_displayed().await.unwrap());
    assert!(
        !browser
            .find("#request-reset")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    let url = browser.url().await;
    assert!(!url.contains('#') && !url.contains("rpr_"), "{url}");
    browser.snap("password-reset-link").await;
    axe::check(&browser, "password reset from a link").await;

    browser.fill("#new_password", NEW_PASSWORD).await;
    browser
        .click("form[action='/console/password-reset/confirm'] button[type=submit]")
        .await;
    browser
        .wait_for_path("/console/login?done=password-set")
        .await;
    assert!(
        browser
            .text("p.notice")
            .await
            .contains("Your new password is set")
    );
    browser.sign_in(email, NEW_PASSWORD).await;
    assert!(console.api_login(email, PASSWORD).await.is_none());
    browser.close().await;
}

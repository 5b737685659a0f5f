//! What an administrator grants shows on the holder's account page, in words.

use reqwest::Method;
use serde_json::json;

use crate::axe;
use crate::harness::{Console, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_made_by_an_admin_appears_for_the_user_after_a_reload() {
    let Some(console) = Console::start() else {
        return;
    };
    let email = "katherine@example.com";
    let id = console.account(email, "Katherine Johnson").await;
    let browser = console.browser().await;
    browser.sign_in(email, PASSWORD).await;
    let grants = browser
        .text("section[aria-labelledby='grants-heading']")
        .await;
    assert!(grants.contains("You have no grants yet."), "{grants}");

    // The administrator works through the JSON API (the console's admin pages come later).
    let admin = console.admin_token().await;
    let (status, body) = console
        .api(
            Method::POST,
            "/v1/admin/roles",
            Some(&admin),
            Some(json!({
                "name": "support-agent",
                "description": "Reads tickets; never deletes them",
                "permissions": [
                    {"action": "ticket:read"},
                    {"action": "ticket:delete", "effect": "deny"},
                ],
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = console
        .api(
            Method::POST,
            &format!("/v1/admin/accounts/{id}/grants"),
            Some(&admin),
            Some(json!({"role": "support-agent", "scope": "acme.berlin"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    browser.client.refresh().await.expect("the page reloads");
    let grant = browser.text("ul.grants > li").await;
    for words in [
        "support-agent on acme.berlin",
        "in acme.berlin and everything beneath it",
        "may do ticket:read",
        "may not do ticket:delete",
    ] {
        assert!(grant.contains(words), "{words:?} missing from: {grant}");
    }
    assert!(
        !browser
            .has("section[aria-labelledby='grants-heading'] .empty")
            .await
    );
    browser.snap("account-grants").await;
    axe::check(&browser, "account with grants").await;
    browser.close().await;
}

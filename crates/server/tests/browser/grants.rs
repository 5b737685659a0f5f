//! What an administrator grants shows on the holder's account page, in words.

use reqwest::Method;
use serde_json::json;

use crate::axe;
use crate::harness::{ADMIN_EMAIL, Console, PASSWORD};

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

    // The administrator makes the role through the API, and the grant in another browser,
    // with the account page's "Add grant" form.
    let admin_token = console.admin_token().await;
    let (status, body) = console
        .api(
            Method::POST,
            "/v1/admin/roles",
            Some(&admin_token),
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
    let admin = console.browser().await;
    admin.sign_in(ADMIN_EMAIL, PASSWORD).await;
    let page = format!("/console/admin/accounts/{id}");
    admin.goto(&page).await;
    assert!(
        admin
            .text("section[aria-labelledby='grants-heading'] .empty")
            .await
            .contains("This account has no grants yet. Give it a role below.")
    );
    admin.select("select#grant-role", "support-agent").await;
    admin.fill("#grant-scope", "acme.berlin").await;
    admin
        .click(&format!("form[action='{page}/grants'] button[type=submit]"))
        .await;
    admin
        .wait_for_path(&format!("{page}?done=grant-added"))
        .await;
    let given = admin.text("main ul.grants").await;
    assert!(given.contains("support-agent on acme.berlin"), "{given}");
    axe::check(&admin, "an account's page with a grant").await;
    admin.close().await;

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

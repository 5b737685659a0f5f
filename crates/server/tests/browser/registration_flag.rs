//! Sign-up exists only while `account-registration` is on; the server picks up an edit of
//! the features file while running.

use crate::axe;
use crate::harness::{Console, PASSWORD, eventually};
use crate::process;

const REGISTER_LINK: &str = "a[href='/console/register']";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_is_gone_while_the_flag_is_off() {
    let Some(console) = Console::start() else {
        return;
    };
    let browser = console.browser().await;
    browser.goto("/console/login").await;
    assert!(
        browser.has(REGISTER_LINK).await,
        "the sign-in page offers sign-up"
    );
    // Someone is half-way through the form when the flag goes off.
    let email = "late@example.com";
    browser.goto("/console/register").await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;

    console.workdir.write_features(
        "enabledFeatures = [\n]\n\ndisabledFeatures = [\n    account-registration\n]\n",
    );
    let port = console.server.port;
    eventually("/console/register to answer 404", || async move {
        let reply = process::http(port, "GET", "/console/register", None, None).ok()?;
        (reply.status == 404).then_some(())
    })
    .await;

    // The form already on the screen is refused, and creates nothing.
    browser
        .click("form[action='/console/register'] button[type=submit]")
        .await;
    browser.find("main h1").await;
    assert_eq!(browser.status().await, 404);
    assert!(console.api_login(email, PASSWORD).await.is_none());
    // The sign-in page no longer links to it; the page itself is the console's "not found".
    browser.goto("/console/login").await;
    assert!(browser.has("form[action='/console/login']").await);
    assert!(!browser.has(REGISTER_LINK).await, "sign-up still offered");
    browser.goto("/console/register").await;
    assert_eq!(browser.status().await, 404);
    assert_eq!(browser.text("main h1").await, "Not found");
    axe::check(&browser, "sign-up while switched off").await;
    browser.close().await;
}

//! An API key's secret: shown once, on the page that created it, and never again.

use reqwest::Method;
use serde_json::json;

use crate::axe;
use crate::harness::{ADMIN_EMAIL, Browser, Console, PASSWORD, eventually};

const LIST: &str = "/console/admin/api-keys";

/// Whether `secret`, or the random part after its `rak_` prefix, is anywhere in the page.
async fn shows(browser: &Browser, secret: &str) -> bool {
    let source = browser.source().await;
    let random = secret.strip_prefix("rak_").unwrap_or(secret);
    source.contains(secret) || source.contains(random)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_secret_is_shown_once_and_never_again() {
    let Some(console) = Console::start() else {
        return;
    };
    let admin_token = console.admin_token().await;
    let (status, body) = console
        .api(
            Method::POST,
            "/v1/admin/roles",
            Some(&admin_token),
            Some(json!({"name": "deployer", "permissions": [{"action": "deploy-run"}]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let browser = console.browser().await;
    browser.sign_in(ADMIN_EMAIL, PASSWORD).await;
    browser.goto(LIST).await;
    assert!(
        browser
            .text("p.empty")
            .await
            .contains("No API keys yet. Create the first one below."),
    );
    browser.fill("#name", "ci-deploy").await;
    browser.select("#expires_in", "30d").await;
    browser.fill("#grant-1-role", "deployer").await;
    browser.fill("#grant-1-scope", "acme").await;
    browser
        .click(&format!("form[action='{LIST}'] button[type=submit]"))
        .await;

    // The answer to the form itself: the secret, the warning, and a copy button the script
    // has shown (it is hidden in the HTML, for browsers without script).
    let secret = browser.text("code#api-key-secret").await;
    assert!(
        secret.starts_with("rak_") && secret.len() > 20,
        "{secret:?}"
    );
    assert_eq!(browser.status().await, 201);
    assert!(
        shows(&browser, &secret).await,
        "the secret is found where it is"
    );
    assert_eq!(browser.location().await, LIST);
    let warning = browser.text("p.warning[role=alert]").await;
    assert!(
        warning.contains("Copy it now: it will not be shown again."),
        "{warning}"
    );
    let copy = browser.find("button[data-copy='api-key-secret']").await;
    assert!(copy.is_displayed().await.unwrap(), "the copy button shows");
    copy.click().await.unwrap();
    // Copied, or (without clipboard access) the text selected for the person to copy.
    let said = eventually("the copy button to answer", || async {
        let text = copy.text().await.ok()?;
        (text != "Copy").then_some(text)
    })
    .await;
    assert!(
        said == "Copied" || said == "Selected: press Ctrl+C",
        "{said:?}"
    );
    let facts = browser
        .text("section[aria-labelledby='facts-heading']")
        .await;
    assert!(
        facts.contains("ci-deploy") && facts.contains("deployer on acme"),
        "{facts}"
    );
    browser.snap("api-key-created").await;
    axe::check(&browser, "API key created").await;

    // Back to the list: the key is there, its secret is not; nor after a reload, nor in the
    // audit trail that records its creation.
    browser
        .click("main a.button[href='/console/admin/api-keys']")
        .await;
    browser.wait_for_path(LIST).await;
    let listed = browser.text("main table tbody").await;
    assert!(listed.contains("ci-deploy"), "{listed}");
    assert!(!shows(&browser, &secret).await, "the list shows the secret");
    browser.client.refresh().await.expect("the page reloads");
    assert!(browser.text("main table tbody").await.contains("ci-deploy"));
    assert!(
        !shows(&browser, &secret).await,
        "the reload shows the secret"
    );
    browser.goto("/console/admin/audit").await;
    assert!(browser.text("main table tbody").await.contains("ci-deploy"));
    assert!(
        !shows(&browser, &secret).await,
        "the audit shows the secret"
    );

    // The secret is a working key: the API knows it as ci-deploy, with its grant.
    let (status, me) = console
        .api(Method::GET, "/v1/account/me", Some(&secret), None)
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["api_key"]["name"], "ci-deploy", "{me}");
    assert_eq!(me["grants"][0]["role"], "deployer", "{me}");
    assert_eq!(me["grants"][0]["scope"], "acme", "{me}");
    browser.close().await;
}

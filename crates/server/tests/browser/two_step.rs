//! Two-step sign-in in a real browser: an authenticator app set up from the page (its codes
//! computed from the key the page shows, as an app would), the step-up prompt sending the
//! refused form again, and passkeys on Chromium's virtual authenticator: added on the
//! two-step page, then signing in alone, as the second step, and for a step-up.

use std::time::{SystemTime, UNIX_EPOCH};

use totp_rs::{Algorithm, Secret, TOTP};

use crate::axe;
use crate::harness::{ADMIN_EMAIL, Browser, Console, PASSWORD};

/// The code an authenticator app holding `secret` (base32, spaces allowed) shows `steps`
/// steps of 30 seconds from now.
pub fn app_code(secret: &str, steps: i64) -> String {
    let secret: String = secret.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = Secret::Encoded(secret).to_bytes().expect("a base32 key");
    let totp = TOTP::new_unchecked(Algorithm::SHA1, 6, 0, 30, bytes, None, String::new());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let at = i64::try_from(now).expect("a time") + steps * 30;
    totp.generate(u64::try_from(at).expect("a time after 1970"))
}

/// Sets up the authenticator app from the two-step page: returns the key the page showed and
/// the recovery codes it showed once. `snap` names the screenshots of each page (or none).
pub async fn set_up_app(browser: &Browser, snap: Option<&str>) -> (String, Vec<String>) {
    browser.goto("/console/account/two-step").await;
    browser
        .click("form[action='/console/account/two-step/app'] button[type=submit]")
        .await;
    browser.find(".qr svg[role=img]").await;
    let secret = browser.text("#totp-secret").await;
    if let Some(name) = snap {
        browser.snap(&format!("{name}-setup")).await;
        axe::check(browser, &format!("{name}-setup")).await;
    }
    browser.fill("#code", &app_code(&secret, 0)).await;
    browser
        .click("form[action='/console/account/two-step/app/confirm'] button[type=submit]")
        .await;
    browser.find("#recovery-codes").await;
    let mut codes = Vec::new();
    for item in browser.all("#recovery-codes code").await {
        codes.push(item.text().await.expect("a code's text"));
    }
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// Signs in with the password and waits for the second step's page.
pub async fn password_step(browser: &Browser, email: &str) {
    browser.goto("/console/login").await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/console/login'] button[type=submit]")
        .await;
    browser.wait_for_path("/console/login/second-step").await;
}

/// Creates an API key named `name` with the console's form (no grants).
async fn create_api_key(browser: &Browser, name: &str) {
    browser.goto("/console/admin/api-keys").await;
    browser.fill("#name", name).await;
    browser
        .click("form[action='/console/admin/api-keys'] button[type=submit]")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_is_set_up_from_the_page_then_signs_in_and_steps_up() {
    let Some(console) = Console::start() else {
        return;
    };
    let browser = console.browser().await;
    browser.sign_in(ADMIN_EMAIL, PASSWORD).await;
    let summary = browser
        .text("section[aria-labelledby='two-step-heading']")
        .await;
    assert!(summary.contains("Off"), "{summary}");
    browser.click("a[href='/console/account/two-step']").await;
    browser.wait_for_path("/console/account/two-step").await;

    let (secret, codes) = set_up_app(&browser, None).await;
    assert!(
        browser
            .text("p.notice")
            .await
            .contains("Your authenticator app is set up.")
    );
    // The script shows the Print button; the download is a text file of the codes.
    assert!(
        browser
            .find("button[data-print]")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    let download = browser
        .find("a[download='roster-recovery-codes.txt']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(download.starts_with("data:text/plain"), "{download}");
    browser
        .click("a[href='/console/account/two-step'].button")
        .await;
    browser.wait_for_path("/console/account/two-step").await;
    let app = browser.text("section[aria-labelledby='app-heading']").await;
    assert!(app.contains("On"), "{app}");
    let left = browser
        .text("section[aria-labelledby='codes-heading']")
        .await;
    assert!(left.contains("10 of 10"), "{left}");

    // The app was set up on a password-only session: creating an API key asks to confirm
    // it is you, and the form is sent again once confirmed (a recovery code here).
    create_api_key(&browser, "ci-deploy").await;
    browser.find("form[action='/console/step-up']").await;
    assert_eq!(browser.text("main h1").await, "Confirm it is you");
    assert_eq!(browser.status().await, 403);
    browser.fill("#code", &codes[0]).await;
    browser
        .click("form[action='/console/step-up'] button[type=submit]")
        .await;
    browser.find("code#api-key-secret").await;
    assert_eq!(browser.location().await, "/console/admin/api-keys");
    assert_eq!(browser.status().await, 201);
    assert!(browser.text("main").await.contains("ci-deploy"));

    // Sign out, then in again: the password, then a code from the app.
    browser.click("form.sign-out button[type=submit]").await;
    browser
        .wait_for_path("/console/login?done=signed-out")
        .await;
    password_step(&browser, ADMIN_EMAIL).await;
    assert_eq!(browser.text("main h1").await, "Two-step sign-in");
    let field = browser.find("#code").await;
    assert_eq!(
        field.attr("autocomplete").await.unwrap().as_deref(),
        Some("one-time-code")
    );
    browser.fill("#code", &app_code(&secret, 1)).await;
    browser
        .click("form[action='/console/login/second-step'] button[type=submit]")
        .await;
    browser.wait_for_path("/console/account").await;
    assert_eq!(browser.text("header .who").await, ADMIN_EMAIL);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_is_added_then_signs_in_alone_as_a_second_step_and_for_a_step_up() {
    let Some(console) = Console::start_on_localhost() else {
        return;
    };
    let browser = console.browser().await;
    browser.add_virtual_authenticator().await;
    browser.sign_in(ADMIN_EMAIL, PASSWORD).await;
    browser.goto("/console/account/two-step").await;
    // The browser has WebAuthn: the form shows, the note saying it would not is hidden.
    assert!(
        !browser
            .find("[data-passkey-missing]")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    browser.fill("#passkey-name", "Laptop").await;
    browser.click("button[data-passkey=create]").await;
    browser
        .wait_for_path("/console/account/two-step?done=passkey-added")
        .await;
    let listed = browser
        .text("section[aria-labelledby='passkeys-heading'] tbody")
        .await;
    assert!(
        listed.contains("Laptop") && listed.contains("never"),
        "{listed}"
    );

    // Adding a passkey did not refresh this session's second factor: the step-up takes the
    // passkey, and the script sends the waiting form.
    create_api_key(&browser, "ci-passkey").await;
    browser.find("form[action='/console/step-up']").await;
    browser.click("button[data-passkey=step-up]").await;
    browser.find("code#api-key-secret").await;
    assert_eq!(browser.location().await, "/console/admin/api-keys");
    assert!(browser.text("main").await.contains("ci-passkey"));

    // Passwordless: the sign-in page's button, nothing typed.
    browser.click("form.sign-out button[type=submit]").await;
    browser
        .wait_for_path("/console/login?done=signed-out")
        .await;
    browser.click("button[data-passkey=get]").await;
    browser.wait_for_path("/console/account").await;
    assert_eq!(browser.text("header .who").await, ADMIN_EMAIL);

    // As the second step after the password: the account has no app, so the passkey only.
    browser.click("form.sign-out button[type=submit]").await;
    browser
        .wait_for_path("/console/login?done=signed-out")
        .await;
    password_step(&browser, ADMIN_EMAIL).await;
    assert!(!browser.has("#code").await);
    browser.click("button[data-passkey=get]").await;
    browser.wait_for_path("/console/account").await;
    assert_eq!(browser.text("header .who").await, ADMIN_EMAIL);
    browser.goto("/console/account/two-step").await;
    let listed = browser
        .text("section[aria-labelledby='passkeys-heading'] tbody")
        .await;
    assert!(!listed.contains("never"), "last use is recorded: {listed}");
    browser.close().await;
}

//! Signing up, in and out, with a browser.

use crate::axe;
use crate::harness::{Console, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_up_shows_the_rules_then_lands_on_the_new_account() {
    let Some(console) = Console::start() else {
        return;
    };
    let browser = console.browser().await;
    let email = "ada@example.com";
    browser.goto("/console/register").await;
    // The password rules (the default settings') are there before anyone types.
    let rules = browser.text("#password-rules").await;
    assert!(
        rules.contains("At least 15 and at most 128 characters"),
        "{rules}"
    );

    // A password the server refuses: the message is next to the field, what was typed stays
    // (never the password), and nothing is created.
    browser.fill("#email", email).await;
    browser.fill("#name", "Ada Lovelace").await;
    browser.fill("#password", "short").await;
    browser
        .click("form[action='/console/register'] button[type=submit]")
        .await;
    let message = browser.text(".field #password-error").await;
    assert!(message.contains("15"), "{message}");
    assert_eq!(browser.status().await, 422);
    assert_eq!(browser.location().await, "/console/register");
    assert_eq!(browser.value("#email").await, email);
    assert_eq!(browser.value("#name").await, "Ada Lovelace");
    assert_eq!(browser.value("#password").await, "");
    let described_by = browser
        .find("#password")
        .await
        .attr("aria-describedby")
        .await
        .unwrap();
    assert!(described_by.unwrap_or_default().contains("password-error"));
    assert!(console.api_login(email, "short").await.is_none());
    browser.snap("register-errors").await;
    axe::check(&browser, "register with errors").await;

    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/console/register'] button[type=submit]")
        .await;
    browser.wait_for_path("/console/account").await;
    assert_eq!(
        browser.text("p.notice").await,
        "Welcome! Your account is ready."
    );
    let profile = browser
        .text("section[aria-labelledby='profile-heading']")
        .await;
    assert!(
        profile.contains(email) && profile.contains("Ada Lovelace"),
        "{profile}"
    );
    assert_eq!(browser.text("header .who").await, email);
    // Signed in with a real server-side session, the one listed as this browser.
    assert_eq!(
        browser
            .all("section[aria-labelledby='sessions-heading'] tbody tr")
            .await
            .len(),
        1
    );
    assert!(browser.has("tbody .badge").await);
    // The account is real: the API signs it in with the password chosen on the page.
    assert!(console.api_login(email, PASSWORD).await.is_some());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_shown_beside_the_form_then_signing_in_and_out_works() {
    let Some(console) = Console::start() else {
        return;
    };
    let email = "grace@example.com";
    console.account(email, "Grace Hopper").await;
    let browser = console.browser().await;
    browser.goto("/console/login").await;
    browser.fill("#email", email).await;
    browser.fill("#password", "not the password at all").await;
    browser
        .click("form[action='/console/login'] button[type=submit]")
        .await;

    // Refused where the person is looking: the summary sits in the sign-in card, above the
    // form, which keeps the email and forgets the password. Still the sign-in page.
    let summary = browser
        .text("section.card > .error-summary[role=alert] ~ form[action='/console/login']")
        .await;
    assert!(!summary.is_empty());
    let error = browser.text("section.card > .error-summary").await;
    assert!(
        error.contains("The email or password is incorrect."),
        "{error}"
    );
    assert_eq!(browser.location().await, "/console/login");
    assert_eq!(browser.status().await, 401);
    assert_eq!(browser.value("#email").await, email);
    assert_eq!(browser.value("#password").await, "");
    browser.snap("login-error").await;
    axe::check(&browser, "sign-in with an error").await;

    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/console/login'] button[type=submit]")
        .await;
    browser.wait_for_path("/console/account").await;
    assert_eq!(browser.text("header .who").await, email);
    assert!(browser.text("main h1").await.contains("My account"));

    // Signing out ends the session: the account page asks to sign in again.
    browser.click("form.sign-out button[type=submit]").await;
    browser
        .wait_for_path("/console/login?done=signed-out")
        .await;
    assert_eq!(browser.text("p.notice").await, "You are signed out.");
    browser.goto("/console/account").await;
    browser.wait_for_path("/console/login").await;
    assert!(!browser.has("header .who").await);
    browser.close().await;
}

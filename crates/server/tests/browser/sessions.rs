//! Sessions across browsers: one browser signs another out.

use crate::harness::{Console, PASSWORD};

const SESSION_ROWS: &str = "section[aria-labelledby='sessions-heading'] tbody tr";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_revoked_in_one_browser_signs_the_other_out() {
    let Some(console) = Console::start() else {
        return;
    };
    let email = "margaret@example.com";
    console.account(email, "Margaret Hamilton").await;
    let first = console.browser().await;
    let second = console.browser().await;
    first.sign_in(email, PASSWORD).await;
    second.sign_in(email, PASSWORD).await;

    // The second browser lists both sessions, itself marked; it signs the other one out,
    // after saying yes to the question the form asks.
    let rows = second.all(SESSION_ROWS).await;
    assert_eq!(rows.len(), 2);
    let mut other = None;
    for row in rows {
        if row.text().await.unwrap().contains("This browser") {
            continue;
        }
        other = Some(row);
    }
    let other = other.expect("a session that is not this browser's");
    other
        .find(fantoccini::Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(second.accept_confirm().await, "Sign out this session?");
    second
        .wait_for_path("/console/account?done=session-revoked")
        .await;
    assert_eq!(second.all(SESSION_ROWS).await.len(), 1);
    assert!(second.text(SESSION_ROWS).await.contains("This browser"));

    // The first browser's next page is the sign-in page, saying why, and it comes back after
    // signing in.
    first.goto("/console/account").await;
    first.wait_for_path("/console/login").await;
    assert_eq!(
        first.location().await,
        "/console/login?next=%2Fconsole%2Faccount&done=session-ended"
    );
    assert!(
        first
            .text("main")
            .await
            .contains("Your session has ended. Please sign in again.")
    );
    // The second browser is still signed in.
    second.goto("/console/account").await;
    assert_eq!(second.location().await, "/console/account");
    first.close().await;
    second.close().await;
}

//! A delegate is offered only what it may grant, and what it grants through the form holds.

use reqwest::Method;
use serde_json::{Value, json};

use crate::axe;
use crate::harness::{Console, PASSWORD};

/// Creates a role through the API as the super admin.
async fn role(console: &Console, admin: &str, name: &str, actions: &[&str]) {
    let permissions: Vec<Value> = actions
        .iter()
        .map(|action| json!({"action": action}))
        .collect();
    let (status, body) = console
        .api(
            Method::POST,
            "/v1/admin/roles",
            Some(admin),
            Some(json!({"name": name, "permissions": permissions})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// Gives account `id` the role on the scope through the API as the super admin.
async fn grant(console: &Console, admin: &str, id: &str, role: &str, scope: &str) {
    let (status, body) = console
        .api(
            Method::POST,
            &format!("/v1/admin/accounts/{id}/grants"),
            Some(admin),
            Some(json!({"role": role, "scope": scope})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegate_is_offered_only_what_it_may_grant() {
    let Some(console) = Console::start() else {
        return;
    };
    let admin = console.admin_token().await;
    role(&console, &admin, "viewer", &["doc-read"]).await;
    role(&console, &admin, "owner", &["all"]).await;
    role(
        &console,
        &admin,
        "delegator",
        &["grant-manage", "account-read", "doc-read"],
    )
    .await;
    // Account pages need account-read on `*` (accounts are global, like
    // GET /v1/admin/accounts/{id}): the delegate reads the directory everywhere, and manages
    // grants in acme only.
    role(&console, &admin, "directory", &["account-read"]).await;
    let email = "dorothy@example.com";
    let delegate = console.account(email, "Dorothy Vaughan").await;
    grant(&console, &admin, &delegate, "delegator", "acme").await;
    grant(&console, &admin, &delegate, "directory", "*").await;
    let target = console.account("mary@example.com", "Mary Jackson").await;

    let browser = console.browser().await;
    browser.sign_in(email, PASSWORD).await;
    let page = format!("/console/admin/accounts/{target}");
    browser.goto(&page).await;
    assert_eq!(browser.status().await, 200);
    assert!(browser.text("main h1").await.contains("mary@example.com"));

    // Roles: those whose every action it holds in acme, where it manages grants; not owner
    // (`all`). Scopes: acme alone, said in the hint too.
    assert_eq!(
        browser.option_values("select#grant-role").await,
        ["", "delegator", "directory", "viewer"]
    );
    assert_eq!(
        browser.option_values("datalist#grant-scopes").await,
        ["acme"]
    );
    let hint = browser.text("#grant-scope-hint").await;
    assert_eq!(hint, "You may give roles at or beneath: acme.");
    axe::check(&browser, "an account's page, seen by a delegate").await;

    // A role it may not give, sent anyway (as a hand-made request would): refused beside the
    // form, nothing granted.
    browser
        .client
        .execute(
            "document.querySelector('select#grant-role').add(new Option('owner', 'owner'));",
            vec![],
        )
        .await
        .expect("the page takes the option");
    browser.select("select#grant-role", "owner").await;
    browser.fill("#grant-scope", "acme.berlin").await;
    browser
        .click(&format!("form[action='{page}/grants'] button[type=submit]"))
        .await;
    let refusal = browser
        .text("section[aria-labelledby='add-grant-heading'] .error-summary")
        .await;
    assert!(
        refusal.contains("Your grants do not allow giving this role"),
        "{refusal}"
    );
    assert_eq!(browser.status().await, 403);
    assert_eq!(browser.value("#grant-scope").await, "acme.berlin");
    axe::check(&browser, "an account's page with a refused grant").await;

    // What it may give, it gives: viewer beneath acme.
    browser.select("select#grant-role", "viewer").await;
    browser.fill("#grant-scope", "acme.berlin").await;
    browser
        .click(&format!("form[action='{page}/grants'] button[type=submit]"))
        .await;
    browser
        .wait_for_path(&format!("{page}?done=grant-added"))
        .await;
    assert_eq!(browser.text("p.notice").await, "Grant added.");
    let grants = browser.text("main ul.grants").await;
    assert!(grants.contains("viewer on acme.berlin"), "{grants}");
    assert!(grants.contains("may do doc-read"), "{grants}");
    assert!(!grants.contains("owner"), "{grants}");
    browser.snap("admin-account-delegate").await;
    let (status, body) = console
        .api(
            Method::GET,
            &format!("/v1/admin/accounts/{target}/grants"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let held: Vec<(&str, &str)> = body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list of grants: {body}"))
        .iter()
        .map(|grant| {
            (
                grant["role"].as_str().unwrap(),
                grant["scope"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(held, [("viewer", "acme.berlin")]);
    browser.close().await;
}

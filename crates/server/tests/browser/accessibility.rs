//! Every console page, as the people who use it see it, checked with axe-core, in light and
//! dark and on a phone; the screenshots of `just screenshots` come from here too.

use reqwest::Method;
use serde_json::{Value, json};

use crate::axe;
use crate::harness::{ADMIN_EMAIL, Browser, Console, PASSWORD, Scheme};
use crate::two_step::{password_step, set_up_app};

/// A console page: its name (the screenshot's file name), its path, who looks at it, and the
/// status it answers with.
struct Page {
    name: &'static str,
    /// `{account}` stands for the id of the example account ([`ACCOUNT_EMAIL`]).
    path: &'static str,
    signed_in: bool,
    status: u16,
}

const fn anonymous(name: &'static str, path: &'static str) -> Page {
    Page {
        name,
        path,
        signed_in: false,
        status: 200,
    }
}

const fn signed_in(name: &'static str, path: &'static str) -> Page {
    Page {
        name,
        path,
        signed_in: true,
        status: 200,
    }
}

/// A phone's window (CSS pixels).
const PHONE: (u32, u32) = (390, 844);

/// The account the administration pages show (made by [`example_data`]).
const ACCOUNT_EMAIL: &str = "ada@example.com";

/// The accounts that set up two-step sign-in on the tour (made by [`example_data`]), one per
/// colour scheme: each tour needs one without it yet.
const TWO_STEP_EMAILS: [(Scheme, &str, &str); 2] = [
    (Scheme::Light, "lin@example.com", "Lin Wei"),
    (Scheme::Dark, "noor@example.com", "Noor Haddad"),
];

/// Every console page reachable with a link; a new page is one more line. Signed-in pages
/// are viewed by the bootstrapped super admin, who may see them all, over [`example_data`].
/// The page showing a new API key's secret answers a form: see [`create_api_key`].
const PAGES: &[Page] = &[
    anonymous("login", "/console/login"),
    anonymous("register", "/console/register"),
    anonymous("password-reset", "/console/password-reset"),
    anonymous("check-your-email", "/console/check-your-email"),
    anonymous("verify-email", "/console/verify-email"),
    anonymous("invitation", "/console/invitation"),
    signed_in("account", "/console/account"),
    signed_in("accounts", "/console/admin/accounts"),
    signed_in(
        "accounts-search",
        "/console/admin/accounts?email=nobody%40example.com",
    ),
    signed_in("admin-account", "/console/admin/accounts/{account}"),
    signed_in("roles", "/console/admin/roles"),
    signed_in("role", "/console/admin/roles/issuer-operator"),
    signed_in("api-keys", "/console/admin/api-keys"),
    signed_in("invitations", "/console/admin/invitations"),
    // A few events a page: the pager shows, and the screenshot stays small.
    signed_in("audit", "/console/admin/audit?limit=6"),
    signed_in(
        "check",
        "/console/admin/check?principal=ada%40example.com&action=issuer-key-delete&scope=acme.berlin.issuer",
    ),
    signed_in("features", "/console/admin/features"),
    // What changing two-step sign-in on an old sign-in asks for.
    Page {
        status: 403,
        ..signed_in(
            "sign-in-again",
            "/console/sign-in-again?next=%2Fconsole%2Faccount%2Ftwo-step",
        )
    },
    Page {
        status: 404,
        ..signed_in("not-found", "/console/no-such-page")
    },
];

/// What the administration pages show, made through the API as the super admin: roles, an
/// account holding grants, another one disabled, an API key. Returns the account's id.
async fn example_data(console: &Console) -> String {
    let admin = console.admin_token().await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let admin = admin.clone();
        async move {
            let (status, reply) = console.api(method, &path, Some(&admin), body).await;
            assert!((200..300).contains(&status), "{path}: {status} {reply}");
            reply
        }
    };
    for (name, description, permissions) in [
        (
            "issuer-operator",
            "Runs the credential issuers of a tenant.\nNever deletes their keys.",
            json!([
                {"action": "issuer-*"},
                {"action": "issuer-key-delete", "effect": "deny"},
            ]),
        ),
        (
            "tenant-admin",
            "Everything within a tenant.",
            json!([{"action": "all"}]),
        ),
        ("auditor", "", json!([{"action": "audit-read"}])),
    ] {
        call(
            Method::POST,
            "/v1/admin/roles".to_owned(),
            Some(json!({"name": name, "description": description, "permissions": permissions})),
        )
        .await;
    }
    let ada = console.account(ACCOUNT_EMAIL, "Ada Lovelace").await;
    for (role, scope) in [
        ("issuer-operator", "acme.berlin"),
        ("auditor", "*"),
        ("tenant-admin", "acme.paris"),
    ] {
        call(
            Method::POST,
            format!("/v1/admin/accounts/{ada}/grants"),
            Some(json!({"role": role, "scope": scope})),
        )
        .await;
    }
    let grace = console.account("grace@example.com", "Grace Hopper").await;
    call(
        Method::POST,
        format!("/v1/admin/accounts/{grace}/disable"),
        None,
    )
    .await;
    for (_, email, name) in TWO_STEP_EMAILS {
        console.account(email, name).await;
    }
    // One without a name.
    let (status, reply) = console
        .api(
            Method::POST,
            "/v1/account/register",
            None,
            Some(json!({"email": "katherine@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    call(
        Method::POST,
        "/v1/admin/api-keys".to_owned(),
        Some(json!({
            "name": "berlin-issuer",
            "expires_in": "90d",
            "grants": [{"role": "issuer-operator", "scope": "acme.berlin"}],
        })),
    )
    .await;
    call(
        Method::POST,
        "/v1/admin/invitations".to_owned(),
        Some(json!({
            "email": "mary@example.com",
            "name": "Mary Jackson",
            "grants": [{"role": "auditor", "scope": "acme"}],
        })),
    )
    .await;
    ada
}

/// Creates an API key with the console's form: the browser then shows its secret, once.
async fn create_api_key(browser: &Browser) {
    browser.goto("/console/admin/api-keys").await;
    browser.fill("#name", "ci-deploy").await;
    browser.fill("#grant-1-role", "issuer-operator").await;
    browser.fill("#grant-1-scope", "acme.berlin").await;
    browser
        .click("form[action='/console/admin/api-keys'] button[type=submit]")
        .await;
    browser.find("code#api-key-secret").await;
    assert_eq!(browser.status().await, 201);
}

/// Screenshot, axe, and the width check of the page `browser` shows, as `name`.
async fn look(browser: &Browser, name: &str, too_wide: &mut Vec<String>) {
    browser.snap(name).await;
    axe::check(browser, name).await;
    let (excess, boxes) = sideways(browser).await;
    if excess != 0 || !boxes.is_empty() {
        too_wide.push(format!("{name}: page {excess}px, {boxes:?}"));
    }
}

/// The two-step pages as `email` (who has no second factor yet) meets them, each shown as
/// `<page><suffix>`: the set-up page, the authenticator app's QR code and its recovery
/// codes, the step-up prompt (adding a passkey after the app, on a session whose second
/// factor is not recent), the page with an app and a passkey, and the sign-in's second
/// step. `browser` is signed out and has a virtual authenticator.
async fn two_step_pages(browser: &Browser, email: &str, suffix: &str, too_wide: &mut Vec<String>) {
    let name = |page: &str| format!("{page}{suffix}");
    browser.sign_in(email, PASSWORD).await;
    browser.goto("/console/account/two-step").await;
    look(browser, &name("two-step"), too_wide).await;
    browser
        .click("form[action='/console/account/two-step/app'] button[type=submit]")
        .await;
    browser.find(".qr svg").await;
    look(browser, &name("totp-setup"), too_wide).await;
    let (_, codes) = set_up_app(browser, None).await;
    look(browser, &name("recovery-codes"), too_wide).await;
    let add_passkey = || async {
        browser.goto("/console/account/two-step").await;
        browser.fill("#passkey-name", "Work laptop").await;
        browser.click("button[data-passkey=create]").await;
    };
    add_passkey().await;
    browser.wait_for_path("/console/step-up").await;
    browser.find("form[action='/console/step-up']").await;
    look(browser, &name("step-up"), too_wide).await;
    browser.fill("#code", &codes[0]).await;
    browser
        .click("form[action='/console/step-up'] button[type=submit]")
        .await;
    browser
        .wait_for_path("/console/account/two-step?done=stepped-up")
        .await;
    add_passkey().await;
    browser
        .wait_for_path("/console/account/two-step?done=passkey-added")
        .await;
    look(browser, &name("two-step-on"), too_wide).await;
    browser.click("form.sign-out button[type=submit]").await;
    browser
        .wait_for_path("/console/login?done=signed-out")
        .await;
    password_step(browser, email).await;
    look(browser, &name("second-step"), too_wide).await;
}

/// How far the page, or a scrolling box in it (a wide table), reaches beyond the window:
/// the page's excess width in pixels and the boxes that scroll sideways.
async fn sideways(browser: &Browser) -> (i64, Vec<String>) {
    let measured = browser
        .client
        .execute(
            "const root = document.documentElement;
             const boxes = [...document.querySelectorAll('body *')]
                 .filter((el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)
                     && el.scrollWidth > el.clientWidth + 1)
                 .map((el) => el.tagName.toLowerCase() + '.' + el.className
                     + ' (' + (el.scrollWidth - el.clientWidth) + 'px)');
             return [root.scrollWidth - root.clientWidth, boxes];",
            vec![],
        )
        .await
        .expect("the page's width");
    let excess = measured[0].as_i64().expect("a width");
    let boxes = measured[1]
        .as_array()
        .expect("a list")
        .iter()
        .map(|b| b.as_str().unwrap_or_default().to_owned())
        .collect();
    (excess, boxes)
}

/// Both colour schemes: contrast is checked in each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_console_page_has_a_serious_accessibility_violation() {
    // At localhost: the tour adds passkeys, whose relying party is a domain name.
    let Some(console) = Console::start_on_localhost() else {
        return;
    };
    let account = example_data(&console).await;
    let mut too_wide = Vec::new();
    for scheme in [Scheme::Light, Scheme::Dark] {
        let name = |page: &str| match scheme {
            Scheme::Light => page.to_owned(),
            Scheme::Dark => format!("{page}-dark"),
        };
        let visitor = console.browser_in(scheme).await;
        let admin = console.browser_in(scheme).await;
        admin.sign_in(ADMIN_EMAIL, PASSWORD).await;
        for page in PAGES {
            let browser = if page.signed_in { &admin } else { &visitor };
            let path = page.path.replace("{account}", &account);
            browser.goto(&path).await;
            // The page itself, not a sign-in page it sent us to.
            assert_eq!(browser.location().await, path, "{}", page.name);
            assert_eq!(browser.status().await, page.status, "{}", page.name);
            browser.snap(&name(page.name)).await;
            axe::check(browser, &name(page.name)).await;
        }
        create_api_key(&admin).await;
        admin.snap(&name("api-key-created")).await;
        axe::check(&admin, &name("api-key-created")).await;
        let (_, email, _) = TWO_STEP_EMAILS
            .into_iter()
            .find(|(of, _, _)| *of == scheme)
            .expect("an account for each scheme");
        let enrolling = console.browser_in(scheme).await;
        enrolling.add_virtual_authenticator().await;
        two_step_pages(&enrolling, email, &name(""), &mut too_wide).await;
        enrolling.close().await;
        visitor.close().await;
        admin.close().await;
    }
    assert!(
        too_wide.is_empty(),
        "pages wider than the window:\n{}",
        too_wide.join("\n")
    );
}

/// On a phone-sized screen the pages still pass, and nothing is wider than the screen:
/// neither the page nor a table in it scrolls sideways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_pages_fit_a_phone() {
    let Some(console) = Console::start_on_localhost() else {
        return;
    };
    let account = example_data(&console).await;
    let visitor = console.browser().await;
    let admin = console.browser().await;
    admin.sign_in(ADMIN_EMAIL, PASSWORD).await;
    for browser in [&visitor, &admin] {
        browser.resize(PHONE.0, PHONE.1).await;
    }
    // Every page that does not fit, named at the end.
    let mut too_wide = Vec::new();
    for page in PAGES {
        let browser = if page.signed_in { &admin } else { &visitor };
        let path = page.path.replace("{account}", &account);
        browser.goto(&path).await;
        assert_eq!(browser.location().await, path, "{}", page.name);
        let name = format!("{}-phone", page.name);
        let (excess, boxes) = sideways(browser).await;
        if excess != 0 || !boxes.is_empty() {
            too_wide.push(format!("{}: page {excess}px, {boxes:?}", page.name));
        }
        browser.snap(&name).await;
        axe::check(browser, &name).await;
    }
    create_api_key(&admin).await;
    let (excess, boxes) = sideways(&admin).await;
    if excess != 0 || !boxes.is_empty() {
        too_wide.push(format!("api-key-created: page {excess}px, {boxes:?}"));
    }
    admin.snap("api-key-created-phone").await;
    axe::check(&admin, "api-key-created-phone").await;
    let enrolling = console.browser().await;
    enrolling.resize(PHONE.0, PHONE.1).await;
    enrolling.add_virtual_authenticator().await;
    two_step_pages(&enrolling, TWO_STEP_EMAILS[0].1, "-phone", &mut too_wide).await;
    enrolling.close().await;
    visitor.close().await;
    admin.close().await;
    assert!(
        too_wide.is_empty(),
        "pages that scroll sideways on a phone:\n{}",
        too_wide.join("\n")
    );
}

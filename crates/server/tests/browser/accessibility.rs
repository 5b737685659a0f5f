//! Every console page, as the people who use it see it, checked with axe-core; the
//! screenshots of `just screenshots` come from here too.

use crate::axe;
use crate::harness::{ADMIN_EMAIL, Console, PASSWORD, Scheme};

/// A console page: its name (the screenshot's file name), its path, who looks at it, and the
/// status it answers with.
struct Page {
    name: &'static str,
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

/// Every console page reachable now; a new page is one more line. Signed-in pages are
/// viewed by the bootstrapped super admin, who may see them all.
const PAGES: &[Page] = &[
    anonymous("login", "/console/login"),
    anonymous("register", "/console/register"),
    signed_in("account", "/console/account"),
    Page {
        status: 404,
        ..signed_in("not-found", "/console/no-such-page")
    },
];

/// Both colour schemes: contrast is checked in each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_console_page_has_a_serious_accessibility_violation() {
    let Some(console) = Console::start() else {
        return;
    };
    for scheme in [Scheme::Light, Scheme::Dark] {
        let visitor = console.browser_in(scheme).await;
        let admin = console.browser_in(scheme).await;
        admin.sign_in(ADMIN_EMAIL, PASSWORD).await;
        for page in PAGES {
            let browser = if page.signed_in { &admin } else { &visitor };
            browser.goto(page.path).await;
            // The page itself, not a sign-in page it sent us to.
            assert_eq!(browser.location().await, page.path, "{}", page.name);
            assert_eq!(browser.status().await, page.status, "{}", page.name);
            let name = match scheme {
                Scheme::Light => page.name.to_owned(),
                Scheme::Dark => format!("{}-dark", page.name),
            };
            browser.snap(&name).await;
            axe::check(browser, &name).await;
        }
        visitor.close().await;
        admin.close().await;
    }
}

/// On a phone-sized screen the pages still pass, and nothing is wider than the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_pages_fit_a_phone() {
    let Some(console) = Console::start() else {
        return;
    };
    let visitor = console.browser().await;
    let admin = console.browser().await;
    admin.sign_in(ADMIN_EMAIL, PASSWORD).await;
    for browser in [&visitor, &admin] {
        browser.resize(PHONE.0, PHONE.1).await;
    }
    for page in PAGES {
        let browser = if page.signed_in { &admin } else { &visitor };
        browser.goto(page.path).await;
        assert_eq!(browser.location().await, page.path, "{}", page.name);
        let overflow = browser
            .client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .expect("the page's width");
        assert_eq!(
            overflow.as_i64(),
            Some(0),
            "{} scrolls sideways on a phone",
            page.name
        );
        let name = format!("{}-phone", page.name);
        browser.snap(&name).await;
        axe::check(browser, &name).await;
    }
    visitor.close().await;
    admin.close().await;
}

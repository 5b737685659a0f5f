//! The console in a real browser: the `roster` binary on a free port, Debian's headless
//! Chromium driven through chromedriver (WebDriver) with `fantoccini`. Each test starts its
//! own server (a fresh SQLite database and features file, a bootstrapped super admin) and its
//! own browser sessions; chromedriver is started once for the whole run.
//!
//! Without chromium or chromedriver every test says SKIPPED on stderr and returns (set
//! `ROSTER_REQUIRE_BROWSER=1`, as CI does, to fail instead). Without axe-core
//! (`scripts/install-test-tools.sh`) the accessibility checks say SKIPPED the same way.
//! With `ROSTER_SCREENSHOTS=<dir>` the tests save a PNG of each page they show into `<dir>`
//! (relative to the workspace root): `just screenshots`.

#[path = "../process/mod.rs"]
mod process;

mod accessibility;
mod api_keys;
mod axe;
mod delegation;
mod email_links;
mod forgery;
mod grants;
mod harness;
mod invitation;
mod registration_flag;
mod sessions;
mod sign_in;
mod two_step;

//! axe-core (npm, installed by `scripts/install-test-tools.sh`, used by the tests alone)
//! injected into the page the browser shows: any "serious" or "critical" violation fails the
//! test, listed readably.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::harness::{Browser, skip};

/// The impacts that fail a page.
const FAILING: [&str; 2] = ["serious", "critical"];

/// axe.min.js: `ROSTER_AXE_JS`, else where the install script puts it.
fn source() -> Option<&'static str> {
    static SOURCE: OnceLock<Option<String>> = OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let path = std::env::var_os("ROSTER_AXE_JS").map_or_else(
                || {
                    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                        .join("../../target/test-tools/node_modules/axe-core/axe.min.js")
                },
                PathBuf::from,
            );
            std::fs::read_to_string(path).ok()
        })
        .as_deref()
}

/// Runs axe on the page `browser` shows (called `page` in the report); fails the test on any
/// serious or critical violation. Without axe-core, says SKIPPED and returns.
pub async fn check(browser: &Browser, page: &str) {
    let Some(source) = source() else {
        skip(&format!(
            "accessibility of {page} not checked: axe-core is not installed \
             (scripts/install-test-tools.sh, or set ROSTER_AXE_JS)"
        ));
        return;
    };
    browser
        .client
        .execute(source, vec![])
        .await
        .expect("axe-core loads into the page");
    let outcome = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then((results) => done(JSON.stringify(results.violations)))
                .catch((error) => done('axe failed: ' + error));",
            vec![],
        )
        .await
        .expect("axe runs");
    let text = outcome.as_str().unwrap_or_default();
    let violations: Vec<Value> =
        serde_json::from_str(text).unwrap_or_else(|_| panic!("{page}: {text}"));
    let failing: Vec<&Value> = violations
        .iter()
        .filter(|violation| FAILING.contains(&violation["impact"].as_str().unwrap_or_default()))
        .collect();
    assert!(
        failing.is_empty(),
        "{page} ({}): {} serious or critical accessibility violation(s):\n{}",
        browser.location().await,
        failing.len(),
        describe(&failing)
    );
}

/// One paragraph per violation: rule, impact, what to do, and each element with its problem.
fn describe(violations: &[&Value]) -> String {
    let mut out = String::new();
    for violation in violations {
        let _ = writeln!(
            out,
            "- [{}] {}: {} ({})",
            violation["impact"].as_str().unwrap_or("?"),
            violation["id"].as_str().unwrap_or("?"),
            violation["help"].as_str().unwrap_or("?"),
            violation["helpUrl"].as_str().unwrap_or("")
        );
        for node in violation["nodes"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "    at {}", node["target"]);
            for line in node["failureSummary"].as_str().unwrap_or("").lines() {
                let _ = writeln!(out, "      {}", line.trim());
            }
        }
    }
    out
}

//! The console is a sibling of the JSON API, not a layer on top of it: its pages call the
//! application's use cases (`roster_app::Roster`) with the same caller type, and never the
//! JSON handlers or the port traits. From `roster_http` it takes only the shared edge
//! pieces: the error table, the client address, the rate limiter and the body limits. The
//! compiler cannot forbid these imports, so this test does.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// What no console source may name.
const FORBIDDEN: [(&str, &str); 4] = [
    ("roster_app::ports", "port traits: go through Roster"),
    (
        "roster_http::routes",
        "the JSON handlers: call the use case",
    ),
    (
        "roster_http::dto",
        "the JSON wire shapes: render from the app's records",
    ),
    ("roster_http::configure", "the JSON routes' registration"),
];

#[test]
fn pages_reach_the_use_cases_never_ports_or_json_handlers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 5,
        "found only {files:?} under {}",
        src.display()
    );
    let mut offenders = Vec::new();
    for path in &files {
        let text = fs::read_to_string(path).expect("readable source file");
        for (name, why) in FORBIDDEN {
            if text.contains(name) {
                offenders.push(format!("{} names {name} ({why})", path.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn templates_have_no_inline_script_or_style() {
    // The console's CSP allows scripts and styles only from its own files; an inline one
    // would be blocked in the browser, silently. Catch it here instead.
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut checked = 0;
    for entry in fs::read_dir(&templates).expect("templates folder") {
        let path = entry.expect("readable entry").path();
        let text = fs::read_to_string(&path).expect("readable template");
        let lower = text.to_ascii_lowercase();
        for (needle, what) in [
            ("<script>", "an inline script"),
            ("<script ", "a script element"),
            (" style=", "an inline style"),
            ("<style", "a style element"),
            (" onclick=", "an inline event handler"),
            (" onsubmit=", "an inline event handler"),
            ("javascript:", "a javascript: URL"),
        ] {
            // The one script element allowed: the console's own file.
            let own_scripts = lower.matches(r#"<script src="/console/assets/"#).count();
            let found = lower.matches(needle).count();
            let allowed = if needle == "<script " { own_scripts } else { 0 };
            assert!(found <= allowed, "{} holds {what}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} templates found");
}

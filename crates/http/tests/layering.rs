//! The HTTP crate reads only the application's public contract: the `Roster` service, its
//! forms and outcomes, and the records in `roster_app::model`. Port traits are the adapters'
//! side of the application; a route reaching one would bypass the use cases (their guards,
//! their audit events). The compiler cannot forbid the import, so this test does.

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

#[test]
fn no_route_or_extractor_imports_a_port_trait() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 5,
        "found only {files:?} under {}",
        src.display()
    );
    let offenders: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = fs::read_to_string(path).expect("readable source file");
            text.contains("roster_app::ports")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "these files import roster_app::ports; go through Roster instead: {offenders:?}"
    );
}

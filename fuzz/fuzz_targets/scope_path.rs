//! Scope paths: parse, display and parse again gives the same scope; covering is reflexive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_domain::ScopePath;

fuzz_target!(|text: &str| {
    if let Ok(scope) = ScopePath::parse(text) {
        let again = ScopePath::parse(&scope.to_string()).expect("a displayed scope parses");
        assert_eq!(again, scope);
        assert!(scope.covers(&scope) || !scope.is_concrete());
        assert!(scope.depth() <= 8);
    }
});

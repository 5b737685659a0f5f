//! Actions and action patterns: what parses displays back to itself, and a pattern that is
//! an exact action matches that action.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_domain::{Action, ActionPattern};

fuzz_target!(|text: &str| {
    if let Ok(action) = Action::parse(text) {
        assert_eq!(action.as_str(), text);
        let pattern = ActionPattern::parse(text).expect("an action is a pattern");
        assert!(pattern.matches(&action));
    }
    if let Ok(pattern) = ActionPattern::parse(text) {
        assert_eq!(pattern.to_string(), text);
    }
});

//! Emails: the canonical form is stable (parsing it again gives the same canonical form).
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_domain::Email;

fuzz_target!(|text: &str| {
    if let Ok(email) = Email::parse(text) {
        let again = Email::parse(email.canonical()).expect("a canonical email parses");
        assert_eq!(again.canonical(), email.canonical());
        assert_eq!(email.as_str(), text.trim());
    }
});

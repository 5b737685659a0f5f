//! API-key lifetimes (`30d`, `PT90M`, ...): never a panic or an overflow; an accepted
//! lifetime is positive and at most the maximum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_app::lifetime::{MAX_LIFETIME_DAYS, parse_lifetime};

fuzz_target!(|text: &str| {
    if let Ok(lifetime) = parse_lifetime(text) {
        assert!(lifetime.num_seconds() > 0);
        assert!(lifetime.num_days() <= MAX_LIFETIME_DAYS);
    }
});

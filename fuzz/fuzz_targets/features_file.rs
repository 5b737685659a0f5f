//! The features file: any bytes parse to a result or a positioned error, never a panic, and a
//! parsed file lists only catalog features.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(file) = roster_flags::parse_bytes(bytes) {
        // Parsing is deterministic: the same bytes give the same answer.
        assert_eq!(roster_flags::parse_bytes(bytes).ok(), Some(file));
    }
});

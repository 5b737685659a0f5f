//! Scope strategies shared by the domain's property tests.

use proptest::prelude::*;
use roster_domain::ScopePath;

/// Few names, so that generated scopes often meet.
pub const SEGMENTS: [&str; 3] = ["acme", "berlin", "x"];

pub fn scope_of(segments: &[&str]) -> ScopePath {
    if segments.is_empty() {
        ScopePath::root()
    } else {
        ScopePath::parse(&segments.join(".")).unwrap()
    }
}

/// Concrete targets from the root down to `max_depth` segments.
pub fn target(max_depth: usize) -> impl Strategy<Value = ScopePath> {
    prop::collection::vec(prop::sample::select(&SEGMENTS[..]), 0..=max_depth)
        .prop_map(|segments| scope_of(&segments))
}

/// Grant scopes: the root, or 1 to `max_depth` segments with `*` allowed after the first.
pub fn grant_scope(max_depth: usize) -> impl Strategy<Value = ScopePath> {
    let segment = prop_oneof![4 => prop::sample::select(&SEGMENTS[..]), 1 => Just("*")];
    prop_oneof![
        1 => Just(ScopePath::root()),
        8 => (
            prop::sample::select(&SEGMENTS[..]),
            prop::collection::vec(segment, 0..max_depth),
        )
            .prop_map(|(first, rest)| {
                let mut segments = vec![first];
                segments.extend(rest);
                scope_of(&segments)
            }),
    ]
}

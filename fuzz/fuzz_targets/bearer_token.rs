//! Bearer tokens: recognising a session token or extracting an API key's id never panics,
//! and no text is both.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_app::ports::TokenSource;
use roster_crypto::RandomTokens;

fuzz_target!(|text: &str| {
    let tokens = RandomTokens;
    let session = tokens.looks_like_session_token(text);
    let key = tokens.api_key_id(text);
    assert!(!(session && key.is_some()));
    if let Some(id) = key {
        assert!(text.contains(&id.as_uuid().simple().to_string()));
    }
    let _ = tokens.digest(text);
});

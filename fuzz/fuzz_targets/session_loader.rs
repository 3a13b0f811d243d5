//! Any bytes as a session file: parse, validate and (when small) use it; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = nnlab::session::exercise::session_text(text) {
            assert!(!e.message.trim().is_empty(), "an empty error message");
            assert!(!e.message.contains('\n'), "a message of several lines");
        }
    }
});

//! Any bytes as a CSV data file; never a panic, every error one line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = nnlab::session::exercise::csv_text(text) {
            assert!(!e.message.contains('\n'), "a message of several lines");
        }
    }
});

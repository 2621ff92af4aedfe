//! The spl front-end must never panic, whatever the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siemc::lang::{spl, Input};
use siemc::span::{FileId, Origin};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let origin = Origin::verbatim(FileId(0), 0);
        let _ = spl::compile(&Input { text, origin: &origin });
    }
});

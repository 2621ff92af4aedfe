//! The lucene parser and lowering must never panic, whatever the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siemc::lang::{lucene, Input};
use siemc::span::{FileId, Origin};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let origin = Origin::verbatim(FileId(0), 0);
        let _ = lucene::compile(&Input { text, origin: &origin });
    }
});

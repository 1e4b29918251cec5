//! Any bytes through the scenario loader, as a file would give them: it
//! must return (a scenario or an error), never panic, abort or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = streamsim::scenario::load_bytes(data, "fuzz.yaml") {
        // Every error says something, and a located one is on a real line.
        assert!(!e.message.is_empty());
        let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1;
        assert!(e.line <= lines, "{e}");
    }
});

//! USPS Informed Visibility scan feeds, in any of their three forms. Never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wmb_core::usps::read_scans("usps/scans.txt", data, |row| {
        if let Err(e) = row {
            assert!(!e.reason.is_empty());
        }
    });
});

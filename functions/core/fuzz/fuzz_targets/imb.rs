//! The Intelligent Mail barcode codec: bars and digits from outside. Never a panic, and whatever
//! the digits parser accepts encodes to bars that decode back to it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wmb_core::imb::{decode, encode, ImbData};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = decode(text);
    let (tracking, routing) = text.split_once(',').unwrap_or((text, ""));
    let _ = ImbData::parse(tracking, routing);
    if let Ok(parsed) = ImbData::parse_digits(text) {
        if parsed.validate().is_ok() {
            let bars = encode(&parsed);
            assert_eq!(decode(&bars).ok(), Some(parsed), "{text} -> {bars}");
        }
    }
});

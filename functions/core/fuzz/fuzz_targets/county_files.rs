//! Every county file kind: the whole file as sent, and rows behind each kind's own header (so
//! the fuzzer reaches the rows). Never a panic; each row is a good row or a reported one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wmb_core::formats::{detect_kind, read_rows, FileKind, Participation, RowFormat, VbmStatus, VoterRecord};
use wmb_core::signup::SignupRequest;
use wmb_core::stop_requests::StopRequest;
use wmb_core::usps::ImbMapping;

fn rows<T: RowFormat>(data: &[u8]) {
    if let Ok(rows) = read_rows::<_, T>("19/f.csv", data) {
        for row in rows {
            if let Err(e) = row {
                assert!(!e.field.is_empty() && !e.reason.is_empty(), "a rejected row names its field and reason");
            }
        }
    }
}

fn all(data: &[u8]) {
    rows::<VoterRecord>(data);
    rows::<VbmStatus>(data);
    rows::<Participation>(data);
    rows::<SignupRequest>(data);
    rows::<ImbMapping>(data);
    rows::<StopRequest>(data);
}

fuzz_target!(|data: &[u8]| {
    let _ = detect_kind("19/f.csv", data);
    all(data);
    if let Some((&pick, rest)) = data.split_first() {
        let kinds = [FileKind::Voters, FileKind::Vbm, FileKind::Vph, FileKind::Signups, FileKind::Imb, FileKind::Stops];
        let mut file = kinds[pick as usize % kinds.len()].header().join(",").into_bytes();
        file.extend_from_slice(if pick & 0x80 != 0 { b"\r\n" } else { b"\n" });
        file.extend_from_slice(rest);
        all(&file);
    }
});

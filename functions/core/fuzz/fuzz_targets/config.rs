//! Election definitions and county enrolments (TOML from the bucket). Never a panic; an
//! enrolment applied to an election it names is accepted or refused with a field.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wmb_core::election::Election;
use wmb_core::enrolment::Enrolment;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (first, second) = text.split_once("\n---\n").unwrap_or((text, text));
    let election = Election::from_toml("config/elections/e.toml", first);
    let enrolment = Enrolment::from_toml("config/enrolments/e.toml", second);
    if let (Ok(mut election), Ok(enrolment)) = (election, enrolment) {
        if let Err(e) = election.enrol("config/enrolments/e.toml", &enrolment) {
            assert!(!e.field.is_empty());
        }
    }
});

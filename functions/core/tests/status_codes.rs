//! The guidance's table of VBM ballot status codes and the message each sends; in-person
//! methods; message keys.

use wmb_core::status::*;

/// Every row of the guidance's table of VBM Ballot Status Codes.
#[test]
fn every_status_code_triggers_the_message_the_guidance_lists() {
    let table = [
        ("ISSUED", Milestone::Outbound),
        ("INR", Milestone::Received),
        ("ACCEPTED", Milestone::Accepted),
        ("VAV", Milestone::NotAccepted),
        ("NVS", Milestone::ContactCounty),
        ("NMS", Milestone::ContactCounty),
        ("BME", Milestone::NotAccepted),
        ("VDD", Milestone::NotAccepted),
        ("MIA", Milestone::NotAccepted),
        ("MRE", Milestone::NotAccepted),
        ("NOT", Milestone::NotAccepted),
        ("INF", Milestone::ContactCounty),
        ("OTH", Milestone::NotAccepted),
        ("UND", Milestone::Undeliverable),
        ("NID", Milestone::ContactCounty),
        ("CLD", Milestone::NotAccepted),
    ];
    assert_eq!(table.len(), StatusCode::ALL.len());
    for (code, milestone) in table {
        let parsed = StatusCode::parse(code).unwrap_or_else(|| panic!("{code} not parsed"));
        assert_eq!(parsed.milestone(), milestone, "{code}");
        assert_eq!(parsed.as_str(), code);
    }
}

#[test]
fn unknown_and_lowercase_codes_are_not_status_codes() {
    for bad in ["issued", "ISSUE", "XYZ", "", "Reissued", "POLL"] {
        assert!(StatusCode::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn in_person_methods_are_poll_and_vote_center() {
    assert!(ParticipationMethod::parse("POLL").unwrap().is_in_person());
    assert!(ParticipationMethod::parse("VCR").unwrap().is_in_person());
    assert!(!ParticipationMethod::parse("VBM").unwrap().is_in_person());
}

#[test]
fn message_keys_round_trip() {
    for m in MessageKind::ALL {
        assert_eq!(MessageKind::parse(m.key()), Some(m));
    }
    assert_eq!(MessageKind::parse("contact-county"), Some(MessageKind::ContactCounty));
    // The names the guidance uses, as a user types them.
    assert_eq!(MessageKind::parse("InPerson"), Some(MessageKind::InPerson));
    assert_eq!(MessageKind::parse("NotAccepted"), Some(MessageKind::NotAccepted));
    assert_eq!(MessageKind::parse("Contact County"), Some(MessageKind::ContactCounty));
    assert_eq!(MessageKind::parse("cure reminder"), Some(MessageKind::CureReminder));
    assert_eq!(MessageKind::parse("In-Person"), Some(MessageKind::InPerson));
    assert_eq!(MessageKind::parse("accept"), None);
    assert_eq!(MessageKind::parse(""), None);
    assert!(MessageKind::from_key("InPerson").is_none(), "file keys stay exact");
}

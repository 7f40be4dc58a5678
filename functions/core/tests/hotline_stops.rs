//! Stops the Secretary of State took by phone or letter (a `stops` file's rows): a phone, an
//! address or a voter's whole sign-up stops as asked, and stays stopped.

mod common;

use common::{lee, random, t, Fixture, ANN, BEN, PHONE};
use wmb_core::pipeline::Tally;
use wmb_core::ports::*;
use wmb_core::signup::SignupRequest;
use wmb_core::status::{Channel, MessageKind, StatusCode};
use wmb_core::stop_requests::{Stop, StopRequest};

fn issued(f: &Fixture, id: &str, at: &str) -> wmb_core::formats::VbmStatus {
    wmb_core::formats::VbmStatus { votecal_id: id.into(), county: f.county, election_id: "E".into(), ballot_id: format!("B-{id}"), status: StatusCode::Issued, status_time: t(at) }
}

#[test]
fn a_phone_the_hotline_was_asked_to_stop_gets_no_texts_or_calls_for_anyone_and_a_signups_file_does_not_restart_it() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann, texted and called at the household's phone and emailed, and Ben, texted there
        let ann = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "ann@example.com", PHONE, "", "").unwrap();
        p.signup(&ann, t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        p.signup(&lee("Ben", "1978-02-03", PHONE, ""), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN whoever holds the phone calls the hotline, and the staff's row for it is read
        let row = StopRequest { stop: Stop::Phone { phone: PHONE.into(), channels: vec![Channel::Sms, Channel::Voice] }, requested_at: t("2026-10-06T18:30:00Z") };
        let changed = p.stop_as_asked(&row, None, t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN both voters' texts and Ann's calls stop, and nothing is sent to say so
        assert_eq!(changed, 3);
        let sent_before = f.sent_where(|_| true);
        // AND their ballots' news reaches only Ann's email
        for id in ["CA1", "CA2"] {
            p.apply_status(&issued(&f, id, "2026-10-07T16:00:00Z"), t("2026-10-07T19:00:00Z"), &mut tally).await.unwrap();
        }
        assert_eq!(f.sent_where(|m| m.to == PHONE && m.kind == MessageKind::Outbound), 0, "nothing to the phone");
        assert_eq!(f.sent_where(|m| m.to == "ann@example.com" && m.kind == MessageKind::Outbound), 1, "Ann's email goes on");
        assert_eq!(f.sent_where(|_| true), sent_before + 1);
        // AND the county's signups file, sent again with the phone, does not restart it
        p.signup(&ann, t("2026-10-08T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let sub = f.store.subscription("CA1").await.unwrap().unwrap();
        assert_eq!((sub.address(Channel::Sms), sub.address(Channel::Voice)), (None, None));
        // AND the row read again (the file delivered twice) changes nothing more
        assert_eq!(p.stop_as_asked(&row, None, t("2026-10-08T19:05:00Z"), &mut tally).await.unwrap(), Ok(0));
        // AND a START from the phone after the call starts its texts again, and the file read
        // again later leaves that START be
        p.inbound_text(PHONE, "START", "in-9", t("2026-10-09T19:00:00Z"), &mut tally).await.unwrap();
        assert_eq!(p.stop_as_asked(&row, None, t("2026-10-09T19:05:00Z"), &mut tally).await.unwrap(), Ok(0));
        for id in ["CA1", "CA2"] {
            assert_eq!(f.store.subscription(id).await.unwrap().unwrap().address(Channel::Sms), Some(PHONE), "{id}");
        }
    });
}

#[test]
fn an_address_a_letter_asked_to_stop_gets_no_email_for_anyone_in_the_household() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann and Ben, emailed at the household's inbox, Ben also texted
        const BENS: &str = "+19165550177";
        p.signup(&lee("Ann", "1980-05-17", "", "lees@example.com"), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        p.signup(&lee("Ben", "1978-02-03", BENS, "lees@example.com"), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN the staff's row for a letter, dated 2 October, that asks that the inbox (spelled
        // another way) get no more ballot email, is read
        let row = StopRequest { stop: Stop::Email { email: "Lees@Example.com".into() }, requested_at: t("2026-10-02T18:30:00Z") };
        let changed = p.stop_as_asked(&row, None, t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN neither is emailed, and Ben's texts go on
        assert_eq!(changed, 2);
        for id in ["CA1", "CA2"] {
            p.apply_status(&issued(&f, id, "2026-10-07T16:00:00Z"), t("2026-10-07T19:00:00Z"), &mut tally).await.unwrap();
        }
        assert_eq!(f.sent_where(|m| m.to == "lees@example.com" && m.kind == MessageKind::Outbound), 0);
        assert_eq!(f.sent_where(|m| m.to == BENS && m.kind == MessageKind::Outbound), 1);
        // AND the county's signups file naming the inbox again does not restart it
        p.signup(&lee("Ann", "1980-05-17", "", "lees@example.com"), t("2026-10-08T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), None);
        // AND a request dated a day still to come is refused at its field
        let later = StopRequest { requested_at: t("2026-10-08T18:30:00Z"), ..row };
        assert_eq!(p.stop_as_asked(&later, None, t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap_err().field, "requested_at");
    });
}

#[test]
fn a_sign_up_a_stranger_made_for_a_voter_ends_at_her_word_to_the_hotline_and_she_signs_up_again_without_his_code() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a stranger who knew her name, birth date and ZIP, with his phone
        const HIS: &str = "+19165550166";
        const HERS: &str = "+19165550133";
        p.signup(&lee("Ann", "1980-05-17", HIS, ""), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // AND he has just asked to see her ballot and to add his email: codes on their way to him
        let ann = wmb_core::signup::IdentityRequest::from(&lee("Ann", "1980-05-17", HIS, ""));
        let view = p.request_view(&ann, "203.0.113.9", t("2026-10-06T18:58:00Z")).await.unwrap().unwrap();
        let view_code = f.code_to(HIS);
        let more = p.request_signup(&lee("Ann", "1980-05-17", HIS, "his@example.net"), "203.0.113.9", t("2026-10-06T18:59:00Z")).await.unwrap().unwrap();
        let approve = f.code_to(HIS);
        // WHEN Ann calls the hotline, the staff check who she is and write a row with her VoteCal ID
        // (a row whose last name is not the roll's for that ID is refused at its field: a
        // mistyped ID must not end another voter's sign-up)
        let mistyped = StopRequest { stop: Stop::Voter { votecal_id: "CA1".into(), last_name: "Leigh".into(), channels: vec![] }, requested_at: t("2026-10-06T18:59:30Z") };
        assert_eq!(p.stop_as_asked(&mistyped, None, t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap_err().field, "last_name");
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().chosen(Channel::Sms), Some(HIS));
        let row = StopRequest { stop: Stop::Voter { votecal_id: "CA1".into(), last_name: "LEE".into(), channels: vec![] }, requested_at: t("2026-10-06T18:59:30Z") };
        let changed = p.stop_as_asked(&row, None, t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN her sign-up ends at once: his number is no longer held for her
        assert_eq!(changed, 1);
        let sub = f.store.subscription("CA1").await.unwrap().unwrap();
        assert_eq!((sub.chosen(Channel::Sms), sub.channels().len()), (None, 0));
        // AND the codes he was sent before open nothing: the sign-up they were for has ended
        let late = t("2026-10-06T19:01:00Z");
        assert_eq!(p.enter_code(&view.change_id, &view_code, true, late, &mut tally).await.unwrap().err(), Some(wmb_core::access::CodeRefusal::Expired));
        assert_eq!(p.enter_code(&more.change_id, &approve, false, late, &mut tally).await.unwrap().err(), Some(wmb_core::access::CodeRefusal::Expired));
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().channels().len(), 0);
        // AND the signups file his sign-up came from, sent again, does not bring his phone back
        p.signup(&lee("Ann", "1980-05-17", HIS, ""), t("2026-10-06T19:30:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().chosen(Channel::Sms), None);
        // AND his START starts nothing, and her ballot's news does not reach him
        let start = p.inbound_text(HIS, "START", "in-1", t("2026-10-06T20:00:00Z"), &mut tally).await.unwrap();
        assert_eq!((start.changed, start.replied), (0, Some(MessageKind::OptedInNone)));
        p.apply_status(&issued(&f, "CA1", "2026-10-07T16:00:00Z"), t("2026-10-07T19:00:00Z"), &mut tally).await.unwrap();
        assert_eq!(f.sent_where(|m| m.to == HIS && m.kind == MessageKind::Outbound), 0);
        // AND she signs up on the page with her own phone: a code to hers, none to his
        let codes_to_him = f.sent_where(|m| m.to == HIS && m.kind == MessageKind::AccountCode);
        let ticket = p.request_signup(&lee("Ann", "1980-05-17", HERS, ""), "198.51.100.7", t("2026-10-08T19:00:00Z")).await.unwrap().unwrap();
        assert_eq!(f.sent_where(|m| m.to == HIS && m.kind == MessageKind::AccountCode), codes_to_him, "no approval asked of his phone");
        p.enter_code(&ticket.change_id, &f.code_to(HERS), false, t("2026-10-08T19:02:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(HERS));
        // AND the stops file read again later (sent again) leaves her new sign-up be
        assert_eq!(p.stop_as_asked(&row, None, t("2026-10-09T19:00:00Z"), &mut tally).await.unwrap(), Ok(0));
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(HERS));
    });
}

#[test]
fn a_sign_up_ended_at_the_hotline_takes_the_signups_files_new_row_for_her_at_once() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann's sign-up, made by a stranger with his phone, ended at the hotline
        p.signup(&lee("Ann", "1980-05-17", "+19165550166", ""), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let row = StopRequest { stop: Stop::Voter { votecal_id: "CA1".into(), last_name: "LEE".into(), channels: vec![] }, requested_at: t("2026-10-06T18:59:30Z") };
        p.stop_as_asked(&row, None, t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN minutes later the Secretary of State's signups file carries her own choices
        let mine = p.signup(&lee("Ann", "1980-05-17", "+19165550133", "ann@example.com"), t("2026-10-06T19:03:00Z"), &mut tally).await.unwrap();
        // THEN they are taken (an ended sign-up has nothing to flip back and forth), and she is
        // welcomed at her own contacts
        assert_eq!(mine.map(|s| s.channels().len()), Ok(2));
        assert_eq!(f.sent_where(|m| m.to == "+19165550133" && m.kind == MessageKind::SignupConfirmation), 1);
    });
}

#[test]
fn a_code_sent_to_a_strangers_phone_opens_nothing_once_she_signed_up_again_and_her_own_still_works() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        const HIS: &str = "+19165550166";
        // GIVEN Ann signed up by a stranger with his phone and her email address
        p.signup(&lee("Ann", "1980-05-17", HIS, "ann@example.com"), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // AND he asks to see her ballot: codes to his phone and her address
        let who = wmb_core::signup::IdentityRequest::from(&lee("Ann", "1980-05-17", HIS, ""));
        let view = p.request_view(&who, "203.0.113.9", t("2026-10-06T18:58:00Z")).await.unwrap().unwrap();
        let his_code = f.code_to(HIS);
        // WHEN her sign-up ends at the hotline, and she signs up again at once with her address
        let row = StopRequest { stop: Stop::Voter { votecal_id: "CA1".into(), last_name: "Lee".into(), channels: vec![] }, requested_at: t("2026-10-06T18:59:00Z") };
        p.stop_as_asked(&row, None, t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let again = p.request_signup(&lee("Ann", "1980-05-17", "", "ann@example.com"), "198.51.100.7", t("2026-10-06T19:01:00Z")).await.unwrap().unwrap();
        p.enter_code(&again.change_id, &f.code_to("ann@example.com"), false, t("2026-10-06T19:02:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN his code opens nothing: one of the contacts it was asked of is no longer hers
        let late = p.enter_code(&view.change_id, &his_code, true, t("2026-10-06T19:03:00Z"), &mut tally).await.unwrap();
        assert_eq!(late.err(), Some(wmb_core::access::CodeRefusal::Expired));
        // AND her own look at her ballot still works when, while her code is on its way, the
        // signups file spells her address another way
        let mine = p.request_view(&who, "198.51.100.7", t("2026-10-06T19:20:00Z")).await.unwrap().unwrap();
        let code = f.code_to("ann@example.com");
        p.signup(&lee("Ann", "1980-05-17", "", "Ann@Example.com"), t("2026-10-06T19:21:00Z"), &mut tally).await.unwrap().unwrap();
        assert!(p.enter_code(&mine.change_id, &code, true, t("2026-10-06T19:22:00Z"), &mut tally).await.unwrap().is_ok());
    });
}

#[test]
fn a_row_that_finds_no_sign_up_is_reported_for_the_staff_to_check_and_a_numbers_stop_is_still_kept() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann, texted at the household's phone; Ben not signed up
        p.signup(&lee("Ann", "1980-05-17", PHONE, ""), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN the staff's rows carry a phone with one digit wrong, an address no sign-up has, and
        // Ben's VoteCal ID
        const TYPO: &str = "+19165550101";
        let asked = t("2026-10-06T18:30:00Z");
        let phone = StopRequest { stop: Stop::Phone { phone: TYPO.into(), channels: vec![Channel::Sms] }, requested_at: asked };
        let email = StopRequest { stop: Stop::Email { email: "nobody@example.com".into() }, requested_at: asked };
        let ben = StopRequest { stop: Stop::Voter { votecal_id: "CA2".into(), last_name: "Lee".into(), channels: vec![] }, requested_at: asked };
        let now = t("2026-10-06T19:00:00Z");
        // THEN each is reported at the field to check, and Ann's texts go on
        for (row, field) in [(&phone, "phone"), (&email, "email"), (&ben, "votecal_id")] {
            let refused = p.stop_as_asked(row, None, now, &mut tally).await.unwrap().unwrap_err();
            assert_eq!(refused.field, field, "{}", refused.reason);
        }
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
        // AND a row for calls to Ann's phone, which takes her texts only, is reported too
        let calls = StopRequest { stop: Stop::Phone { phone: PHONE.into(), channels: vec![Channel::Voice] }, requested_at: asked };
        assert_eq!(p.stop_as_asked(&calls, None, now, &mut tally).await.unwrap().unwrap_err().field, "phone");
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
        // AND read again, the phone's row is reported again
        assert_eq!(p.stop_as_asked(&phone, None, t("2026-10-07T19:00:00Z"), &mut tally).await.unwrap().unwrap_err().field, "phone");
        // AND a signups file that later names that number for Ben finds its texts stopped
        p.signup(&lee("Ben", "1978-02-03", TYPO, "ben@example.com"), t("2026-10-08T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let sub = f.store.subscription("CA2").await.unwrap().unwrap();
        assert_eq!((sub.address(Channel::Sms), sub.address(Channel::Email)), (None, Some("ben@example.com")));
        // AND the file read again after that (sent again) reports its rows again, and ends
        // nothing Ben did since: the row for him was asked before his sign-up
        for (row, field) in [(&phone, "phone"), (&ben, "votecal_id")] {
            assert_eq!(p.stop_as_asked(row, None, t("2026-10-09T19:00:00Z"), &mut tally).await.unwrap().unwrap_err().field, field);
        }
        assert_eq!(f.store.subscription("CA2").await.unwrap().unwrap().address(Channel::Email), Some("ben@example.com"));
        // AND a row that ended a sign-up, read again (the file sent twice), is not reported: it
        // found her sign-up and is done
        let ann = StopRequest { stop: Stop::Voter { votecal_id: "CA1".into(), last_name: "Lee".into(), channels: vec![] }, requested_at: asked };
        assert_eq!(p.stop_as_asked(&ann, None, now, &mut tally).await.unwrap(), Ok(1));
        assert_eq!(p.stop_as_asked(&ann, None, t("2026-10-07T19:00:00Z"), &mut tally).await.unwrap(), Ok(0));
    });
}

#[test]
fn a_sign_up_ended_by_an_attempt_that_stopped_before_its_record_is_not_reported_as_never_made_when_read_again() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann's sign-up, and the row that ends it read by a worker that erases her contacts
        // and then stops before it marks the request done
        p.signup(&lee("Ann", "1980-05-17", PHONE, ""), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let row = StopRequest { stop: Stop::Voter { votecal_id: "CA1".into(), last_name: "Lee".into(), channels: vec![] }, requested_at: t("2026-10-06T18:30:00Z") };
        f.store.fail_completes(1);
        assert!(p.stop_as_asked(&row, None, t("2026-10-06T19:00:00Z"), &mut tally).await.is_err());
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().chosen(Channel::Sms), None);
        // WHEN the file is read again once that worker's claim has lapsed
        let again = p.stop_as_asked(&row, None, t("2026-10-06T19:30:00Z"), &mut tally).await.unwrap();
        // THEN the row is done, not reported as a voter with no sign-up, then or ever after
        assert_eq!(again, Ok(0));
        assert_eq!(p.stop_as_asked(&row, None, t("2026-10-07T19:30:00Z"), &mut tally).await.unwrap(), Ok(0));
    });
}

#[test]
fn a_phone_that_texted_start_after_the_call_keeps_its_texts_when_the_staffs_row_is_read_later() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann, texted and called at her phone
        let ann = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "", PHONE, "", "").unwrap();
        p.signup(&ann, t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN she calls the hotline at 9:00 to stop texts and calls, thinks again and texts
        // START at 11:00, and the staff's row for her call is read the next morning
        let asked = t("2026-10-06T16:00:00Z");
        p.inbound_text(PHONE, "START", "in-1", t("2026-10-06T18:00:00Z"), &mut tally).await.unwrap();
        let row = StopRequest { stop: Stop::Phone { phone: PHONE.into(), channels: vec![Channel::Sms, Channel::Voice] }, requested_at: asked };
        let told = p.stop_as_asked(&row, None, t("2026-10-07T16:00:00Z"), &mut tally).await.unwrap().unwrap_err();
        // THEN her texts go on and her calls stop, and the staff are told why, at the row's time
        assert_eq!(told.field, "requested_at");
        assert!(told.reason.contains("texted START after this time"), "{}", told.reason);
        let sub = f.store.subscription("CA1").await.unwrap().unwrap();
        assert_eq!((sub.address(Channel::Sms), sub.address(Channel::Voice)), (Some(PHONE), None));
        // AND her ballot's news reaches her by text
        p.apply_status(&issued(&f, "CA1", "2026-10-07T17:00:00Z"), t("2026-10-07T19:00:00Z"), &mut tally).await.unwrap();
        assert_eq!(f.sent_where(|m| m.to == PHONE && m.channel == Channel::Sms && m.kind == MessageKind::Outbound), 1);
        // AND the row read again says the same and changes nothing
        assert_eq!(p.stop_as_asked(&row, None, t("2026-10-08T16:00:00Z"), &mut tally).await.unwrap(), Err(told));
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
        // AND a texts-only row for the first call, read now, is told the same way every time
        let texts_only = StopRequest { stop: Stop::Phone { phone: PHONE.into(), channels: vec![Channel::Sms] }, requested_at: asked };
        for day in ["2026-10-08T15:00:00Z", "2026-10-08T15:30:00Z"] {
            let again = p.stop_as_asked(&texts_only, None, t(day), &mut tally).await.unwrap().unwrap_err();
            assert!(again.reason.contains("texted START after this time") && !again.reason.contains("calls"), "{}", again.reason);
        }
        // AND a row for a call after her START stops her texts
        let later = StopRequest { stop: Stop::Phone { phone: PHONE.into(), channels: vec![Channel::Sms] }, requested_at: t("2026-10-06T19:00:00Z") };
        assert_eq!(p.stop_as_asked(&later, None, t("2026-10-08T16:00:00Z"), &mut tally).await.unwrap(), Ok(1));
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
        // AND her START is no longer the phone's latest word: the first call's row, read again,
        // is done and tells of no START
        assert_eq!(p.stop_as_asked(&texts_only, None, t("2026-10-09T16:00:00Z"), &mut tally).await.unwrap(), Ok(0));
    });
}

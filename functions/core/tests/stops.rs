//! Stops that last: a household's inbox that unsubscribes stops email for each of its voters; an
//! address that unsubscribed, a phone stopped on the page, calls stopped on the page, and one
//! voter's stop of a household's shared phone stay stopped when a signups file names them again
//! after the subscription's addresses were erased, until the voter proves them again (or the
//! phone texts START); one voter's stop on the page leaves a shared phone to the others; START
//! promises texts only where some voter's texts will come; and a STOP whose reply fails is
//! remembered all the same (texts that ask to stop in words of their own, and a START and STOP
//! out of order: `texted_stops.rs`).

mod common;

use common::{lee, random, stop_on_the_page, t, Fixture, ANN, BEN, PHONE};
use wmb_core::access::contact_name;
use wmb_core::pipeline::Tally;
use wmb_core::receipts::{Receipt, ReceiptOutcome};
use wmb_core::ports::*;
use wmb_core::signup::{IdentityRequest, SignupRequest};
use wmb_core::status::{Channel, MessageKind};

/// SES's complaint about an email to Ann's address (her inbox marked it as spam) at `at`.
fn complaint(at: &str) -> Receipt {
    Receipt { channel: Channel::Email, provider_id: "ses-1".into(), key: None, address: "ann@example.com".into(), outcome: ReceiptOutcome::Refused { reason: "complaint".into() }, at: t(at) }
}

/// The link of an email to `address` about `voter`'s ballot, as its token.
fn unsubscribe_token(f: &Fixture, voter: &str, address: &str, at: &str) -> String {
    let url = wmb_core::optout::unsubscribe_url("https://example.gov", &f.keys.signing, voter, address, t(at));
    url.split_once("token=").unwrap().1.to_string()
}

#[test]
fn a_households_shared_inbox_that_unsubscribes_gets_no_more_email_for_any_of_its_voters() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN two voters of one household signed up with one inbox, and a third address
        let inbox = "Lees@example.com";
        for (first, dob) in [("Ann", "1980-05-17"), ("Ben", "1978-02-03")] {
            p.signup(&lee(first, dob, "", inbox), t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        }
        // WHEN the inbox follows the unsubscribe link of an email about Ann's ballot
        let token = unsubscribe_token(&f, "CA1", "lees@example.com", "2026-10-07T19:00:00Z");
        p.unsubscribe(&token, t("2026-10-07T19:05:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN neither voter's news goes to that inbox any more
        for id in ["CA1", "CA2"] {
            assert_eq!(f.store.subscription(id).await.unwrap().unwrap().address(Channel::Email), None, "{id}");
        }
        // AND a link to an address the voter no longer has stops nothing
        let old = unsubscribe_token(&f, "CA2", "old@example.com", "2026-10-07T19:00:00Z");
        let before = f.store.subscription("CA2").await.unwrap();
        p.unsubscribe(&old, t("2026-10-07T19:06:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA2").await.unwrap(), before);
    });
}

#[test]
fn a_shared_inbox_that_unsubscribes_by_an_old_link_about_a_voter_who_left_it_gets_no_more_email() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann and Ben signed up with the household's inbox
        let inbox = "lees@example.com";
        for (first, dob) in [("Ann", "1980-05-17"), ("Ben", "1978-02-03")] {
            p.signup(&lee(first, dob, "", inbox), t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        }
        let old_link = unsubscribe_token(&f, "CA1", inbox, "2026-10-07T19:00:00Z");
        // AND Ann has since moved her email to her own address on the page (the inbox approves)
        let now = t("2026-10-09T19:00:00Z");
        let ticket = p.request_signup(&lee("Ann", "1980-05-17", "", "ann@example.com"), "198.51.100.7", now).await.unwrap().unwrap();
        for to in [inbox, "ann@example.com"] {
            p.enter_code(&ticket.change_id, &f.code_to(to), false, now, &mut tally).await.unwrap().unwrap();
        }
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), Some("ann@example.com"));
        // WHEN the inbox follows the link of an older email about Ann's ballot
        p.unsubscribe(&old_link, t("2026-10-10T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN the inbox gets no more email for Ben, and Ann's own address is untouched
        assert_eq!(f.store.subscription("CA2").await.unwrap().unwrap().address(Channel::Email), None);
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), Some("ann@example.com"));
        assert!(f.store.contact(&contact_name(&f.keys.signing, Channel::Email, inbox)).await.unwrap().stopped);
    });
}

#[test]
fn an_unsubscribed_address_stays_stopped_when_a_signups_file_names_it_after_its_erasure_until_the_voter_proves_it() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a cumulative signups file with her email, which she then
        // unsubscribes; 30 days later her address is erased
        let row = lee("Ann", "1980-05-17", "", "ann@example.com");
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let token = unsubscribe_token(&f, "CA1", "ann@example.com", "2026-09-02T19:00:00Z");
        p.unsubscribe(&token, t("2026-09-02T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let erased = p.live_subscription("CA1", t("2026-10-03T19:00:00Z")).await.unwrap().unwrap();
        assert_eq!(erased.chosen(Channel::Email), None, "erased");
        // WHEN the file comes again with her row
        p.signup(&row, t("2026-10-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN her address stays stopped, and nothing is emailed
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), None);
        assert_eq!(f.sent_where(|m| m.channel == Channel::Email), 1, "only the first sign-up's confirmation");
        // AND when she signs up on the page with it and enters its code, it is live again
        let ticket = p.request_signup(&row, "198.51.100.7", t("2026-10-06T19:00:00Z")).await.unwrap().unwrap();
        let code = f.code(MessageKind::VerificationCode, Channel::Email);
        p.enter_code(&ticket.change_id, &code, false, t("2026-10-06T19:02:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), Some("ann@example.com"));
    });
}

#[test]
fn texts_stopped_on_the_page_stay_stopped_when_a_signups_file_names_the_phone_after_its_erasure() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a cumulative signups file with her phone, who stops texts on
        // the page (a code to her phone approves it); 30 days later her number is erased
        let row = lee("Ann", "1980-05-17", PHONE, "");
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let ticket = p.request_stop(&IdentityRequest::from(&row), vec![Channel::Sms], "198.51.100.7", t("2026-09-02T19:00:00Z")).await.unwrap().unwrap();
        let code = f.code(MessageKind::AccountCode, Channel::Sms);
        p.enter_code(&ticket.change_id, &code, false, t("2026-09-02T19:02:00Z"), &mut tally).await.unwrap().unwrap();
        let erased = p.live_subscription("CA1", t("2026-10-03T19:00:00Z")).await.unwrap().unwrap();
        assert_eq!(erased.chosen(Channel::Sms), None, "erased");
        let texts = f.sent_where(|_| true);
        // WHEN the file comes again with her row
        p.signup(&row, t("2026-10-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN her phone stays stopped, and nothing is texted to it
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
        assert_eq!(f.sent_where(|_| true), texts);
    });
}

#[test]
fn one_voter_stopping_texts_on_the_page_leaves_the_households_shared_phone_to_the_others() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann and Ben share a phone, both signed up by a cumulative signups file
        let rows = [lee("Ann", "1980-05-17", PHONE, ""), lee("Ben", "1978-02-03", PHONE, "")];
        for row in &rows {
            p.signup(row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        }
        // WHEN Ann stops texts on the page
        stop_on_the_page(&f, &rows[0], &[Channel::Sms], Channel::Sms, "2026-09-02T19:00:00Z").await;
        // THEN her texts stop, Ben's do not, and the phone is not marked as having said STOP
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
        assert_eq!(f.store.subscription("CA2").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
        assert!(!f.store.contact(&contact_name(&f.keys.signing, Channel::Sms, PHONE)).await.unwrap().stopped);
        // AND once her number is erased, the file naming both again texts Ben and not Ann
        let erased = p.live_subscription("CA1", t("2026-10-03T19:00:00Z")).await.unwrap().unwrap();
        assert_eq!(erased.chosen(Channel::Sms), None, "erased");
        for row in &rows {
            p.signup(row, t("2026-10-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        }
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None, "Ann's stop stands");
        assert_eq!(f.store.subscription("CA2").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
        // AND when the household's phone texts START (whoever holds it), Ann's stop still stands,
        // through the next file too, and Ben's texts go on
        p.inbound_text(PHONE, "START", "in-1", t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap();
        p.signup(&rows[0], t("2026-10-07T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None, "Ann's own stop is hers to lift");
        assert_eq!(f.store.subscription("CA2").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
        // AND when Ann chooses texts to it again on the page, with the phone's code, they are
        // live, and the next file keeps them
        let ticket = p.request_signup(&rows[0], "198.51.100.7", t("2026-10-08T19:00:00Z")).await.unwrap().unwrap();
        let code = f.code_to(PHONE);
        p.enter_code(&ticket.change_id, &code, false, t("2026-10-08T19:02:00Z"), &mut tally).await.unwrap().unwrap();
        p.signup(&rows[0], t("2026-10-09T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
    });
}

#[test]
fn a_voter_who_moved_her_texts_off_the_households_phone_is_not_put_back_on_it_by_its_start() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann and Ben, by a signups file, with the household's phone
        let rows = [lee("Ann", "1980-05-17", PHONE, ""), lee("Ben", "1978-02-03", PHONE, "")];
        for row in &rows {
            p.signup(row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        }
        // AND Ann, leaving the household, moved her texts to her own phone on the page
        const OWN: &str = "+19165550199";
        let now = t("2026-09-05T19:00:00Z");
        let ticket = p.request_signup(&lee("Ann", "1980-05-17", OWN, ""), "198.51.100.7", now).await.unwrap().unwrap();
        for code in [f.code_to(PHONE), f.code_to(OWN)] {
            p.enter_code(&ticket.change_id, &code, false, now, &mut tally).await.unwrap().unwrap();
        }
        // WHEN the household's phone texts START (say after a STOP of Ben's), and the county's
        // newer file still names that phone for Ann, with an email added
        p.inbound_text(PHONE, "STOP", "in-1", t("2026-09-06T19:00:00Z"), &mut tally).await.unwrap();
        p.inbound_text(PHONE, "START", "in-2", t("2026-09-07T19:00:00Z"), &mut tally).await.unwrap();
        p.signup(&lee("Ann", "1980-05-17", PHONE, "ann@example.com"), t("2026-09-08T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN Ann's news does not go to the household's phone; Ben's does
        assert_ne!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
        assert_eq!(f.store.subscription("CA2").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
    });
}

#[test]
fn start_from_a_phone_only_one_voter_has_restarts_her_texts_stopped_on_the_page() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann, the only voter with her phone, who stopped texts to it on the page
        let row = lee("Ann", "1980-05-17", PHONE, "ann@example.com");
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        stop_on_the_page(&f, &row, &[Channel::Sms], Channel::Email, "2026-09-02T19:00:00Z").await;
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
        // WHEN her phone texts START
        let out = p.inbound_text(PHONE, "START", "in-1", t("2026-09-03T19:00:00Z"), &mut tally).await.unwrap();
        // THEN her texts start again, she is told so, and the next file keeps them
        assert_eq!(out.replied, Some(MessageKind::OptedIn));
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
        p.signup(&row, t("2026-09-04T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
    });
}

#[test]
fn start_from_a_phone_no_voters_texts_would_come_to_is_told_none_are_set_up() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann and Ben share a phone, and each stopped texts to it on the page
        let rows = [lee("Ann", "1980-05-17", PHONE, ""), lee("Ben", "1978-02-03", PHONE, "")];
        for row in &rows {
            p.signup(row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        }
        stop_on_the_page(&f, &rows[0], &[Channel::Sms], Channel::Sms, "2026-09-02T19:00:00Z").await;
        stop_on_the_page(&f, &rows[1], &[Channel::Sms], Channel::Sms, "2026-09-02T20:00:00Z").await;
        // WHEN the phone texts START
        let out = p.inbound_text(PHONE, "START", "in-1", t("2026-09-03T19:00:00Z"), &mut tally).await.unwrap();
        // THEN no texts start, and the reply does not promise any: it says none are set up
        for id in ["CA1", "CA2"] {
            assert_eq!(f.store.subscription(id).await.unwrap().unwrap().address(Channel::Sms), None, "{id}");
        }
        assert_eq!(out.replied, Some(MessageKind::OptedInNone));
        // AND a number no voter chose is told the same
        let stranger = p.inbound_text("+19165550177", "START", "in-2", t("2026-09-03T19:05:00Z"), &mut tally).await.unwrap();
        assert_eq!(stranger.replied, Some(MessageKind::OptedInNone));
        assert_eq!(f.sent_where(|m| m.kind == MessageKind::OptedInNone && [PHONE, "+19165550177"].contains(&m.to.as_str())), 2);
        assert_eq!(f.sent_where(|m| m.kind == MessageKind::OptedIn), 0, "no reply says texts come again");
    });
}

#[test]
fn calls_stopped_on_the_page_stay_stopped_when_a_signups_file_names_the_phone_after_its_erasure_until_chosen_again() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a cumulative signups file for calls and email, who stops both on
        // the page; 30 days later her number and address are erased
        let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", "", "ann@example.com", PHONE, "", "").unwrap();
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        stop_on_the_page(&f, &row, &[], Channel::Email, "2026-09-02T19:00:00Z").await;
        let erased = p.live_subscription("CA1", t("2026-10-03T19:00:00Z")).await.unwrap().unwrap();
        assert_eq!(erased.chosen(Channel::Voice), None, "erased");
        // WHEN the file comes again with her row
        p.signup(&row, t("2026-10-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN neither her calls nor her email start again
        let sub = f.store.subscription("CA1").await.unwrap().unwrap();
        assert_eq!((sub.address(Channel::Voice), sub.address(Channel::Email)), (None, None));
        // AND when she chooses calls again on the page (with texts to the same phone), proving
        // her phone and email with codes, they are live, and the next file keeps them
        let again = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "ann@example.com", PHONE, "", "").unwrap();
        let ticket = p.request_signup(&again, "198.51.100.7", t("2026-10-06T19:00:00Z")).await.unwrap().unwrap();
        for channel in [Channel::Sms, Channel::Email] {
            let code = f.code(MessageKind::VerificationCode, channel);
            p.enter_code(&ticket.change_id, &code, false, t("2026-10-06T19:02:00Z"), &mut tally).await.unwrap().unwrap();
        }
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Voice), Some(PHONE));
        p.signup(&row, t("2026-10-07T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Voice), Some(PHONE));
    });
}

#[test]
fn an_address_that_marked_an_email_as_spam_stays_stopped_when_a_signups_file_names_it_after_its_erasure() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a cumulative signups file with her email, whose inbox then marks
        // an email as spam (SES's complaint); 30 days later her address is erased
        let row = lee("Ann", "1980-05-17", "", "ann@example.com");
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let complaint = complaint("2026-09-02T19:00:00Z");
        p.record_receipt(&complaint, &mut tally).await.unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), None);
        p.live_subscription("CA1", t("2026-10-03T19:00:00Z")).await.unwrap().unwrap();
        // WHEN the file comes again with her row
        p.signup(&row, t("2026-10-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN nothing more is emailed to that inbox
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), None);
        assert_eq!(f.sent_where(|m| m.channel == Channel::Email), 1, "only the first sign-up's confirmation");
    });
}

#[test]
fn a_stopped_phone_the_voter_replaces_on_the_page_no_longer_names_her() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann, by a signups file, with a phone whose texts she stopped on the page, and her email
        let row = lee("Ann", "1980-05-17", PHONE, "ann@example.com");
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        stop_on_the_page(&f, &row, &[Channel::Sms], Channel::Email, "2026-09-02T19:00:00Z").await;
        // WHEN she moves her texts to a new phone (her email approves, the phone proves itself)
        const NEW: &str = "+19165550199";
        let now = t("2026-09-05T19:00:00Z");
        let ticket = p.request_signup(&lee("Ann", "1980-05-17", NEW, "ann@example.com"), "198.51.100.7", now).await.unwrap().unwrap();
        let (approve, prove) = (f.code(MessageKind::AccountCode, Channel::Email), f.code(MessageKind::VerificationCode, Channel::Sms));
        for code in [approve, prove] {
            p.enter_code(&ticket.change_id, &code, false, now, &mut tally).await.unwrap().unwrap();
        }
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(NEW));
        // THEN the old phone's entry in the contact index no longer names her
        assert!(f.store.contact(&contact_name(&f.keys.signing, Channel::Sms, PHONE)).await.unwrap().voters.is_empty());
    });
}

#[test]
fn a_complaint_delivered_twice_at_once_is_counted_once() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        p.signup(&lee("Ann", "1980-05-17", "", "ann@example.com"), t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let complaint = complaint("2026-09-02T19:00:00Z");
        // WHEN SNS delivers the same complaint twice, to two workers at once
        f.store.pause_subscription_reads(2);
        let (mut t1, mut t2) = (Tally::default(), Tally::default());
        let (a, b) = futures::future::join(p.record_receipt(&complaint, &mut t1), p.record_receipt(&complaint, &mut t2)).await;
        a.unwrap();
        b.unwrap();
        // THEN her email is stopped, and her county counts one suspension
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), None);
        t1.merge(t2);
        let suspended: u64 = t1.county_days.iter().map(|(_, _, c)| c.iter().filter(|(k, _)| k.starts_with("suspended/")).map(|(_, v)| *v).sum::<u64>()).sum();
        assert_eq!(suspended, 1);
    });
}

#[test]
fn a_stop_text_and_a_bounce_at_the_same_moment_both_stand() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up with her phone and her email
        p.signup(&lee("Ann", "1980-05-17", PHONE, "ann@example.com"), t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let bounce = complaint("2026-09-02T19:00:00Z");
        // WHEN her inbox's complaint and her phone's STOP are handled at once, each reading her
        // subscription before the other writes it
        f.store.pause_subscription_reads(3);
        let at = t("2026-09-02T19:00:00Z");
        let (mut t1, mut t2) = (Tally::default(), Tally::default());
        let (b, a) = futures::future::join(p.inbound_text(PHONE, "STOP", "in-1", at, &mut t2), p.record_receipt(&bounce, &mut t1)).await;
        // THEN the one that lost the race does not write over the other's stop: it makes its own
        // again on what is there now, and both stops stand
        a.unwrap();
        b.unwrap();
        let sub = f.store.subscription("CA1").await.unwrap().unwrap();
        assert_eq!((sub.address(Channel::Sms), sub.address(Channel::Email)), (None, None), "both stops stand");
        // AND each is counted once for the county (an opt-out and a suspension)
        t1.merge(t2);
        let stops: u64 = t1.county_days.iter().map(|(_, _, c)| c.iter().filter(|(k, _)| k.starts_with("opt_outs/") || k.starts_with("suspended/")).map(|(_, v)| *v).sum::<u64>()).sum();
        assert_eq!(stops, 2);
    });
}

#[test]
fn calls_stopped_on_the_page_are_remembered_when_the_stop_is_finished_again_after_a_failure() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a cumulative signups file for calls and email
        let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", "", "ann@example.com", PHONE, "", "").unwrap();
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN she stops everything on the page, the contact index fails as her code is entered,
        // and she enters it again
        let ticket = p.request_stop(&IdentityRequest::from(&row), vec![], "198.51.100.7", t("2026-09-02T19:00:00Z")).await.unwrap().unwrap();
        let code = f.code(MessageKind::AccountCode, Channel::Email);
        f.store.fail_marks(1);
        assert!(p.enter_code(&ticket.change_id, &code, false, t("2026-09-02T19:02:00Z"), &mut tally).await.is_err(), "try again");
        p.enter_code(&ticket.change_id, &code, false, t("2026-09-02T19:03:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN once her addresses are erased, the file naming her phone again does not call it
        p.live_subscription("CA1", t("2026-10-03T19:00:00Z")).await.unwrap().unwrap();
        p.signup(&row, t("2026-10-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Voice), None);
    });
}

#[test]
fn calls_taken_off_on_the_page_do_not_come_back_when_a_signups_file_still_names_them() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a cumulative signups file for calls and email
        let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", "", "ann@example.com", PHONE, "", "").unwrap();
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN she changes her choices on the page to email only (approved by a code to it)
        let email_only = lee("Ann", "1980-05-17", "", "ann@example.com");
        let ticket = p.request_signup(&email_only, "198.51.100.7", t("2026-09-02T19:00:00Z")).await.unwrap().unwrap();
        let code = f.code(MessageKind::AccountCode, Channel::Email);
        p.enter_code(&ticket.change_id, &code, false, t("2026-09-02T19:02:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Voice), None);
        // AND the file comes again with her old row
        p.signup(&row, t("2026-09-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN she is still not called, and still emailed
        let sub = f.store.subscription("CA1").await.unwrap().unwrap();
        assert_eq!((sub.address(Channel::Voice), sub.address(Channel::Email)), (None, Some("ann@example.com")));
    });
}

#[test]
fn an_expired_unsubscribe_link_answers_in_the_voters_language_with_a_link_to_call() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann, who reads Spanish, signed up with her email
        let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "es", "", "ann@example.com", "", "", "").unwrap();
        p.signup(&row, t("2026-01-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN she follows the link of an email sent a year ago
        let token = unsubscribe_token(&f, "CA1", "ann@example.com", "2026-01-06T19:00:00Z");
        let query = format!("token={token}");
        let request = wmb_core::api::ApiRequest { method: "GET", path: "/unsubscribe", query: &query, body: b"", client: "198.51.100.7" };
        let page = p.answer(request, t("2027-01-06T19:00:00Z"), &mut tally).await;
        // THEN the page says so in Spanish, with the site and the phone number as links
        assert_eq!(page.status, 400);
        assert!(page.body.contains("lang=\"es\"") && page.body.contains("Este enlace venció"), "{}", page.body);
        assert!(page.body.contains("href=\"tel:+18003458683\"") && page.body.contains("href=\"https://wheresmyballot.sos.ca.gov\""), "{}", page.body);
        // AND a link no key of ours signed gets the English page
        let request = wmb_core::api::ApiRequest { method: "GET", path: "/unsubscribe", query: "token=forged.link", body: b"", client: "198.51.100.7" };
        assert!(p.answer(request, t("2027-01-06T19:00:00Z"), &mut tally).await.body.contains("lang=\"en\""));
    });
}

#[test]
fn a_stop_whose_reply_cannot_be_sent_is_remembered_all_the_same() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        p.signup(&lee("Ann", "1980-05-17", PHONE, ""), t("2026-10-06T19:00:00Z"), &mut Tally::default()).await.unwrap().unwrap();
        // GIVEN the provider failing the reply
        f.sent.failures.lock().unwrap().push(DeliveryError::Temporary("503".into()));
        // WHEN the phone texts STOP
        let r = p.inbound_text(PHONE, "STOP", "m-1", t("2026-10-07T19:00:00Z"), &mut Tally::default()).await;
        // THEN the text is handed back for another try, and the phone is already marked stopped
        // (should every try fail, the stop still outlives the erasure of her number)
        assert!(r.is_err());
        assert!(f.store.contact(&contact_name(&f.keys.signing, Channel::Sms, PHONE)).await.unwrap().stopped);
    });
}

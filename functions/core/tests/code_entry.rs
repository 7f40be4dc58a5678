//! Entering a code when the store or the queue fails part-way through what it applies: the voter
//! is asked to try again, and the same code then finishes the change (the confirmation and the
//! ballot's news so far go out once); once finished, the code is used up. And the codes' limits:
//! a stop made between two codes of one sign-up stands, and a contact past its codes for the day
//! holds no code that works.

mod common;

use common::{random, t, Fixture, ANN};
use wmb_core::access::CodeRefusal;
use wmb_core::formats::VbmStatus;
use wmb_core::pipeline::Tally;
use wmb_core::ports::*;
use wmb_core::signup::SignupRequest;
use wmb_core::status::{Channel, MessageKind, StatusCode};

const PHONE: &str = "+13105550100";

fn ann(sms: &str, email: &str) -> SignupRequest {
    SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", sms, email, "", "", "").unwrap()
}

#[test]
fn a_code_whose_change_failed_part_way_finishes_it_when_entered_again_and_only_then_is_used_up() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann's ballot mailed before she signs up, and her sign-up's code texted to her phone
        let mailed = VbmStatus { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), ballot_id: "B1".into(), status: StatusCode::Issued, status_time: t("2026-10-05T16:00:00Z") };
        p.apply_status(&mailed, t("2026-10-05T17:00:00Z"), &mut tally).await.unwrap();
        let now = t("2026-10-06T19:00:00Z");
        let ticket = p.request_signup(&ann(PHONE, ""), "198.51.100.7", now).await.unwrap().unwrap();
        let texts = |kind: MessageKind| f.sent_where(|m| m.kind == kind);
        let code = f.code(MessageKind::VerificationCode, Channel::Sms);
        // WHEN she enters it and the store fails while her ballot's news so far is gathered
        f.store.fail_kept_reads(1);
        assert!(p.enter_code(&ticket.change_id, &code, false, now, &mut tally).await.is_err(), "the store failed: try again");
        assert_eq!(texts(MessageKind::Outbound), 0);
        // THEN the same code, entered again, finishes it: her ballot's news goes out, once
        let again = p.enter_code(&ticket.change_id, &code, false, now, &mut tally).await.unwrap();
        assert!(again.is_ok(), "{again:?}");
        assert_eq!((texts(MessageKind::SignupConfirmation), texts(MessageKind::Outbound)), (1, 1));
        // AND now it is used up
        let third = p.enter_code(&ticket.change_id, &code, false, now, &mut tally).await.unwrap();
        assert_eq!(third.err(), Some(CodeRefusal::WrongCode));
        assert_eq!((texts(MessageKind::SignupConfirmation), texts(MessageKind::Outbound)), (1, 1), "nothing twice");
        // AND her county's summary counts her sign-up once, whichever attempt finished it
        assert_eq!(counted(&tally, "signups//"), 1);
    });
}

#[test]
fn an_email_unsubscribed_between_two_codes_of_one_sign_up_stays_unsubscribed() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann's sign-up with a phone and an email, and a code sent to each
        let now = t("2026-10-06T19:00:00Z");
        let ticket = p.request_signup(&ann(PHONE, "ann@example.com"), "198.51.100.7", now).await.unwrap().unwrap();
        let (phone_code, email_code) = (f.code(MessageKind::VerificationCode, Channel::Sms), f.code(MessageKind::VerificationCode, Channel::Email));
        // WHEN she proves the email, unsubscribes it from the link of its confirmation, and then
        // enters the phone's code
        p.enter_code(&ticket.change_id, &email_code, false, now, &mut tally).await.unwrap().unwrap();
        let link = wmb_core::optout::unsubscribe_url("https://example.gov", &f.keys.signing, "CA1", "ann@example.com", now);
        p.unsubscribe(link.split_once("token=").unwrap().1, now + chrono::Duration::minutes(2), &mut tally).await.unwrap().unwrap();
        p.enter_code(&ticket.change_id, &phone_code, false, now + chrono::Duration::minutes(3), &mut tally).await.unwrap().unwrap();
        // THEN the phone is live and the email stays stopped: the code was no new consent to it
        let sub = f.store.subscription("CA1").await.unwrap().unwrap();
        assert_eq!((sub.address(Channel::Sms), sub.address(Channel::Email)), (Some(PHONE), None));
    });
}

/// Random bytes counting up from 1 (each call one more), for the test that must know its codes:
/// its own counter, whatever the other tests draw meanwhile.
fn counting() -> [u8; 16] {
    use std::sync::atomic::{AtomicU8, Ordering};
    static NEXT: AtomicU8 = AtomicU8::new(1);
    [NEXT.fetch_add(1, Ordering::Relaxed); 16]
}

#[test]
fn a_proven_contact_past_its_codes_for_the_day_gets_no_code_that_works() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], counting).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a file with her phone (proven elsewhere)
        let row = ann(PHONE, "");
        p.signup(&row, t("2026-10-06T15:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN someone asks to see her ballot six times in a day, ten minutes apart
        let who = wmb_core::signup::IdentityRequest::from(&row);
        let mut tickets = vec![];
        for i in 0..6 {
            let at = t("2026-10-06T16:00:00Z") + chrono::Duration::minutes(10 * i);
            tickets.push(p.request_view(&who, "198.51.100.7", at).await.unwrap().expect("answered the same each time"));
        }
        // THEN her phone got five codes, and the sixth request's change has no code that works:
        // each request drew a change id and then a code (the 11th and 12th draws for the sixth)
        assert_eq!(f.sent_where(|m| m.kind == MessageKind::AccountCode), 5);
        let at = t("2026-10-06T16:52:00Z");
        let sixth = p.enter_code(&tickets[5].change_id, &wmb_core::access::code_from([12; 16]), true, at, &mut tally).await.unwrap();
        assert_eq!(sixth.err(), Some(CodeRefusal::WrongCode), "the code no one was sent does not work");
        let fifth = p.enter_code(&tickets[4].change_id, &wmb_core::access::code_from([10; 16]), true, at, &mut tally).await.unwrap();
        assert!(fifth.is_ok(), "the fifth request's code, sent, works: {fifth:?}");
    });
}

/// A channel queue that keeps what it is given, and whose next flush can be made to fail.
#[derive(Default)]
struct FlakyQueue {
    queued: std::sync::Mutex<Vec<wmb_core::notify::Notification>>,
    fail_next_flush: std::sync::atomic::AtomicBool,
}

impl NotificationQueue for FlakyQueue {
    async fn enqueue(&self, n: &wmb_core::notify::Notification) -> Result<bool, StoreError> {
        self.queued.lock().unwrap().push(n.clone());
        Ok(true)
    }

    async fn flush_queued(&self) -> Result<(), StoreError> {
        match self.fail_next_flush.swap(false, std::sync::atomic::Ordering::SeqCst) {
            true => Err(StoreError::Unavailable("the queue refused the batch".into())),
            false => Ok(()),
        }
    }
}

#[test]
fn a_code_is_used_up_only_once_what_it_queued_is_on_its_queue() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let queue = FlakyQueue::default();
        let p = f.pipeline_with(&queue);
        let mut tally = Tally::default();
        let now = t("2026-10-06T19:00:00Z");
        let ticket = p.request_signup(&ann(PHONE, ""), "198.51.100.7", now).await.unwrap().unwrap();
        let code = f.code(MessageKind::VerificationCode, Channel::Sms);
        // GIVEN the queue refuses the confirmation once
        queue.fail_next_flush.store(true, std::sync::atomic::Ordering::SeqCst);
        // WHEN Ann enters her code, is told to try again, and enters it again
        assert!(p.enter_code(&ticket.change_id, &code, false, now, &mut tally).await.is_err(), "not on its queue: try again");
        let again = p.enter_code(&ticket.change_id, &code, false, now, &mut tally).await.unwrap();
        // THEN the second entry finishes it, and the code is then used up
        assert!(again.is_ok(), "{again:?}");
        assert!(queue.queued.lock().unwrap().iter().any(|n| n.kind == MessageKind::SignupConfirmation));
        let third = p.enter_code(&ticket.change_id, &code, false, now, &mut tally).await.unwrap();
        assert_eq!(third.err(), Some(CodeRefusal::WrongCode));
    });
}

/// How many of `counter` (`measure/message/channel`) the county's days hold.
fn counted(tally: &Tally, counter: &str) -> u64 {
    tally.county_days.iter().filter_map(|(_, _, counts)| counts.get(counter)).sum()
}

#[test]
fn a_sign_up_code_entered_twice_at_once_counts_one_sign_up_for_the_county() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let now = t("2026-10-06T19:00:00Z");
        let ticket = p.request_signup(&ann(PHONE, ""), "198.51.100.7", now).await.unwrap().unwrap();
        let code = f.code(MessageKind::VerificationCode, Channel::Sms);
        // WHEN Ann's page sends her code twice at once (a double tap), each request reading her
        // subscription before the other writes it
        f.store.pause_subscription_reads(2);
        let (mut first, mut second) = (Tally::default(), Tally::default());
        let (a, b) = futures::future::join(p.enter_code(&ticket.change_id, &code, false, now, &mut first), p.enter_code(&ticket.change_id, &code, false, now, &mut second)).await;
        assert!(a.unwrap().is_ok() && b.unwrap().is_ok(), "both answered that the code worked");
        // THEN her county's summary counts one sign-up, and she is welcomed once
        first.merge(second);
        assert_eq!(counted(&first, "signups//"), 1);
        assert_eq!(f.sent_where(|m| m.kind == MessageKind::SignupConfirmation), 1);
    });
}

#[test]
fn a_stop_code_entered_twice_at_once_counts_one_opt_out_for_the_county() {
    // The second tap in the same second, or a second later (its stop then has another time).
    for later in [0, 1] {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a file with her phone, and asks to stop every message
        let row = ann(PHONE, "");
        p.signup(&row, t("2026-10-06T15:00:00Z"), &mut tally).await.unwrap().unwrap();
        let now = t("2026-10-06T19:00:00Z");
        let who = wmb_core::signup::IdentityRequest::from(&row);
        let ticket = p.request_stop(&who, vec![], "198.51.100.7", now).await.unwrap().unwrap();
        let code = f.code(MessageKind::AccountCode, Channel::Sms);
        // WHEN her page sends the code twice at once
        f.store.pause_subscription_reads(2);
        let (mut first, mut second) = (Tally::default(), Tally::default());
        let second_tap = now + chrono::Duration::seconds(later);
        let (a, b) = futures::future::join(p.enter_code(&ticket.change_id, &code, false, now, &mut first), p.enter_code(&ticket.change_id, &code, false, second_tap, &mut second)).await;
        assert!(a.unwrap().is_ok() && b.unwrap().is_ok(), "both answered that the code worked");
        // THEN she is stopped, and her county's summary counts one opt-out of texts
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
        first.merge(second);
        assert_eq!(counted(&first, "opt_outs//sms"), 1, "second tap {later} s later");
    });
    }
}

#[test]
fn a_stop_finished_by_its_code_entered_again_counts_one_opt_out_for_the_county() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let queue = FlakyQueue::default();
        let p = f.pipeline_with(&queue);
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a file with her phone, and asks to stop every message
        let row = ann(PHONE, "");
        p.signup(&row, t("2026-10-06T15:00:00Z"), &mut tally).await.unwrap().unwrap();
        let now = t("2026-10-06T19:00:00Z");
        let who = wmb_core::signup::IdentityRequest::from(&row);
        let ticket = p.request_stop(&who, vec![], "198.51.100.7", now).await.unwrap().unwrap();
        let code = f.code(MessageKind::AccountCode, Channel::Sms);
        // WHEN her stop is applied but the queue fails before the code is used up, and she enters
        // the code again
        queue.fail_next_flush.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut counts = Tally::default();
        assert!(p.enter_code(&ticket.change_id, &code, false, now, &mut counts).await.is_err(), "the queue failed: try again");
        assert!(p.enter_code(&ticket.change_id, &code, false, now, &mut counts).await.unwrap().is_ok());
        // THEN she is stopped, and her county's summary counts one opt-out of texts
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
        assert_eq!(counted(&counts, "opt_outs//sms"), 1);
    });
}

#[test]
fn texts_moved_to_a_new_phone_confirm_the_new_phone_once_proven_and_never_the_one_left() {
    const NEW: &str = "+13105550199";
    for approve_first in [true, false] {
        futures::executor::block_on(async {
            let f = Fixture::with(&[ANN], random).await;
            let p = f.pipeline();
            let mut tally = Tally::default();
            // GIVEN Ann signed up with her phone, proven
            let ticket = p.request_signup(&ann(PHONE, ""), "198.51.100.7", t("2026-10-06T19:00:00Z")).await.unwrap().unwrap();
            p.enter_code(&ticket.change_id, &f.code_to(PHONE), false, t("2026-10-06T19:01:00Z"), &mut tally).await.unwrap().unwrap();
            let confirmed = |to: &str| f.sent_where(|m| m.kind == MessageKind::SignupConfirmation && m.to == to);
            assert_eq!(confirmed(PHONE), 1);
            // WHEN a day later she moves her texts to a new phone: the old phone approves and the
            // new one proves itself, in either order
            let now = t("2026-10-07T19:00:00Z");
            let ticket = p.request_signup(&ann(NEW, ""), "198.51.100.7", now).await.unwrap().unwrap();
            let (approve, prove) = (f.code_to(PHONE), f.code_to(NEW));
            let order = if approve_first { [approve, prove] } else { [prove, approve] };
            for code in order {
                p.enter_code(&ticket.change_id, &code, false, now, &mut tally).await.unwrap().unwrap();
            }
            // THEN the new phone is live and told it is signed up, once; the old phone is told
            // its contacts changed, and never that it is signed up again
            let sub = f.store.subscription("CA1").await.unwrap().unwrap();
            assert_eq!(sub.address(Channel::Sms), Some(NEW));
            assert_eq!((confirmed(NEW), confirmed(PHONE)), (1, 1), "approve first: {approve_first}");
            assert_eq!(f.sent_where(|m| m.kind == MessageKind::ContactsChanged && m.to == PHONE), 1);
        });
    }
}

#[test]
fn a_signups_file_sent_again_does_not_undo_a_move_the_voter_made_on_the_page() {
    const NEW: &str = "+13105550199";
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up by her county's signups file with the household's phone
        let row = ann(PHONE, "");
        p.signup(&row, t("2026-10-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // AND on the page she then moved her texts to her own phone (both codes entered)
        let now = t("2026-10-07T19:00:00Z");
        let ticket = p.request_signup(&ann(NEW, ""), "198.51.100.7", now).await.unwrap().unwrap();
        for code in [f.code_to(PHONE), f.code_to(NEW)] {
            p.enter_code(&ticket.change_id, &code, false, now, &mut tally).await.unwrap().unwrap();
        }
        let sent_before = f.sent_where(|_| true);
        // WHEN the county sends its cumulative file again, with the same row
        let again = p.signup(&row, t("2026-10-09T19:00:00Z"), &mut tally).await.unwrap();
        // THEN her texts still go to her own phone, and nothing is sent to either phone
        assert!(again.is_ok(), "{again:?}");
        let sub = f.store.subscription("CA1").await.unwrap().unwrap();
        assert_eq!(sub.address(Channel::Sms), Some(NEW));
        assert_eq!(f.sent_where(|_| true), sent_before);
        // AND a row that says something new (the county's newer form: an email too) still applies
        p.signup(&ann(PHONE, "ann@example.com"), t("2026-10-10T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let sub = f.store.subscription("CA1").await.unwrap().unwrap();
        assert_eq!(sub.address(Channel::Email), Some("ann@example.com"));
    });
}

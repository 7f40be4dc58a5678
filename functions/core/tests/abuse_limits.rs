//! The abuse limits answer a stranger the same whether or not the voter signed up: a phone's
//! daily codes are used only by codes sent to it, a name and ZIP locks after five failed
//! matches however many are sent at once (each try counted before its match), and an approval
//! code that could not be sent does not turn the answer into an error only a signed-up voter's
//! contacts can cause. An inbox's five codes a day hold however its address is spelled, and a
//! phone that takes only calls is not rung with a code outside the voter's hours.

mod common;

use chrono::Duration;
use common::{random, t, Fixture, ANN, BEN};
use wmb_core::account::Refused;
use wmb_core::pipeline::Tally;
use wmb_core::ports::DeliveryError;
use wmb_core::signup::{IdentityRequest, Refusal, SignupRequest};
use wmb_core::status::{Channel, MessageKind};

const CARA: common::Lee = ("CA3", "Cara", "1985-01-02");
const PHONE: &str = "+19165550100";
const OWN: &str = "stranger@example.com";

fn lee(first: &str, dob: &str, sms: &str, email: &str) -> SignupRequest {
    SignupRequest::from_fields(first, "Lee", dob, "90012", "", "en", sms, email, "", "", "").unwrap()
}

fn who(first: &str, dob: &str) -> IdentityRequest {
    IdentityRequest::from_fields(first, "Lee", dob, "90012", "").unwrap()
}

#[test]
fn a_phones_daily_codes_are_used_only_by_codes_sent_to_it() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN, CARA], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up with her phone, and a stranger (Ben's identity, not signed up) whose
        // own inbox has had its five codes today
        p.signup(&lee("Ann", "1980-05-17", PHONE, ""), t("2026-10-06T01:00:00Z"), &mut tally).await.unwrap().unwrap();
        let mut at = t("2026-10-06T02:00:00Z");
        let mut next = || {
            at += Duration::minutes(30);
            at
        };
        for _ in 0..5 {
            p.request_signup(&lee("Ben", "1978-02-03", "", OWN), "198.51.100.7", next()).await.unwrap().unwrap();
        }
        let to_phone = || f.sent_where(|m| m.to == PHONE);
        let before = to_phone();
        // WHEN he names Ann's phone with his inbox, again and again, each request refused for his inbox
        for _ in 0..5 {
            let r = p.request_signup(&lee("Ben", "1978-02-03", PHONE, OWN), "198.51.100.7", next()).await.unwrap();
            assert_eq!(r.unwrap_err(), Refused { refusal: Refusal::TooManyCodes, field: Some(Channel::Email) });
        }
        // THEN her phone's codes for the day are untouched: nothing was sent to it, and a request
        // naming it still sends it a code
        assert_eq!(to_phone(), before);
        p.request_signup(&lee("Ben", "1978-02-03", PHONE, ""), "198.51.100.7", next()).await.unwrap().unwrap();
        assert_eq!(to_phone(), before + 1);
        // AND the rest of its five codes go to it, and no more
        for _ in 0..4 {
            p.request_signup(&lee("Ben", "1978-02-03", PHONE, ""), "198.51.100.7", next()).await.unwrap().unwrap();
        }
        let r = p.request_signup(&lee("Cara", "1985-01-02", PHONE, ""), "198.51.100.7", next()).await.unwrap();
        assert_eq!(r.unwrap_err(), Refused { refusal: Refusal::TooManyCodes, field: Some(Channel::Sms) });
        assert_eq!(to_phone(), before + 5);
    });
}

#[test]
fn an_inbox_gets_five_codes_a_day_however_its_address_is_spelled() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN, CARA], random).await;
        let p = f.pipeline();
        let mut at = t("2026-10-06T02:00:00Z");
        let mut next = || {
            at += Duration::minutes(30);
            at
        };
        // GIVEN a stranger who names someone's Gmail inbox five times, spelled five ways
        for spelled in ["victim.lee@gmail.com", "victim.lee+1@gmail.com", "VictimLee+2@gmail.com", "v.i.c.t.i.m.lee@googlemail.com", "victimlee+ballot@gmail.com"] {
            p.request_signup(&lee("Ben", "1978-02-03", "", spelled), "198.51.100.7", next()).await.unwrap().unwrap();
        }
        let to_inbox = || f.sent_where(|m| m.to.to_lowercase().replace('.', "").contains("victimlee"));
        assert_eq!(to_inbox(), 5);
        // WHEN he spells it a sixth way, for another voter
        let r = p.request_signup(&lee("Cara", "1985-01-02", "", "victimlee+6@gmail.com"), "198.51.100.7", next()).await.unwrap();
        // THEN it is refused as the inbox's codes for the day, and nothing more reaches the inbox
        assert_eq!(r.unwrap_err(), Refused { refusal: Refusal::TooManyCodes, field: Some(Channel::Email) });
        assert_eq!(to_inbox(), 5);
    });
}

#[test]
fn a_stranger_cannot_have_a_voters_phone_rung_with_a_code_outside_her_hours() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann, who gets calls on her landline from 8 a.m. to 8 p.m., and texts nowhere
        let calls_only = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", "", "", PHONE, "08:00", "20:00").unwrap();
        p.signup(&calls_only, t("2026-10-06T17:00:00Z"), &mut tally).await.unwrap().unwrap();
        let rung = || f.sent_where(|m| m.to == PHONE && m.kind == MessageKind::AccountCode);
        // WHEN someone who knows her name, birth date and ZIP asks to see her ballot at 3 a.m.,
        // then to stop her calls, then to change her choices (typing her landline)
        let night = t("2026-10-07T10:00:00Z");
        p.request_view(&who("Ann", "1980-05-17"), "198.51.100.7", night).await.unwrap().unwrap();
        p.request_stop(&who("Ann", "1980-05-17"), vec![Channel::Voice], "198.51.100.7", night + Duration::minutes(20)).await.unwrap().unwrap();
        let typed = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", "", OWN, PHONE, "00:00", "00:00").unwrap();
        p.request_signup(&typed, "198.51.100.7", night + Duration::minutes(40)).await.unwrap().unwrap();
        // THEN her phone does not ring, and each answer is as for anyone
        assert_eq!(rung(), 0);
        // AND at 9 a.m. a request rings it with her code
        p.request_view(&who("Ann", "1980-05-17"), "198.51.100.7", t("2026-10-07T16:00:00Z")).await.unwrap().unwrap();
        assert_eq!(rung(), 1);
    });
}

#[test]
fn a_name_and_zip_locks_after_five_failed_matches_and_never_counts_the_voters_who_match() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let ann = who("Ann", "1980-05-17");
        let tried = |i: i64| t("2026-10-06T01:00:00Z") + Duration::minutes(20 * i);
        // GIVEN thirty tries today with the right birth date (each counted as failed until it
        // matched, then taken back), from as many addresses
        for i in 0..30 {
            let r = p.request_view(&ann, &format!("198.51.100.{i}"), tried(i)).await.unwrap();
            assert_ne!(r.err().map(|e| e.refusal), Some(Refusal::Locked), "try {i}");
        }
        // WHEN five tries guess her birth date wrong
        for i in 0..5 {
            let wrong = p.request_view(&who("Ann", &format!("1980-05-{:02}", 20 + i)), &format!("203.0.113.{i}"), tried(30)).await.unwrap();
            assert_eq!(wrong.err().map(|e| e.refusal), Some(Refusal::NoMatch), "guess {i}");
        }
        // THEN the name and ZIP is locked for the day, even for the right birth date
        let next = p.request_view(&ann, "203.0.113.9", tried(31)).await.unwrap();
        assert_eq!(next.err().map(|e| e.refusal), Some(Refusal::Locked));
    });
}

#[test]
fn tries_refused_for_a_locked_client_address_do_not_count_against_the_voters_name() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        // GIVEN a shared address (a library) with twenty failed matches this hour
        let shared = "198.51.100.40";
        for i in 0..20 {
            let name = format!("Z{}", (b'a' + i) as char);
            let r = p.request_view(&who(&name, "1970-01-01"), shared, t("2026-10-06T01:00:00Z")).await.unwrap();
            assert_eq!(r.err().map(|e| e.refusal), Some(Refusal::NoMatch));
        }
        // WHEN Ann, there, tries six times with the right birth date, each refused as locked
        for _ in 0..6 {
            let r = p.request_view(&who("Ann", "1980-05-17"), shared, t("2026-10-06T01:10:00Z")).await.unwrap();
            assert_eq!(r.err().map(|e| e.refusal), Some(Refusal::Locked));
        }
        // THEN from home she is not locked
        let home = p.request_view(&who("Ann", "1980-05-17"), "203.0.113.5", t("2026-10-06T01:20:00Z")).await.unwrap();
        assert!(home.is_ok(), "{home:?}");
    });
}

#[test]
fn an_approval_code_that_cannot_be_sent_answers_as_for_a_voter_who_never_signed_up() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, CARA], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up with her phone, and a provider failing the next send
        p.signup(&lee("Ann", "1980-05-17", PHONE, ""), t("2026-10-06T01:00:00Z"), &mut tally).await.unwrap().unwrap();
        f.sent.failures.lock().unwrap().push(DeliveryError::Temporary("503 from the provider".into()));
        // WHEN a stranger asks to see Ann's ballot, and Cara's (who never signed up)
        let ann = p.request_view(&who("Ann", "1980-05-17"), "198.51.100.7", t("2026-10-06T02:00:00Z")).await.unwrap();
        let cara = p.request_view(&who("Cara", "1985-01-02"), "198.51.100.7", t("2026-10-06T02:00:00Z")).await.unwrap();
        // THEN both answer "codes sent"; only the operators' log learns Ann's code did not go
        let (ann, cara) = (ann.unwrap(), cara.unwrap());
        assert!(ann.unsent.as_deref().is_some_and(|e| e.contains("temporary failure") && !e.contains(PHONE)), "{:?}", ann.unsent);
        assert_eq!(cara.unsent, None);
        assert_eq!(f.sent_where(|m| m.kind == MessageKind::AccountCode), 0);
        // AND a code to a contact the caller typed that cannot be sent still fails the request
        f.sent.failures.lock().unwrap().push(DeliveryError::Temporary("503 from the provider".into()));
        assert!(p.request_signup(&lee("Cara", "1985-01-02", "+19165550103", ""), "198.51.100.7", t("2026-10-06T03:00:00Z")).await.is_err());
    });
}

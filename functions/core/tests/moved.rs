//! A voter who moved county is told, once, that her ballot news will not come and that she signs
//! up again, instead of hearing nothing; once she has, her news comes again.

mod common;

use chrono::NaiveDate;
use common::{random, t, Fixture, ANN};
use wmb_core::formats::{VbmStatus, VoterRecord, VoterStatus};
use wmb_core::pipeline::Tally;
use wmb_core::ports::*;
use wmb_core::signup::SignupRequest;
use wmb_core::status::{MessageKind, StatusCode};
use wmb_core::CountyCode;

const PHONE: &str = "+19165550100";

fn status(county: CountyCode, code: StatusCode, at: &str) -> VbmStatus {
    VbmStatus { votecal_id: "CA1".into(), county, election_id: "E".into(), ballot_id: format!("B-{}", county.code()), status: code, status_time: t(at) }
}

/// Ann's record on the roll in `county`, with this status.
fn ann_in(county: CountyCode, status: VoterStatus) -> VoterRecord {
    let date_of_birth = NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
    VoterRecord { votecal_id: "CA1".into(), county, first_name: "Ann".into(), last_name: "Lee".into(), date_of_birth, zip: "92101".into(), status }
}

/// Ann's sign-up for texts in Los Angeles (19), from a signups file.
async fn ann_signed_up(f: &Fixture, tally: &mut Tally) {
    let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "", "", "", "").unwrap();
    f.pipeline().signup(&row, t("2026-09-01T19:00:00Z"), tally).await.unwrap().unwrap();
}

#[test]
fn a_voter_whose_record_moved_to_another_county_is_told_once_to_sign_up_again() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up for texts in Los Angeles (19)
        ann_signed_up(&f, &mut tally).await;
        // WHEN the roll moves her to San Diego (37), which mails her a ballot and receives it
        let sd = CountyCode::parse("37").unwrap();
        p.record_voter(&ann_in(sd, VoterStatus::Active)).await.unwrap();
        p.apply_status(&status(sd, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap();
        p.apply_status(&status(sd, StatusCode::InReview, "2026-10-20T09:00:00-07:00"), t("2026-10-20T19:00:00Z"), &mut tally).await.unwrap();
        // THEN no ballot news goes to her phone, and she is told once, naming the county she
        // signed up in, to sign up again
        let texts: Vec<(MessageKind, String)> = f.sent.sent.lock().unwrap().iter().filter(|m| m.to == PHONE).map(|m| (m.kind, m.rendered.text.clone())).collect();
        let kinds: Vec<MessageKind> = texts.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, [MessageKind::SignupConfirmation, MessageKind::MovedCounty], "{texts:?}");
        assert!(texts[1].1.contains("Los Angeles County") && texts[1].1.contains("sign up again"), "{}", texts[1].1);
        // WHEN she signs up again where she lives now
        let again = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "92101", "", "en", PHONE, "", "", "", "").unwrap();
        p.signup(&again, t("2026-10-21T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN news from her old county (that it received a ballot of hers) tells her no word of
        // a move, and her San Diego ballot's news comes (the catch-up tells where it is)
        p.apply_status(&status(f.county, StatusCode::InReview, "2026-10-21T09:00:00-07:00"), t("2026-10-21T19:30:00Z"), &mut tally).await.unwrap();
        p.apply_status(&status(sd, StatusCode::Accepted, "2026-10-22T09:00:00-07:00"), t("2026-10-22T19:00:00Z"), &mut tally).await.unwrap();
        let kinds: Vec<MessageKind> = f.sent.sent.lock().unwrap().iter().filter(|m| m.to == PHONE).map(|m| m.kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == MessageKind::MovedCounty).count(), 1);
        assert_eq!(kinds.last(), Some(&MessageKind::Accepted), "{kinds:?}");
    });
}

#[test]
fn no_notice_of_a_move_that_signing_up_again_would_not_help_or_that_the_roll_took_back() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        ann_signed_up(&f, &mut tally).await;
        let sd = CountyCode::parse("37").unwrap();
        let notices = || f.sent_where(|m| m.kind == MessageKind::MovedCounty);
        // GIVEN the roll places Ann in San Diego with a record still pending: signing up again
        // there would be refused, so she is not told to
        p.record_voter(&ann_in(sd, VoterStatus::Pending)).await.unwrap();
        p.apply_status(&status(sd, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap();
        assert_eq!(notices(), 0);
        // WHEN her record there is active, and news of her ballot comes at night (the notice waits
        // for her hours), and by morning the roll puts her back in Los Angeles
        p.record_voter(&ann_in(sd, VoterStatus::Active)).await.unwrap();
        p.apply_status(&status(sd, StatusCode::InReview, "2026-10-20T09:00:00-07:00"), t("2026-10-21T05:00:00Z"), &mut tally).await.unwrap();
        assert_eq!(f.sent_where(|_| true), 1, "only her confirmation so far: the notice waits for 08:00");
        p.record_voter(&ann_in(f.county, VoterStatus::Active)).await.unwrap();
        while let Some(next) = f.store.next_release().await.unwrap() {
            p.release_due(next, &mut tally).await.unwrap();
        }
        // THEN the notice is not sent: it is no longer true
        assert_eq!(notices(), 0);
    });
}

#[test]
fn the_old_county_cancelling_the_ballot_she_never_returned_tells_her_of_the_move_not_of_a_ballot_not_accepted() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up in Los Angeles, her ballot mailed there, and the roll moving her to
        // San Diego
        ann_signed_up(&f, &mut tally).await;
        p.apply_status(&status(f.county, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap();
        p.record_voter(&ann_in(CountyCode::parse("37").unwrap(), VoterStatus::Active)).await.unwrap();
        // WHEN Los Angeles cancels the ballot she never returned
        p.apply_status(&status(f.county, StatusCode::Cld, "2026-10-16T14:00:00-07:00"), t("2026-10-17T17:00:00Z"), &mut tally).await.unwrap();
        p.release_due(t("2026-10-20T00:00:00Z"), &mut tally).await.unwrap();
        // THEN she is told to sign up again where she lives now, not that a ballot was not accepted
        let kinds: Vec<MessageKind> = f.sent.sent.lock().unwrap().iter().filter(|m| m.to == PHONE).map(|m| m.kind).collect();
        assert_eq!(kinds, [MessageKind::SignupConfirmation, MessageKind::Outbound, MessageKind::MovedCounty], "{kinds:?}");
    });
}

//! Stops a county's staff took (a `stops` file in the county's own folder): they reach that
//! county's voters only. A phone or an inbox that voters of two counties share stays theirs to
//! keep for the other county's voter, and no county can end another's voter's sign-up.

mod common;

use common::{lee, random, t, Fixture, ANN, PHONE};
use wmb_core::formats::{VoterRecord, VoterStatus};
use wmb_core::pipeline::Tally;
use wmb_core::ports::*;
use wmb_core::signup::SignupRequest;
use wmb_core::status::Channel;
use wmb_core::stop_requests::{Stop, StopRequest};
use wmb_core::CountyCode;

/// Cora Lee, a voter of Alameda County (01), texted at the phone Ann (Los Angeles, 19) shares.
async fn cora_of_alameda(f: &Fixture, tally: &mut Tally) -> SignupRequest {
    let dob = chrono::NaiveDate::from_ymd_opt(2004, 9, 1).unwrap();
    let voter = VoterRecord { votecal_id: "CA3".into(), county: CountyCode::parse("01").unwrap(), first_name: "Cora".into(), last_name: "Lee".into(), date_of_birth: dob, zip: "94612".into(), status: VoterStatus::Active };
    f.store.put_voter(&voter).await.unwrap();
    let cora = SignupRequest::from_fields("Cora", "Lee", "2004-09-01", "94612", "", "en", PHONE, "cora@example.com", "", "", "").unwrap();
    f.pipeline().signup(&cora, t("2026-10-01T19:00:00Z"), tally).await.unwrap().unwrap();
    cora
}

#[test]
fn a_countys_stop_of_a_shared_phone_stops_its_own_voters_texts_and_leaves_another_countys_voter_hers() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        let la = Some(f.county);
        // GIVEN Ann of Los Angeles and Cora of Alameda, both texted at the household's phone
        let ann = lee("Ann", "1980-05-17", PHONE, "ann@example.com");
        p.signup(&ann, t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        cora_of_alameda(&f, &mut tally).await;
        // WHEN Los Angeles County's staff, asked at the counter, send a row stopping the phone's texts
        let row = StopRequest { stop: Stop::Phone { phone: PHONE.into(), channels: vec![Channel::Sms] }, requested_at: t("2026-10-06T17:00:00Z") };
        let changed = p.stop_as_asked(&row, la, t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN Ann's texts stop, and Cora's, Alameda's, go on
        assert_eq!(changed, 1);
        let texts = |sub: Option<wmb_core::signup::Subscription>| sub.unwrap().address(Channel::Sms).map(str::to_string);
        assert_eq!(texts(f.store.subscription("CA1").await.unwrap()), None);
        assert_eq!(texts(f.store.subscription("CA3").await.unwrap()), Some(PHONE.to_string()));
        // AND a signups file naming the phone for Ann again does not restart her texts, nor does
        // START from the phone (whoever sends it may be Cora: Ann's stop is hers, as on the page)
        p.signup(&ann, t("2026-10-08T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        p.inbound_text(PHONE, "START", "in-1", t("2026-10-08T19:01:00Z"), &mut tally).await.unwrap();
        assert_eq!(texts(f.store.subscription("CA1").await.unwrap()), None);
        // AND the same row read again changes nothing
        assert_eq!(p.stop_as_asked(&row, la, t("2026-10-08T19:05:00Z"), &mut tally).await.unwrap(), Ok(0));
        assert_eq!(texts(f.store.subscription("CA3").await.unwrap()), Some(PHONE.to_string()));
    });
}

#[test]
fn a_county_cannot_stop_or_end_another_countys_voter() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        let la = Some(f.county);
        cora_of_alameda(&f, &mut tally).await;
        let asked = t("2026-10-06T17:00:00Z");
        let now = t("2026-10-06T19:00:00Z");
        // WHEN Los Angeles County sends a row ending Cora's sign-up, and one stopping her inbox
        let end = StopRequest { stop: Stop::Voter { votecal_id: "CA3".into(), last_name: "Lee".into(), channels: vec![] }, requested_at: asked };
        let inbox = StopRequest { stop: Stop::Email { email: "cora@example.com".into() }, requested_at: asked };
        // THEN the first is refused at her VoteCal ID, the second finds no sign-up of its own county
        let refused = p.stop_as_asked(&end, la, now, &mut tally).await.unwrap().unwrap_err();
        assert_eq!(refused.field, "votecal_id");
        let not_ours = p.stop_as_asked(&inbox, la, now, &mut tally).await.unwrap().unwrap_err();
        assert_eq!(not_ours.field, "email");
        // AND the report tells the county nothing of Alameda's voters: an address no one has, and
        // an ID with a last name that is not the voter's, are told in the same words
        let nobody = StopRequest { stop: Stop::Email { email: "nobody@example.com".into() }, requested_at: asked };
        assert_eq!(p.stop_as_asked(&nobody, la, now, &mut tally).await.unwrap().unwrap_err(), not_ours);
        let misnamed = StopRequest { stop: Stop::Voter { votecal_id: "CA3".into(), last_name: "Leigh".into(), channels: vec![] }, requested_at: asked };
        assert_eq!(p.stop_as_asked(&misnamed, la, now, &mut tally).await.unwrap().unwrap_err(), refused);
        // AND her texts and email go on
        let sub = f.store.subscription("CA3").await.unwrap().unwrap();
        assert_eq!((sub.address(Channel::Sms), sub.address(Channel::Email)), (Some(PHONE), Some("cora@example.com")));
        // AND Alameda County's own row ends it
        let alameda = CountyCode::parse("01");
        assert_eq!(p.stop_as_asked(&end, alameda, now, &mut tally).await.unwrap(), Ok(1));
        assert_eq!(f.store.subscription("CA3").await.unwrap().unwrap().channels().len(), 0);
    });
}

#[test]
fn a_voter_who_moved_is_within_reach_of_the_county_she_signed_up_in_and_the_one_she_moved_to() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann, signed up in Los Angeles with texts and email, since moved to Alameda's roll
        p.signup(&lee("Ann", "1980-05-17", PHONE, "ann@example.com"), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let mut moved = f.store.voter("CA1").await.unwrap().unwrap();
        moved.county = CountyCode::parse("01").unwrap();
        f.store.put_voter(&moved).await.unwrap();
        let asked = t("2026-10-06T17:00:00Z");
        let now = t("2026-10-06T19:00:00Z");
        // WHEN Alameda stops her phone's texts, and Los Angeles (whose phone her cure notices
        // give) her email by her VoteCal ID
        let phone = StopRequest { stop: Stop::Phone { phone: PHONE.into(), channels: vec![Channel::Sms] }, requested_at: asked };
        let email = StopRequest { stop: Stop::Voter { votecal_id: "CA1".into(), last_name: "Lee".into(), channels: vec![Channel::Email] }, requested_at: asked };
        assert_eq!(p.stop_as_asked(&phone, CountyCode::parse("01"), now, &mut tally).await.unwrap(), Ok(1));
        assert_eq!(p.stop_as_asked(&email, Some(f.county), now, &mut tally).await.unwrap(), Ok(1));
        // THEN both stop
        let sub = f.store.subscription("CA1").await.unwrap().unwrap();
        assert_eq!((sub.address(Channel::Sms), sub.address(Channel::Email)), (None, None));
    });
}

#[test]
fn a_countys_row_read_after_a_start_stops_her_texts_and_her_own_phone_can_start_them_again() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        let la = Some(f.county);
        let texts = |sub: Option<wmb_core::signup::Subscription>| sub.unwrap().address(Channel::Sms).map(str::to_string);
        // GIVEN Ann of Los Angeles, texted at her phone, who asked at the counter at 10:00 to stop
        // her texts, and texted START at 11:00
        p.signup(&lee("Ann", "1980-05-17", PHONE, "ann@example.com"), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let row = StopRequest { stop: Stop::Phone { phone: PHONE.into(), channels: vec![Channel::Sms] }, requested_at: t("2026-10-06T17:00:00Z") };
        p.inbound_text(PHONE, "START", "in-1", t("2026-10-06T18:00:00Z"), &mut tally).await.unwrap();
        // WHEN the county's row is read that evening
        // THEN it stops her texts (a county's row is each voter's own stop: whether the phone
        // was hers alone when it said START is not known after)
        assert_eq!(p.stop_as_asked(&row, la, t("2026-10-07T02:00:00Z"), &mut tally).await.unwrap(), Ok(1));
        assert_eq!(texts(f.store.subscription("CA1").await.unwrap()), None);
        // AND her START again, from a phone only her texts go to, starts them
        p.inbound_text(PHONE, "START", "in-2", t("2026-10-07T16:00:00Z"), &mut tally).await.unwrap();
        assert_eq!(texts(f.store.subscription("CA1").await.unwrap()), Some(PHONE.to_string()));
    });
}

//! News that reached no one: a signed-up voter whose every channel is stopped gets nothing, and
//! her county's daily summary counts the milestone once, however often it is fanned out.

mod common;

use common::{random, t, Fixture, ANN, BEN};
use wmb_core::formats::VbmStatus;
use wmb_core::pipeline::Tally;
use wmb_core::notify::Notification;
use wmb_core::ports::*;
use wmb_core::signup::SignupRequest;
use wmb_core::status::{MessageKind, StatusCode};
use wmb_core::time::pacific_date;

fn status(f: &Fixture, voter: &str, code: StatusCode, at: &str) -> VbmStatus {
    VbmStatus { votecal_id: voter.into(), county: f.county, election_id: "E".into(), ballot_id: format!("B-{voter}"), status: code, status_time: t(at) }
}

#[test]
fn a_problem_to_fix_for_a_voter_who_stopped_every_channel_is_counted_for_her_county_once() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann and Ben signed up by a signups file for texts, and Ann's phone texted STOP
        let rows = [("Ann", "1980-05-17", "+19165550101"), ("Ben", "1978-02-03", "+19165550102")]
            .map(|(first, dob, phone)| SignupRequest::from_fields(first, "Lee", dob, "90012", "", "en", phone, "", "", "", "").unwrap());
        for row in &rows {
            p.signup(row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        }
        p.inbound_text("+19165550101", "STOP", "in-1", t("2026-09-02T19:00:00Z"), &mut tally).await.unwrap();
        // WHEN both ballots are mailed, and Ann's comes back unsigned
        let now = t("2026-10-06T19:00:00Z");
        let mut counted = Tally::default();
        for voter in ["CA1", "CA2"] {
            p.apply_status(&status(&f, voter, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), now, &mut counted).await.unwrap();
        }
        let unsigned = p.record_status(&status(&f, "CA1", StatusCode::Nvs, "2026-10-06T11:00:00-07:00"), now).await.unwrap().unwrap();
        // (and the stream delivers the write that decided it twice)
        for _ in 0..2 {
            p.fan_out(&unsigned.0, &unsigned.1, now, &mut counted).await.unwrap();
        }
        // THEN nothing goes to Ann's phone, Ben hears his news
        assert_eq!(f.sent_where(|m| m.to == "+19165550101" && m.kind.is_ballot_news()), 0);
        assert_eq!(f.sent_where(|m| m.to == "+19165550102" && m.kind == MessageKind::Outbound), 1);
        // AND the county's summary counts Ann's two notices that reached no one, each once
        let day = counted.county_days.of(pacific_date(now), f.county);
        assert_eq!(day.get("not_reached/outbound/"), Some(&1), "{day:?}");
        assert_eq!(day.get("not_reached/contact_county/"), Some(&1), "{day:?}");
        assert_eq!(day.keys().filter(|k| k.starts_with("not_reached/")).count(), 2, "Ben's news reached him: {day:?}");
        // AND once Ben, who was told his ballot was mailed, texts STOP too, the county's next
        // signups file naming them both again (their phones stay stopped) counts nothing: the
        // catch-up repeats news, it decides none
        p.inbound_text("+19165550102", "STOP", "in-2", t("2026-10-07T18:00:00Z"), &mut tally).await.unwrap();
        let mut again = Tally::default();
        for row in &rows {
            p.signup(row, t("2026-10-07T19:00:00Z"), &mut again).await.unwrap().unwrap();
        }
        assert!(again.county_days.iter().all(|(_, _, c)| !c.keys().any(|k| k.starts_with("not_reached/"))), "{:?}", again.county_days);
        // AND Ben's ballot cancelled is not counted while it settles: a new ballot may explain
        // it, and then it would never have been sent
        let mut cancelled = Tally::default();
        p.apply_status(&status(&f, "CA2", StatusCode::Cld, "2026-10-09T09:00:00-07:00"), t("2026-10-09T17:00:00Z"), &mut cancelled).await.unwrap();
        assert!(cancelled.county_days.is_empty(), "{:?}", cancelled.county_days);
    });
}

/// Ann signed up by a signups file for texts from 8 a.m. to 8 p.m., and her ballot mailed at
/// 11 p.m.: its notice, held for the morning, as the morning's release takes it (with what the
/// status's write decided, counted).
async fn ann_with_her_mailing_held_overnight(f: &Fixture, tally: &mut Tally) -> (Notification, Tally) {
    let p = f.pipeline();
    let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", "+19165550101", "", "", "08:00", "20:00").unwrap();
    p.signup(&row, t("2026-09-01T19:00:00Z"), tally).await.unwrap().unwrap();
    let mut decided = Tally::default();
    p.apply_status(&status(f, "CA1", StatusCode::Issued, "2026-10-06T22:30:00-07:00"), t("2026-10-07T06:00:00Z"), &mut decided).await.unwrap();
    assert_eq!(f.sent_where(|m| m.kind == MessageKind::Outbound), 0, "held for her hours");
    let held = f.store.take_due(t("2026-10-07T16:00:00Z"), 10).await.unwrap();
    assert_eq!(held.len(), 1, "her notice was held");
    (held.into_iter().next().unwrap(), decided)
}

/// Whether these counts hold any news that reached no one.
fn counts_not_reached(tally: &Tally) -> bool {
    tally.county_days.iter().any(|(_, _, c)| c.keys().any(|k| k.starts_with("not_reached/")))
}

#[test]
fn a_notice_held_for_her_hours_that_finds_every_channel_stopped_is_counted_when_it_falls_due() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up for texts from 8 a.m., her ballot mailed at 11 p.m. (its notice
        // held for the morning)
        let (held, decided) = ann_with_her_mailing_held_overnight(&f, &mut tally).await;
        // WHEN her phone texts STOP during the night, and the morning's release hands the
        // notice over twice
        p.inbound_text("+19165550101", "STOP", "in-1", t("2026-10-07T07:00:00Z"), &mut tally).await.unwrap();
        let morning = t("2026-10-07T16:00:00Z");
        let mut released = Tally::default();
        for _ in 0..2 {
            p.deliver(held.clone(), morning, &mut released).await.unwrap();
        }
        // THEN nothing goes to her phone, and her county's summary counts the notice that
        // reached no one, once
        assert_eq!(f.sent_where(|m| m.kind.is_ballot_news()), 0);
        let day = released.county_days.of(pacific_date(morning), f.county);
        assert_eq!(day.get("not_reached/outbound/"), Some(&1), "{day:?}");
        assert!(!counts_not_reached(&decided), "not counted when decided: her phone was live");
    });
}

#[test]
fn a_second_copy_of_a_notice_that_reached_her_is_not_counted_after_she_stops() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann's mailing's notice, held overnight, sent in the morning
        let (held, _) = ann_with_her_mailing_held_overnight(&f, &mut tally).await;
        let morning = t("2026-10-07T16:00:00Z");
        p.deliver(held.clone(), morning, &mut tally).await.unwrap();
        assert_eq!(f.sent_where(|m| m.kind == MessageKind::Outbound), 1);
        // WHEN she texts STOP, and a second copy of the notice comes (a release run again)
        p.inbound_text("+19165550101", "STOP", "in-1", morning + chrono::Duration::minutes(5), &mut tally).await.unwrap();
        let mut again = Tally::default();
        p.deliver(held, morning + chrono::Duration::minutes(10), &mut again).await.unwrap();
        // THEN it is not counted as news that reached no one: it reached her
        assert!(!counts_not_reached(&again), "{:?}", again.county_days);
        assert_eq!(f.sent_where(|m| m.kind == MessageKind::Outbound), 1);
    });
}

#[test]
fn news_that_would_not_have_gone_is_not_counted_as_reaching_no_one() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up for texts, then texted STOP; her ballot mailed, and a new one after it
        let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", "+19165550101", "", "", "", "").unwrap();
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        p.inbound_text("+19165550101", "STOP", "in-1", t("2026-09-02T19:00:00Z"), &mut tally).await.unwrap();
        let b2 = VbmStatus { ballot_id: "B2".into(), ..status(&f, "CA1", StatusCode::Issued, "2026-10-12T09:00:00-07:00") };
        p.apply_status(&status(&f, "CA1", StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap();
        p.apply_status(&b2, t("2026-10-12T19:00:00Z"), &mut tally).await.unwrap();
        // WHEN the first ballot comes back undeliverable from her old address
        let mut counted = Tally::default();
        p.apply_status(&status(&f, "CA1", StatusCode::Und, "2026-10-15T09:00:00-07:00"), t("2026-10-15T19:00:00Z"), &mut counted).await.unwrap();
        // THEN her county is not told of news she would not have been sent (the ballot she has is
        // the new one)
        let day = counted.county_days.of(pacific_date(t("2026-10-15T19:00:00Z")), f.county);
        assert_eq!(day.get("not_reached/undeliverable/"), None, "{day:?}");
    });
}

#[test]
fn a_problem_found_after_the_cure_deadline_for_a_voter_who_stopped_every_channel_is_counted_for_her_county() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        // GIVEN Ann signed up for texts, then texted STOP
        ann_by_text_her_ballot_mailed(&f, "", "", Some("2026-09-02T19:00:00Z")).await;
        // WHEN her ballot is found unsigned on 2 Dec, after the cure deadline
        let now = t("2026-12-02T19:00:00Z");
        let mut counted = Tally::default();
        p.apply_status(&status(&f, "CA1", StatusCode::Nvs, "2026-12-02T10:00:00-08:00"), now, &mut counted).await.unwrap();
        // THEN her county counts it as news that reached no one: it would have told her that her
        // ballot was not accepted
        let day = counted.county_days.of(pacific_date(now), f.county);
        assert_eq!(day.get("not_reached/contact_county/"), Some(&1), "{day:?}");
    });
}

#[test]
fn a_not_accepted_past_the_deadline_that_finds_every_channel_stopped_when_it_settles_is_counted_for_her_county() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up for texts, her ballot found unsigned on 2 Dec, after the cure
        // deadline: told as not accepted once the status has stood a day
        ann_by_text_her_ballot_mailed(&f, "", "", None).await;
        p.apply_status(&status(&f, "CA1", StatusCode::Nvs, "2026-12-02T10:00:00-08:00"), t("2026-12-02T11:00:00-08:00"), &mut tally).await.unwrap();
        // WHEN she texts STOP that afternoon, and the message falls due the next morning
        p.inbound_text("+19165550101", "STOP", "in-1", t("2026-12-02T15:00:00-08:00"), &mut tally).await.unwrap();
        let now = t("2026-12-03T10:30:00-08:00");
        let mut counted = Tally::default();
        p.release_due(now, &mut counted).await.unwrap();
        // THEN nothing goes, and her county counts it once as news that reached no one
        assert_eq!(f.sent_where(|m| m.to == "+19165550101" && m.kind == MessageKind::NotAccepted), 0);
        let day = counted.county_days.of(pacific_date(now), f.county);
        assert_eq!(day.get("not_reached/contact_county/"), Some(&1), "{day:?}");
    });
}

#[test]
fn a_call_to_fix_held_until_after_the_deadline_that_finds_every_channel_stopped_is_counted_for_her_county() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann signed up for texts from 8 a.m., her ballot found unsigned at 6 a.m. on the
        // deadline day: the notice held until 8
        ann_by_text_her_ballot_mailed(&f, "08:00", "20:00", None).await;
        p.apply_status(&status(&f, "CA1", StatusCode::Nvs, "2026-12-01T06:00:00-08:00"), t("2026-12-01T06:00:00-08:00"), &mut tally).await.unwrap();
        // WHEN she texts STOP at 7, and the release runs only the next morning, past the deadline
        p.inbound_text("+19165550101", "STOP", "in-1", t("2026-12-01T07:00:00-08:00"), &mut tally).await.unwrap();
        let now = t("2026-12-02T09:00:00-08:00");
        let mut counted = Tally::default();
        p.release_due(now, &mut counted).await.unwrap();
        // THEN nothing goes, and her county counts it as news that reached no one
        assert_eq!(f.sent_where(|m| m.to == "+19165550101" && m.kind.is_ballot_news()), 1, "only the mailing");
        let day = counted.county_days.of(pacific_date(now), f.county);
        assert_eq!(day.get("not_reached/contact_county/"), Some(&1), "{day:?}");
    });
}

/// Ann signs up for texts between `from` and `until` on 1 Sep (and texts STOP at `stop`, if
/// given); her ballot is mailed on 6 Oct.
async fn ann_by_text_her_ballot_mailed(f: &Fixture, from: &str, until: &str, stop: Option<&str>) {
    let (p, mut tally) = (f.pipeline(), Tally::default());
    let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", "+19165550101", "", "", from, until).unwrap();
    p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
    if let Some(at) = stop {
        p.inbound_text("+19165550101", "STOP", "in-1", t(at), &mut tally).await.unwrap();
    }
    p.apply_status(&status(f, "CA1", StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap();
}

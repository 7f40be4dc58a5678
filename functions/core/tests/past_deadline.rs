//! A problem with a ballot found, or told, only after the county's cure deadline (5 p.m. on
//! 1 Dec 2026 for this election): she hears her ballot was not accepted and why, once, a day
//! after the status if it still stands then, instead of nothing (or of a deadline already gone).

mod common;

use common::{random, t, Fixture, ANN};
use wmb_core::formats::VbmStatus;
use wmb_core::pipeline::Tally;
use wmb_core::signup::SignupRequest;
use wmb_core::status::{MessageKind, StatusCode};

const PHONE: &str = "+19165550101";

fn status(f: &Fixture, code: StatusCode, at: &str) -> VbmStatus {
    VbmStatus { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), ballot_id: "B1".into(), status: code, status_time: t(at) }
}

/// Ann signs up by text at `at`, to be told between `from` and `until`.
async fn sign_up(f: &Fixture, at: &str, from: &str, until: &str) {
    let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "", "", from, until).unwrap();
    f.pipeline().signup(&row, t(at), &mut Tally::default()).await.unwrap().unwrap();
}

/// The ballot news Ann's phone got, with its text.
fn texts(f: &Fixture) -> Vec<(MessageKind, String)> {
    f.sent.sent.lock().unwrap().iter().filter(|m| m.to == PHONE && m.kind != MessageKind::SignupConfirmation).map(|m| (m.kind, m.rendered.text.clone())).collect()
}

#[test]
fn a_problem_found_after_the_cure_deadline_is_told_as_not_accepted_with_its_reason_once() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let (p, mut tally) = (f.pipeline(), Tally::default());
        // GIVEN Ann signed up, her ballot mailed and back with the county on 30 Oct
        sign_up(&f, "2026-10-01T10:00:00-07:00", "", "").await;
        p.apply_status(&status(&f, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        p.apply_status(&status(&f, StatusCode::InReview, "2026-10-30T09:00:00-07:00"), t("2026-10-30T10:00:00-07:00"), &mut tally).await.unwrap();
        let before = texts(&f).len();
        // WHEN the county finds it unsigned on 2 Dec, the day after the cure deadline
        p.apply_status(&status(&f, StatusCode::Nvs, "2026-12-02T10:00:00-08:00"), t("2026-12-02T11:00:00-08:00"), &mut tally).await.unwrap();
        // THEN nothing that day: the status settles a day (the county may yet accept a statement
        // it received in time)
        p.release_due(t("2026-12-02T17:00:00-08:00"), &mut tally).await.unwrap();
        assert_eq!(texts(&f).len(), before);
        // AND the next morning, the status unchanged, she is told her ballot was not accepted,
        // and why; not that she can fix it until a day gone by
        p.release_due(t("2026-12-03T10:05:00-08:00"), &mut tally).await.unwrap();
        let news = texts(&f).split_off(before);
        assert_eq!(news.len(), 1, "{news:?}");
        assert_eq!(news[0].0, MessageKind::NotAccepted);
        assert!(news[0].1.contains("could not accept your ballot") && news[0].1.contains("the return envelope is not signed"), "{}", news[0].1);
        assert!(!news[0].1.contains("fix this"), "{}", news[0].1);
        // AND when the county's file later gives the ballot a final reason, she is not told twice
        p.apply_status(&status(&f, StatusCode::Oth, "2026-12-04T10:00:00-08:00"), t("2026-12-04T11:00:00-08:00"), &mut tally).await.unwrap();
        p.release_due(t("2026-12-05T00:00:00Z"), &mut tally).await.unwrap();
        assert_eq!(texts(&f).len(), before + 1, "{:?}", texts(&f));
        assert_eq!(tally.failed, 0);
    });
}

#[test]
fn a_call_to_fix_held_for_her_hours_past_the_deadline_goes_as_not_accepted_unless_her_statement_came_first() {
    futures::executor::block_on(async {
        // GIVEN Ann, to be told from 8 a.m. to 8 p.m., whose ballot the county finds unsigned at
        // 8:30 p.m. on 30 Nov: held until 8 a.m. on 1 Dec, before the deadline
        for (found, reviewed, told) in [
            ("2026-11-30T20:30:00-08:00", None, Some(MessageKind::ContactCounty)),
            // found at 8:30 p.m. on the deadline day: it could not go before 5 p.m.
            ("2026-12-01T20:30:00-08:00", None, Some(MessageKind::NotAccepted)),
            // the same, but her signed statement puts it back in review overnight
            ("2026-12-01T20:30:00-08:00", Some("2026-12-01T21:00:00-08:00"), None),
        ] {
            let f = Fixture::with(&[ANN], random).await;
            let (p, mut tally) = (f.pipeline(), Tally::default());
            sign_up(&f, "2026-10-01T10:00:00-07:00", "08:00", "20:00").await;
            p.apply_status(&status(&f, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
            let before = texts(&f).len();
            p.apply_status(&status(&f, StatusCode::Nvs, found), t(found), &mut tally).await.unwrap();
            if let Some(at) = reviewed {
                p.apply_status(&status(&f, StatusCode::InReview, at), t(at), &mut tally).await.unwrap();
            }
            // WHEN the held messages are released the next morning, and the one after
            p.release_due(t(found) + chrono::Duration::hours(12), &mut tally).await.unwrap();
            p.release_due(t(found) + chrono::Duration::hours(36), &mut tally).await.unwrap();
            // THEN she gets the call to fix it before the deadline, "not accepted" after it (once
            // the status has stood a day), and nothing while her statement is in review
            let news: Vec<MessageKind> = texts(&f).split_off(before).into_iter().map(|(k, _)| k).collect();
            assert_eq!(news, told.into_iter().collect::<Vec<_>>(), "found {found}");
            assert_eq!(tally.failed, 0);
        }
    });
}

#[test]
fn a_late_sign_up_after_the_deadline_whose_ballot_is_unsigned_hears_it_was_not_accepted() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let (p, mut tally) = (f.pipeline(), Tally::default());
        // GIVEN Ann's ballot found unsigned on 20 Nov, and never cured
        p.apply_status(&status(&f, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        p.apply_status(&status(&f, StatusCode::Nvs, "2026-11-20T09:00:00-08:00"), t("2026-11-20T10:00:00-08:00"), &mut tally).await.unwrap();
        // WHEN she signs up on 3 Dec, after the deadline
        sign_up(&f, "2026-12-03T10:00:00-08:00", "", "").await;
        // THEN she learns her ballot was not accepted and why, not to fix it by 1 Dec
        let news = texts(&f);
        assert_eq!(news.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [MessageKind::NotAccepted]);
        assert!(news[0].1.contains("the return envelope is not signed"), "{}", news[0].1);
    });
}

#[test]
fn a_county_that_accepts_the_ballot_the_day_after_the_deadline_is_not_contradicted() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let (p, mut tally) = (f.pipeline(), Tally::default());
        sign_up(&f, "2026-10-01T10:00:00-07:00", "", "").await;
        p.apply_status(&status(&f, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        let before = texts(&f).len();
        // GIVEN a ballot logged unsigned at 4:30 p.m. on the deadline day, the file arriving at 6:30
        p.apply_status(&status(&f, StatusCode::Nvs, "2026-12-01T16:30:00-08:00"), t("2026-12-01T18:30:00-08:00"), &mut tally).await.unwrap();
        // WHEN the county accepts it the next morning (her statement came in by 5 p.m.)
        p.apply_status(&status(&f, StatusCode::Accepted, "2026-12-02T11:00:00-08:00"), t("2026-12-02T11:00:00-08:00"), &mut tally).await.unwrap();
        p.release_due(t("2026-12-04T10:00:00-08:00"), &mut tally).await.unwrap();
        // THEN she hears only that it was accepted, never that it was not
        let news: Vec<MessageKind> = texts(&f).split_off(before).into_iter().map(|(k, _)| k).collect();
        assert_eq!(news, [MessageKind::Accepted]);
    });
}

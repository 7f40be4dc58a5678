//! A county's file that reaches us late: a "not accepted" for a ballot the voter replaced or
//! already voted in person still waits its day for the record that explains it, counted from
//! when the file arrived, not from the status's own time.

mod common;

use chrono::{DateTime, Utc};
use common::{random, t, Fixture, ANN, BEN};
use wmb_core::formats::{Participation, VbmStatus};
use wmb_core::pipeline::Tally;
use wmb_core::ports::*;
use wmb_core::signup::SignupRequest;
use wmb_core::status::{MessageKind, ParticipationMethod, StatusCode};

fn status(f: &Fixture, voter: &str, code: StatusCode, at: &str) -> VbmStatus {
    VbmStatus { votecal_id: voter.into(), county: f.county, election_id: "E".into(), ballot_id: format!("B-{voter}"), status: code, status_time: t(at) }
}

/// Releases what is held up to `until`, in time order, as the release schedules would.
async fn release_until(f: &Fixture, until: DateTime<Utc>) {
    while let Some(next) = f.store.next_release().await.unwrap() {
        if next > until {
            break;
        }
        f.pipeline().release_due(next, &mut Tally::default()).await.unwrap();
    }
}

/// When each "not accepted" to `voter`'s phone was sent.
fn not_accepted(f: &Fixture, phone: &str) -> Vec<DateTime<Utc>> {
    f.sent.sent.lock().unwrap().iter().filter(|m| m.to == phone && m.kind == MessageKind::NotAccepted).map(|m| m.send_at).collect()
}

#[test]
fn an_already_voted_status_two_days_late_still_waits_a_day_for_the_in_person_vote_that_explains_it() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann and Ben signed up by text, their ballots mailed
        for (id, first, dob, phone) in [("CA1", "Ann", "1980-05-17", "+19165550101"), ("CA2", "Ben", "1978-02-03", "+19165550102")] {
            let row = SignupRequest::from_fields(first, "Lee", dob, "90012", "", "en", phone, "", "", "", "").unwrap();
            p.signup(&row, t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
            p.apply_status(&status(&f, id, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        }
        // WHEN both voted at a vote center on election day, and the county's status file saying
        // their mail ballots were not accepted (VAV, "already voted") reaches us two days late
        let arrived = t("2026-11-05T10:00:00-08:00");
        for id in ["CA1", "CA2"] {
            p.apply_status(&status(&f, id, StatusCode::Vav, "2026-11-03T08:00:00-08:00"), arrived, &mut tally).await.unwrap();
        }
        // THEN nothing is sent at once
        release_until(&f, arrived + chrono::Duration::hours(6)).await;
        assert!(not_accepted(&f, "+19165550101").is_empty() && not_accepted(&f, "+19165550102").is_empty());
        // WHEN Ann's participation record arrives that evening (Ben's county never sends his)
        let vote = Participation { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), method: ParticipationMethod::VoteCenter, time: t("2026-11-03T07:30:00-08:00"), active: true };
        p.apply_participation(&vote, t("2026-11-05T18:00:00-08:00"), &mut tally).await.unwrap();
        release_until(&f, t("2026-11-09T00:00:00-08:00")).await;
        // THEN Ann, who did nothing wrong, is never told her ballot was not accepted
        assert!(not_accepted(&f, "+19165550101").is_empty());
        // AND Ben is told once his day has passed, counted from the file's arrival
        let ben = not_accepted(&f, "+19165550102");
        assert_eq!(ben.len(), 1, "{ben:?}");
        assert!(ben[0] >= arrived + chrono::Duration::hours(24), "{ben:?}");
    });
}

#[test]
fn a_voter_who_signs_up_just_after_a_late_cancellation_arrived_gets_the_same_day_to_settle() {
    futures::executor::block_on(async {
        const CARA: common::Lee = ("CA3", "Cara", "1985-01-02");
        let f = Fixture::with(&[CARA], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Cara, not signed up, whose ballot was mailed and then cancelled on Monday, the
        // cancellation reaching us on Wednesday (kept for her, as for every voter not signed up)
        p.apply_status(&status(&f, "CA3", StatusCode::Issued, "2026-10-05T09:00:00-07:00"), t("2026-10-05T10:00:00-07:00"), &mut tally).await.unwrap();
        let arrived = t("2026-10-14T10:00:00-07:00");
        p.apply_status(&status(&f, "CA3", StatusCode::Cld, "2026-10-12T09:00:00-07:00"), arrived, &mut tally).await.unwrap();
        // WHEN she signs up an hour later, and the county's re-issue of her ballot comes that evening
        let row = SignupRequest::from_fields("Cara", "Lee", "1985-01-02", "90012", "", "en", "+19165550103", "", "", "", "").unwrap();
        p.signup(&row, t("2026-10-14T11:00:00-07:00"), &mut tally).await.unwrap().unwrap();
        let reissued = VbmStatus { ballot_id: "B-CA3-2".into(), ..status(&f, "CA3", StatusCode::Issued, "2026-10-14T16:00:00-07:00") };
        p.apply_status(&reissued, t("2026-10-14T18:00:00-07:00"), &mut tally).await.unwrap();
        release_until(&f, t("2026-10-18T00:00:00-07:00")).await;
        // THEN she is told of her new ballot, never that the old one was not accepted
        assert!(not_accepted(&f, "+19165550103").is_empty());
        assert_eq!(f.sent_where(|m| m.to == "+19165550103" && m.kind == MessageKind::Reissued), 1);
    });
}

#[test]
fn a_not_accepted_on_the_tracking_windows_last_day_goes_unsettled_rather_than_never() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", "+19165550101", "", "", "", "").unwrap();
        p.signup(&row, t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        p.apply_status(&status(&f, "CA1", StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        // WHEN her VAV reaches us on 3 Dec, the last day of tracking (E+30)
        let arrived = t("2026-12-03T10:00:00-08:00");
        p.apply_status(&status(&f, "CA1", StatusCode::Vav, "2026-12-02T16:00:00-08:00"), arrived, &mut tally).await.unwrap();
        release_until(&f, t("2026-12-10T00:00:00-08:00")).await;
        // THEN she is told that day: a day's wait would end after tracking closes
        assert_eq!(not_accepted(&f, "+19165550101"), vec![arrived]);
    });
}

//! A voter who signs up late is told where her ballot is now, and only what is still true: not
//! a problem to fix on a mail ballot her in-person vote or another accepted ballot made moot,
//! but still one on a ballot that may yet need it.

mod common;

use common::{random, t, Fixture, ANN};
use wmb_core::formats::{Participation, VbmStatus};
use wmb_core::pipeline::Tally;
use wmb_core::signup::SignupRequest;
use wmb_core::status::{MessageKind, ParticipationMethod, StatusCode};

const PHONE: &str = "+19165550101";

fn status(f: &Fixture, code: StatusCode, at: &str) -> VbmStatus {
    VbmStatus { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), ballot_id: "B1".into(), status: code, status_time: t(at) }
}

/// Ann signs up by text at `at`; returns the kinds of ballot news she then got.
async fn sign_up(f: &Fixture, at: &str) -> Vec<MessageKind> {
    let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "", "", "", "").unwrap();
    f.pipeline().signup(&row, t(at), &mut Tally::default()).await.unwrap().unwrap();
    f.sent.sent.lock().unwrap().iter().filter(|m| m.to == PHONE && m.kind != MessageKind::SignupConfirmation).map(|m| m.kind).collect()
}

#[test]
fn a_late_sign_up_after_an_in_person_vote_is_not_told_to_fix_her_mail_ballot() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let (p, mut tally) = (f.pipeline(), Tally::default());
        // GIVEN Ann's mail ballot found unsigned on 28 Oct, and her vote at a vote center on 3 Nov
        p.apply_status(&status(&f, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        p.apply_status(&status(&f, StatusCode::Nvs, "2026-10-28T09:00:00-07:00"), t("2026-10-28T10:00:00-07:00"), &mut tally).await.unwrap();
        let vote = Participation { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), method: ParticipationMethod::VoteCenter, time: t("2026-11-03T10:00:00-08:00"), active: true };
        p.apply_participation(&vote, t("2026-11-03T20:00:00-08:00"), &mut tally).await.unwrap();
        // WHEN she signs up on 4 Nov
        let got = sign_up(&f, "2026-11-04T10:00:00-08:00").await;
        // THEN she hears of her in-person vote, not of a mail ballot to fix
        assert_eq!(got, [MessageKind::InPerson]);
    });
}

#[test]
fn a_late_sign_up_whose_replacement_ballot_was_accepted_is_not_told_to_fix_the_old_one() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let (p, mut tally) = (f.pipeline(), Tally::default());
        // GIVEN Ann's first ballot (B1), replaced by B2 on 21 Oct, found unsigned on 5 Nov; B2
        // accepted on 7 Nov, and B1 then cancelled
        let b2 = |code, at| VbmStatus { ballot_id: "B2".into(), ..status(&f, code, at) };
        p.apply_status(&status(&f, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        p.apply_status(&b2(StatusCode::Issued, "2026-10-21T09:00:00-07:00"), t("2026-10-21T10:00:00-07:00"), &mut tally).await.unwrap();
        p.apply_status(&status(&f, StatusCode::Nvs, "2026-11-05T09:00:00-08:00"), t("2026-11-05T10:00:00-08:00"), &mut tally).await.unwrap();
        p.apply_status(&b2(StatusCode::Accepted, "2026-11-07T09:00:00-08:00"), t("2026-11-07T10:00:00-08:00"), &mut tally).await.unwrap();
        p.apply_status(&status(&f, StatusCode::Cld, "2026-11-08T09:00:00-08:00"), t("2026-11-08T10:00:00-08:00"), &mut tally).await.unwrap();
        // WHEN she signs up on 10 Nov
        let got = sign_up(&f, "2026-11-10T10:00:00-08:00").await;
        // THEN she is told her ballot was accepted, not to fix the one it replaced
        assert_eq!(got, [MessageKind::Accepted]);
    });
}

#[test]
fn a_late_sign_up_whose_unsigned_ballot_is_back_in_review_is_not_told_to_fix_it_until_it_comes_back() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let (p, mut tally) = (f.pipeline(), Tally::default());
        // GIVEN Ann's ballot found unsigned on 20 Oct, then "in review" on 22 Oct with her signed
        // statement (which decides nothing: a ballot never goes back along its journey)
        p.apply_status(&status(&f, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        p.apply_status(&status(&f, StatusCode::Nvs, "2026-10-20T09:00:00-07:00"), t("2026-10-20T10:00:00-07:00"), &mut tally).await.unwrap();
        p.apply_status(&status(&f, StatusCode::InReview, "2026-10-22T09:00:00-07:00"), t("2026-10-22T10:00:00-07:00"), &mut tally).await.unwrap();
        // WHEN she signs up on 23 Oct
        let got = sign_up(&f, "2026-10-23T10:00:00-07:00").await;
        // THEN she is not asked to fix what the county is reviewing
        assert!(got.is_empty(), "{got:?}");
        // WHEN the county finds the statement does not cure it (NVS again)
        p.apply_status(&status(&f, StatusCode::Nvs, "2026-10-26T09:00:00-07:00"), t("2026-10-26T10:00:00-07:00"), &mut tally).await.unwrap();
        // THEN she is told, at once
        let kinds: Vec<MessageKind> = f.sent.sent.lock().unwrap().iter().filter(|m| m.to == PHONE && m.kind != MessageKind::SignupConfirmation).map(|m| m.kind).collect();
        assert_eq!(kinds, [MessageKind::ContactCounty]);
    });
}

#[test]
fn a_late_sign_up_whose_first_ballot_was_accepted_after_a_new_one_was_mailed_is_told_only_it_counts() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let (p, mut tally) = (f.pipeline(), Tally::default());
        // GIVEN Ann's first ballot (B1), a new one (B2) mailed on 20 Oct, and B1, which she had
        // mailed back, accepted on 22 Oct
        let b2 = |code, at| VbmStatus { ballot_id: "B2".into(), ..status(&f, code, at) };
        p.apply_status(&status(&f, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        p.apply_status(&b2(StatusCode::Issued, "2026-10-20T09:00:00-07:00"), t("2026-10-20T10:00:00-07:00"), &mut tally).await.unwrap();
        p.apply_status(&status(&f, StatusCode::Accepted, "2026-10-22T09:00:00-07:00"), t("2026-10-22T10:00:00-07:00"), &mut tally).await.unwrap();
        // WHEN she signs up on 24 Oct
        let got = sign_up(&f, "2026-10-24T10:00:00-07:00").await;
        // THEN she is told her ballot was accepted, not also to use only the new one
        assert_eq!(got, [MessageKind::Accepted]);
    });
}

#[test]
fn a_late_sign_up_who_voted_in_person_is_not_told_to_mail_her_ballot_back() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let (p, mut tally) = (f.pipeline(), Tally::default());
        // GIVEN Ann's mail ballot mailed on 6 Oct, and her vote at a vote center on 1 Nov
        p.apply_status(&status(&f, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        let vote = Participation { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), method: ParticipationMethod::VoteCenter, time: t("2026-11-01T11:00:00-08:00"), active: true };
        p.apply_participation(&vote, t("2026-11-01T20:00:00-08:00"), &mut tally).await.unwrap();
        // WHEN she signs up on 2 Nov
        let got = sign_up(&f, "2026-11-02T10:00:00-08:00").await;
        // THEN she hears of her vote, not that her ballot was mailed and to mail it by election day
        assert_eq!(got, [MessageKind::InPerson]);
    });
}

#[test]
fn news_of_a_ballots_mailing_after_the_polls_closed_is_not_sent() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let (p, mut tally) = (f.pipeline(), Tally::default());
        // GIVEN Ann signed up, her ballot mailed
        sign_up(&f, "2026-10-01T10:00:00-07:00").await;
        p.apply_status(&status(&f, StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
        // WHEN it is logged as returned undeliverable on 9 Nov, after election day
        p.apply_status(&status(&f, StatusCode::Und, "2026-11-09T10:00:00-08:00"), t("2026-11-09T11:00:00-08:00"), &mut tally).await.unwrap();
        p.release_due(t("2026-11-12T00:00:00Z"), &mut tally).await.unwrap();
        // THEN she is not told to "vote in person by 8 p.m. on Election Day": the day is past
        let kinds: Vec<MessageKind> = f.sent.sent.lock().unwrap().iter().filter(|m| m.to == PHONE && m.kind != MessageKind::SignupConfirmation).map(|m| m.kind).collect();
        assert!(!kinds.contains(&MessageKind::Undeliverable), "{kinds:?}");
        assert_eq!(tally.failed, 0, "not counted as failed for the county");
    });
}

//! Status sequences counties send that a review as a county officer reproduced on the sample
//! election (4 Dec 2026), each with what the voter must and must not be told.

use chrono::{DateTime, Utc};
use wmb_core::lifecycle::*;
use wmb_core::status::{Milestone, ParticipationMethod, StatusCode};
use wmb_core::CountyCode;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn journey() -> BallotJourney {
    BallotJourney::new("2026-11-03-GEN", "CA1", CountyCode::parse("01").unwrap())
}

fn status(j: &mut BallotJourney, ballot: &str, code: &str, at: &str) -> Vec<MilestoneDecision> {
    j.apply(BallotFact::Status { ballot_id: ballot.into(), code: StatusCode::parse(code).unwrap(), at: t(at) })
}

/// Whether the journey would still send each decision now.
fn sent(j: &BallotJourney, decisions: &[MilestoneDecision]) -> Vec<Milestone> {
    decisions.iter().filter(|d| j.still_current(d)).map(|d| d.milestone).collect()
}

#[test]
fn the_old_ballot_returned_undeliverable_after_a_new_one_was_mailed_does_not_alarm_her() {
    // GIVEN Ann's first ballot, and a new one mailed to her new address on 12 Oct
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let reissued = status(&mut j, "B2", "ISSUED", "2026-10-12T09:00:00-07:00");
    assert_eq!(sent(&j, &reissued), [Milestone::Reissued]);
    // WHEN the first comes back from her old address three days later
    let und = status(&mut j, "B1", "UND", "2026-10-15T14:00:00-07:00");
    // THEN it is decided (the journey keeps it) but not sent: the ballot she has is the new one
    assert_eq!(und.len(), 1);
    assert!(sent(&j, &und).is_empty(), "no 'your ballot could not be delivered' for a replaced ballot");
    // AND the new ballot coming back undeliverable is her news
    let und = status(&mut j, "B2", "UND", "2026-10-16T14:00:00-07:00");
    assert_eq!(sent(&j, &und), [Milestone::Undeliverable]);
}

#[test]
fn the_new_ballot_cancelled_beside_an_older_one_still_out_is_her_news() {
    // GIVEN Ann told to use only her new ballot (B2)
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    status(&mut j, "B2", "ISSUED", "2026-10-12T09:00:00-07:00");
    // WHEN the county cancels B2, and issues nothing after it
    let cld = status(&mut j, "B2", "CLD", "2026-10-15T14:00:00-07:00");
    // THEN she is told it is not accepted (it settles a day first), for she was told to use it
    assert_eq!(sent(&j, &cld), [Milestone::NotAccepted]);
    assert!(cld[0].settle_until.is_some());
    // AND had the county then mailed a third ballot, the cancellation is explained, not sent
    status(&mut j, "B3", "ISSUED", "2026-10-15T15:00:00-07:00");
    assert!(sent(&j, &cld).is_empty());
    // AND the old ballot cancelled because a newer one was issued is still no news
    let mut k = journey();
    status(&mut k, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    status(&mut k, "B2", "ISSUED", "2026-10-12T09:00:00-07:00");
    assert!(status(&mut k, "B1", "CLD", "2026-10-13T09:00:00-07:00").is_empty());
    // AND nor is a ballot whose mailing was never in any file, cancelled beside another
    let mut m = journey();
    status(&mut m, "B2", "ISSUED", "2026-10-12T09:00:00-07:00");
    assert!(status(&mut m, "B1", "CLD", "2026-10-13T09:00:00-07:00").is_empty());
}

#[test]
fn a_cure_that_failed_with_the_same_reason_is_told_again_at_once() {
    // GIVEN Ann's ballot found unsigned, then back in review with her signed statement
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    status(&mut j, "B1", "INR", "2026-10-19T14:10:00-07:00");
    let first = status(&mut j, "B1", "NVS", "2026-10-22T10:00:00-07:00");
    assert!(status(&mut j, "B1", "INR", "2026-10-28T10:00:00-07:00").is_empty(), "back in review is not news");
    // WHEN the county puts it back to NVS (the statement did not cure it)
    let again = status(&mut j, "B1", "NVS", "2026-11-06T10:00:00-08:00");
    // THEN she is told again, as a further notice (its own message), and the first is not current
    assert_eq!(sent(&j, &again), [Milestone::ContactCounty]);
    assert_eq!(again[0].earlier, 1);
    assert!(sent(&j, &first).is_empty());
    // AND the same status repeated, without leaving it, is still no news
    assert!(status(&mut j, "B1", "NVS", "2026-11-07T10:00:00-08:00").is_empty());
}

#[test]
fn after_she_voted_in_person_her_mail_ballot_is_not_news_that_she_must_act_on_or_wait_for() {
    // GIVEN Ann's ballot mailed, and her vote at a vote center on 31 Oct
    let mut j = journey();
    let mailed = status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let vote = j.apply_participation(ParticipationMethod::VoteCenter, t("2026-10-31T11:00:00-07:00"), true);
    // THEN that her ballot was mailed ("mail it by election day") is no longer news (a late
    // sign-up's catch-up hears only of her vote)
    assert!(sent(&j, &mailed).is_empty());
    assert_eq!(sent(&j, &vote), [Milestone::InPerson]);
    // WHEN her mail ballot reaches the county after all
    let received = status(&mut j, "B1", "INR", "2026-11-02T10:00:00-08:00");
    // THEN she is not told it is in review, "we will tell you when it is accepted": it will not be
    assert!(sent(&j, &received).is_empty());
}

#[test]
fn issued_repeated_after_the_county_has_the_ballot_back_does_not_send_it_out_again() {
    // GIVEN Ann's ballot received (in review)
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    status(&mut j, "B1", "INR", "2026-10-20T09:00:00-07:00");
    // WHEN a later export repeats its ISSUED row with a later time
    assert!(status(&mut j, "B1", "ISSUED", "2026-10-21T09:00:00-07:00").is_empty());
    // THEN the ballot is still the county's (a reminder to return it would say otherwise)
    assert_eq!(j.ballots["B1"].status, StatusCode::InReview);
    // AND a ballot that came back undeliverable and is mailed again under its id is out again
    let mut k = journey();
    status(&mut k, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    status(&mut k, "B1", "UND", "2026-10-12T09:00:00-07:00");
    status(&mut k, "B1", "ISSUED", "2026-10-14T09:00:00-07:00");
    assert_eq!(k.ballots["B1"].status, StatusCode::Issued);
}

#[test]
fn a_status_going_back_and_forth_tells_the_failed_fix_once_and_leaves_the_rest_to_the_reminders() {
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let mut told = status(&mut j, "B1", "NVS", "2026-10-22T10:00:00-07:00").len();
    // The county's status goes back to review and to NVS four times
    for day in ["24", "26", "28", "30"] {
        status(&mut j, "B1", "INR", &format!("2026-10-{day}T09:00:00-07:00"));
        told += status(&mut j, "B1", "NVS", &format!("2026-10-{day}T15:00:00-07:00")).len();
    }
    // The first notice, and the failed fix once
    assert_eq!(told, 2);
    // A new reason after all that is still news
    assert_eq!(status(&mut j, "B1", "NMS", "2026-10-31T15:00:00-07:00").len(), 1);
}

#[test]
fn an_in_person_vote_made_inactive_with_its_own_time_no_longer_silences_her_mail_ballot() {
    // GIVEN Ann's vote-center record, then the same record made inactive (VoteCal keeps its time)
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    assert_eq!(j.apply_participation(ParticipationMethod::VoteCenter, t("2026-10-31T13:05:00-07:00"), true).len(), 1);
    assert!(j.apply_participation(ParticipationMethod::VoteCenter, t("2026-10-31T13:05:00-07:00"), false).is_empty());
    assert!(!j.voted_in_person());
    // WHEN her mail ballot comes back unsigned
    status(&mut j, "B1", "INR", "2026-11-04T10:00:00-08:00");
    let nvs = status(&mut j, "B1", "NVS", "2026-11-06T10:00:00-08:00");
    // THEN she is told to fix it: that ballot is the one that may count
    assert_eq!(sent(&j, &nvs), [Milestone::ContactCounty]);
}

#[test]
fn once_the_new_ballot_is_cancelled_the_old_one_is_hers_again_and_its_news_is_told() {
    // GIVEN Ann's first ballot, a new one mailed, and the new one cancelled with nothing after it
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    status(&mut j, "B2", "ISSUED", "2026-10-12T09:00:00-07:00");
    status(&mut j, "B2", "CLD", "2026-10-15T14:00:00-07:00");
    assert!(!j.newer_ballot_than("B1"), "a cancelled ballot replaces nothing");
    // WHEN the first comes back undeliverable
    let und = status(&mut j, "B1", "UND", "2026-10-18T14:00:00-07:00");
    // THEN she is told: it was the only ballot she had
    assert_eq!(sent(&j, &und), [Milestone::Undeliverable]);
}

#[test]
fn the_same_ballot_mailed_again_after_it_came_back_undeliverable_is_news_each_round() {
    use wmb_core::notify::milestone_key;
    use wmb_core::status::Channel;
    // GIVEN Ann's ballot mailed on 6 Oct, back undeliverable on 15 Oct
    let mut j = journey();
    let mailed = status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let bounced = status(&mut j, "B1", "UND", "2026-10-15T14:00:00-07:00");
    // WHEN the county corrects her address and mails the same ballot again on 20 Oct
    let again = status(&mut j, "B1", "ISSUED", "2026-10-20T09:00:00-07:00");
    // THEN she is told it was mailed again, under a key of its own (the first went on 6 Oct)
    assert_eq!(sent(&j, &again), [Milestone::Outbound]);
    let key = |d: &MilestoneDecision| milestone_key("E", "CA1", d, Channel::Sms);
    assert_ne!(key(&again[0]), key(&mailed[0]));
    // AND the bounce, if still held for her hours, is no longer her news
    assert!(sent(&j, &bounced).is_empty());
    // AND a second bounce is news again, once
    let bounced_again = status(&mut j, "B1", "UND", "2026-10-27T14:00:00-07:00");
    assert_eq!(sent(&j, &bounced_again), [Milestone::Undeliverable]);
    assert_ne!(key(&bounced_again[0]), key(&bounced[0]));
    assert!(status(&mut j, "B1", "UND", "2026-10-27T14:00:00-07:00").is_empty());
    // AND the county's export repeating the first mailing's row decides nothing
    assert!(status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00").is_empty());
    // AND a status going back and forth is news up to the third bounce and its mailing, no more
    assert_eq!(status(&mut j, "B1", "ISSUED", "2026-10-28T09:00:00-07:00").len(), 1);
    assert_eq!(status(&mut j, "B1", "UND", "2026-10-29T09:00:00-07:00").len(), 1);
    assert!(status(&mut j, "B1", "ISSUED", "2026-10-30T09:00:00-07:00").is_empty());
    assert!(status(&mut j, "B1", "UND", "2026-10-31T09:00:00-07:00").is_empty());
    // AND a ballot simply mailed and back with the county hears each milestone once, as before
    let mut k = journey();
    status(&mut k, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    assert!(status(&mut k, "B1", "ISSUED", "2026-10-08T09:00:00-07:00").is_empty());
    assert_eq!(status(&mut k, "B1", "INR", "2026-10-20T09:00:00-07:00").len(), 1);
}

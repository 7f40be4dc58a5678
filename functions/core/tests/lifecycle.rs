//! The ballot lifecycle: which message each status, scan or in-person vote sends, whatever order
//! the facts arrive in.

use chrono::{DateTime, Utc};
use wmb_core::lifecycle::*;
use wmb_core::status::{Milestone, ParticipationMethod, StatusCode};
use wmb_core::CountyCode;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn journey() -> BallotJourney {
    BallotJourney::new("2026-11-03-GEN", "CA1", CountyCode::parse("19").unwrap())
}

fn status(j: &mut BallotJourney, ballot: &str, code: &str, at: &str) -> Vec<Milestone> {
    let fact = BallotFact::Status { ballot_id: ballot.into(), code: StatusCode::parse(code).unwrap(), at: t(at) };
    j.apply(fact).into_iter().map(|d| d.milestone).collect()
}

#[test]
fn a_ballot_mailed_received_and_accepted_sends_three_milestones() {
    let mut j = journey();
    assert_eq!(status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00"), [Milestone::Outbound]);
    assert_eq!(status(&mut j, "B1", "INR", "2026-10-20T09:00:00-07:00"), [Milestone::Received]);
    assert_eq!(status(&mut j, "B1", "ACCEPTED", "2026-10-22T09:00:00-07:00"), [Milestone::Accepted]);
}

#[test]
fn a_repeated_or_older_status_sends_nothing() {
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    status(&mut j, "B1", "ACCEPTED", "2026-10-22T09:00:00-07:00");
    assert!(status(&mut j, "B1", "ACCEPTED", "2026-10-22T09:00:00-07:00").is_empty());
    // A late "In Review" dated before the acceptance: nothing, and the state stays Accepted.
    assert!(status(&mut j, "B1", "INR", "2026-10-20T09:00:00-07:00").is_empty());
    assert_eq!(j.ballots["B1"].status, StatusCode::Accepted);
    // Even a newer "In Review" does not walk the voter back from Accepted to Received.
    assert!(status(&mut j, "B1", "INR", "2026-10-23T09:00:00-07:00").is_empty());
}

#[test]
fn a_cured_signature_turns_contact_county_into_accepted() {
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let first = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Nms, at: t("2026-10-21T09:00:00-07:00") });
    assert_eq!((first[0].milestone, first[0].code), (Milestone::ContactCounty, Some(StatusCode::Nms)));
    assert_eq!(status(&mut j, "B1", "ACCEPTED", "2026-10-28T09:00:00-07:00"), [Milestone::Accepted]);
}

#[test]
fn a_county_that_keeps_only_dates_still_tells_a_cured_ballot_accepted_whatever_the_row_order() {
    // Two reasons on one date: the one that came last is the ballot's, and both are told
    for order in [["NVS", "NMS"], ["NMS", "NVS"]] {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T00:00:00-07:00");
        let told: Vec<Vec<Milestone>> = order.iter().map(|code| status(&mut j, "B1", code, "2026-11-06T00:00:00-08:00")).collect();
        assert_eq!(told, [[Milestone::ContactCounty], [Milestone::ContactCounty]], "{order:?}");
        assert_eq!(j.ballots["B1"].status.as_str(), order[1]);
    }
    // NVS and, once cured, ACCEPTED, both dated midnight; INR and ACCEPTED in one file.
    for order in [["NVS", "ACCEPTED"], ["ACCEPTED", "NVS"]] {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T00:00:00-07:00");
        for code in order {
            status(&mut j, "B1", code, "2026-11-06T00:00:00-08:00");
        }
        assert_eq!(j.ballots["B1"].status, StatusCode::Accepted, "{order:?}");
        assert!(j.milestones.iter().any(|d| d.milestone == Milestone::Accepted), "{order:?}");
    }
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T00:00:00-07:00");
    assert_eq!(status(&mut j, "B1", "INR", "2026-10-20T00:00:00-07:00"), [Milestone::Received]);
    assert_eq!(status(&mut j, "B1", "ACCEPTED", "2026-10-20T00:00:00-07:00"), [Milestone::Accepted]);
    assert!(status(&mut j, "B1", "INR", "2026-10-20T00:00:00-07:00").is_empty(), "the same day's INR again");
    assert!(status(&mut j, "B1", "ACCEPTED", "2026-10-20T00:00:00-07:00").is_empty(), "the same status again");
}

#[test]
fn a_new_reason_to_contact_the_county_is_news_until_the_ballot_has_an_outcome() {
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let nvs = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Nvs, at: t("2026-11-06T09:00:00-08:00") });
    // The voter signed; now the signature does not match: a new message, and the first no
    // longer current (a held one is not sent)
    let nms = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Nms, at: t("2026-11-12T09:00:00-08:00") });
    assert_eq!((nms[0].milestone, nms[0].code), (Milestone::ContactCounty, Some(StatusCode::Nms)));
    assert!(!j.still_current(&nvs[0]));
    let key = |d: &MilestoneDecision| wmb_core::notify::milestone_key("E", "CA1", d, wmb_core::status::Channel::Sms);
    assert_eq!(key(&nvs[0]), "E#CA1#B1#contact_county#sms", "the first reason's key is the milestone's");
    assert_ne!(key(&nvs[0]), key(&nms[0]), "each reason its own message");
    // The same reason again, later, is no news; the first reason back again is
    assert!(status(&mut j, "B1", "NMS", "2026-11-13T09:00:00-08:00").is_empty());
    let back = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Nvs, at: t("2026-11-14T09:00:00-08:00") });
    assert!(![key(&nvs[0]), key(&nms[0])].contains(&key(&back[0])), "a third message, not the first's key again");
    // Nor is any after the outcome
    assert_eq!(status(&mut j, "B1", "ACCEPTED", "2026-11-20T09:00:00-08:00"), [Milestone::Accepted]);
    assert!(status(&mut j, "B1", "NID", "2026-11-21T09:00:00-08:00").is_empty());
}

#[test]
fn a_reissued_ballot_sends_reissued_and_the_cancelled_one_sends_nothing() {
    // The county cancels the first ballot a second before it issues the second one.
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let cld = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Cld, at: t("2026-10-15T09:00:00-07:00") });
    assert_eq!(cld[0].settle_until, Some(t("2026-10-16T09:00:00-07:00")), "held to settle");
    assert_eq!(status(&mut j, "B2", "ISSUED", "2026-10-15T09:00:01-07:00"), [Milestone::Reissued]);
    assert!(!j.still_current(&cld[0]), "the re-issue explains the cancellation");
    // The same facts in the other order: the cancellation decides nothing at all.
    let mut k = journey();
    status(&mut k, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    assert_eq!(status(&mut k, "B2", "ISSUED", "2026-10-15T09:00:00-07:00"), [Milestone::Reissued]);
    assert!(status(&mut k, "B1", "CLD", "2026-10-15T09:00:00-07:00").is_empty());
    // And the first ballot's ISSUED arriving late, after the second was announced, is no news.
    let mut late = journey();
    assert_eq!(status(&mut late, "B2", "ISSUED", "2026-10-15T09:00:00-07:00"), [Milestone::Outbound]);
    assert!(status(&mut late, "B1", "ISSUED", "2026-10-06T09:00:00-07:00").is_empty());
}

#[test]
fn an_in_person_voter_is_never_told_their_mail_ballot_was_not_accepted() {
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let in_person = j.apply_participation(ParticipationMethod::VoteCenter, t("2026-11-01T10:00:00-07:00"), true);
    assert_eq!(in_person[0].milestone, Milestone::InPerson);
    assert!(status(&mut j, "B1", "CLD", "2026-11-02T09:00:00-08:00").is_empty());
    assert!(status(&mut j, "B1", "VAV", "2026-11-05T09:00:00-08:00").is_empty());
    // And InPerson is decided once, however often the record is sent.
    assert!(j.apply_participation(ParticipationMethod::Poll, t("2026-11-03T10:00:00-08:00"), true).is_empty());
}

#[test]
fn a_voter_whose_replacement_ballot_was_accepted_is_never_told_the_old_one_was_not_accepted() {
    // GIVEN B1 mailed, then B2 issued; she mailed both back
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    status(&mut j, "B2", "ISSUED", "2026-10-12T09:00:00-07:00");
    // WHEN B1 is found "already voted" while B2 is still in review, and B2 is accepted within the day
    status(&mut j, "B2", "INR", "2026-10-20T09:00:00-07:00");
    let vav = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Vav, at: t("2026-10-21T09:00:00-07:00") });
    assert_eq!(vav[0].milestone, Milestone::NotAccepted, "held to settle: nothing explains it yet");
    assert!(j.still_current(&vav[0]));
    assert_eq!(status(&mut j, "B2", "ACCEPTED", "2026-10-21T15:00:00-07:00"), [Milestone::Accepted]);
    // THEN the "not accepted" is dropped: her vote counted
    assert!(!j.still_current(&vav[0]), "B2's acceptance explains B1's VAV");
    // AND in the other order the VAV decides nothing at all
    let mut k = journey();
    status(&mut k, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    status(&mut k, "B2", "ISSUED", "2026-10-12T09:00:00-07:00");
    status(&mut k, "B2", "ACCEPTED", "2026-10-21T09:00:00-07:00");
    assert!(status(&mut k, "B1", "VAV", "2026-10-22T09:00:00-07:00").is_empty());
    // AND a VAV while no other ballot was accepted is still news after its day
    let mut m = journey();
    status(&mut m, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    status(&mut m, "B2", "ISSUED", "2026-10-12T09:00:00-07:00");
    assert_eq!(status(&mut m, "B1", "VAV", "2026-10-22T09:00:00-07:00"), [Milestone::NotAccepted]);
}

#[test]
fn a_cancellation_waits_to_settle_and_is_dropped_if_an_in_person_vote_explains_it() {
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let cld = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Cld, at: t("2026-11-02T09:00:00-08:00") });
    assert_eq!(cld[0].milestone, Milestone::NotAccepted);
    assert_eq!(cld[0].settle_until, Some(t("2026-11-03T09:00:00-08:00")));
    assert!(j.still_current(&cld[0]));
    j.apply_participation(ParticipationMethod::Poll, t("2026-11-03T08:00:00-08:00"), true);
    assert!(!j.still_current(&cld[0]));
}

#[test]
fn every_not_accepted_and_contact_county_code_carries_its_reason() {
    for code in StatusCode::ALL.into_iter().filter(|c| c.has_reason()) {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        let d = j.apply(BallotFact::Status { ballot_id: "B1".into(), code, at: t("2026-10-25T09:00:00-07:00") });
        assert_eq!(d.len(), 1, "{code}");
        assert_eq!((d[0].milestone, d[0].code), (code.milestone(), Some(code)));
    }
}

#[test]
fn an_undeliverable_ballot_is_reported_once() {
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    assert_eq!(status(&mut j, "B1", "UND", "2026-10-12T09:00:00-07:00"), [Milestone::Undeliverable]);
    assert!(status(&mut j, "B1", "UND", "2026-10-13T09:00:00-07:00").is_empty());
}

fn scan(ballot: Option<&str>, direction: wmb_core::usps::Direction, at: &str) -> BallotFact {
    BallotFact::Scan {
        ballot_id: ballot.map(str::to_string),
        scan: ScanEvent { at: t(at), direction, event_code: "SD".into(), facility_zip: "90052".into() },
    }
}

#[test]
fn outbound_is_sent_once_whichever_comes_first_the_scan_or_issued() {
    use wmb_core::usps::Direction::*;
    // The scan first: it sends Outbound, and ISSUED (earlier or later) sends nothing.
    let mut j = journey();
    let first = j.apply(scan(Some("B1"), Outbound, "2026-10-06T07:00:00-07:00"));
    assert_eq!(first[0].milestone, Milestone::Outbound);
    assert!(status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00").is_empty());
    // ISSUED first: the scan that follows sends nothing.
    let mut k = journey();
    assert_eq!(status(&mut k, "B1", "ISSUED", "2026-10-05T09:00:00-07:00"), [Milestone::Outbound]);
    assert!(k.apply(scan(None, Outbound, "2026-10-06T07:00:00-07:00")).is_empty());
    // A scan with no ballot id before any ISSUED: Outbound once, and the ISSUED that names the
    // ballot later is the same news.
    let mut m = journey();
    assert_eq!(m.apply(scan(None, Outbound, "2026-10-06T07:00:00-07:00"))[0].milestone, Milestone::Outbound);
    assert!(status(&mut m, "B1", "ISSUED", "2026-10-06T09:00:00-07:00").is_empty());
    assert!(m.apply(scan(None, Outbound, "2026-10-07T07:00:00-07:00")).is_empty());
    // Its ISSUED giving a sent date before the scan is no news either; once the ballot has news
    // of its own, the scan's mailing is no longer the voter's current news (a late sign-up is
    // told "accepted", not "mailed" as well).
    let mut n = journey();
    let mailed = n.apply(scan(None, Outbound, "2026-10-06T07:00:00-07:00"));
    assert!(status(&mut n, "B1", "ISSUED", "2026-10-05T09:00:00-07:00").is_empty());
    assert!(n.still_current(&mailed[0]));
    assert_eq!(status(&mut n, "B1", "ACCEPTED", "2026-10-20T09:00:00-07:00"), [Milestone::Accepted]);
    assert!(!n.still_current(&mailed[0]));
}

#[test]
fn an_inbound_scan_sends_inbound_once_and_never_after_received() {
    use wmb_core::usps::Direction::*;
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-05T09:00:00-07:00");
    let inbound = j.apply(scan(None, Inbound, "2026-10-18T07:00:00-07:00"));
    assert_eq!((inbound[0].milestone, inbound[0].ballot_id.as_deref()), (Milestone::Inbound, Some("B1")));
    assert!(j.apply(scan(None, Inbound, "2026-10-18T09:00:00-07:00")).is_empty(), "a second scan of the same piece");
    assert_eq!(j.scans.len(), 2, "both scans are kept as the journey");
    let mut k = journey();
    status(&mut k, "B1", "ISSUED", "2026-10-05T09:00:00-07:00");
    status(&mut k, "B1", "INR", "2026-10-19T09:00:00-07:00");
    assert!(k.apply(scan(None, Inbound, "2026-10-18T07:00:00-07:00")).is_empty(), "received already");
}

#[test]
fn newer_news_about_a_ballot_supersedes_a_held_older_message() {
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let received = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::InReview, at: t("2026-10-20T23:00:00-07:00") });
    assert!(j.still_current(&received[0]));
    status(&mut j, "B1", "ACCEPTED", "2026-10-21T02:00:00-07:00");
    assert!(!j.still_current(&received[0]));
}

#[test]
fn the_stream_fan_out_sees_only_new_milestones() {
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let old = j.clone();
    status(&mut j, "B1", "INR", "2026-10-20T09:00:00-07:00");
    assert_eq!(j.new_since(Some(&old)).iter().map(|d| d.milestone).collect::<Vec<_>>(), [Milestone::Received]);
    assert_eq!(j.new_since(None).len(), 2);
    assert!(j.new_since(Some(&j)).is_empty());
}

#[test]
fn news_of_a_ballot_replaced_meanwhile_is_no_longer_current_but_its_return_still_is() {
    // GIVEN B1's signature problem, held for the night, and B2 issued before the morning
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let problem = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::parse("NMS").unwrap(), at: t("2026-10-20T22:00:00-07:00") });
    assert_eq!(problem[0].milestone, Milestone::ContactCounty);
    assert!(j.still_current(&problem[0]));
    status(&mut j, "B2", "ISSUED", "2026-10-21T07:00:00-07:00");
    // THEN B1's problem is not the voter's news any more (the new ballot is)
    assert!(!j.still_current(&problem[0]), "no call to fix a ballot that was replaced");
    // AND nor is a replaced ballot's mailing, held when the next one is issued
    let mut k = journey();
    status(&mut k, "B1", "ISSUED", "2026-10-06T21:00:00-07:00");
    let mailed = k.milestones[0].clone();
    assert!(k.still_current(&mailed));
    status(&mut k, "B2", "ISSUED", "2026-10-07T07:00:00-07:00");
    assert!(!k.still_current(&mailed));
    // AND B1 arriving back after all is news: it may still be the ballot counted
    let received = k.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::parse("INR").unwrap(), at: t("2026-10-22T09:00:00-07:00") });
    assert!(k.still_current(&received[0]));
    // AND so is a problem found with it then: the voter who mailed it back must fix it
    let problem = k.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::parse("NMS").unwrap(), at: t("2026-10-23T09:00:00-07:00") });
    assert_eq!(problem[0].milestone, Milestone::ContactCounty);
    assert!(k.still_current(&problem[0]), "a replaced ballot that came back with a problem");
}

#[test]
fn a_cancellation_that_arrives_late_settles_for_a_day_from_its_arrival() {
    let mut j = journey();
    status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
    let cld = BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Cld, at: t("2026-10-15T09:00:00-07:00") };
    // Two days late: a day from its arrival.
    let late = j.clone().apply_arrived(cld.clone(), Some(t("2026-10-17T11:00:00-07:00")));
    assert_eq!(late[0].settle_until, Some(t("2026-10-18T11:00:00-07:00")));
    // Arriving within the hour: a day from its arrival, forty minutes later than from its time.
    let prompt = j.clone().apply_arrived(cld.clone(), Some(t("2026-10-15T09:40:00-07:00")));
    assert_eq!(prompt[0].settle_until, Some(t("2026-10-16T09:40:00-07:00")));
    // Arrival unknown (a fact kept for a voter who signed up later): from the status time.
    assert_eq!(j.apply(cld)[0].settle_until, Some(t("2026-10-16T09:00:00-07:00")));
}

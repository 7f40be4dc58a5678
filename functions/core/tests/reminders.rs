//! Reminders through the pipeline: cure reminders before the county's deadline and the return
//! reminder before election day go only to a voter who still needs them, once, in her hours.

mod scenario;

use chrono::Duration;
use wmb_core::ports::*;
use wmb_core::election::Election;
use wmb_core::formats::{VoterRecord, VoterStatus};
use wmb_core::hours::NotificationHours;
use wmb_core::lifecycle::{BallotJourney, MilestoneDecision, UNKNOWN_BALLOT};
use wmb_core::pipeline::Tally;
use wmb_core::reminders::*;
use wmb_core::notify::SendPlan;
use wmb_core::status::{Channel, MessageKind, Milestone, StatusCode};
use wmb_core::CountyCode;
use scenario::*;

#[test]
fn a_ballot_needing_a_signature_gets_reminders_7_3_and_1_days_before_the_deadline_in_the_voters_hours() {
    // GIVEN a voter whose hours are 18:00-21:00 and whose ballot is not signed (NVS) on 5 Nov
    let s = Scenario::new(NotificationHours::parse("18:00", "21:00").unwrap());
    s.status("B1", StatusCode::Issued, "2026-10-06T19:00:00-07:00");
    s.status("B1", StatusCode::Nvs, "2026-11-05T18:30:00-08:00");
    // WHEN nothing is cured and the clock runs past the deadline
    s.until(t(END));
    // THEN Contact County went at once, and a reminder on 24, 28 and 30 Nov at 18:00
    let hours = NotificationHours::parse("18:00", "21:00").unwrap();
    assert!(spread("CA1", hours) < Duration::minutes(90), "inside the first half of a 3-hour window");
    let days = ["2026-11-24T18:00:00-08:00", "2026-11-28T18:00:00-08:00", "2026-11-30T18:00:00-08:00"];
    assert_eq!(s.cure_reminders(), days.map(|d| at_open(d, hours)));
    let (_, _, text) = s.received().into_iter().find(|(k, _, _)| *k == MessageKind::CureReminder).unwrap();
    assert!(text.contains("December 1, 2026") && text.contains("not signed") && text.contains("(916) 657-2166"), "the deadline, the reason and the county's phone: {text}");
    let contact = s.received().into_iter().find(|(k, _, _)| *k == MessageKind::ContactCounty).unwrap();
    assert!(contact.2.contains("until 5 p.m. on December 1, 2026"), "Contact County names the deadline: {}", contact.2);
    assert_eq!(s.store.held_count(), 0);
}

#[test]
fn a_cure_stops_the_reminders() {
    // GIVEN a signature mismatch on 5 Nov, cured (ACCEPTED) on 26 Nov
    let s = Scenario::new(NotificationHours::default());
    s.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    s.status("B1", StatusCode::Nms, "2026-11-05T10:00:00-08:00");
    s.status("B1", StatusCode::Accepted, "2026-11-26T10:00:00-08:00");
    s.until(t(END));
    // THEN only the reminder before the cure went
    assert_eq!(s.cure_reminders(), [at_open("2026-11-24T08:00:00-08:00", NotificationHours::default())]);
    assert!(s.received().iter().any(|(k, _, _)| *k == MessageKind::Accepted));
}

#[test]
fn a_new_ballot_or_an_in_person_vote_also_ends_the_cure_reminders() {
    let reissued = Scenario::new(NotificationHours::default());
    reissued.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    reissued.status("B1", StatusCode::Nid, "2026-10-20T10:00:00-07:00");
    reissued.status("B2", StatusCode::Issued, "2026-10-21T10:00:00-07:00");
    reissued.until(t(END));
    assert!(reissued.cure_reminders().is_empty(), "{:?}", reissued.cure_reminders());

    let in_person = Scenario::new(NotificationHours::default());
    in_person.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    in_person.status("B1", StatusCode::Nvs, "2026-10-30T10:00:00-07:00");
    in_person.voted_in_person("2026-11-03T12:00:00-08:00");
    in_person.until(t(END));
    assert!(in_person.cure_reminders().is_empty(), "{:?}", in_person.cure_reminders());
}

#[test]
fn no_cure_reminder_after_the_deadline_nor_within_a_day_of_the_news() {
    // GIVEN an NVS that arrives on 29 Nov, and hours that open only after 5 p.m.
    let s = Scenario::new(NotificationHours::parse("17:30", "20:00").unwrap());
    s.status("B1", StatusCode::Issued, "2026-10-06T18:00:00-07:00");
    s.status("B1", StatusCode::Nvs, "2026-11-29T18:00:00-08:00");
    s.until(t(END));
    // THEN the 7- and 3-day reminders are past, the 1-day one (30 Nov) is within a day of
    // the Contact County message, and nothing goes on 1 Dec after 17:00
    assert!(s.cure_reminders().is_empty(), "{:?}", s.cure_reminders());
    assert!(s.received().iter().any(|(k, _, _)| *k == MessageKind::ContactCounty));
    // AND with a deadline day whose hours open after 5 p.m., even a planned reminder is too late
    let e = Election::from_toml("e", ELECTION).unwrap();
    let la = CountyCode::parse("19").unwrap();
    let plan = wmb_core::notify::plan_send(t("2026-12-01T00:00:00-08:00"), Some(&e), NotificationHours::parse("17:30", "20:00").unwrap(), None);
    assert_eq!(within_limit(plan, t("2026-12-01T00:00:00-08:00"), send_by(MessageKind::CureReminder, &e, la)), SendPlan::TooLate);
}

#[test]
fn the_return_reminder_goes_only_to_a_ballot_that_has_not_come_back() {
    // A ballot mailed and never returned: one reminder on 27 Oct (E-7) at 08:00.
    let unreturned = Scenario::new(NotificationHours::default());
    unreturned.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    unreturned.until(t(END));
    let morning = at_open("2026-10-27T08:00:00-07:00", NotificationHours::default());
    assert_eq!(unreturned.reminders(), [(MessageKind::ReturnReminder, morning)]);
    let (_, _, text) = unreturned.received().into_iter().find(|(k, _, _)| *k == MessageKind::ReturnReminder).unwrap();
    assert!(text.contains("November 3, 2026") && text.contains("8 p.m."), "{text}");

    // Returned before the reminder: nothing.
    let returned = Scenario::new(NotificationHours::default());
    returned.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    returned.status("B1", StatusCode::InReview, "2026-10-20T09:00:00-07:00");
    returned.until(t(END));
    assert!(returned.reminders().is_empty());

    // Cancelled (and not replaced), or returned to sender: nothing.
    for code in [StatusCode::Cld, StatusCode::Und] {
        let s = Scenario::new(NotificationHours::default());
        s.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
        s.status("B1", code, "2026-10-15T09:00:00-07:00");
        s.until(t(END));
        assert!(s.reminders().is_empty(), "{code}: {:?}", s.reminders());
    }

    // Voted in person before the reminder: nothing.
    let in_person = Scenario::new(NotificationHours::default());
    in_person.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    in_person.voted_in_person("2026-10-24T12:00:00-07:00");
    in_person.until(t(END));
    assert!(in_person.reminders().is_empty());

    // A replaced ballot: one reminder, about the new ballot.
    let reissued = Scenario::new(NotificationHours::default());
    reissued.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    reissued.status("B2", StatusCode::Issued, "2026-10-15T09:00:00-07:00");
    reissued.until(t(END));
    assert_eq!(reissued.reminders(), [(MessageKind::ReturnReminder, morning)]);
    assert_eq!(reissued.sent.sent.lock().unwrap().iter().filter(|m| m.kind == MessageKind::ReturnReminder).map(|m| m.ballot_id.clone()).collect::<Vec<_>>(), [Some("B2".to_string())]);

    // Mailed after the reminder date: the Outbound message is enough.
    let late = Scenario::new(NotificationHours::default());
    late.status("B1", StatusCode::Issued, "2026-10-29T09:00:00-07:00");
    late.until(t(END));
    assert!(late.reminders().is_empty());
}

#[test]
fn no_return_reminder_once_the_county_has_another_of_her_ballots_back() {
    let morning = at_open("2026-10-27T08:00:00-07:00", NotificationHours::default());
    let return_reminders = |s: &Scenario| s.reminders().into_iter().filter(|(k, _)| *k == MessageKind::ReturnReminder).collect::<Vec<_>>();
    // GIVEN a new ballot (B2) mailed on 15 Oct, and then the first one (B1), which she had
    // mailed back, received, accepted, or found unsigned: the county has her ballot
    for code in [StatusCode::InReview, StatusCode::Accepted, StatusCode::Nvs] {
        let s = Scenario::new(NotificationHours::default());
        s.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
        s.status("B2", StatusCode::Issued, "2026-10-15T09:00:00-07:00");
        s.status("B1", code, "2026-10-20T09:00:00-07:00");
        s.until(t(END));
        // THEN she is not told on 27 Oct that the county has not received her ballot
        assert!(return_reminders(&s).is_empty(), "{code}: {:?}", s.received());
    }
    // AND the same when the first ballot is seen by a scan on its way back after B2 was mailed
    let scanned = Scenario::new(NotificationHours::default());
    scanned.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    scanned.status("B2", StatusCode::Issued, "2026-10-15T09:00:00-07:00");
    let mut journey = futures::executor::block_on(scanned.store.journey("E", "CA1")).unwrap().unwrap();
    let inbound = MilestoneDecision { ballot_id: Some("B1".into()), milestone: Milestone::Inbound, code: None, status_time: t("2026-10-18T09:00:00-07:00"), settle_until: None, earlier: 0 };
    journey.value.milestones.push(inbound);
    futures::executor::block_on(scanned.store.put_journey(&journey.value, Some(journey.version), 0)).unwrap();
    scanned.until(t(END));
    assert!(return_reminders(&scanned).is_empty(), "{:?}", scanned.received());
    // BUT a new ballot mailed after the first was found unsigned is how she may fix it: its
    // reminder stands
    let after_problem = Scenario::new(NotificationHours::default());
    after_problem.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    after_problem.status("B1", StatusCode::Nvs, "2026-10-12T09:00:00-07:00");
    after_problem.status("B2", StatusCode::Issued, "2026-10-15T09:00:00-07:00");
    // (and the problem's reason changing after, NVS to NMS, does not make it new)
    after_problem.status("B1", StatusCode::Nms, "2026-10-20T09:00:00-07:00");
    after_problem.until(t(END));
    assert_eq!(return_reminders(&after_problem), [(MessageKind::ReturnReminder, morning)]);
}

#[test]
fn a_voter_whose_hours_are_the_whole_day_gets_her_reminder_in_the_morning_not_in_the_night() {
    // GIVEN a voter who chose 00:00-00:00 (any time) and a ballot never returned
    let all_day = NotificationHours::parse("00:00", "00:00").unwrap();
    let s = Scenario::new(all_day);
    s.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    s.until(t(END));
    // THEN the return reminder of 27 Oct goes between 08:00 and noon, Pacific
    let [(MessageKind::ReturnReminder, at)] = s.reminders()[..] else { panic!("{:?}", s.reminders()) };
    assert!(at >= t("2026-10-27T08:00:00-07:00") && at < t("2026-10-27T12:00:00-07:00"), "{at}");
    assert_eq!(at, at_open("2026-10-27T08:00:00-07:00", all_day));
}

#[test]
fn every_reminder_is_sent_at_most_once_whatever_is_replayed() {
    let s = Scenario::new(NotificationHours::default());
    s.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    s.status("B1", StatusCode::Nvs, "2026-11-05T10:00:00-08:00");
    // The catch-up of a repeated sign-up plans the current milestones' reminders again.
    let sub = futures::executor::block_on(s.store.subscription("CA1")).unwrap().unwrap();
    futures::executor::block_on(s.pipeline().welcome(&sub, t("2026-11-06T10:00:00-08:00"), &mut Tally::default())).unwrap();
    s.until(t(END));
    assert_eq!(s.cure_reminders().len(), 3, "{:?}", s.cure_reminders());
    assert_eq!(s.reminders().iter().filter(|(k, _)| *k == MessageKind::ReturnReminder).count(), 1);
}

#[test]
fn a_replacement_ballot_whose_id_sorts_first_still_gets_its_return_reminder_after_a_catch_up() {
    // GIVEN B1 mailed, then A2 mailed in its place (an id that sorts before B1), neither back
    let s = Scenario::new(NotificationHours::default());
    s.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    s.status("A2", StatusCode::Issued, "2026-10-15T09:00:00-07:00");
    // WHEN the voter's catch-up runs (a change of choices, a signups file sent again)
    let sub = futures::executor::block_on(s.store.subscription("CA1")).unwrap().unwrap();
    futures::executor::block_on(s.pipeline().welcome(&sub, t("2026-10-20T10:00:00-07:00"), &mut Tally::default())).unwrap();
    s.until(t(END));
    // THEN the one return reminder goes, about the ballot she holds: the replaced ballot's
    // news does not plan it again over the new one's (the same key, held once)
    assert_eq!(s.reminders().iter().filter(|(k, _)| *k == MessageKind::ReturnReminder).count(), 1, "{:?}", s.reminders());
}

#[test]
fn a_reminder_reminds_of_the_reason_the_ballot_has_now() {
    let s = Scenario::new(NotificationHours::default());
    s.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    s.status("B1", StatusCode::Nvs, "2026-11-05T10:00:00-08:00");
    // The county finds the envelope signed after all, but the signature does not match
    s.status("B1", StatusCode::Nms, "2026-11-10T10:00:00-08:00");
    s.until(t(END));
    let texts: Vec<String> = s.received().into_iter().filter(|(k, _, _)| *k == MessageKind::CureReminder).map(|(_, _, text)| text).collect();
    assert_eq!(texts.len(), 3);
    assert!(texts.iter().all(|t| t.contains("doesn't match") && !t.contains("not signed")), "{texts:?}");
}

#[test]
fn reminders_held_for_weeks_are_called_off_by_changing_the_elections_settings() {
    let mut s = Scenario::new(NotificationHours::default());
    s.status("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00");
    s.status("B1", StatusCode::Nvs, "2026-10-20T10:00:00-07:00");
    // WHEN the Secretary of State drops the return reminder and the 3-day cure reminder
    let changed = ELECTION.replace("return_days_before = 7\n", "cure_days_before = [7, 1]\n");
    s.elections.insert("E".into(), Election::from_toml("e", &changed).unwrap());
    s.until(t(END));
    // THEN the held ones that are no longer asked for are not sent
    assert!(s.reminders().iter().all(|(k, _)| *k == MessageKind::CureReminder));
    assert_eq!(s.cure_reminders().len(), 2, "{:?}", s.cure_reminders());
}

#[test]
fn a_voter_gets_one_return_reminder_even_when_two_news_of_a_mailed_ballot_planned_it() {
    // A scan before any ballot id decides Outbound for "-"; a re-issue then decides Reissued
    // for B2: both plan the return reminder, under one key.
    let e = Election::from_toml("e", ELECTION).unwrap();
    let j = BallotJourney::new("E", "CA1", CountyCode::parse("19").unwrap());
    let at = t("2026-10-06T09:00:00-07:00");
    let decision = |ballot: &str, milestone| MilestoneDecision { ballot_id: Some(ballot.into()), milestone, code: None, status_time: at, settle_until: None, earlier: 0 };
    let (scan, reissue) = (decision(UNKNOWN_BALLOT, Milestone::Outbound), decision("B2", Milestone::Reissued));
    let key = |d: &MilestoneDecision| planned(&e, &j, d, at).iter().map(|r| reminder_key("E", "CA1", d, r, Channel::Sms)).collect::<Vec<_>>();
    assert_eq!(key(&scan), key(&reissue));
    assert_eq!(key(&scan).len(), 1);
}

#[test]
fn no_return_reminder_goes_with_the_news_of_a_county_that_starts_tracking_after_its_day() {
    // GIVEN Los Angeles starts tracking on 28 Oct, after the return reminder's day (27 Oct), and
    // mails a ballot on 20 Oct: its Outbound waits for the 28th
    let e = Election::from_toml("e", &format!("{ELECTION}[counties.19]\ntracking_start = \"2026-10-28\"\n")).unwrap();
    let mut j = BallotJourney::new("E", "CA1", CountyCode::parse("19").unwrap());
    let at = t("2026-10-20T09:00:00-07:00");
    let mailed = j.apply(wmb_core::lifecycle::BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Issued, at });
    // THEN it plans no return reminder, which would have gone with it at the opening
    assert!(planned(&e, &j, &mailed[0], at).is_empty(), "{:?}", planned(&e, &j, &mailed[0], at));
    // AND a county that started with the election still plans it
    let statewide = Election::from_toml("e", ELECTION).unwrap();
    assert_eq!(planned(&statewide, &j, &mailed[0], at).len(), 1);
}

#[test]
fn a_statewide_reminder_day_is_spread_over_the_morning_not_one_minute() {
    let hours = NotificationHours::default();
    let minutes: std::collections::BTreeSet<i64> = (0..10_000).map(|i| spread(&format!("CA{i:09}"), hours).num_minutes()).collect();
    assert!(minutes.len() > 200 && minutes.iter().all(|m| (0..240).contains(m)), "{} distinct minutes", minutes.len());
    // A short window keeps every reminder inside it
    let short = NotificationHours::parse("18:00", "19:00").unwrap();
    assert!((0..1000).all(|i| spread(&format!("CA{i}"), short) < Duration::minutes(30)));
}

#[test]
fn a_replaced_ballot_found_unsigned_after_its_replacement_was_issued_still_gets_its_reminders() {
    // GIVEN a voter who mailed B1 back, reported it lost and got B2 on 21 Oct; B1 is found
    // unsigned on 5 Nov (it may still be the one counted)
    let s = Scenario::new(NotificationHours::default());
    s.status("B1", StatusCode::Issued, "2026-10-06T10:00:00-07:00");
    s.status("B2", StatusCode::Issued, "2026-10-21T10:00:00-07:00");
    s.status("B1", StatusCode::Nvs, "2026-11-05T10:00:00-08:00");
    s.until(t(END));
    // THEN she is told to fix it, and reminded 7, 3 and 1 days before the deadline
    assert_eq!(s.received().iter().filter(|(k, _, _)| *k == MessageKind::ContactCounty).count(), 1);
    assert_eq!(s.cure_reminders().len(), 3, "{:?}", s.reminders());
}

#[test]
fn a_problem_to_fix_is_not_sent_after_the_cure_deadline_nor_after_an_in_person_vote() {
    // GIVEN a voter whose hours are 18:00-21:00, whose ballot is found unsigned on the deadline
    // day at 14:00 (the deadline is 5 p.m.)
    let late = Scenario::new(NotificationHours::parse("18:00", "21:00").unwrap());
    late.status("B1", StatusCode::Issued, "2026-10-06T19:00:00-07:00");
    late.status("B1", StatusCode::Nvs, "2026-12-01T14:00:00-08:00");
    late.until(t(END));
    // THEN she is not told at 18:00 to fix it "until December 1"
    assert!(!late.received().iter().any(|(k, _, _)| *k == MessageKind::ContactCounty), "{:?}", late.received());
    // AND a voter whose unsigned ballot is found at night, and whose in-person vote is recorded
    // before the morning, is not told to fix a ballot that no longer counts
    let voted = Scenario::new(NotificationHours::default());
    voted.status("B1", StatusCode::Issued, "2026-10-06T10:00:00-07:00");
    voted.status("B1", StatusCode::Nvs, "2026-10-28T22:00:00-07:00");
    voted.voted_in_person("2026-10-28T23:30:00-07:00");
    voted.until(t(END));
    assert!(!voted.received().iter().any(|(k, _, _)| *k == MessageKind::ContactCounty), "{:?}", voted.received());
    assert_eq!(voted.received().iter().filter(|(k, _, _)| *k == MessageKind::InPerson).count(), 1);
}

#[test]
fn the_cure_reminders_of_a_replaced_ballot_end_once_its_replacement_is_accepted() {
    // GIVEN B1 found unsigned on 5 Nov after B2 was issued on 21 Oct, and B2 accepted on 10 Nov
    let s = Scenario::new(NotificationHours::default());
    s.status("B1", StatusCode::Issued, "2026-10-06T10:00:00-07:00");
    s.status("B2", StatusCode::Issued, "2026-10-21T10:00:00-07:00");
    s.status("B1", StatusCode::Nvs, "2026-11-05T10:00:00-08:00");
    s.status("B2", StatusCode::Accepted, "2026-11-10T10:00:00-08:00");
    s.until(t(END));
    // THEN no reminder tells her to fix the ballot that no longer counts
    assert!(s.cure_reminders().is_empty(), "{:?}", s.cure_reminders());
}

#[test]
fn a_return_reminder_planned_before_she_moved_county_is_not_sent_and_she_is_told_of_the_move() {
    // GIVEN Ann's Los Angeles ballot mailed on 6 Oct (its return reminder planned for 27 Oct)
    let s = Scenario::new(NotificationHours::default());
    s.status("B1", StatusCode::Issued, "2026-10-06T10:00:00-07:00");
    // WHEN the roll places her in San Diego from 15 Oct, and no ballot news comes after
    let dob = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
    let moved = VoterRecord { votecal_id: "CA1".into(), county: CountyCode::parse("37").unwrap(), first_name: "Ann".into(), last_name: "Lee".into(), date_of_birth: dob, zip: "92101".into(), status: VoterStatus::Active };
    futures::executor::block_on(s.pipeline().record_voter(&moved)).unwrap();
    s.until(t(END));
    // THEN no reminder to mail back a Los Angeles ballot goes; she is told, once, to sign up again
    let kinds: Vec<MessageKind> = s.received().into_iter().map(|(k, _, _)| k).collect();
    assert_eq!(kinds, [MessageKind::Outbound, MessageKind::MovedCounty]);
}

#[test]
fn a_voter_who_moved_after_her_ballot_came_back_still_hears_she_must_fix_it() {
    let dob = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
    let moved = VoterRecord { votecal_id: "CA1".into(), county: CountyCode::parse("38").unwrap(), first_name: "Ann".into(), last_name: "Lee".into(), date_of_birth: dob, zip: "94110".into(), status: VoterStatus::Active };
    for move_first in [false, true] {
        // GIVEN Ann's Los Angeles ballot back, found unsigned on 22 Oct; the roll places her in
        // San Francisco on 10 Nov (or, the second time, before the problem was found)
        let s = Scenario::new(NotificationHours::default());
        s.status("B1", StatusCode::Issued, "2026-10-06T10:00:00-07:00");
        s.status("B1", StatusCode::InReview, "2026-10-19T10:00:00-07:00");
        if move_first {
            futures::executor::block_on(s.pipeline().record_voter(&moved)).unwrap();
        }
        s.status("B1", StatusCode::Nvs, "2026-10-22T10:00:00-07:00");
        if !move_first {
            s.until(t("2026-11-10T10:00:00-08:00"));
            futures::executor::block_on(s.pipeline().record_voter(&moved)).unwrap();
        }
        s.until(t(END));
        // THEN the ballot Los Angeles has may still count if she fixes it: she is told to, and
        // reminded until the deadline, with no word of signing up again in place of it
        let kinds: Vec<MessageKind> = s.received().into_iter().map(|(k, _, _)| k).collect();
        assert!(kinds.contains(&MessageKind::ContactCounty), "move first: {move_first}: {kinds:?}");
        assert_eq!(s.cure_reminders().len(), 3, "move first: {move_first}: {kinds:?}");
        assert!(!kinds.contains(&MessageKind::MovedCounty), "move first: {move_first}: {kinds:?}");
    }
}

#[test]
fn a_voter_whose_new_ballot_was_cancelled_is_reminded_to_return_the_one_that_is_hers_again() {
    // GIVEN Ann's ballot mailed on 6 Oct, a new one mailed on 12 Oct (each plans the one return
    // reminder of hers for 27 Oct), and the new one cancelled on 15 Oct with nothing after it
    let s = Scenario::new(NotificationHours::default());
    s.status("B1", StatusCode::Issued, "2026-10-06T10:00:00-07:00");
    s.status("B2", StatusCode::Issued, "2026-10-12T10:00:00-07:00");
    s.status("B2", StatusCode::Cld, "2026-10-15T10:00:00-07:00");
    s.until(t(END));
    // THEN she is reminded to return the ballot she has
    let kinds: Vec<MessageKind> = s.reminders().into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, [MessageKind::ReturnReminder]);
}

#[test]
fn a_voter_who_signed_up_again_where_she_moved_keeps_her_old_countys_cure_reminders() {
    // GIVEN Ann's Los Angeles ballot back and unsigned, and the roll placing her in San Francisco
    let s = Scenario::new(NotificationHours::default());
    s.status("B1", StatusCode::Issued, "2026-10-06T10:00:00-07:00");
    s.status("B1", StatusCode::InReview, "2026-10-19T10:00:00-07:00");
    s.status("B1", StatusCode::Nvs, "2026-10-22T10:00:00-07:00");
    let sf = CountyCode::parse("38").unwrap();
    let dob = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
    let moved = VoterRecord { votecal_id: "CA1".into(), county: sf, first_name: "Ann".into(), last_name: "Lee".into(), date_of_birth: dob, zip: "94110".into(), status: VoterStatus::Active };
    futures::executor::block_on(s.pipeline().record_voter(&moved)).unwrap();
    // WHEN she signs up again there on 25 Nov, as she was told to
    s.until(t("2026-11-25T12:00:00-08:00"));
    let mut again = futures::executor::block_on(s.store.subscription("CA1")).unwrap().unwrap();
    again.county = sf;
    again.signed_up_at = t("2026-11-25T12:00:00-08:00");
    futures::executor::block_on(s.store.put_subscription(&again)).unwrap();
    s.until(t(END));
    // THEN the reminders to fix the ballot Los Angeles has still come, to the deadline
    assert_eq!(s.cure_reminders().len(), 3, "{:?}", s.reminders());
}

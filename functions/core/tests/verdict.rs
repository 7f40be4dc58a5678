//! A problem told in time and never fixed: on the county's certification day (3 Dec 2026, two
//! days after the 5 p.m. cure deadline of 1 Dec) she hears her ballot was not accepted, and why,
//! unless the problem was fixed, the county told its own verdict, or she voted another way.

mod common;

use common::{random, t, Fixture, ANN};
use wmb_core::election::Election;
use wmb_core::formats::{Participation, VbmStatus};
use wmb_core::pipeline::Tally;
use wmb_core::signup::SignupRequest;
use wmb_core::status::{MessageKind, ParticipationMethod, StatusCode};

const PHONE: &str = "+19165550101";

/// The ballot news Ann's phone got after her ballot was mailed: (message, when, text).
fn news(f: &Fixture) -> Vec<(MessageKind, String, String)> {
    let sent = f.sent.sent.lock().unwrap();
    let mine = sent.iter().filter(|m| m.to == PHONE && !matches!(m.kind, MessageKind::SignupConfirmation | MessageKind::Outbound | MessageKind::CureReminder));
    mine.map(|m| (m.kind, m.send_at.to_rfc3339(), m.rendered.text.clone())).collect()
}

/// The election "E" as the fixture has it, with these lines before its contact table.
fn election(top: &str, settings: &str) -> Election {
    let text = format!("id = \"E\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n{top}\n{settings}\n\
        [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n");
    Election::from_toml("e", &text).unwrap()
}

/// Ann signed up (texts, 8 a.m. to 8 p.m.), her ballot B1 mailed on 6 Oct and found unsigned on
/// 20 Nov (told at once); then `then` happens, and the clock runs to 10 Dec.
async fn found_unsigned_then(then: &[(StatusCode, &str)], voted_in_person: Option<&str>) -> Fixture {
    found_unsigned_in(Fixture::with(&[ANN], random).await, then, voted_in_person, None).await
}

/// The same in this fixture, its election replaced by `changed` on 25 Nov (if given).
async fn found_unsigned_in(mut f: Fixture, then: &[(StatusCode, &str)], voted_in_person: Option<&str>, changed: Option<Election>) -> Fixture {
    let mut tally = Tally::default();
    tell_the_problem(&f, then, voted_in_person, &mut tally).await;
    if let Some(e) = changed {
        f.elections.insert("E".into(), e);
    }
    release_hourly(&f, "2026-11-25T00:00:00-08:00", "2026-12-10T23:00:00-08:00", &mut tally).await;
    assert_eq!(tally.failed, 0);
    f
}

/// Ann's sign-up, her ballot's mailing and problem, `then`, and her vote in person if given.
async fn tell_the_problem(f: &Fixture, then: &[(StatusCode, &str)], voted_in_person: Option<&str>, tally: &mut Tally) {
    let p = f.pipeline();
    let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "", "", "08:00", "20:00").unwrap();
    p.signup(&row, t("2026-10-01T10:00:00-07:00"), tally).await.unwrap().unwrap();
    let status = |code, at: &str| VbmStatus { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), ballot_id: "B1".into(), status: code, status_time: t(at) };
    p.apply_status(&status(StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), tally).await.unwrap();
    p.apply_status(&status(StatusCode::Nvs, "2026-11-20T09:00:00-08:00"), t("2026-11-20T10:00:00-08:00"), tally).await.unwrap();
    for (code, at) in then {
        p.release_due(t(at), tally).await.unwrap();
        p.apply_status(&status(*code, at), t(at) + chrono::Duration::minutes(30), tally).await.unwrap();
    }
    if let Some(at) = voted_in_person {
        let row = Participation { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), method: ParticipationMethod::VoteCenter, time: t(at), active: true };
        p.apply_participation(&row, t(at), tally).await.unwrap();
    }
}

/// Every held message released in its turn, an hour at a time, from `from` to `to`.
async fn release_hourly(f: &Fixture, from: &str, to: &str, tally: &mut Tally) {
    let p = f.pipeline();
    let mut hour = t(from);
    while hour < t(to) {
        hour += chrono::Duration::hours(1);
        p.release_due(hour, tally).await.unwrap();
    }
}

#[test]
fn a_problem_told_in_time_and_never_fixed_is_told_as_not_accepted_on_the_day_the_county_certifies() {
    futures::executor::block_on(async {
        // GIVEN Ann told on 20 Nov that her envelope is not signed, who does nothing
        let f = found_unsigned_then(&[], None).await;
        // THEN on 3 Dec, in her hours, she hears her ballot was not accepted and why, once
        let got = news(&f);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, MessageKind::ContactCounty);
        let (kind, at, text) = &got[1];
        assert_eq!(*kind, MessageKind::NotAccepted);
        let at = t(at);
        assert!(at >= t("2026-12-03T12:00:00-08:00") && at <= t("2026-12-03T16:00:00-08:00"), "from noon on 3 Dec (released on the hour), in her hours: {at}");
        assert!(text.contains("could not accept your ballot") && text.contains("the return envelope is not signed"), "{text}");
        assert!(!text.contains("fix") && !text.contains("Election Day"), "{text}");
    });
}

#[test]
fn a_problem_fixed_or_judged_by_the_county_or_overtaken_gets_no_verdict_of_ours() {
    futures::executor::block_on(async {
        // GIVEN her signed statement back in review on 28 Nov
        let f = found_unsigned_then(&[(StatusCode::InReview, "2026-11-28T09:00:00-08:00")], None).await;
        // THEN nothing more: her page shows it in review, and the county's verdict will be told
        assert_eq!(news(&f).iter().map(|m| m.0).collect::<Vec<_>>(), [MessageKind::ContactCounty], "{:?}", news(&f));
        // GIVEN the county accepted it on 2 Dec
        let f = found_unsigned_then(&[(StatusCode::InReview, "2026-11-28T09:00:00-08:00"), (StatusCode::Accepted, "2026-12-02T09:00:00-08:00")], None).await;
        assert_eq!(news(&f).last().map(|m| m.0), Some(MessageKind::Accepted), "{:?}", news(&f));
        assert!(news(&f).iter().all(|m| m.0 != MessageKind::NotAccepted), "{:?}", news(&f));
        // GIVEN the county's own verdict on 2 Dec, for another reason
        let f = found_unsigned_then(&[(StatusCode::Oth, "2026-12-02T09:00:00-08:00")], None).await;
        let verdicts: Vec<_> = news(&f).into_iter().filter(|m| m.0 == MessageKind::NotAccepted).collect();
        assert_eq!(verdicts.len(), 1, "told once: {verdicts:?}");
        assert!(verdicts[0].2.contains("another issue the county can explain"), "the county's reason: {}", verdicts[0].2);
        // GIVEN she voted in person on Election Day
        let f = found_unsigned_then(&[], Some("2026-11-03T12:00:00-08:00")).await;
        assert!(news(&f).iter().all(|m| m.0 != MessageKind::NotAccepted), "{:?}", news(&f));
    });
}

#[test]
fn the_verdict_gives_the_reason_the_ballot_has_when_it_goes() {
    futures::executor::block_on(async {
        // GIVEN her envelope found unsigned, then, after her statement, the signature not matching
        let f = found_unsigned_then(&[(StatusCode::InReview, "2026-11-24T09:00:00-08:00"), (StatusCode::Nms, "2026-11-26T09:00:00-08:00")], None).await;
        // THEN one verdict, with the reason of now
        let verdicts: Vec<_> = news(&f).into_iter().filter(|m| m.0 == MessageKind::NotAccepted).collect();
        assert_eq!(verdicts.len(), 1, "{verdicts:?}");
        assert!(verdicts[0].2.contains("the signature doesn't match your record"), "{}", verdicts[0].2);
    });
}

#[test]
fn a_replacement_ballot_already_with_the_county_holds_back_the_old_ones_verdict() {
    futures::executor::block_on(async {
        // GIVEN a replacement ballot B2 issued on 15 Oct, back with the county on 25 Nov, while
        // B1 (mailed back too) was found unsigned on 20 Nov
        let f = Fixture::with(&[ANN], random).await;
        let (p, mut tally) = (f.pipeline(), Tally::default());
        let status = |ballot: &str, code, at: &str| VbmStatus { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), ballot_id: ballot.into(), status: code, status_time: t(at) };
        let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "", "", "08:00", "20:00").unwrap();
        p.signup(&row, t("2026-10-01T10:00:00-07:00"), &mut tally).await.unwrap().unwrap();
        for (ballot, code, at) in [("B1", StatusCode::Issued, "2026-10-06T09:00:00-07:00"), ("B2", StatusCode::Issued, "2026-10-15T09:00:00-07:00"), ("B1", StatusCode::Nvs, "2026-11-20T09:00:00-08:00"), ("B2", StatusCode::InReview, "2026-11-25T09:00:00-08:00")] {
            p.apply_status(&status(ballot, code, at), t(at), &mut tally).await.unwrap();
        }
        release_hourly(&f, "2026-11-25T09:00:00-08:00", "2026-12-05T00:00:00-08:00", &mut tally).await;
        assert_eq!(news(&f).iter().map(|m| m.0).collect::<Vec<_>>(), [MessageKind::Reissued, MessageKind::ContactCounty, MessageKind::Received], "{:?}", news(&f));
        // THEN she is not told "not accepted": B2 may be the vote counted
        assert!(news(&f).iter().all(|m| m.0 != MessageKind::NotAccepted), "{:?}", news(&f));
    });
}

#[test]
fn the_verdict_follows_the_cure_deadline_as_the_election_has_it_when_it_falls_due() {
    futures::executor::block_on(async {
        // GIVEN an election tracked to 10 Dec whose cure deadline moves from 1 Dec to 5 Dec after
        // Ann's verdict was planned for 3 Dec
        let mut f = Fixture::with(&[ANN], random).await;
        f.elections.insert("E".into(), election("tracking_end = \"2026-12-10\"", ""));
        let moved = election("tracking_end = \"2026-12-10\"", "[reminders]\ncure_deadline = \"2026-12-05\"");
        let f = found_unsigned_in(f, &[], None, Some(moved)).await;
        // THEN it goes on the new certification day, 7 Dec, not while she can still fix it
        let verdicts: Vec<_> = news(&f).into_iter().filter(|m| m.0 == MessageKind::NotAccepted).collect();
        assert_eq!(verdicts.len(), 1, "{verdicts:?}");
        let at = t(&verdicts[0].1);
        assert!(at >= t("2026-12-07T12:00:00-08:00") && at <= t("2026-12-07T16:00:00-08:00"), "{at}");
    });
}

#[test]
fn a_deadline_moved_to_before_the_problem_itself_still_gives_her_the_verdict() {
    futures::executor::block_on(async {
        // GIVEN Ann told on 20 Nov she could fix her envelope until 1 Dec, after which the county
        // sets its deadline to 15 Nov, before the problem was found
        let moved = election("", "[reminders]\ncure_deadline = \"2026-11-15\"");
        let f = found_unsigned_in(Fixture::with(&[ANN], random).await, &[], None, Some(moved)).await;
        // THEN she still hears her ballot was not accepted, once, instead of nothing more
        let verdicts: Vec<_> = news(&f).into_iter().filter(|m| m.0 == MessageKind::NotAccepted).collect();
        assert_eq!(verdicts.len(), 1, "{verdicts:?}");
        assert!(verdicts[0].2.contains("the return envelope is not signed"), "{}", verdicts[0].2);
    });
}

#[test]
fn a_tracking_window_that_ends_before_certification_gets_the_verdict_on_its_last_day_or_none() {
    futures::executor::block_on(async {
        // GIVEN tracking that ends on 2 Dec, the day after the cure deadline
        let mut f = Fixture::with(&[ANN], random).await;
        f.elections.insert("E".into(), election("tracking_end = \"2026-12-02\"", ""));
        let f = found_unsigned_in(f, &[], None, None).await;
        // THEN the verdict goes on 2 Dec
        let verdicts: Vec<_> = news(&f).into_iter().filter(|m| m.0 == MessageKind::NotAccepted).collect();
        assert_eq!(verdicts.len(), 1, "{verdicts:?}");
        assert!(verdicts[0].1.starts_with("2026-12-02T2") || verdicts[0].1.starts_with("2026-12-03T0"), "{}", verdicts[0].1);
        // GIVEN a cure deadline on tracking's last day: no day is left after it, and none goes
        let mut f = Fixture::with(&[ANN], random).await;
        f.elections.insert("E".into(), election("tracking_end = \"2026-12-01\"", ""));
        let f = found_unsigned_in(f, &[], None, None).await;
        assert!(news(&f).iter().all(|m| m.0 != MessageKind::NotAccepted), "{:?}", news(&f));
    });
}

#[test]
fn a_voter_who_stopped_every_channel_after_hearing_of_the_problem_gets_no_verdict_and_no_count_of_news_missed() {
    futures::executor::block_on(async {
        // GIVEN Ann told on 20 Nov that her envelope is not signed, who texts STOP on 28 Nov
        let f = Fixture::with(&[ANN], random).await;
        let mut tally = Tally::default();
        tell_the_problem(&f, &[], None, &mut tally).await;
        assert!(f.store.held().iter().any(|n| n.verdict), "her verdict is planned for 3 Dec");
        f.pipeline().inbound_text(PHONE, "STOP", "in-1", t("2026-11-28T09:00:00-08:00"), &mut tally).await.unwrap();
        // WHEN certification day comes and goes
        let mut after = Tally::default();
        release_hourly(&f, "2026-11-28T10:00:00-08:00", "2026-12-10T23:00:00-08:00", &mut after).await;
        assert_eq!(after.failed, 0);
        // THEN nothing goes to her phone after STOP's own answer
        assert_eq!(news(&f).iter().map(|m| m.0).collect::<Vec<_>>(), [MessageKind::ContactCounty, MessageKind::OptedOut], "{:?}", news(&f));
        // AND her county is not told that her problem's news reached no one: it reached her
        assert!(after.county_days.iter().all(|(_, _, c)| !c.keys().any(|k| k.starts_with("not_reached/"))), "{:?}", after.county_days);
    });
}

#[test]
fn a_verdict_for_missing_id_says_what_was_missing_not_that_the_county_still_needs_it() {
    futures::executor::block_on(async {
        // GIVEN her envelope found unsigned, then, after her statement, the county needing her ID
        let f = found_unsigned_then(&[(StatusCode::InReview, "2026-11-24T09:00:00-08:00"), (StatusCode::Nid, "2026-11-26T09:00:00-08:00")], None).await;
        let got = news(&f);
        // THEN the call to fix it asked for the ID while she could still give it
        let asked = got.iter().rfind(|m| m.0 == MessageKind::ContactCounty).unwrap();
        assert!(asked.2.contains("the county needs a form of ID from you"), "{}", asked.2);
        // AND the verdict says it never came, asking for nothing more
        let verdicts: Vec<_> = got.iter().filter(|m| m.0 == MessageKind::NotAccepted).collect();
        assert_eq!(verdicts.len(), 1, "{verdicts:?}");
        assert!(verdicts[0].2.contains("because the county did not get the ID it needed from you."), "{}", verdicts[0].2);
        assert!(!verdicts[0].2.contains("needs"), "{}", verdicts[0].2);
    });
}

//! A problem told in time and never fixed: on the county's certification day (3 Dec 2026, two
//! days after the 5 p.m. cure deadline of 1 Dec) she hears her ballot was not accepted, and why,
//! unless the problem was fixed, the county told its own verdict, or she voted another way.

mod common;

use common::{random, t, Fixture, ANN};
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

/// Ann signed up (texts, 8 a.m. to 8 p.m.), her ballot B1 mailed on 6 Oct and found unsigned on
/// 20 Nov (told at once); then `then` happens, and the clock runs to 4 Dec.
async fn found_unsigned_then(then: &[(StatusCode, &str)], voted_in_person: Option<&str>) -> Fixture {
    let f = Fixture::with(&[ANN], random).await;
    let (p, mut tally) = (f.pipeline(), Tally::default());
    let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "", "", "08:00", "20:00").unwrap();
    p.signup(&row, t("2026-10-01T10:00:00-07:00"), &mut tally).await.unwrap().unwrap();
    let status = |code, at: &str| VbmStatus { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), ballot_id: "B1".into(), status: code, status_time: t(at) };
    p.apply_status(&status(StatusCode::Issued, "2026-10-06T09:00:00-07:00"), t("2026-10-06T10:00:00-07:00"), &mut tally).await.unwrap();
    p.apply_status(&status(StatusCode::Nvs, "2026-11-20T09:00:00-08:00"), t("2026-11-20T10:00:00-08:00"), &mut tally).await.unwrap();
    for (code, at) in then {
        p.release_due(t(at), &mut tally).await.unwrap();
        p.apply_status(&status(*code, at), t(at) + chrono::Duration::minutes(30), &mut tally).await.unwrap();
    }
    if let Some(at) = voted_in_person {
        let row = Participation { votecal_id: "CA1".into(), county: f.county, election_id: "E".into(), method: ParticipationMethod::VoteCenter, time: t(at), active: true };
        p.apply_participation(&row, t(at), &mut tally).await.unwrap();
    }
    // Every held message released in its turn, to the day after certification.
    let mut day = t("2026-11-20T12:00:00-08:00");
    while day < t("2026-12-04T23:00:00-08:00") {
        day += chrono::Duration::hours(1);
        p.release_due(day, &mut tally).await.unwrap();
    }
    assert_eq!(tally.failed, 0);
    f
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
        assert!(at >= t("2026-12-03T08:00:00-08:00") && at <= t("2026-12-03T12:00:00-08:00"), "the morning of 3 Dec (released on the hour), in her hours: {at}");
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

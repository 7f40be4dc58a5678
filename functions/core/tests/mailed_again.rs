//! The same ballot mailed again after it came back undeliverable, through the pipeline: she is
//! told it is on its way again, and a return reminder does not follow within a day of that.

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

/// Ann's ballot news, by kind, with the day it went (Pacific).
fn news(f: &Fixture) -> Vec<(MessageKind, String)> {
    let pacific = chrono::FixedOffset::west_opt(7 * 3600).unwrap();
    f.sent.sent.lock().unwrap().iter().filter(|m| m.to == PHONE && m.kind != MessageKind::SignupConfirmation).map(|m| (m.kind, m.send_at.with_timezone(&pacific).format("%m-%d").to_string())).collect()
}

/// Ann signed up by text; her ballot mailed on 5 Oct and back undeliverable on 14 Oct; a return
/// reminder planned for 27 Oct (7 days before election day). The county mails the same ballot
/// again on `again`.
async fn remailed(again: &str) -> Fixture {
    let f = Fixture::with_settings(&[ANN], random, "[reminders]\nreturn_days_before = 7\n").await;
    let (p, mut tally) = (f.pipeline(), Tally::default());
    let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "", "", "", "").unwrap();
    p.signup(&row, t("2026-10-01T10:00:00-07:00"), &mut tally).await.unwrap().unwrap();
    p.apply_status(&status(&f, StatusCode::Issued, "2026-10-05T09:00:00-07:00"), t("2026-10-05T10:00:00-07:00"), &mut tally).await.unwrap();
    p.apply_status(&status(&f, StatusCode::Und, "2026-10-14T09:00:00-07:00"), t("2026-10-14T10:00:00-07:00"), &mut tally).await.unwrap();
    p.apply_status(&status(&f, StatusCode::Issued, again), t(again), &mut tally).await.unwrap();
    // (released in her hours, on the reminder's day and the next)
    for at in ["2026-10-27T13:00:00-07:00", "2026-10-28T13:00:00-07:00"] {
        p.release_due(t(at), &mut tally).await.unwrap();
    }
    f
}

#[test]
fn a_ballot_mailed_again_the_morning_of_the_reminder_day_is_not_followed_by_the_reminder() {
    futures::executor::block_on(async {
        // WHEN the county mails it again at 9 a.m. on the reminder's day
        let f = remailed("2026-10-27T09:00:00-07:00").await;
        // THEN she hears it was mailed again, and not, an hour later, that it has not come back
        assert_eq!(news(&f), [(MessageKind::Outbound, "10-05".into()), (MessageKind::Undeliverable, "10-14".into()), (MessageKind::Outbound, "10-27".into())]);
    });
}

#[test]
fn a_ballot_mailed_again_a_week_before_gets_the_reminder_on_its_day() {
    futures::executor::block_on(async {
        let f = remailed("2026-10-20T09:00:00-07:00").await;
        let kinds: Vec<MessageKind> = news(&f).into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [MessageKind::Outbound, MessageKind::Undeliverable, MessageKind::Outbound, MessageKind::ReturnReminder]);
    });
}

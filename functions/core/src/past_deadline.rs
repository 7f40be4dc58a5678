//! A problem with a ballot that can no longer be fixed: found after the county's cure deadline,
//! or whose call to fix it could not go out before the deadline (held for the voter's hours, or
//! caught up at a sign-up after it).
//!
//! "You can fix this until 5 p.m. on December 1" is untrue once that hour has passed, and
//! saying nothing leaves her believing her vote counted. The ballot cannot be counted (EC
//! §3019: the statement is due by the deadline), so she is told what the county's final status
//! would tell her: her ballot was not accepted, and why. It goes under the ballot's own "not
//! accepted" key, so that the county's rejection, when its file brings it, is not told twice.
//!
//! It settles first, as a cancellation does: not before a day after the status, and only if the
//! status still stands then. A county that accepts a statement it received by the deadline, a
//! day or so after, would otherwise have told her "not accepted" and then "accepted".
//!
//! A problem told in time and never fixed ends the same way: the call to fix it plans its
//! verdict for the county's certification day (two days after its cure deadline, EC §3019; the
//! tracking window's last day if that comes first), from noon in her hours (the later in the
//! day, the more of the county's last statuses are in), and it goes only if the problem still
//! stands then. Without it, a voter who mailed her statement and heard nothing more would
//! believe her ballot counted.

use crate::election::Election;
use crate::hours::NotificationHours;
use crate::lifecycle::{BallotJourney, MilestoneDecision, SETTLE_HOURS};
use crate::notify::{milestone_key, Notification, SendPlan};
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::reminders::{reminder_opening, send_by, spread, within_limit};
use crate::signup::Subscription;
use crate::status::{MessageKind, Milestone};
use crate::time::pacific_start_of_day;
use chrono::{DateTime, Duration, Utc};

/// The plan for `n` within its own last moment (see [`send_by`]). A call to fix a problem that
/// cannot go before the cure deadline, though the tracking window is still open, becomes "not
/// accepted" for the same reason, planned as that.
pub fn plan_within_deadline(n: &mut Notification, election: Option<&Election>, plan: SendPlan, now: DateTime<Utc>) -> SendPlan {
    let limit = |n: &Notification| election.and_then(|e| send_by(n.kind, e, n.county));
    let planned = within_limit(plan, now, limit(n));
    if planned != SendPlan::TooLate || plan == SendPlan::TooLate || n.kind != MessageKind::ContactCounty {
        return planned;
    }
    become_not_accepted(n);
    let planned = within_limit(plan, now, limit(n));
    let at = match planned {
        SendPlan::Now => now,
        SendPlan::HoldUntil(at) => at,
        SendPlan::TooLate => return planned,
    };
    // (Unsettled rather than never, if the tracking window would close first.)
    let settled = n.decision.as_ref().map(|d| d.status_time + Duration::hours(SETTLE_HOURS));
    match (settled, election) {
        (Some(s), Some(e)) if s > at && s < e.window_closes() => SendPlan::HoldUntil(s),
        _ => planned,
    }
}

/// Turns a call to fix a problem into the news that the ballot was not accepted, for the same
/// reason (its decision, which gives the reason and tells whether it is still current, stays).
fn become_not_accepted(n: &mut Notification) {
    let Some(decision) = &n.decision else { return };
    let Some(election_id) = &n.election_id else { return };
    n.key = milestone_key(election_id, &n.votecal_id, &as_not_accepted(decision), n.channel);
    n.kind = MessageKind::NotAccepted;
    // A new message: the tries of the call it replaces are not its own.
    n.attempts = 0;
    n.throttled = 0;
}

/// The decision a call to fix a problem is keyed as once told as "not accepted": the ballot's
/// own Not Accepted, whichever of its reasons it was.
pub fn as_not_accepted(decision: &MilestoneDecision) -> MilestoneDecision {
    MilestoneDecision { milestone: Milestone::NotAccepted, earlier: 0, ..decision.clone() }
}

/// Whether a message is a call to fix a problem told, past its deadline, as "not accepted".
pub fn told_as_not_accepted(kind: MessageKind, decided: Milestone) -> bool {
    kind == MessageKind::NotAccepted && decided == Milestone::ContactCounty
}

/// The day a problem told in time is followed by its verdict if it still stands: the county's
/// certification day, two days after its cure deadline (EC §3019), or the tracking window's last
/// day if that comes first, so long as it is after the deadline's day. None for other news, and
/// for a problem found after the deadline (its own notice is the verdict:
/// [`plan_within_deadline`]).
pub fn verdict_day(election: &Election, county: crate::county::CountyCode, decision: &MilestoneDecision) -> Option<DateTime<Utc>> {
    if decision.milestone != Milestone::ContactCounty || decision.status_time >= election.cure_deadline(county) {
        return None;
    }
    verdict_date(election, county).map(pacific_start_of_day)
}

/// The county's certification day, two days after its cure deadline, or the tracking window's
/// last day if that comes first and after the deadline's day; none if tracking ends that day.
pub fn verdict_date(election: &Election, county: crate::county::CountyCode) -> Option<chrono::NaiveDate> {
    let deadline = election.cure_deadline_date(county);
    let day = (deadline + Duration::days(2)).min(election.tracking_end);
    (day > deadline).then_some(day)
}

/// When on `day` a verdict goes to a voter with these hours: from noon, or from the first opening
/// of her hours after noon that day, spread by voter while her hours and the day last (at that
/// opening itself, if the spread would outlast them); from their opening that day if they do not
/// open again after noon.
pub fn verdict_at(day: DateTime<Utc>, hours: NotificationHours, votecal_id: &str) -> DateTime<Utc> {
    let spread = spread(votecal_id, hours);
    let open = if hours.from == hours.until { NotificationHours::default() } else { hours };
    let next_day = day + Duration::days(1);
    let afternoon = open.next_open(day + Duration::hours(12));
    if afternoon >= next_day {
        return reminder_opening(day, hours) + spread;
    }
    let spread_out = afternoon + spread;
    match spread_out < next_day && open.contains(spread_out) {
        true => spread_out,
        false => afternoon,
    }
}

/// When a held verdict may go, by the election as it is now: None if it no longer has one (its
/// deadline moved to the window's last day). A problem told in time keeps its verdict when the
/// deadline moves to before the problem itself: she was told she could fix it, and the day that
/// passed is no reason for silence (it goes when it falls due, the new day being past).
pub fn verdict_due(n: &Notification, election: Option<&Election>, hours: NotificationHours) -> Option<DateTime<Utc>> {
    let (Some(e), Some(decision)) = (election, &n.decision) else { return None };
    if decision.milestone != Milestone::ContactCounty {
        return None;
    }
    verdict_date(e, n.county).map(|day| verdict_at(pacific_start_of_day(day), hours, &n.votecal_id))
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Holds the verdict of a problem told in time ([`verdict_day`]), one per channel, under the
    /// ballot's Not Accepted key: the county's own rejection, or the same problem found again,
    /// is told once. When it falls due it goes only if the ballot still has the problem.
    pub(crate) async fn plan_verdict(
        &self,
        journey: &BallotJourney,
        decision: &MilestoneDecision,
        election: &Election,
        sub: &Subscription,
        now: DateTime<Utc>,
        tally: &mut Tally,
    ) -> Result<(), PipelineError> {
        let Some(day) = verdict_day(election, journey.county, decision) else { return Ok(()) };
        let at = verdict_at(day, sub.hours, &journey.votecal_id);
        for (channel, _) in sub.channels() {
            let key = milestone_key(&journey.election_id, &journey.votecal_id, &as_not_accepted(decision), channel);
            let n = Notification {
                election_id: Some(journey.election_id.clone()),
                decision: Some(decision.clone()),
                verdict: true,
                ..Notification::new(key, &journey.votecal_id, journey.county, MessageKind::NotAccepted, channel, at)
            };
            self.schedule(n, Some(election), sub, Some(at), now, tally).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::county::CountyCode;
    use crate::status::{Channel, StatusCode};

    const ELECTION: &str = "id = \"E\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
        [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn call_to_fix(earlier: u32) -> Notification {
        let decision = MilestoneDecision {
            ballot_id: Some("B1".into()),
            milestone: Milestone::ContactCounty,
            code: Some(StatusCode::Nvs),
            status_time: t("2026-12-01T10:00:00-08:00"),
            settle_until: None,
            earlier,
        };
        let key = milestone_key("E", "CA1", &decision, Channel::Sms);
        Notification {
            election_id: Some("E".into()),
            decision: Some(decision),
            attempts: 2,
            ..Notification::new(key, "CA1", CountyCode::parse("01").unwrap(), MessageKind::ContactCounty, Channel::Sms, t("2026-12-01T10:00:00-08:00"))
        }
    }

    #[test]
    fn a_call_to_fix_that_cannot_go_before_5_pm_on_the_deadline_becomes_not_accepted_under_the_ballots_own_key() {
        let e = Election::from_toml("e", ELECTION).unwrap();
        // The default deadline: 28 days after election day, 5 p.m. Pacific (1 Dec 2026).
        let before = t("2026-12-01T16:59:00-08:00");
        let mut n = call_to_fix(1);
        assert_eq!(plan_within_deadline(&mut n, Some(&e), SendPlan::Now, before), SendPlan::Now);
        assert_eq!(n.kind, MessageKind::ContactCounty, "still hers to fix");
        // Held overnight from 4:30 p.m. to 8 a.m.: it would arrive after the deadline
        let held_to = SendPlan::HoldUntil(t("2026-12-02T08:00:00-08:00"));
        let plan = plan_within_deadline(&mut n, Some(&e), held_to, t("2026-12-01T16:30:00-08:00"));
        assert_eq!(plan, SendPlan::HoldUntil(t("2026-12-02T10:00:00-08:00")), "not dropped: held as the news it now is, a day after its status");
        assert_eq!(n.kind, MessageKind::NotAccepted);
        assert_eq!(n.key, "E#CA1#B1#not_accepted#sms", "the key of the county's own rejection, whatever the reason's number");
        assert_eq!((n.attempts, n.throttled), (0, 0));
        assert_eq!(n.decision.as_ref().map(|d| (d.milestone, d.code)), Some((Milestone::ContactCounty, Some(StatusCode::Nvs))), "its reason and currency are the call's");
    }

    #[test]
    fn a_status_that_has_stood_a_day_goes_at_once_and_one_near_the_windows_close_goes_unsettled() {
        let e = Election::from_toml("e", ELECTION).unwrap();
        // Found on 1 Dec at 10 a.m., told on 3 Dec (a late sign-up): it has stood two days
        let mut n = call_to_fix(0);
        assert_eq!(plan_within_deadline(&mut n, Some(&e), SendPlan::Now, t("2026-12-03T10:00:00-08:00")), SendPlan::Now);
        assert_eq!(n.kind, MessageKind::NotAccepted);
        // Found late on the tracking window's last day: a day's wait would outlast the window
        let last = e.window_closes() - chrono::Duration::hours(2);
        let mut n = Notification { decision: n.decision.map(|d| MilestoneDecision { status_time: last, ..d }), ..call_to_fix(0) };
        assert_eq!(plan_within_deadline(&mut n, Some(&e), SendPlan::Now, last), SendPlan::Now);
    }

    #[test]
    fn a_verdict_goes_from_noon_or_the_first_opening_after_it_and_stays_on_its_day() {
        let day = t("2026-12-03T00:00:00-08:00");
        let at = |from: &str, until: &str| verdict_at(day, NotificationHours::parse(from, until).unwrap(), "CA1");
        let within = |at: DateTime<Utc>, from: &str, until: &str| at >= t(from) && at < t(until);
        // Daytime hours, or the whole day: noon plus her spread (up to four hours)
        assert!(within(at("08:00", "20:00"), "2026-12-03T12:00:00-08:00", "2026-12-03T16:00:00-08:00"), "{}", at("08:00", "20:00"));
        assert!(within(at("00:00", "00:00"), "2026-12-03T12:00:00-08:00", "2026-12-03T16:00:00-08:00"));
        // Hours that close before noon: their opening that morning
        assert!(within(at("07:00", "11:00"), "2026-12-03T07:00:00-08:00", "2026-12-03T11:00:00-08:00"), "{}", at("07:00", "11:00"));
        // Night hours: their opening that evening, never the small hours before the day's files
        assert!(within(at("22:00", "06:00"), "2026-12-03T22:00:00-08:00", "2026-12-04T00:00:00-08:00"), "{}", at("22:00", "06:00"));
        assert!(within(at("20:00", "02:30"), "2026-12-03T20:00:00-08:00", "2026-12-04T00:00:00-08:00"), "{}", at("20:00", "02:30"));
    }

    #[test]
    fn nothing_changes_once_the_tracking_window_has_closed_or_for_other_news() {
        let e = Election::from_toml("e", ELECTION).unwrap();
        let mut n = call_to_fix(0);
        let key = n.key.clone();
        assert_eq!(plan_within_deadline(&mut n, Some(&e), SendPlan::TooLate, t("2026-12-02T10:00:00-08:00")), SendPlan::TooLate);
        assert_eq!((n.kind, n.key), (MessageKind::ContactCounty, key));
        let mut reminder = Notification { kind: MessageKind::CureReminder, ..call_to_fix(0) };
        assert_eq!(plan_within_deadline(&mut reminder, Some(&e), SendPlan::Now, t("2026-12-02T10:00:00-08:00")), SendPlan::TooLate, "a reminder past its deadline has nothing to remind of");
        assert_eq!(reminder.kind, MessageKind::CureReminder);
    }
}

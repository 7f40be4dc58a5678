//! Reminders: messages planned when a milestone is decided, held until they fall due, and checked
//! against the journey again then, so only a voter who still needs one gets it.
//!
//! - **Cure reminders.** A ballot that needs the voter's action (Contact County: NVS, NMS, INF,
//!   NID) gets a reminder on each of the election's `cure_days_before` (7, 3 and 1 days) before
//!   the county's cure deadline, in the voter's hours, while it still needs action: a cure (the
//!   ballot accepted or moved on to any other status), a new ballot, or an in-person vote stops
//!   them, and none goes after the deadline (5 p.m. Pacific on its day).
//! - **Return reminder.** When the election sets `return_days_before`, a voter whose ballot was
//!   mailed gets one reminder that many days before election day if, by then, the ballot has not
//!   come back: still only Issued (no In Review, Accepted, cancellation, return to sender…), no
//!   inbound scan, no newer ballot, no vote recorded in person or by mail. None after the polls
//!   close.
//!
//! A reminder falling within a day of the news that planned it is left out: the voter has just
//! been told. So is one falling before, or within a day of, a county's own later start of
//! tracking: its news waits for that start, and the reminder would go with it.

use crate::election::Election;
use crate::lifecycle::{BallotJourney, MilestoneDecision, UNKNOWN_BALLOT};
use crate::notify::{Notification, SendPlan};
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::Subscription;
use crate::status::{Channel, Milestone, MessageKind, StatusCode};
use crate::time::pacific_start_of_day;
use chrono::{DateTime, Duration, Utc};

/// A reminder planned for one ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub kind: MessageKind,
    /// The start of the (Pacific) day it is for; the voter's hours decide the moment.
    pub due: DateTime<Utc>,
    /// Days before the deadline or election day: part of its at-most-once key.
    pub days_before: u32,
}

/// The reminders a newly decided milestone plans: none due within a day of now, nor within a day
/// of the county's own start of tracking (its news, held until then, would go with it).
pub fn planned(election: &Election, journey: &BallotJourney, decision: &MilestoneDecision, now: DateTime<Utc>) -> Vec<Reminder> {
    let soon = now.max(election.county_window_opens(journey.county)) + Duration::days(1);
    let settings = &election.def.reminders;
    let mut out = vec![];
    match decision.milestone {
        Milestone::ContactCounty => {
            let deadline = election.cure_deadline_date(journey.county);
            for &days in &settings.cure_days_before {
                let due = pacific_start_of_day(deadline - Duration::days(days.into()));
                if due > soon {
                    out.push(Reminder { kind: MessageKind::CureReminder, due, days_before: days });
                }
            }
        }
        Milestone::Outbound | Milestone::Reissued => {
            if let Some(days) = settings.return_days_before {
                let due = pacific_start_of_day(election.def.date - Duration::days(days.into()));
                if due > soon {
                    out.push(Reminder { kind: MessageKind::ReturnReminder, due, days_before: days });
                }
            }
        }
        _ => {}
    }
    out
}

/// The at-most-once key of a reminder: a cure reminder per (election, voter, ballot, day,
/// channel); the return reminder per (election, voter, day, channel), whichever ballot planned it
/// (a scan before any ballot id, then a re-issue, plan it twice: one goes).
pub fn reminder_key(election_id: &str, votecal_id: &str, decision: &MilestoneDecision, reminder: &Reminder, channel: Channel) -> String {
    let ballot = match reminder.kind {
        MessageKind::ReturnReminder => "voter",
        _ => decision.ballot_id.as_deref().unwrap_or("-"),
    };
    format!("{election_id}#{votecal_id}#{ballot}#{}-{}#{channel}", reminder.kind.key(), reminder.days_before)
}

/// Whether the election's settings, as they are now, still ask for this reminder (a reminder
/// held for weeks is called off by changing them).
pub fn still_asked_for(election: &Election, kind: MessageKind, days_before: Option<u32>) -> bool {
    let r = &election.def.reminders;
    match (kind, days_before) {
        (MessageKind::CureReminder, Some(days)) => r.cure_days_before.contains(&days),
        (MessageKind::ReturnReminder, Some(days)) => r.return_days_before == Some(days),
        (k, _) => !k.is_reminder(),
    }
}

/// The status code a cure reminder gives as its reason: the ballot's code now (an NVS that became
/// an NMS is reminded as an NMS).
pub fn current_code(journey: &BallotJourney, decision: &MilestoneDecision) -> Option<StatusCode> {
    let ballot = decision.ballot_id.as_deref()?;
    journey.ballots.get(ballot).map(|b| b.status).filter(|c| c.milestone() == Milestone::ContactCounty).or(decision.code)
}

/// When a reminder's day opens for the voter: at the opening of her hours; for hours that
/// cover the whole day (equal times), at the guidance's default opening, 08:00, not at
/// midnight (her hours allow any time; a reminder at 3 a.m. is not what she asked for).
pub fn reminder_opening(due: DateTime<Utc>, hours: crate::hours::NotificationHours) -> DateTime<Utc> {
    match hours.from == hours.until {
        true => crate::hours::NotificationHours::default().next_open(due),
        false => hours.next_open(due),
    }
}

/// Minutes after the opening of the voter's hours that a reminder goes: spread by the voter over
/// the first four hours (or half the window, if shorter), so that a statewide reminder day does
/// not fall due in one minute.
pub fn spread(votecal_id: &str, hours: crate::hours::NotificationHours) -> Duration {
    let open = hours.from.signed_duration_since(chrono::NaiveTime::MIN);
    let close = hours.until.signed_duration_since(chrono::NaiveTime::MIN);
    let window = if close > open { close - open } else { close - open + Duration::days(1) };
    let span = (window.num_minutes() / 2).clamp(1, 240);
    Duration::minutes((crate::kept::stable_hash(votecal_id) % span as u64) as i64)
}

/// The last moment a message of this kind is worth sending: the county's cure deadline for a
/// problem to fix and its reminders (each says "fix it until …"); the polls closing for a return
/// reminder and for news of a ballot's mailing (mailed, a new one mailed, came back
/// undeliverable: each tells her to mail it, or to get one, by election day); none for other
/// messages.
pub fn send_by(kind: MessageKind, election: &Election, county: crate::county::CountyCode) -> Option<DateTime<Utc>> {
    match kind {
        MessageKind::CureReminder | MessageKind::ContactCounty => Some(election.cure_deadline(county)),
        MessageKind::ReturnReminder | MessageKind::Outbound | MessageKind::Reissued | MessageKind::Undeliverable => Some(election.polls_close()),
        _ => None,
    }
}

/// Whether a return reminder falls within a day of news that one of her ballots was mailed
/// again (the same ballot, after it came back undeliverable): she has just been told it is on
/// its way, as [`planned`] leaves out a reminder within a day of the news that planned it.
pub fn just_mailed_again(journey: &BallotJourney, kind: MessageKind, now: DateTime<Utc>) -> bool {
    kind == MessageKind::ReturnReminder
        && journey.milestones.iter().any(|d| {
            matches!(d.milestone, Milestone::Outbound | Milestone::Reissued) && d.earlier > 0 && d.status_time <= now && now - d.status_time < Duration::days(1)
        })
}

/// A plan, with the message's own last moment applied: past it, it is too late.
pub fn within_limit(plan: SendPlan, now: DateTime<Utc>, limit: Option<DateTime<Utc>>) -> SendPlan {
    let at = match plan {
        SendPlan::Now => now,
        SendPlan::HoldUntil(at) => at,
        SendPlan::TooLate => return plan,
    };
    match limit {
        Some(limit) if at >= limit => SendPlan::TooLate,
        _ => plan,
    }
}

/// Whether a message is still worth sending, by the journey as it is now: ballot news while no
/// newer news superseded it ([`BallotJourney::still_current`]); a reminder while the ballot still
/// needs what it reminds of.
pub fn still_worth_sending(journey: &BallotJourney, kind: MessageKind, decision: &MilestoneDecision) -> bool {
    if !journey.still_current(decision) && !kind.is_reminder() {
        return false;
    }
    let ballot = match decision.ballot_id.as_deref() {
        Some(UNKNOWN_BALLOT) | None => journey.latest_ballot(),
        // A return reminder is the voter's (one a day and channel, whichever ballot planned it):
        // if that ballot was cancelled since, it reminds her of the one that is hers again.
        Some(b) if kind == MessageKind::ReturnReminder && journey.ballots.get(b).is_some_and(|s| s.status == StatusCode::Cld) => journey.latest_live_ballot(),
        Some(b) => Some(b.to_string()),
    };
    let Some(ballot) = ballot else { return !kind.is_reminder() };
    let Some(status) = journey.ballots.get(&ballot) else { return !kind.is_reminder() };
    match kind {
        // A new ballot issued before the problem was found does not end the reminders: the
        // replaced ballot the voter mailed back may be the one counted (as its notice went),
        // until another of her ballots is accepted.
        MessageKind::CureReminder => {
            let other_accepted = journey.ballots.iter().any(|(id, b)| *id != ballot && b.status == StatusCode::Accepted);
            status.status.milestone() == Milestone::ContactCounty && !journey.voted_in_person() && !journey.replaced_after(&ballot, status.at) && !other_accepted
        }
        // A call to fix a problem, while the ballot's status still says so: not once it is back
        // in review with her statement (held overnight, or caught up at a late sign-up). If the
        // problem comes back, that is news of its own.
        MessageKind::ContactCounty => status.status.milestone() == Milestone::ContactCounty,
        // Past the deadline, the same call told as "not accepted" ([`crate::past_deadline`]):
        // while the status still says so, too, and no other ballot of hers is with the county
        // (in review or accepted: that one may be the vote counted).
        _ if crate::past_deadline::told_as_not_accepted(kind, decision.milestone) => {
            let another_in = journey.ballots.iter().any(|(id, b)| *id != ballot && matches!(b.status.milestone(), Milestone::Received | Milestone::Accepted));
            status.status.milestone() == Milestone::ContactCounty && !another_in
        }
        MessageKind::ReturnReminder => {
            let scanned_back = journey.milestones.iter().any(|d| d.ballot_id.as_deref() == Some(&ballot) && d.milestone == Milestone::Inbound);
            let voted = journey.participation.as_ref().is_some_and(|(_, _, active)| *active);
            status.status == StatusCode::Issued && !scanned_back && !voted && !journey.newer_ballot_than(&ballot) && !journey.another_back(&ballot, status.issued_at.unwrap_or(status.at))
        }
        _ => true,
    }
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Holds the reminders a decided milestone plans, one per channel the voter chose.
    pub(crate) async fn plan_reminders(
        &self,
        journey: &BallotJourney,
        decision: &MilestoneDecision,
        election: &Election,
        sub: &Subscription,
        now: DateTime<Utc>,
        tally: &mut Tally,
    ) -> Result<(), PipelineError> {
        for reminder in planned(election, journey, decision, now) {
            let at = reminder_opening(reminder.due, sub.hours) + spread(&journey.votecal_id, sub.hours);
            for (channel, _) in sub.channels() {
                let key = reminder_key(&journey.election_id, &journey.votecal_id, decision, &reminder, channel);
                let n = Notification {
                    election_id: Some(journey.election_id.clone()),
                    decision: Some(decision.clone()),
                    reminder_days: Some(reminder.days_before),
                    ..Notification::new(key, &journey.votecal_id, journey.county, reminder.kind, channel, at)
                };
                self.schedule(n, Some(election), sub, Some(at), now, tally).await?;
            }
        }
        // A problem told in time: its verdict, if it still stands when the county certifies.
        self.plan_verdict(journey, decision, election, sub, now, tally).await
    }
}

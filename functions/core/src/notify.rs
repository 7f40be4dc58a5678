//! From a decided milestone to messages: who, on which channel, when, saying what.

use crate::county::CountyCode;
use crate::election::Election;
use crate::hours::NotificationHours;
use crate::lifecycle::MilestoneDecision;
use crate::signup::Subscription;
use crate::status::{Channel, Language, MessageKind};
use crate::templates::LanguageTemplates;
use crate::time::pacific_date;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One message to one voter on one channel, queued or held. It carries no address: the
/// voter's current subscription is read when it is sent, so an opt-out or a change of
/// number made while it was held is honoured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The at-most-once key: (election, voter, ballot, message, channel).
    pub key: String,
    pub election_id: Option<String>,
    pub votecal_id: String,
    pub county: CountyCode,
    pub kind: MessageKind,
    pub channel: Channel,
    /// The milestone behind it (none for a sign-up confirmation).
    pub decision: Option<MilestoneDecision>,
    /// When it may be sent.
    pub release_at: DateTime<Utc>,
    /// Delivery attempts so far that failed for a passing reason.
    #[serde(default)]
    pub attempts: u32,
    /// Delivery attempts so far that the provider throttled (they back off, and give up only
    /// after [`crate::pipeline::MAX_THROTTLES`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttled: u32,
    /// A reminder: how many days before its deadline (or election day) it was planned for, so
    /// that one the election's settings no longer ask for is not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_days: Option<u32>,
    /// The verdict of a problem told in time ([`crate::past_deadline::verdict_day`]): never
    /// sent before the county's certification day as the election has it when it falls due, and,
    /// like a reminder, a follow-up: not counted as news that reached no one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verdict: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Notification {
    /// A new message about a voter to send at `release_at`, not tried yet, with no election,
    /// milestone or reminder day (set them with struct update where they apply).
    pub fn new(key: String, votecal_id: &str, county: CountyCode, kind: MessageKind, channel: Channel, release_at: DateTime<Utc>) -> Notification {
        Notification {
            key,
            election_id: None,
            votecal_id: votecal_id.to_string(),
            county,
            kind,
            channel,
            decision: None,
            release_at,
            attempts: 0,
            throttled: 0,
            reminder_days: None,
            verdict: false,
        }
    }

    /// Tries so far that did not go through, throttled or failed: a held retry is told apart
    /// from the hold before it by this.
    pub fn tries(&self) -> u32 {
        self.attempts + self.throttled
    }

    /// What its county's daily summary counts it as.
    pub fn tag(&self) -> crate::daily::MessageTag {
        crate::daily::MessageTag { county: self.county, kind: self.kind, channel: self.channel }
    }
}

/// The key that makes a milestone message at-most-once per (election, ballot, milestone, channel);
/// a ballot's later Contact County decisions (a new reason each) are numbered after the first,
/// whose key is the milestone's own.
pub fn milestone_key(election_id: &str, votecal_id: &str, decision: &MilestoneDecision, channel: Channel) -> String {
    let kind = MessageKind::from(decision.milestone).key();
    let again = match decision.earlier {
        0 => String::new(),
        n => format!("-r{n}"),
    };
    format!("{election_id}#{votecal_id}#{}#{kind}{again}#{channel}", decision.ballot_id.as_deref().unwrap_or("-"))
}

/// The key of a sign-up confirmation: one per sign-up (a repeated request with the same choices
/// keeps its sign-up time; a change of choices is a new sign-up). It holds no contact detail,
/// not even hashed.
pub fn confirmation_key(sub: &Subscription, channel: Channel) -> String {
    format!("signup#{}#{}#{channel}", sub.votecal_id, sub.signed_up_at.timestamp())
}

/// FNV-1a, 64 bits: a stable hash for keys (not for security).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// When a message may go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendPlan {
    /// Inside the voter's hours and the tracking window: send it.
    Now,
    /// Hold it until then (the voter's next opening, the tracking start, or the settle time).
    HoldUntil(DateTime<Utc>),
    /// The tracking window will have closed before it could go out: it is not sent.
    TooLate,
}

/// Decides when a message may be sent: not before the tracking window opens nor before
/// `not_before`, only inside the voter's hours, and never after the window closes.
pub fn plan_send(now: DateTime<Utc>, election: Option<&Election>, hours: NotificationHours, not_before: Option<DateTime<Utc>>) -> SendPlan {
    let mut earliest = now.max(not_before.unwrap_or(now));
    if let Some(e) = election {
        earliest = earliest.max(e.window_opens());
    }
    let at = hours.next_open(earliest);
    match election {
        Some(e) if at >= e.window_closes() => SendPlan::TooLate,
        _ if at == now => SendPlan::Now,
        _ => SendPlan::HoldUntil(at),
    }
}

/// How long a settling message (see [`crate::lifecycle::SETTLE_HOURS`]) may wait: its settle
/// time, unless waiting for it would carry the message past the tracking window's close when
/// going without it would not. A "not accepted" that cannot settle in time goes unsettled
/// rather than never.
pub fn settle_in_window(now: DateTime<Utc>, election: Option<&Election>, hours: NotificationHours, settle: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    let late = |not_before| plan_send(now, election, hours, not_before) == SendPlan::TooLate;
    settle.filter(|s| !late(Some(*s)) || late(None))
}

/// Everything a template may ask for, in the voter's language, for the texts `wording` names.
pub fn message_values(
    t: &LanguageTemplates,
    lang: Language,
    election: Option<&Election>,
    county: CountyCode,
    decision: Option<&MilestoneDecision>,
    hours: NotificationHours,
    wording: crate::wording::Wording,
) -> BTreeMap<&'static str, String> {
    let mut v = BTreeMap::new();
    v.insert("county_name", t.county_name(county).to_string());
    if let Some(e) = election {
        let contact = e.contact(county);
        v.insert("election_name", e.name_in(lang.code()).to_string());
        v.insert("election_date", t.format_date(e.def.date));
        v.insert("cure_deadline", t.format_deadline(e.cure_deadline_date(county)));
        v.insert("county_phone", contact.phone);
        v.insert("county_email", contact.email);
        v.insert("county_url", contact.url);
    }
    if let Some(d) = decision {
        v.insert("status_date", t.format_date(pacific_date(d.status_time)));
        v.insert("reason", d.code.map(|c| t.reason_as(c, wording).to_string()).unwrap_or_default());
    }
    v.insert("notify_from", hours.from.format("%H:%M").to_string());
    v.insert("notify_until", hours.until.format("%H:%M").to_string());
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::election::Election;

    const ELECTION: &str = r#"
id = "2026-11-03-GEN"
name = "2026 General Election"
date = "2026-11-03"
kind = "statewide"
[default_contact]
phone = "(916) 657-2166"
email = "elections@example.gov"
url = "https://elections.example.gov"
"#;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_status_before_tracking_starts_waits_for_the_first_morning_of_tracking() {
        let e = Election::from_toml("e", ELECTION).unwrap();
        let plan = plan_send(utc("2026-10-01T12:00:00-07:00"), Some(&e), NotificationHours::default(), None);
        assert_eq!(plan, SendPlan::HoldUntil(utc("2026-10-05T08:00:00-07:00")));
    }

    #[test]
    fn inside_hours_and_window_sends_now_and_after_e_plus_30_sends_nothing() {
        let e = Election::from_toml("e", ELECTION).unwrap();
        let hours = NotificationHours::default();
        assert_eq!(plan_send(utc("2026-10-20T12:00:00-07:00"), Some(&e), hours, None), SendPlan::Now);
        assert_eq!(plan_send(utc("2026-12-03T21:00:00-08:00"), Some(&e), hours, None), SendPlan::TooLate);
        assert_eq!(plan_send(utc("2026-12-04T12:00:00-08:00"), Some(&e), hours, None), SendPlan::TooLate);
    }

    #[test]
    fn a_message_that_cannot_settle_before_the_window_closes_goes_unsettled_rather_than_never() {
        let e = Election::from_toml("e", ELECTION).unwrap();
        let hours = NotificationHours::default();
        let settle = |now: &str| Some(utc(now) + chrono::Duration::hours(24));
        // Two days before the close: it waits its day.
        assert_eq!(settle_in_window(utc("2026-12-01T10:00:00-08:00"), Some(&e), hours, settle("2026-12-01T10:00:00-08:00")), settle("2026-12-01T10:00:00-08:00"));
        // On the window's last day: no day is left, so it goes without waiting.
        assert_eq!(settle_in_window(utc("2026-12-03T10:00:00-08:00"), Some(&e), hours, settle("2026-12-03T10:00:00-08:00")), None);
        assert_eq!(plan_send(utc("2026-12-03T10:00:00-08:00"), Some(&e), hours, None), SendPlan::Now);
        // After the close nothing goes either way.
        assert_eq!(settle_in_window(utc("2026-12-04T10:00:00-08:00"), Some(&e), hours, settle("2026-12-04T10:00:00-08:00")), settle("2026-12-04T10:00:00-08:00"));
    }

    #[test]
    fn a_settling_message_waits_for_its_settle_time_then_for_the_voters_hours() {
        let e = Election::from_toml("e", ELECTION).unwrap();
        let plan = plan_send(utc("2026-10-20T12:00:00-07:00"), Some(&e), NotificationHours::default(), Some(utc("2026-10-21T19:30:00-07:00")));
        assert_eq!(plan, SendPlan::HoldUntil(utc("2026-10-21T19:30:00-07:00")));
        let plan = plan_send(utc("2026-10-20T12:00:00-07:00"), Some(&e), NotificationHours::default(), Some(utc("2026-10-21T21:00:00-07:00")));
        assert_eq!(plan, SendPlan::HoldUntil(utc("2026-10-22T08:00:00-07:00")));
    }
}

//! A county's daily summary: what happened for its voters on one Pacific day — sign-ups,
//! changes of choices, stops, messages sent and failed by message and channel, deliveries that
//! failed afterwards by message and channel, news that reached no one (every channel of the
//! voter stopped) by message — as counts. Nothing in it names a voter or repeats a contact.
//!
//! The pipeline counts into [`CountyDays`] (part of the invocation's tally); the local pipeline
//! writes the CSVs at the end of `simulate`, the Lambdas add their counts to one item per county
//! and day and a morning job writes the day before.
//!
//! Counting follows the state changes it describes, so a redelivered event is not counted twice:
//! a message is counted when its ledger entry records the send (a second delivery finds it done),
//! a stop when the subscription changes.

use crate::signup::Subscription;
use crate::status::{Channel, MessageKind};
use crate::time::pacific_date;
use crate::CountyCode;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

/// One thing a daily summary counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// A voter's first sign-up became live.
    SignedUp,
    /// A signed-up voter changed contacts, language or hours.
    ChoicesChanged,
    /// A voter stopped a channel (STOP, the unsubscribe link, or the page).
    OptedOut(Channel),
    /// A channel stopped because the provider said the address can get nothing (hard bounce,
    /// complaint, dead or opted-out number).
    Suspended(Channel),
    Sent(MessageKind, Channel),
    /// The provider refused the message for good, or it was given up after its retries.
    SendFailed(MessageKind, Channel),
    /// Sent, and then reported undelivered by the provider.
    DeliveryFailed(MessageKind, Channel),
    /// Decided for a signed-up voter whose every channel is stopped or suspended: sent to no one.
    NotReached(MessageKind),
}

/// What the ledger keeps with a message's outcome so its county's summary can count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MessageTag {
    pub county: CountyCode,
    pub kind: MessageKind,
    pub channel: Channel,
}

/// The rows every summary has, at zero on a quiet day.
const ALWAYS: [&str; 2] = ["signups//", "choices_changed//"];

const MEASURES: [&str; 8] = ["signups", "choices_changed", "opt_outs", "suspended", "messages_sent", "send_failures", "delivery_failures", "not_reached"];

impl Counted {
    /// The counter's name: `measure/message/channel`, empty where it does not apply.
    pub fn name(self) -> String {
        let (measure, kind, channel) = match self {
            Counted::SignedUp => ("signups", None, None),
            Counted::ChoicesChanged => ("choices_changed", None, None),
            Counted::OptedOut(c) => ("opt_outs", None, Some(c)),
            Counted::Suspended(c) => ("suspended", None, Some(c)),
            Counted::Sent(k, c) => ("messages_sent", Some(k), Some(c)),
            Counted::SendFailed(k, c) => ("send_failures", Some(k), Some(c)),
            Counted::DeliveryFailed(k, c) => ("delivery_failures", Some(k), Some(c)),
            Counted::NotReached(k) => ("not_reached", Some(k), None),
        };
        format!("{measure}/{}/{}", kind.map_or("", MessageKind::key), channel.map_or("", Channel::as_str))
    }
}

/// Whether a stored attribute is one of our counters (a store's other attributes are not).
pub fn is_counter_name(name: &str) -> bool {
    let mut parts = name.split('/');
    let (Some(measure), Some(kind), Some(channel), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return false };
    MEASURES.contains(&measure) && (kind.is_empty() || MessageKind::from_key(kind).is_some()) && (channel.is_empty() || Channel::parse(channel).is_some())
}

/// Counts by county and Pacific day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountyDays {
    days: BTreeMap<(NaiveDate, CountyCode), BTreeMap<String, u64>>,
}

impl CountyDays {
    pub fn count(&mut self, at: DateTime<Utc>, county: CountyCode, what: Counted) {
        *self.days.entry((pacific_date(at), county)).or_default().entry(what.name()).or_default() += 1;
    }

    /// Counts each channel live in `before` and no longer in `after` (`as_count`: an opt-out or a
    /// suspension).
    pub fn count_stops(&mut self, at: DateTime<Utc>, before: &Subscription, after: &Subscription, as_count: fn(Channel) -> Counted) {
        for c in Channel::ALL {
            if before.address(c).is_some() && after.address(c).is_none() {
                self.count(at, after.county, as_count(c));
            }
        }
    }

    /// Adds another's counts to these.
    pub fn merge(&mut self, other: CountyDays) {
        for (day, counts) in other.days {
            let mine = self.days.entry(day).or_default();
            for (name, n) in counts {
                *mine.entry(name).or_default() += n;
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// Each county and day with its counters.
    pub fn iter(&self) -> impl Iterator<Item = (NaiveDate, CountyCode, &BTreeMap<String, u64>)> {
        self.days.iter().map(|((d, c), counts)| (*d, *c, counts))
    }

    /// The counts of one county on one day (empty if nothing happened).
    pub fn of(&self, date: NaiveDate, county: CountyCode) -> BTreeMap<String, u64> {
        self.days.get(&(date, county)).cloned().unwrap_or_default()
    }

    /// Keeps only the counters whose name `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        for counts in self.days.values_mut() {
            counts.retain(|name, _| keep(name));
        }
        self.days.retain(|_, counts| !counts.is_empty());
    }

    /// Everything counted, handed over (the tally starts again from nothing).
    pub fn take(&mut self) -> CountyDays {
        std::mem::take(self)
    }
}

/// The summary a county opens: `date,county,what,message,channel,count`, one row per counter in
/// a fixed order (sign-ups and changes always, at zero on a quiet day).
pub fn summary_csv(date: NaiveDate, county: CountyCode, counts: &BTreeMap<String, u64>) -> String {
    let mut rows: Vec<(usize, &str, u64)> = ALWAYS.iter().filter(|n| !counts.contains_key(**n)).map(|n| (order(n), *n, 0)).collect();
    rows.extend(counts.iter().filter(|(n, _)| is_counter_name(n)).map(|(n, v)| (order(n), n.as_str(), *v)));
    rows.sort();
    let mut out = String::from("date,county,what,message,channel,count\n");
    for (_, name, count) in rows {
        let mut parts = name.split('/');
        let (what, kind, channel) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        out.push_str(&format!("{date},{},{what},{kind},{channel},{count}\n", county.code()));
    }
    out
}

fn order(name: &str) -> usize {
    let measure = name.split('/').next().unwrap_or("");
    MEASURES.iter().position(|m| *m == measure).unwrap_or(MEASURES.len())
}

/// Where a county's summary of a day goes, under its reports folder.
pub fn summary_path(date: NaiveDate, county: CountyCode) -> String {
    format!("{}/daily/{date}.csv", county.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn counts_fall_on_the_pacific_day_and_a_quiet_day_still_has_its_rows() {
        let la = CountyCode::parse("19").unwrap();
        let mut days = CountyDays::default();
        // 23:30 Pacific on 6 October is already 7 October in UTC: it is the 6th's.
        days.count(t("2026-10-06T23:30:00-07:00"), la, Counted::Sent(MessageKind::Outbound, Channel::Sms));
        days.count(t("2026-10-06T08:00:00-07:00"), la, Counted::Sent(MessageKind::Outbound, Channel::Sms));
        days.count(t("2026-10-07T00:30:00-07:00"), la, Counted::OptedOut(Channel::Sms));
        days.count(t("2026-10-06T09:00:00-07:00"), la, Counted::SignedUp);
        let oct6 = NaiveDate::from_ymd_opt(2026, 10, 6).unwrap();
        let oct7 = NaiveDate::from_ymd_opt(2026, 10, 7).unwrap();
        assert_eq!(
            summary_csv(oct6, la, &days.of(oct6, la)),
            "date,county,what,message,channel,count\n\
             2026-10-06,19,signups,,,1\n\
             2026-10-06,19,choices_changed,,,0\n\
             2026-10-06,19,messages_sent,outbound,sms,2\n"
        );
        assert_eq!(
            summary_csv(oct7, la, &days.of(oct7, la)),
            "date,county,what,message,channel,count\n\
             2026-10-07,19,signups,,,0\n\
             2026-10-07,19,choices_changed,,,0\n\
             2026-10-07,19,opt_outs,,sms,1\n"
        );
        assert_eq!(summary_path(oct7, la), "19/daily/2026-10-07.csv");
    }

    #[test]
    fn the_delivery_function_keeps_only_the_counts_the_ledger_does_not_hold() {
        let la = CountyCode::parse("19").unwrap();
        let mut days = CountyDays::default();
        days.count(t("2026-10-06T08:00:00-07:00"), la, Counted::Sent(MessageKind::Outbound, Channel::Sms));
        days.count(t("2026-10-06T08:00:00-07:00"), la, Counted::NotReached(MessageKind::Outbound));
        days.count(t("2026-10-07T08:00:00-07:00"), la, Counted::Sent(MessageKind::Outbound, Channel::Email));
        days.retain(|name| name.starts_with("not_reached/"));
        let kept: Vec<_> = days.iter().map(|(d, c, counts)| (d, c, counts.clone())).collect();
        let oct6 = NaiveDate::from_ymd_opt(2026, 10, 6).unwrap();
        assert_eq!(kept, vec![(oct6, la, BTreeMap::from([("not_reached/outbound/".to_string(), 1)]))], "and no day left empty");
    }

    #[test]
    fn only_our_counter_names_are_read_back() {
        for c in [Counted::SignedUp, Counted::Suspended(Channel::Email), Counted::SendFailed(MessageKind::CureReminder, Channel::Voice), Counted::DeliveryFailed(MessageKind::ContactCounty, Channel::Sms)] {
            assert!(is_counter_name(&c.name()), "{}", c.name());
        }
        for other in ["key", "expires_at", "messages_sent/outbound/fax", "messages_sent/nonsense/sms", "a/b/c/d", "signups//x"] {
            assert!(!is_counter_name(other), "{other}");
        }
        // A stored attribute that is not a counter never reaches a county's file.
        let counts = BTreeMap::from([("expires_at".to_string(), 1_900_000_000), ("signups//".to_string(), 4)]);
        let csv = summary_csv(NaiveDate::from_ymd_opt(2026, 10, 6).unwrap(), CountyCode::parse("01").unwrap(), &counts);
        assert!(!csv.contains("expires"), "{csv}");
        assert!(csv.contains("2026-10-06,01,signups,,,4\n"), "{csv}");
    }
}

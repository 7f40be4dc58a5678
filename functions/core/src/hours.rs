//! Notification hours: the part of the day, Pacific time, when a voter agreed to be contacted.

use crate::time::{pacific_instant, PACIFIC};
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The voter's notification window, e.g. 08:00–20:00 (the guidance's default).
///
/// `from` is inclusive and `until` exclusive. A window whose `until` is earlier than its `from`
/// runs overnight (22:00–06:00). Equal times mean any time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationHours {
    #[serde(with = "hhmm")]
    pub from: NaiveTime,
    #[serde(with = "hhmm")]
    pub until: NaiveTime,
}

impl Default for NotificationHours {
    fn default() -> Self {
        NotificationHours {
            from: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            until: NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
        }
    }
}

impl NotificationHours {
    /// Parses two `HH:MM` texts; empty texts take the default (08:00 and 20:00).
    pub fn parse(from: &str, until: &str) -> Result<Self, &'static str> {
        let default = Self::default();
        let from = if from.trim().is_empty() { default.from } else { parse_hhmm(from).ok_or("notify_from")? };
        let until = if until.trim().is_empty() { default.until } else { parse_hhmm(until).ok_or("notify_until")? };
        Ok(NotificationHours { from, until })
    }

    fn contains_time(&self, t: NaiveTime) -> bool {
        if self.from == self.until {
            true
        } else if self.from < self.until {
            self.from <= t && t < self.until
        } else {
            t >= self.from || t < self.until
        }
    }

    /// Whether `at` falls inside the window, on the Pacific clock.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.contains_time(at.with_timezone(&PACIFIC).time())
    }

    /// The first instant at or after `at` inside the window: `at` itself when it is inside,
    /// otherwise the next opening (DST-correct).
    pub fn next_open(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        if self.contains(at) {
            return at;
        }
        let local_date = at.with_timezone(&PACIFIC).date_naive();
        for day in 0..3 {
            let date = local_date + Duration::days(day);
            // Where the window can open that day: at its opening on the clock, once, or twice
            // in the hour the clocks repeat (01:30 comes again an hour later on the fall-back
            // day); and when the clocks go back into it (23:00–01:30 opens again at 02:00 PDT,
            // which becomes 01:00 PST). A window that lies wholly in the hour the clocks skip
            // (02:00–03:00 on the spring-forward day) does not open that day: its opening maps
            // to 03:00, outside it.
            let later = |t: NaiveTime| match PACIFIC.from_local_datetime(&date.and_time(t)) {
                chrono::LocalResult::Ambiguous(_, late) => Some(late.with_timezone(&Utc)),
                _ => None,
            };
            let clocks_back = (0..24).filter_map(|h| NaiveTime::from_hms_opt(h, 0, 0)).find_map(later);
            let candidates = [Some(pacific_instant(date, self.from)), later(self.from), clocks_back];
            if let Some(open) = candidates.into_iter().flatten().filter(|open| *open >= at && self.contains(*open)).min() {
                return open;
            }
        }
        at
    }
}

impl fmt::Display for NotificationHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", self.from.format("%H:%M"), self.until.format("%H:%M"))
    }
}

/// Parses `HH:MM` (24-hour clock).
pub fn parse_hhmm(text: &str) -> Option<NaiveTime> {
    let t = text.trim();
    if t.len() != 5 || t.as_bytes()[2] != b':' {
        return None;
    }
    NaiveTime::parse_from_str(t, "%H:%M").ok()
}

mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_hhmm(&text).ok_or_else(|| serde::de::Error::custom("expected HH:MM"))
    }
}

/// How often a release of held messages that failed in part runs again under a schedule of its
/// own, before the failure is left to Lambda's retries and the dead-letter queue.
pub const RELEASE_RETRIES: u32 = 10;

/// When a release that failed in part runs again, after its `retry`-th failure (from 0): 1, 2,
/// 4, 8, then every 15 minutes, ten times in all (1 h 45 min); none after that.
pub fn release_retry_after(retry: u32) -> Option<Duration> {
    (retry < RELEASE_RETRIES).then(|| Duration::minutes((1i64 << retry.min(4)).min(15)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failed_release_runs_again_backing_off_to_a_quarter_hour_for_about_two_hours() {
        let waits: Vec<i64> = (0..12).map_while(super::release_retry_after).map(|d| d.num_minutes()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 15, 15, 15, 15, 15, 15]);
        assert_eq!(waits.iter().sum::<i64>(), 105, "the last retry comes 1 h 45 min after the first failure");
    }

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_status_at_11pm_waits_for_8am_next_morning() {
        let hours = NotificationHours::default();
        let late = utc("2026-10-20T23:30:00-07:00");
        assert!(!hours.contains(late));
        assert_eq!(hours.next_open(late), utc("2026-10-21T08:00:00-07:00"));
    }

    #[test]
    fn inside_the_window_is_now_and_the_closing_minute_is_outside() {
        let hours = NotificationHours::default();
        let noon = utc("2026-10-20T12:00:00-07:00");
        assert_eq!(hours.next_open(noon), noon);
        let eight_pm = utc("2026-10-20T20:00:00-07:00");
        assert_eq!(hours.next_open(eight_pm), utc("2026-10-21T08:00:00-07:00"));
        let early = utc("2026-10-20T05:10:00-07:00");
        assert_eq!(hours.next_open(early), utc("2026-10-20T08:00:00-07:00"));
    }

    #[test]
    fn the_morning_after_the_clocks_fall_back_opens_at_8am_standard_time() {
        // 2026-11-01 02:00 PDT becomes 01:00 PST. A message held overnight from Saturday
        // is released at 08:00 PST on Sunday, which is 16:00 UTC, not 15:00.
        let hours = NotificationHours::default();
        let saturday_night = utc("2026-10-31T22:00:00-07:00");
        assert_eq!(hours.next_open(saturday_night), utc("2026-11-01T16:00:00Z"));
    }

    #[test]
    fn custom_and_overnight_windows() {
        let nine_to_five = NotificationHours::parse("09:00", "17:00").unwrap();
        assert_eq!(nine_to_five.next_open(utc("2026-10-20T17:30:00-07:00")), utc("2026-10-21T09:00:00-07:00"));
        let night_owl = NotificationHours::parse("18:00", "01:00").unwrap();
        assert!(night_owl.contains(utc("2026-10-20T23:30:00-07:00")));
        assert!(night_owl.contains(utc("2026-10-21T00:30:00-07:00")));
        assert_eq!(night_owl.next_open(utc("2026-10-21T09:00:00-07:00")), utc("2026-10-21T18:00:00-07:00"));
    }

    #[test]
    fn every_window_opens_at_its_first_minute_on_every_dst_day_of_2026_to_2030() {
        // Window shapes: the default, a short day, overnight (both ways across midnight), any
        // time (equal ends), and ends inside the skipped spring hour and the repeated autumn one.
        let windows = [
            ("08:00", "20:00"),
            ("09:00", "17:00"),
            ("22:00", "06:00"),
            ("18:00", "01:00"),
            ("09:00", "09:00"),
            ("02:30", "10:00"),
            ("02:00", "03:00"),
            ("02:30", "03:00"),
            ("01:30", "05:00"),
            ("01:00", "02:00"),
            ("20:00", "02:30"),
            ("23:00", "01:30"),
        ];
        let mut checked = 0;
        for year in 2026..=2030 {
            // The second Sunday of March and the first of November (US rules since 2007).
            let sunday = |month: u32, nth: u32| {
                let first = chrono::NaiveDate::from_ymd_opt(year, month, 1).unwrap();
                let offset = (7 - chrono::Datelike::weekday(&first).num_days_from_sunday()) % 7;
                first + Duration::days(i64::from(offset + 7 * (nth - 1)))
            };
            for day in [sunday(3, 2), sunday(11, 1)] {
                let start = crate::time::pacific_start_of_day(day - Duration::days(1));
                for (from, until) in windows {
                    let hours = NotificationHours::parse(from, until).unwrap();
                    // Minute by minute over five days, whether the window holds each minute;
                    // then, from the last back, the first minute it holds at or after each.
                    let minutes: Vec<DateTime<Utc>> = (0..5 * 24 * 60).map(|m| start + Duration::minutes(m)).collect();
                    let mut first_open = vec![None; minutes.len() + 1];
                    for i in (0..minutes.len()).rev() {
                        first_open[i] = if hours.contains(minutes[i]) { Some(minutes[i]) } else { first_open[i + 1] };
                    }
                    // Every minute from the day before the change to the day after.
                    for (i, at) in minutes.iter().take(3 * 24 * 60).enumerate() {
                        let got = hours.next_open(*at);
                        assert_eq!(Some(got), first_open[i], "{hours} at {at} ({day})");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 10 * 12 * 3 * 24 * 60);
    }

    #[test]
    fn bad_hours_name_the_field_and_empty_takes_the_default() {
        assert_eq!(NotificationHours::parse("", "").unwrap(), NotificationHours::default());
        assert_eq!(NotificationHours::parse("8am", ""), Err("notify_from"));
        assert_eq!(NotificationHours::parse("08:00", "25:00"), Err("notify_until"));
    }
}

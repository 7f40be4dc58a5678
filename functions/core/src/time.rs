//! Times as the county files write them, and the Pacific clock every rule is judged on.
//!
//! The core has no clock of its own: every decision takes `now` as an argument.

use chrono::{DateTime, Timelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::America::Los_Angeles;
use chrono_tz::Tz;

/// The time zone every election rule (tracking window, notification hours) is judged in.
pub const PACIFIC: Tz = Los_Angeles;

/// Parses an RFC 3339 timestamp with an offset (`2026-10-06T09:15:00-07:00`, `...Z`, fractional
/// seconds allowed). Written by hand because it runs once per row of a statewide file.
pub fn parse_rfc3339(text: &[u8]) -> Option<DateTime<Utc>> {
    fn num(b: &[u8]) -> Option<i64> {
        let mut v = 0i64;
        for &c in b {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as i64;
        }
        Some(v)
    }
    if text.len() < 20 {
        return None;
    }
    if text[4] != b'-' || text[7] != b'-' || !matches!(text[10], b'T' | b't' | b' ') || text[13] != b':' || text[16] != b':' {
        return None;
    }
    let year = num(&text[0..4])?;
    let month = num(&text[5..7])? as u32;
    let day = num(&text[8..10])? as u32;
    let hour = num(&text[11..13])?;
    let minute = num(&text[14..16])?;
    let second = num(&text[17..19])?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos = 0u32;
    if rest.first() == Some(&b'.') {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let frac = &rest[1..1 + digits];
        let mut n = 0u32;
        for (i, &c) in frac.iter().take(9).enumerate() {
            n += (c - b'0') as u32 * 10u32.pow(8 - i as u32);
        }
        nanos = n;
        rest = &rest[1 + digits..];
    }
    let offset_seconds = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = num(&[*h1, *h2])?;
            let m = num(&[*m1, *m2])?;
            if h > 23 || m > 59 {
                return None;
            }
            let s = h * 3600 + m * 60;
            if *sign == b'-' { -s } else { s }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_seconds;
    DateTime::from_timestamp(secs, nanos)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD`: ten characters, digits where the form has them (chrono's `%Y` alone
/// would also take a sign, `-001-01-01`).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return None;
    }
    let number = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10))
}

/// The instant a Pacific wall-clock time happens on a date. In the spring-forward gap the clock
/// jumps, so the first instant after the gap is taken; in the autumn overlap, the earlier one.
pub fn pacific_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut local = NaiveDateTime::new(date, time);
    for _ in 0..4 {
        match PACIFIC.from_local_datetime(&local) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(early, _) => return early.with_timezone(&Utc),
            LocalResult::None => {
                // Inside the spring-forward gap: the next whole hour is the first time that exists.
                local = local.date().and_time(NaiveTime::from_hms_opt(local.hour(), 0, 0).unwrap_or(NaiveTime::MIN))
                    + Duration::hours(1);
            }
        }
    }
    Utc.from_utc_datetime(&local)
}

/// Midnight, Pacific time, at the start of a date.
pub fn pacific_start_of_day(date: NaiveDate) -> DateTime<Utc> {
    pacific_instant(date, NaiveTime::MIN)
}

/// The Pacific calendar date of an instant.
pub fn pacific_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&PACIFIC).date_naive()
}

/// An instant as the compact stored lines write it (kept facts, the local ledger): Unix seconds,
/// with `.` and nine digits of fraction when it has one (ten for a leap second, which chrono
/// counts as a second billion nanoseconds), so two instants a fraction apart keep their order.
pub fn push_unix(out: &mut String, at: &DateTime<Utc>) {
    use std::fmt::Write;
    // Written into a String, which cannot fail.
    let _ = match at.timestamp_subsec_nanos() {
        0 => write!(out, "{}", at.timestamp()),
        nanos => write!(out, "{}.{nanos:09}", at.timestamp()),
    };
}

/// [`push_unix`]'s form read back; None if the text is not one.
pub fn parse_unix(text: &str) -> Option<DateTime<Utc>> {
    let (secs, nanos) = match text.split_once('.') {
        None => (text, 0),
        Some((secs, fraction)) if (9..=10).contains(&fraction.len()) && fraction.bytes().all(|b| b.is_ascii_digit()) => (secs, fraction.parse().ok()?),
        Some(_) => return None,
    };
    DateTime::from_timestamp(secs.parse().ok()?, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn rfc3339_with_offsets_and_fractions_agrees_with_chrono() {
        for s in [
            "2026-10-06T09:15:00-07:00",
            "2026-11-03T20:00:00Z",
            "2026-11-03T20:00:00.123456+05:30",
            "2024-02-29T23:59:59-08:00",
            "1999-12-31T23:59:59.5z",
        ] {
            assert_eq!(parse_rfc3339(s.as_bytes()), Some(utc(&s.to_uppercase())), "{s}");
        }
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for s in [
            "2026-10-06",
            "2026-10-06T09:15:00",
            "2026-13-06T09:15:00Z",
            "2026-02-30T09:15:00Z",
            "2025-02-29T09:15:00Z",
            "2026-10-06T24:15:00Z",
            "2026-10-06T09:15:00+7:00",
            "2026-10-06T09:15:00.Z",
            "20x6-10-06T09:15:00Z",
            "2026-10-06T09:15:00-07:00 ",
        ] {
            assert_eq!(parse_rfc3339(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn a_date_is_read_only_in_its_own_form() {
        assert_eq!(parse_date("1966-03-16"), NaiveDate::from_ymd_opt(1966, 3, 16));
        assert_eq!(parse_date("2028-02-29"), NaiveDate::from_ymd_opt(2028, 2, 29));
        assert_eq!(parse_date("0905-01-02"), NaiveDate::from_ymd_opt(905, 1, 2));
        for s in ["-001-01-01", "+001-01-01", "2026-02-30", "2026-13-01", "2026-1-011", " 2026-1-01", "2026/01/01", "2026-01-1x", "20260-1-01", "2026-01-01 ", "", "１９６６-03-16"] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn pacific_times_follow_daylight_saving() {
        let d = |s| parse_date(s).unwrap();
        let eight = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        // PDT (UTC-7) before the first Sunday of November 2026, PST (UTC-8) after.
        assert_eq!(pacific_instant(d("2026-10-31"), eight), utc("2026-10-31T15:00:00Z"));
        assert_eq!(pacific_instant(d("2026-11-02"), eight), utc("2026-11-02T16:00:00Z"));
        // 02:30 does not exist on 2026-03-08: the clock reads 03:00 PDT next.
        let half_two = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        assert_eq!(pacific_instant(d("2026-03-08"), half_two), utc("2026-03-08T10:00:00Z"));
        // 01:30 happens twice on 2026-11-01: the first (PDT) is taken.
        let half_one = NaiveTime::from_hms_opt(1, 30, 0).unwrap();
        assert_eq!(pacific_instant(d("2026-11-01"), half_one), utc("2026-11-01T08:30:00Z"));
    }
}

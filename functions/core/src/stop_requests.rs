//! Stops a voter asked for some other way than a reply, a link or the page: a call to the
//! Secretary of State's voter hotline (which the messages name), a letter, a word at a county's
//! counter. Consent may be revoked by any reasonable means and must be honoured within 10
//! business days (FCC 24-24). The Secretary of State's staff write each such request as a row of
//! a `stops` file (`incoming/sos/stops/<file>.csv`, header [`HEADER`]), with when the voter asked
//! (`requested_at`), naming one of:
//!
//! - **a phone**, with `sms`, `voice` or both (none named: both): texts and calls to it stop for
//!   every voter they go to, as the phone's own STOP and a 9 pressed on a call do, remembered by
//!   the phone (a signups file naming it does not restart it; START from it does, for texts);
//! - **an email address**: email to it stops for every voter it goes to, as its unsubscribe
//!   link does;
//! - **a VoteCal ID**, once the staff member has checked who is asking: the channels named stop
//!   for that voter, as her own stop on the page does. With none named (or `all`), her sign-up
//!   ends: every channel stopped and her contact details erased at once, not 30 days later. This
//!   is also what undoes a sign-up a stranger made with her name: whoever holds those contacts
//!   can no longer start it again by START, nor a signups file sent again bring them back, nor
//!   a code already sent to them open anything; she may sign up afresh on the page without a
//!   code from them.
//!
//! A county's staff, asked at the counter or on the phone the messages give for the county, send
//! the same file to the county's own folder (`incoming/<NN>/stops/<file>.csv`). Its rows reach
//! that county's voters only: a phone or an address stops for the county's voters whose messages
//! go there, each remembered as that voter's own stop (the contact's as a whole only where no
//! other voter has it), and a VoteCal ID must be a voter of the county's roll.
//!
//! Each request is applied once (a claim in the ledger under a keyed name of what it asks), so a
//! file read again days later (sent again, or its dead letters sent back) undoes nothing the
//! voter did since. Nor does the Secretary of State's row, read late, undo a START the phone
//! texted after the voter asked (and no STOP since): its texts go on, its calls stop as asked,
//! and the row is reported at its `requested_at`. A county's row applies all the same: it is
//! each voter's own stop, which a START from a phone voters share does not lift. Nothing is sent: the caller was told on the phone, and a file read at night
//! must not text.

use crate::county::CountyCode;
use crate::formats::{text, votecal_id, FieldError, FileKind, RowFormat};
use crate::signup::{normalize_name, valid_email};
use crate::status::Channel;
use crate::time::{pacific_instant, parse_date, parse_rfc3339};
use chrono::{DateTime, NaiveTime, Utc};
use csv::ByteRecord;

/// The columns of a `stops` file: a VoteCal ID with the voter's last name (as a check), a phone
/// or an email address; the channels to stop; and when the voter asked.
pub const HEADER: [&str; 6] = ["votecal_id", "last_name", "phone", "email", "channels", "requested_at"];

/// One request to stop, as a `stops` file's row gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopRequest {
    pub stop: Stop,
    /// When the voter asked.
    pub requested_at: DateTime<Utc>,
}

/// What a request stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Texts, calls or both to a phone (E.164), for every voter they go to.
    Phone { phone: String, channels: Vec<Channel> },
    /// Email to an address, for every voter it goes to.
    Email { email: String },
    /// A voter's own channels; none: her whole sign-up, her contact details erased now. Her last
    /// name must be the roll's (a mistyped VoteCal ID must not end another voter's sign-up).
    Voter { votecal_id: String, last_name: String, channels: Vec<Channel> },
}

impl StopRequest {
    /// What the request asks, written out whole: two rows that ask the same are one request.
    fn identity(&self, scope: Option<CountyCode>) -> String {
        let list = |cs: &[Channel]| cs.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" ");
        let what = match &self.stop {
            Stop::Phone { phone, channels } => format!("phone|{phone}|{}", list(channels)),
            Stop::Email { email } => format!("email|{}", email.to_lowercase()),
            Stop::Voter { votecal_id, channels, .. } => format!("voter|{votecal_id}|{}", list(channels)),
        };
        match scope {
            None => format!("{what}|{}", self.requested_at.timestamp()),
            Some(county) => format!("{what}|{}|county {county}", self.requested_at.timestamp()),
        }
    }
}

/// Whether two spellings of a last name are the same name: case, accents, spaces and punctuation
/// aside ("De La Cruz" and "delacruz", "Ramírez" and "RAMIREZ", "O'Brien" and "O’Brien",
/// "Smith-Jones" and "Smith Jones").
fn same_surname(a: &str, b: &str) -> bool {
    let squash = |s: &str| normalize_name(s).chars().filter(|c| c.is_alphanumeric()).collect::<String>();
    squash(a) == squash(b)
}

impl RowFormat for StopRequest {
    const KIND: FileKind = FileKind::Stops;
    fn parse(r: &ByteRecord) -> Result<Self, FieldError> {
        let (id, last_name, phone, email) = (text("votecal_id", &r[0])?, text("last_name", &r[1])?, text("phone", &r[2])?, text("email", &r[3])?);
        let channels = channels(text("channels", &r[4])?)?;
        let requested_at = requested_at(text("requested_at", &r[5])?)?;
        if [id, phone, email].iter().filter(|f| !f.is_empty()).count() != 1 {
            return Err(FieldError::new("votecal_id", "give exactly one of votecal_id, phone and email (a row for each)"));
        }
        if id.is_empty() != last_name.is_empty() {
            return Err(FieldError::new("last_name", "goes with a votecal_id, and only with one: the voter's last name, as a check of the ID"));
        }
        let stop = if !id.is_empty() {
            Stop::Voter { votecal_id: votecal_id(id.as_bytes())?.to_string(), last_name: last_name.to_string(), channels }
        } else if !phone.is_empty() {
            let phone = us_phone(phone).ok_or_else(|| FieldError::new("phone", "is not a US phone number that can be texted or called (e.g. +19165550100 or (916) 555-0100)"))?;
            if channels.contains(&Channel::Email) {
                return Err(FieldError::new("channels", "a phone's are sms and voice (email goes in a row of its own, with the address)"));
            }
            let channels = if channels.is_empty() { vec![Channel::Sms, Channel::Voice] } else { channels };
            Stop::Phone { phone, channels }
        } else {
            if !valid_email(email) {
                return Err(FieldError::new("email", "is not an email address"));
            }
            if channels.iter().any(|c| *c != Channel::Email) {
                return Err(FieldError::new("channels", "an email address's is email (a phone goes in a row of its own)"));
            }
            Stop::Email { email: email.to_string() }
        };
        Ok(StopRequest { stop, requested_at })
    }
}

/// `sms`, `email`, `voice` (or `texts`, `emails`, `calls`) in any order, between spaces, commas,
/// `;`, `/`, `&`, `+` or "and"; `all`, or nothing: every channel the row's contact or voter has.
fn channels(t: &str) -> Result<Vec<Channel>, FieldError> {
    let mut out = vec![];
    let between = |c: char| c.is_whitespace() || ",;/&+".contains(c);
    let words: Vec<String> = t.split(between).filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("and")).map(str::to_ascii_lowercase).collect();
    if words.iter().any(|w| w == "all") {
        return Ok(out);
    }
    for word in words {
        let c = match word.as_str() {
            "sms" | "text" | "texts" => Channel::Sms,
            "email" | "emails" => Channel::Email,
            "voice" | "call" | "calls" => Channel::Voice,
            _ => return Err(FieldError::new("channels", format!("'{word}' is not sms, email, voice or all"))),
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out.sort();
    Ok(out)
}

/// A US number as staff write it down (`+19165550100`, `(916) 555-0100`, `916.555.0100`,
/// `916/555-0100`, `1 916 555 0100`) in E.164, if it is one that can be texted or called.
fn us_phone(t: &str) -> Option<String> {
    let separator = |c: char| c.is_whitespace() || "-‐‑‒–—()./".contains(c);
    let rest = t.strip_prefix('+').unwrap_or(t);
    if !rest.chars().all(|c| c.is_ascii_digit() || separator(c)) {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let e164 = match digits.len() {
        10 => format!("+1{digits}"),
        11 if digits.starts_with('1') => format!("+{digits}"),
        _ => return None,
    };
    crate::phone::valid_phone(&e164).then_some(e164)
}

/// When the voter asked: an RFC 3339 time (`2026-11-16T09:30:00-08:00`), a Pacific date and time
/// (`2026-11-16 09:30`, or `11/16/2026 9:30` as a US spreadsheet writes it), or a Pacific date
/// alone (its last second, or the file's reading if sooner: a START texted that day before the
/// call is not taken).
fn requested_at(t: &str) -> Result<DateTime<Utc>, FieldError> {
    if t.is_empty() {
        return Err(FieldError::new("requested_at", "is empty: when the voter asked, e.g. 2026-11-16 09:30 (Pacific)"));
    }
    if let Some(at) = parse_rfc3339(t.as_bytes()) {
        return Ok(at);
    }
    let (date, time) = t.split_once([' ', 'T']).map_or((t, None), |(d, h)| (d, Some(h.trim())));
    let us_date = || chrono::NaiveDate::parse_from_str(date, "%m/%d/%Y").ok().filter(|_| date.rsplit('/').next().is_some_and(|y| y.len() == 4));
    let date = parse_date(date).or_else(us_date);
    let time = match time {
        None => Some(NaiveTime::from_hms_opt(23, 59, 59).expect("a time")),
        Some(h) => NaiveTime::parse_from_str(h, "%H:%M").or_else(|_| NaiveTime::parse_from_str(h, "%H:%M:%S")).ok(),
    };
    match (date, time) {
        (Some(d), Some(h)) => Ok(pacific_instant(d, h)),
        _ => Err(FieldError::new("requested_at", format!("'{t}' is not a date (2026-11-16), a Pacific date and time (2026-11-16 09:30) or an RFC 3339 time"))),
    }
}

mod apply;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: [&str; 4]) -> Result<Stop, FieldError> {
        let last_name = if fields[0].is_empty() { "" } else { "Lee" };
        let mut all = vec![fields[0], last_name, fields[1], fields[2], fields[3]];
        all.push("2026-11-16 09:30");
        StopRequest::parse(&ByteRecord::from(all)).map(|r| r.stop)
    }

    fn asked(at: &str) -> Result<DateTime<Utc>, FieldError> {
        StopRequest::parse(&ByteRecord::from(vec!["V1", "Lee", "", "", "", at])).map(|r| r.requested_at)
    }

    #[test]
    fn a_row_names_one_phone_address_or_voter_and_the_channels_that_fit_it() {
        let phone = |channels: Vec<Channel>| Ok(Stop::Phone { phone: "+19165550100".into(), channels });
        assert_eq!(row(["", "(916) 555-0100", "", ""]), phone(vec![Channel::Sms, Channel::Voice]));
        assert_eq!(row(["", "+1 916-555-0100", "", "voice"]), phone(vec![Channel::Voice]));
        assert_eq!(row(["", "19165550100", "", "voice;SMS"]), phone(vec![Channel::Sms, Channel::Voice]));
        assert_eq!(row(["", "916/555\u{a0}0100", "", "texts, calls"]), phone(vec![Channel::Sms, Channel::Voice]));
        assert_eq!(row(["", "916\u{2013}555\u{2013}0100", "", "text"]), phone(vec![Channel::Sms]));
        assert_eq!(row(["", "9165550100", "", "Texts and calls"]), phone(vec![Channel::Sms, Channel::Voice]));
        assert_eq!(row(["", "9165550100", "", "texts/calls"]), phone(vec![Channel::Sms, Channel::Voice]));
        assert_eq!(row(["", "9165550100", "", "calls\u{a0}&\u{a0}texts"]), phone(vec![Channel::Sms, Channel::Voice]));
        assert_eq!(row(["", "", " Ann@Example.com ", "all"]), Ok(Stop::Email { email: "Ann@Example.com".into() }));
        let voter = |channels: Vec<Channel>| Ok(Stop::Voter { votecal_id: "V123".into(), last_name: "Lee".into(), channels });
        assert_eq!(row(["V123", "", "", ""]), voter(vec![]));
        assert_eq!(row(["V123", "", "", "email sms"]), voter(vec![Channel::Sms, Channel::Email]));
        // A VoteCal ID goes with the voter's last name, and a contact without one
        let parsed = |f: [&str; 6]| StopRequest::parse(&ByteRecord::from(f.to_vec())).map(|r| r.stop);
        assert_eq!(parsed(["V123", "", "", "", "", "2026-11-16"]).unwrap_err().field, "last_name");
        assert_eq!(parsed(["", "Lee", "+19165550100", "", "", "2026-11-16"]).unwrap_err().field, "last_name");
        let field = |r: Result<Stop, FieldError>| r.unwrap_err().field;
        // Two at once, or none: which one is meant is the staff's to say.
        assert_eq!(field(row(["V123", "+19165550100", "", ""])), "votecal_id");
        assert_eq!(field(row(["", "", "", "sms"])), "votecal_id");
        // A number that cannot be a US mobile or landline, or a Canadian one; a bad address
        assert_eq!(field(row(["", "+19005550100", "", ""])), "phone");
        assert_eq!(field(row(["", "+16045550100", "", ""])), "phone");
        assert_eq!(field(row(["", "916-555-010", "", ""])), "phone");
        assert_eq!(field(row(["", "916+5550100", "", ""])), "phone");
        assert_eq!(field(row(["", "", "ann.example.com", ""])), "email");
        // Channels a contact does not have, or no channel at all
        assert_eq!(field(row(["", "+19165550100", "", "email"])), "channels");
        assert_eq!(field(row(["", "", "ann@example.com", "sms"])), "channels");
        assert_eq!(field(row(["V123", "", "", "fax"])), "channels");
        assert_eq!(field(row(["bad id!", "", "", ""])), "votecal_id");
    }

    #[test]
    fn a_last_name_matches_the_roll_whatever_its_case_accents_spaces_and_punctuation() {
        for (roll, typed) in [("De La Cruz", "de la cruz"), ("De La Cruz", "DeLaCruz"), ("Ramírez", "RAMIREZ"), ("O'Brien", "O’Brien"), ("O'Brien", "OBrien"), ("Smith-Jones", "Smith Jones")] {
            assert!(same_surname(roll, typed), "{roll} / {typed}");
        }
        for (roll, typed) in [("Lee", "Li"), ("Smith-Jones", "Smith"), ("Chen", "")] {
            assert!(!same_surname(roll, typed), "{roll} / {typed}");
        }
    }

    #[test]
    fn when_the_voter_asked_is_a_time_a_pacific_time_or_a_whole_day() {
        let utc = |s: &str| Ok(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
        assert_eq!(asked("2026-11-16T09:30:00-08:00"), utc("2026-11-16T17:30:00Z"));
        assert_eq!(asked("2026-11-16 09:30"), utc("2026-11-16T17:30:00Z"));
        assert_eq!(asked("2026-07-16 09:30:15"), utc("2026-07-16T16:30:15Z"));
        assert_eq!(asked("2026-11-16"), utc("2026-11-17T07:59:59Z"));
        assert_eq!(asked("11/16/2026 9:30"), utc("2026-11-16T17:30:00Z"));
        assert_eq!(asked("1/6/2026"), utc("2026-01-07T07:59:59Z"));
        for bad in ["", "16/11/2026", "11/16/26", "2026-11-16 9.30", "yesterday"] {
            assert_eq!(asked(bad).unwrap_err().field, "requested_at", "{bad}");
        }
    }
}

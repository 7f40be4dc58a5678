//! County enrolment, as the guidance sets it: a statewide election enrols every county unless it
//! opts out; a special or local election enrols only the counties that asked at least
//! [`MIN_DAYS_BEFORE_ELECTION`] days before election day. A county's enrolment states whether it
//! takes part, when it asked, its own tracking start, its IMb use, its contact details and its
//! cure deadline (the county fields the messages use). One TOML file per county and election:
//!
//! ```toml
//! election_id = "2027-03-09-SPL"
//! county = "19"
//! decision = "enrol"              # enrol | opt-out
//! requested = "2026-11-20"        # the day the county asked
//! tracking_start = "2027-02-10"   # optional: not before the election's own
//! imb = "both"                    # optional: none | outbound | inbound | both
//! phone = "(800) 555-0119"        # optional, each: the county's contact in messages
//! email = "vbm@lavote.example.gov"
//! url = "https://lavote.example.gov"
//! cure_deadline = "2027-04-06"    # optional
//! ```

use crate::county::CountyCode;
use crate::election::{Election, ElectionKind, ImbUse};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

/// How many days before election day a county must ask to take part in a special or local election.
pub const MIN_DAYS_BEFORE_ELECTION: i64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Enrol,
    OptOut,
}

/// A county's enrolment in one election, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    pub election_id: String,
    pub county: CountyCode,
    pub decision: Decision,
    pub requested: NaiveDate,
    pub tracking_start: Option<NaiveDate>,
    pub imb: Option<ImbUse>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub url: Option<String>,
    pub cure_deadline: Option<NaiveDate>,
}

/// Why an enrolment was refused: the file, the field and the reason (no personal data: the file
/// holds a county's office details only).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {field}: {reason}")]
pub struct EnrolmentError {
    pub file: String,
    pub field: String,
    pub reason: String,
}

impl Enrolment {
    pub fn from_toml(file: &str, text: &str) -> Result<Enrolment, EnrolmentError> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            // The field: a missing one is named in the message; a bad value by the line its span
            // starts on (the message names the value, as in "unknown variant `Enrol`").
            let named = || e.message().strip_prefix("missing field `").and_then(|m| m.split('`').next()).map(str::to_string);
            let field = named().or_else(|| e.span().and_then(|span| key_on_line_at(text, span.start))).unwrap_or_else(|| "file".to_string());
            EnrolmentError { file: file.to_string(), field, reason: e.message().to_string() }
        })
    }
}

/// The key of the `key = value` line that holds byte `at`, if that line is one.
fn key_on_line_at(text: &str, at: usize) -> Option<String> {
    let start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')).then(|| key.to_string())
}

impl Election {
    /// Applies a county's enrolment, or refuses it with the field and the reason. Applying the
    /// same enrolment again changes nothing.
    pub fn enrol(&mut self, file: &str, e: &Enrolment) -> Result<(), EnrolmentError> {
        let refuse = |field: &str, reason: String| EnrolmentError { file: file.to_string(), field: field.to_string(), reason };
        if e.election_id != self.def.id {
            return Err(refuse("election_id", format!("'{}' is not this election ('{}')", e.election_id, self.def.id)));
        }
        let date = self.def.date;
        if e.requested > date {
            return Err(refuse("requested", format!("{} is after election day ({date})", e.requested)));
        }
        let kind = self.def.kind;
        if e.decision == Decision::Enrol && kind != ElectionKind::Statewide {
            let latest = date - Duration::days(MIN_DAYS_BEFORE_ELECTION);
            if e.requested > latest {
                let days = (date - e.requested).num_days();
                return Err(refuse(
                    "requested",
                    format!(
                        "{} is {days} days before election day; a special or local election takes a county that asked at least {MIN_DAYS_BEFORE_ELECTION} days before (by {latest})",
                        e.requested
                    ),
                ));
            }
        }
        if let Some(start) = e.tracking_start {
            if start < self.tracking_start || start > date {
                return Err(refuse("tracking_start", format!("{start} must fall between the election's tracking start ({}) and election day", self.tracking_start)));
            }
        }
        for (field, value) in [("phone", &e.phone), ("email", &e.email), ("url", &e.url)] {
            if let Some(problem) = value.as_deref().and_then(|v| crate::election::contact_problem(field, v)) {
                return Err(refuse(field, problem));
            }
        }
        if let Some(deadline) = e.cure_deadline {
            if deadline < date || deadline > self.tracking_end {
                return Err(refuse("cure_deadline", format!("{deadline} must fall between election day and tracking_end ({})", self.tracking_end)));
            }
        }
        let county = e.county;
        let enrolled = &mut self.def.enrolled;
        let opted_out = &mut self.def.opted_out;
        match (kind, e.decision) {
            (ElectionKind::Statewide, Decision::Enrol) => opted_out.retain(|c| *c != county),
            (ElectionKind::Statewide, Decision::OptOut) if !opted_out.contains(&county) => opted_out.push(county),
            (_, Decision::Enrol) if !enrolled.contains(&county) => enrolled.push(county),
            (ElectionKind::Special | ElectionKind::Local, Decision::OptOut) => enrolled.retain(|c| *c != county),
            _ => {}
        }
        let settings = self.def.counties.entry(county).or_default();
        if let Some(imb) = e.imb {
            settings.imb = Some(imb);
        }
        for (field, value) in [(&mut settings.phone, &e.phone), (&mut settings.email, &e.email), (&mut settings.url, &e.url)] {
            if value.is_some() {
                *field = value.clone();
            }
        }
        if e.cure_deadline.is_some() {
            settings.cure_deadline = e.cure_deadline;
        }
        if e.tracking_start.is_some() {
            settings.tracking_start = e.tracking_start;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECIAL: &str = "id = \"2027-03-09-SPL\"\nname = \"Special Election\"\ndate = \"2027-03-09\"\nkind = \"special\"\nenrolled = [\"01\"]\n\
        [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n";

    fn enrolment(county: &str, decision: &str, requested: &str, extra: &str) -> Enrolment {
        let text = format!("election_id = \"2027-03-09-SPL\"\ncounty = \"{county}\"\ndecision = \"{decision}\"\nrequested = \"{requested}\"\n{extra}");
        Enrolment::from_toml("19.toml", &text).unwrap()
    }

    #[test]
    fn a_special_election_takes_a_county_that_asked_90_days_before_and_refuses_a_late_one() {
        let mut e = Election::from_toml("special.toml", SPECIAL).unwrap();
        let la = CountyCode::parse("19").unwrap();
        assert!(!e.is_enrolled(la));
        // 9 Dec 2026 is exactly 90 days before 9 Mar 2027
        let on_time = enrolment("19", "enrol", "2026-12-09", "imb = \"both\"\nphone = \"(800) 555-0119\"\ntracking_start = \"2027-02-10\"\ncure_deadline = \"2027-04-05\"\n");
        e.enrol("19.toml", &on_time).unwrap();
        assert!(e.is_enrolled(la));
        assert_eq!(e.imb_use(la), ImbUse::Both);
        assert_eq!(e.contact(la).phone, "(800) 555-0119");
        assert_eq!(e.contact(la).email, "elections@example.gov", "unset fields keep the default contact");
        assert_eq!(e.cure_deadline_date(la), NaiveDate::from_ymd_opt(2027, 4, 5).unwrap());
        assert_eq!(e.county_window_opens(la), crate::time::pacific_start_of_day(NaiveDate::from_ymd_opt(2027, 2, 10).unwrap()));
        e.enrol("19.toml", &on_time).unwrap();
        assert_eq!(e.def.enrolled.iter().filter(|c| **c == la).count(), 1, "the same file twice enrols once");
        // A day late: refused, naming the field, the days and the rule
        let late = enrolment("37", "enrol", "2026-12-10", "");
        let err = e.enrol("37.toml", &late).unwrap_err();
        assert_eq!(err.field, "requested");
        assert!(err.to_string().starts_with("37.toml: requested: 2026-12-10 is 89 days before election day") && err.reason.contains("2026-12-09"), "{err}");
        assert!(!e.is_enrolled(CountyCode::parse("37").unwrap()));
    }

    #[test]
    fn a_special_election_may_list_no_county_and_take_them_by_their_enrolment_files() {
        let none = SPECIAL.replace("enrolled = [\"01\"]", "enrolled = []");
        let mut e = Election::from_toml("special.toml", &none).expect("no county listed yet");
        assert!(!e.is_enrolled(CountyCode::parse("01").unwrap()));
        e.enrol("19.toml", &enrolment("19", "enrol", "2026-12-09", "")).unwrap();
        assert!(e.is_enrolled(CountyCode::parse("19").unwrap()));
        assert!(!e.is_enrolled(CountyCode::parse("37").unwrap()));
    }

    #[test]
    fn a_statewide_election_enrols_every_county_unless_it_opts_out_whenever_it_says_so() {
        let statewide = SPECIAL.replace("kind = \"special\"\nenrolled = [\"01\"]", "kind = \"statewide\"");
        let mut e = Election::from_toml("e.toml", &statewide).unwrap();
        let sierra = CountyCode::parse("46").unwrap();
        assert!(e.is_enrolled(sierra));
        let out = Enrolment::from_toml("46.toml", "election_id = \"2027-03-09-SPL\"\ncounty = \"46\"\ndecision = \"opt-out\"\nrequested = \"2027-03-01\"\n").unwrap();
        e.enrol("46.toml", &out).unwrap();
        assert!(!e.is_enrolled(sierra));
        let back = Enrolment::from_toml("46.toml", "election_id = \"2027-03-09-SPL\"\ncounty = \"46\"\ndecision = \"enrol\"\nrequested = \"2027-03-02\"\n").unwrap();
        e.enrol("46.toml", &back).unwrap();
        assert!(e.is_enrolled(sierra), "a statewide election has no 90-day rule");
    }

    #[test]
    fn bad_enrolments_are_refused_with_the_file_and_the_field() {
        let mut e = Election::from_toml("special.toml", SPECIAL).unwrap();
        let other = Enrolment::from_toml("x.toml", "election_id = \"2026-11-03-GEN\"\ncounty = \"19\"\ndecision = \"enrol\"\nrequested = \"2026-01-01\"\n").unwrap();
        assert_eq!(e.enrol("x.toml", &other).unwrap_err().field, "election_id");
        let early_start = enrolment("19", "enrol", "2026-11-01", "tracking_start = \"2026-12-01\"\n");
        assert_eq!(e.enrol("19.toml", &early_start).unwrap_err().field, "tracking_start");
        let bad_deadline = enrolment("19", "enrol", "2026-11-01", "cure_deadline = \"2027-03-01\"\n");
        assert_eq!(e.enrol("19.toml", &bad_deadline).unwrap_err().field, "cure_deadline");
        let bad_url = enrolment("19", "enrol", "2026-11-01", "url = \"javascript:alert(1)\"\n");
        assert_eq!(e.enrol("19.toml", &bad_url).unwrap_err().field, "url");
        assert!(!e.is_enrolled(CountyCode::parse("19").unwrap()), "a refused enrolment changes nothing");
        let err = Enrolment::from_toml("y.toml", "election_id = \"E\"\ncounty = \"99\"\ndecision = \"enrol\"\nrequested = \"2026-01-01\"\n").unwrap_err();
        assert!(err.to_string().starts_with("y.toml: "), "{err}");
        let err = Enrolment::from_toml("z.toml", "election_id = \"E\"\ncounty = \"19\"\ndecision = \"maybe\"\nrequested = \"2026-01-01\"\n").unwrap_err();
        assert!(err.reason.contains("maybe") || err.reason.contains("variant"), "{err}");
        // Each refusal names its field: a bad value by its line, a missing one by the message
        let field = |text: &str| Enrolment::from_toml("w.toml", text).unwrap_err().field;
        assert_eq!(field("election_id = \"E\"\ncounty = \"19\"\ndecision = \"Enrol\"\nrequested = \"2026-01-01\"\n"), "decision");
        assert_eq!(field("election_id = \"E\"\ncounty = \"1\"\ndecision = \"enrol\"\nrequested = \"2026-01-01\"\n"), "county");
        assert_eq!(field("election_id = \"E\"\ncounty = \"19\"\ndecision = \"enrol\"\nrequested = \"soon\"\n"), "requested");
        assert_eq!(field("election_id = \"E\"\ncounty = \"19\"\ndecision = \"enrol\"\n"), "requested");
    }
}

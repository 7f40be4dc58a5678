//! The election definition: which election, which counties, when tracking runs, how to reach
//! each county. A TOML file, documented in events/README.md.

use crate::county::CountyCode;
use crate::time::{pacific_instant, pacific_start_of_day, parse_date};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Days before election day that tracking messages start (the guidance's E-29).
pub const DEFAULT_START_DAYS_BEFORE: i64 = 29;
/// Days after election day that tracking messages stop (the guidance's E+30).
pub const DEFAULT_END_DAYS_AFTER: i64 = 30;
/// The longest election name a message can carry and still fit the SMS budget.
pub const MAX_NAME_CHARS: usize = 40;
/// Days after election day of the default cure deadline: counties certify by E+30 (EC §15372)
/// and the signature statement is due two days before they certify (EC §3019).
pub const DEFAULT_CURE_DEADLINE_DAYS_AFTER: i64 = 28;
/// The hour (Pacific) on the deadline day by which the statement is due: 5 p.m.
pub const CURE_DEADLINE_HOUR: u32 = 17;

/// The reminders an election sends (see [`crate::reminders`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderSettings {
    /// Days before election day that voters whose ballot has not come back get one reminder.
    /// None: no return reminder (the Secretary of State decides, election by election).
    pub return_days_before: Option<u32>,
    /// The last day a ballot can be cured, unless the county sets its own. Default: E+28.
    pub cure_deadline: Option<NaiveDate>,
    /// Days before the cure deadline that a ballot still needing action gets a reminder.
    #[serde(default = "default_cure_days")]
    pub cure_days_before: Vec<u32>,
}

fn default_cure_days() -> Vec<u32> {
    vec![7, 3, 1]
}

impl Default for ReminderSettings {
    fn default() -> Self {
        ReminderSettings { return_days_before: None, cure_deadline: None, cure_days_before: default_cure_days() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElectionKind {
    /// Every county takes part unless it opts out.
    Statewide,
    /// Only the counties that signed up take part.
    Special,
    /// Only the counties that signed up take part.
    Local,
}

/// Whether a county tracks envelopes with Intelligent Mail barcodes, and which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ImbUse {
    #[default]
    None,
    Outbound,
    Inbound,
    Both,
}

impl ImbUse {
    pub fn outbound(self) -> bool {
        matches!(self, ImbUse::Outbound | ImbUse::Both)
    }
    pub fn inbound(self) -> bool {
        matches!(self, ImbUse::Inbound | ImbUse::Both)
    }
    /// As election and enrolment files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ImbUse::None => "none",
            ImbUse::Outbound => "outbound",
            ImbUse::Inbound => "inbound",
            ImbUse::Both => "both",
        }
    }
}

/// How a voter reaches the county elections office, for "Contact County" and similar messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountyContact {
    pub phone: String,
    pub email: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CountySettings {
    /// The county's IMb use, if it gave one (none if not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imb: Option<ImbUse>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub url: Option<String>,
    /// The county's own cure deadline, when it differs from the election's.
    pub cure_deadline: Option<NaiveDate>,
    /// The county's own tracking start (its enrolment), not before the election's.
    pub tracking_start: Option<NaiveDate>,
}

/// The election definition file, as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionDefinition {
    pub id: String,
    pub name: String,
    /// The name in other languages, by language code.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    pub date: NaiveDate,
    pub kind: ElectionKind,
    pub tracking_start: Option<NaiveDate>,
    pub tracking_end: Option<NaiveDate>,
    /// Statewide elections: the counties that opted out.
    #[serde(default)]
    pub opted_out: Vec<CountyCode>,
    /// Special and local elections: the counties that signed up.
    #[serde(default)]
    pub enrolled: Vec<CountyCode>,
    pub default_contact: CountyContact,
    #[serde(default)]
    pub counties: BTreeMap<CountyCode, CountySettings>,
    #[serde(default)]
    pub reminders: ReminderSettings,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ElectionError {
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
}

/// An election definition that has been checked: ids, dates and counties make sense.
#[derive(Debug, Clone)]
pub struct Election {
    pub def: ElectionDefinition,
    pub tracking_start: NaiveDate,
    pub tracking_end: NaiveDate,
}

/// Why a county contact detail cannot go into messages (it reaches every voter of the county:
/// a `javascript:` link or a stray quote must never), or None when it can.
pub fn contact_problem(field: &str, value: &str) -> Option<String> {
    let printable = value.chars().all(|c| !c.is_control()) && !value.contains(['<', '>', '"', '\'', '`', '\\']);
    let ok = match field {
        "phone" => {
            let digits = value.chars().filter(char::is_ascii_digit).count();
            (7..=15).contains(&digits) && value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
        }
        "email" => match value.split_once('@') {
            Some((local, domain)) => !local.is_empty() && domain.contains('.') && !value.contains(char::is_whitespace) && value.matches('@').count() == 1,
            None => false,
        },
        "url" => {
            value.strip_prefix("https://").is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/')) && !value.contains(char::is_whitespace)
        }
        _ => true,
    };
    (!(ok && printable)).then(|| match field {
        "phone" => format!("'{value}' is not a phone number (7 to 15 digits, with spaces, +, -, ( ) or .)"),
        "email" => format!("'{value}' is not an email address"),
        "url" => format!("'{value}' is not an https:// address"),
        _ => format!("'{value}' is not valid"),
    })
}

/// Whether an election id is a short text id such as `2026-11-03-GEN`.
pub fn valid_election_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
}

impl Election {
    /// Parses and checks a definition; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Election, ElectionError> {
        let invalid = |reason: String| ElectionError::Invalid { file: file.to_string(), reason };
        let def: ElectionDefinition = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if !valid_election_id(def.id.as_bytes()) {
            return Err(invalid(format!("id '{}' must be 1-40 letters, digits, '-' or '_'", def.id)));
        }
        for (lang, name) in std::iter::once(("en", &def.name)).chain(def.names.iter().map(|(k, v)| (k.as_str(), v))) {
            let chars = name.chars().count();
            if chars == 0 || chars > MAX_NAME_CHARS {
                return Err(invalid(format!("name ({lang}) must be 1-{MAX_NAME_CHARS} characters, is {chars}")));
            }
        }
        let start = def.tracking_start.unwrap_or(def.date - Duration::days(DEFAULT_START_DAYS_BEFORE));
        let end = def.tracking_end.unwrap_or(def.date + Duration::days(DEFAULT_END_DAYS_AFTER));
        if start > def.date || end < def.date {
            return Err(invalid("tracking_start must be on or before the election date and tracking_end on or after it".into()));
        }
        match def.kind {
            ElectionKind::Statewide if !def.enrolled.is_empty() => {
                return Err(invalid("a statewide election lists opted_out counties, not enrolled ones".into()))
            }
            // An empty list is a choice (counties join by their enrolment files); a missing one
            // is more likely a statewide special election written as `special`, which would
            // cover no county without a word.
            ElectionKind::Special | ElectionKind::Local if !toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("enrolled")) => {
                return Err(invalid("a special or local election lists its enrolled counties (`enrolled = []` until counties enrol by their files; a statewide special election is kind \"statewide\")".into()))
            }
            ElectionKind::Special | ElectionKind::Local if !def.opted_out.is_empty() => {
                return Err(invalid("a special or local election lists enrolled counties, not opted_out ones".into()))
            }
            _ => {}
        }
        let r = &def.reminders;
        let default_deadline = r.cure_deadline.unwrap_or(def.date + Duration::days(DEFAULT_CURE_DEADLINE_DAYS_AFTER));
        let deadlines = std::iter::once(("reminders.cure_deadline".to_string(), default_deadline))
            .chain(def.counties.iter().filter_map(|(c, s)| s.cure_deadline.map(|d| (format!("counties.{c}.cure_deadline"), d))));
        for (field, deadline) in deadlines {
            if deadline < def.date || deadline > end {
                return Err(invalid(format!("{field} {deadline} must fall between election day and tracking_end ({end})")));
            }
        }
        let d = &def.default_contact;
        for (field, value) in [("phone", &d.phone), ("email", &d.email), ("url", &d.url)] {
            if let Some(problem) = contact_problem(field, value) {
                return Err(invalid(format!("default_contact.{field}: {problem}")));
            }
        }
        for (county, s) in &def.counties {
            for (field, value) in [("phone", &s.phone), ("email", &s.email), ("url", &s.url)] {
                if let Some(problem) = value.as_deref().and_then(|v| contact_problem(field, v)) {
                    return Err(invalid(format!("counties.{county}.{field}: {problem}")));
                }
            }
            if let Some(own) = s.tracking_start.filter(|d| *d < start || *d > def.date) {
                return Err(invalid(format!("counties.{county}.tracking_start {own} must fall between tracking_start ({start}) and election day")));
            }
        }
        if let Some(bad) = r.cure_days_before.iter().find(|d| !(1..=30).contains(*d)) {
            return Err(invalid(format!("reminders.cure_days_before: {bad} must be 1 to 30 days")));
        }
        if let Some(days) = r.return_days_before {
            if days == 0 || def.date - Duration::days(days.into()) < start {
                return Err(invalid(format!("reminders.return_days_before: {days} must be at least 1 and fall on or after tracking_start ({start})")));
            }
        }
        Ok(Election { tracking_start: start, tracking_end: end, def })
    }

    pub fn id(&self) -> &str {
        &self.def.id
    }

    /// Whether the county takes part in ballot tracking for this election.
    pub fn is_enrolled(&self, county: CountyCode) -> bool {
        match self.def.kind {
            ElectionKind::Statewide => !self.def.opted_out.contains(&county),
            ElectionKind::Special | ElectionKind::Local => self.def.enrolled.contains(&county),
        }
    }

    /// The first instant messages may go out: midnight Pacific at the start of tracking_start.
    pub fn window_opens(&self) -> DateTime<Utc> {
        pacific_start_of_day(self.tracking_start)
    }

    /// The first instant messages may no longer go out: midnight after tracking_end.
    pub fn window_closes(&self) -> DateTime<Utc> {
        pacific_start_of_day(self.tracking_end + Duration::days(1))
    }

    /// Whether the county takes part and its tracking window is open for some of this Pacific day.
    pub fn tracks_on(&self, county: CountyCode, date: NaiveDate) -> bool {
        self.is_enrolled(county) && self.county_window_opens(county) < pacific_start_of_day(date + Duration::days(1)) && self.window_closes() > pacific_start_of_day(date)
    }

    /// The first instant messages may go out in a county: its own tracking start, if later.
    pub fn county_window_opens(&self, county: CountyCode) -> DateTime<Utc> {
        let own = self.def.counties.get(&county).and_then(|c| c.tracking_start).map(pacific_start_of_day);
        own.map_or(self.window_opens(), |o| o.max(self.window_opens()))
    }

    pub fn in_window(&self, at: DateTime<Utc>) -> bool {
        self.window_opens() <= at && at < self.window_closes()
    }

    /// The election's name in a language, falling back to the English name.
    pub fn name_in(&self, lang: &str) -> &str {
        self.def.names.get(lang).unwrap_or(&self.def.name)
    }

    pub fn imb_use(&self, county: CountyCode) -> ImbUse {
        self.def.counties.get(&county).and_then(|c| c.imb).unwrap_or_default()
    }

    /// Refuses names that would push an SMS over 3 segments in some language.
    pub fn check_sms_budget(&self, catalog: &crate::templates::Catalog) -> Result<(), ElectionError> {
        let over = crate::templates::election_sms_overflows(catalog, |l| self.name_in(l.code()).to_string());
        if over.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = over.iter().map(|(l, k, n)| format!("{l}/{k} ({n} segments)")).collect();
        Err(ElectionError::Invalid {
            file: self.def.id.clone(),
            reason: format!("the election name makes these SMS longer than 3 segments: {}; shorten the name", list.join(", ")),
        })
    }

    /// The last day the county accepts a cure (the signature statement), by 5 p.m.
    pub fn cure_deadline_date(&self, county: CountyCode) -> NaiveDate {
        let county_own = self.def.counties.get(&county).and_then(|c| c.cure_deadline);
        county_own.or(self.def.reminders.cure_deadline).unwrap_or(self.def.date + Duration::days(DEFAULT_CURE_DEADLINE_DAYS_AFTER))
    }

    /// The instant the cure deadline passes: 5 p.m. Pacific on its day.
    pub fn cure_deadline(&self, county: CountyCode) -> DateTime<Utc> {
        pacific_instant(self.cure_deadline_date(county), NaiveTime::from_hms_opt(CURE_DEADLINE_HOUR, 0, 0).expect("a valid hour"))
    }

    /// When polls close: 8 p.m. Pacific on election day (the last moment to drop a ballot off).
    pub fn polls_close(&self) -> DateTime<Utc> {
        pacific_instant(self.def.date, NaiveTime::from_hms_opt(20, 0, 0).expect("a valid hour"))
    }

    /// The county's contact details, each falling back to the default contact.
    pub fn contact(&self, county: CountyCode) -> CountyContact {
        let d = &self.def.default_contact;
        match self.def.counties.get(&county) {
            None => d.clone(),
            Some(c) => CountyContact {
                phone: c.phone.clone().unwrap_or_else(|| d.phone.clone()),
                email: c.email.clone().unwrap_or_else(|| d.email.clone()),
                url: c.url.clone().unwrap_or_else(|| d.url.clone()),
            },
        }
    }
}

/// Parses a `YYYY-MM-DD` date, for the command line.
pub fn parse_election_date(text: &str) -> Option<NaiveDate> {
    parse_date(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const SAMPLE: &str = r#"
id = "2026-11-03-GEN"
name = "2026 General Election"
date = "2026-11-03"
kind = "statewide"
opted_out = ["46"]
[names]
es = "Elección General de 2026"
[default_contact]
phone = "(916) 657-2166"
email = "elections@example.gov"
url = "https://elections.example.gov"
[counties.19]
imb = "both"
phone = "(800) 555-0119"
"#;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_statewide_election_tracks_from_e_minus_29_to_e_plus_30_in_every_county_but_opt_outs() {
        let e = Election::from_toml("election.toml", SAMPLE).unwrap();
        assert_eq!(e.tracking_start, parse_date("2026-10-05").unwrap());
        assert_eq!(e.tracking_end, parse_date("2026-12-03").unwrap());
        assert!(!e.in_window(utc("2026-10-04T23:59:59-07:00")));
        assert!(e.in_window(utc("2026-10-05T00:00:00-07:00")));
        assert!(e.in_window(utc("2026-12-03T23:59:00-08:00")));
        assert!(!e.in_window(utc("2026-12-04T00:00:00-08:00")));
        assert!(e.is_enrolled(CountyCode::parse("19").unwrap()));
        assert!(!e.is_enrolled(CountyCode::parse("46").unwrap()));
    }

    #[test]
    fn county_contact_falls_back_field_by_field_and_imb_defaults_to_none() {
        let e = Election::from_toml("election.toml", SAMPLE).unwrap();
        let la = e.contact(CountyCode::parse("19").unwrap());
        assert_eq!(la.phone, "(800) 555-0119");
        assert_eq!(la.email, "elections@example.gov");
        assert_eq!(e.imb_use(CountyCode::parse("19").unwrap()), ImbUse::Both);
        assert_eq!(e.imb_use(CountyCode::parse("01").unwrap()), ImbUse::None);
        assert_eq!(e.name_in("es"), "Elección General de 2026");
        assert_eq!(e.name_in("vi"), "2026 General Election");
    }

    #[test]
    fn a_county_is_tracked_on_the_days_of_its_window_if_it_takes_part() {
        let e = Election::from_toml("election.toml", SAMPLE).unwrap();
        let day = |d: &str| parse_date(d).unwrap();
        let la = CountyCode::parse("19").unwrap();
        assert!(e.tracks_on(la, e.tracking_start) && e.tracks_on(la, e.tracking_end));
        assert!(!e.tracks_on(la, e.tracking_start - Duration::days(1)) && !e.tracks_on(la, e.tracking_end + Duration::days(1)));
        // Sierra (46) opted out
        assert!(!e.tracks_on(CountyCode::parse("46").unwrap(), day("2026-11-03")));
    }

    #[test]
    fn a_local_election_covers_only_enrolled_counties() {
        let text = SAMPLE.replace("kind = \"statewide\"\nopted_out = [\"46\"]", "kind = \"local\"\nenrolled = [\"01\"]");
        let e = Election::from_toml("local.toml", &text).unwrap();
        assert!(e.is_enrolled(CountyCode::parse("01").unwrap()));
        assert!(!e.is_enrolled(CountyCode::parse("19").unwrap()));
    }

    #[test]
    fn the_cure_deadline_is_e_plus_28_at_5_pm_unless_the_election_or_the_county_sets_one() {
        let e = Election::from_toml("election.toml", SAMPLE).unwrap();
        let la = CountyCode::parse("19").unwrap();
        assert_eq!(e.cure_deadline_date(la), parse_date("2026-12-01").unwrap());
        assert_eq!(e.cure_deadline(la), utc("2026-12-01T17:00:00-08:00"));
        assert_eq!(e.def.reminders.cure_days_before, [7, 3, 1]);
        assert_eq!(e.def.reminders.return_days_before, None, "no return reminder unless asked for");
        let own = SAMPLE.replace("phone = \"(800) 555-0119\"", "phone = \"(800) 555-0119\"\ncure_deadline = \"2026-11-27\"")
            + "[reminders]\ncure_deadline = \"2026-11-30\"\nreturn_days_before = 7\n";
        let e = Election::from_toml("election.toml", &own).unwrap();
        assert_eq!(e.cure_deadline_date(la), parse_date("2026-11-27").unwrap());
        assert_eq!(e.cure_deadline_date(CountyCode::parse("01").unwrap()), parse_date("2026-11-30").unwrap());
        assert_eq!(e.polls_close(), utc("2026-11-03T20:00:00-08:00"));
    }

    #[test]
    fn reminder_settings_that_cannot_work_are_refused() {
        let after_tracking = format!("{SAMPLE}[reminders]\ncure_deadline = \"2026-12-10\"\n");
        let err = Election::from_toml("e.toml", &after_tracking).unwrap_err().to_string();
        assert!(err.contains("reminders.cure_deadline") && err.contains("tracking_end"), "{err}");
        let county_before = SAMPLE.replace("imb = \"both\"", "imb = \"both\"\ncure_deadline = \"2026-11-01\"");
        assert!(Election::from_toml("e.toml", &county_before).unwrap_err().to_string().contains("counties.19.cure_deadline"));
        let too_early = format!("{SAMPLE}[reminders]\nreturn_days_before = 40\n");
        assert!(Election::from_toml("e.toml", &too_early).unwrap_err().to_string().contains("return_days_before"));
        let zero = format!("{SAMPLE}[reminders]\ncure_days_before = [7, 0]\n");
        assert!(Election::from_toml("e.toml", &zero).unwrap_err().to_string().contains("cure_days_before"));
    }

    #[test]
    fn bad_definitions_are_refused_with_the_file_and_the_reason() {
        // A special election lists its counties, if only as none yet (counties join by their
        // enrolment files)
        let no_list = SAMPLE.replace("kind = \"statewide\"\nopted_out = [\"46\"]", "kind = \"special\"");
        let err = Election::from_toml("special.toml", &no_list).unwrap_err().to_string();
        assert!(err.starts_with("special.toml: ") && err.contains("enrolled = []"), "{err}");
        let none_yet = SAMPLE.replace("kind = \"statewide\"\nopted_out = [\"46\"]", "kind = \"special\"\nenrolled = []");
        assert!(Election::from_toml("special.toml", &none_yet).is_ok());
        let opted_out = SAMPLE.replace("kind = \"statewide\"", "kind = \"special\"\nenrolled = []");
        let err = Election::from_toml("special.toml", &opted_out).unwrap_err().to_string();
        assert!(err.starts_with("special.toml: ") && err.contains("opted_out"), "{err}");
        let bad_county = SAMPLE.replace("[\"46\"]", "[\"99\"]");
        let err = Election::from_toml("e.toml", &bad_county).unwrap_err().to_string();
        assert!(err.contains("99"), "{err}");
        let long_name = SAMPLE.replace("2026 General Election", &"x".repeat(41));
        assert!(Election::from_toml("e.toml", &long_name).unwrap_err().to_string().contains("name"));
        // A county contact goes into every message of the county: it must be what it says it is
        for (bad, field) in [
            ("url = \"https://elections.example.gov\"", "javascript:alert(1)"),
            ("url = \"https://elections.example.gov\"", "http://elections.example.gov"),
            ("phone = \"(800) 555-0119\"", "call us"),
            ("phone = \"(800) 555-0119\"", "(800) 555-0119\" onclick=\""),
            ("email = \"elections@example.gov\"", "elections at example.gov"),
        ] {
            let key = bad.split(' ').next().unwrap();
            let text = SAMPLE.replace(bad, &format!("{key} = {}", toml::Value::String(field.into())));
            let err = Election::from_toml("e.toml", &text).unwrap_err().to_string();
            assert!(err.contains(&format!(".{key}: ")), "{field}: {err}");
        }
    }
}

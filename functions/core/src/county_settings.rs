//! What a county's voters are told, and from where: `reports/<NN>/settings/<election>.csv`, one
//! row a setting the messages use (the cure deadline and the day a problem never fixed gets its
//! verdict, the county's phone, email and web page, its tracking window and IMb use), each with
//! the value and whether it is the county's own, the election's or the system's default.
//!
//! A county that certifies before the 30th day has an earlier cure deadline than the default
//! (E+28): until its enrolment file or the election gives its own, its voters are told the later
//! date. Written beside its daily summaries, the sheet lets the county see that before its
//! voters do. It holds an office's public details only, never a voter's.

use crate::county::CountyCode;
use crate::election::{Election, DEFAULT_CURE_DEADLINE_DAYS_AFTER};
use crate::time::pacific_date;

/// Where a setting's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The county's own (its enrolment file, or its table in the election file).
    County,
    /// The election's, for every county without its own.
    Election,
    /// This system's default, set by no one: a county should check it.
    Default,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::County => "county",
            Source::Election => "election",
            Source::Default => "default",
        }
    }
}

/// One row of the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub value: String,
    pub from: Source,
}

/// The settings the messages to this county's voters use in this election.
pub fn county_settings(election: &Election, county: CountyCode) -> Vec<Setting> {
    let own = election.def.counties.get(&county);
    let by = |county_has: bool, election_has: bool| match (county_has, election_has) {
        (true, _) => Source::County,
        (false, true) => Source::Election,
        (false, false) => Source::Default,
    };
    let deadline_from = by(own.is_some_and(|c| c.cure_deadline.is_some()), election.def.reminders.cure_deadline.is_some());
    let deadline = election.cure_deadline_date(county);
    let contact = election.contact(county);
    // The default contact is the election's: every county without its own shares it.
    let contact_from = |has: fn(&crate::election::CountySettings) -> bool| by(own.is_some_and(has), true);
    let mut rows = vec![
        Setting { name: "cure_deadline", value: format!("{deadline} 17:00 Pacific"), from: deadline_from },
        Setting {
            name: "not_accepted_if_never_fixed_on",
            value: crate::past_deadline::verdict_date(election, county).map_or_else(|| "never (tracking ends on the cure deadline)".into(), |d| d.to_string()),
            from: deadline_from,
        },
        Setting { name: "phone", value: contact.phone, from: contact_from(|c| c.phone.is_some()) },
        Setting { name: "email", value: contact.email, from: contact_from(|c| c.email.is_some()) },
        Setting { name: "url", value: contact.url, from: contact_from(|c| c.url.is_some()) },
    ];
    let start_from = by(own.is_some_and(|c| c.tracking_start.is_some()), election.def.tracking_start.is_some());
    rows.push(Setting { name: "tracking_start", value: pacific_date(election.county_window_opens(county)).to_string(), from: start_from });
    rows.push(Setting { name: "tracking_end", value: election.tracking_end.to_string(), from: by(false, election.def.tracking_end.is_some()) });
    rows.push(Setting { name: "imb", value: election.imb_use(county).as_str().into(), from: by(own.is_some_and(|c| c.imb.is_some()), false) });
    rows
}

/// The sheet as a county opens it: `election_id,county,setting,value,from`, what the county did
/// not set itself explained.
pub fn settings_csv(election: &Election, county: CountyCode) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let mut write = |fields: [&str; 5]| w.write_record(fields.map(as_text)).expect("a CSV row to memory");
    write(["election_id", "county", "setting", "value", "from"]);
    for s in county_settings(election, county) {
        let from = match (s.name, s.from) {
            ("cure_deadline", Source::Default) => {
                format!("default: {DEFAULT_CURE_DEADLINE_DAYS_AFTER} days after election day; a county that certifies earlier sets its own in its enrolment file")
            }
            ("not_accepted_if_never_fixed_on", from) => {
                format!("{}: two days after the cure deadline (certification) or tracking_end if that comes first", from.as_str())
            }
            ("phone" | "email" | "url", Source::Election) => "election: the contact shared by every county without its own; a county sets its own in its enrolment file".into(),
            (_, from) => from.as_str().to_string(),
        };
        write([election.id(), &county.code(), s.name, &s.value, &from]);
    }
    String::from_utf8(w.into_inner().expect("a CSV in memory")).expect("UTF-8 in, UTF-8 out")
}

/// A field a spreadsheet takes as text: one starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return (a phone written "+1-916-…", or a formula in a settings file) gets a leading apostrophe
/// (OWASP's advice against CSV injection). A spreadsheet then reads the field as text, not a
/// formula; some show the apostrophe, and a plain reader always does.
fn as_text(field: &str) -> String {
    match field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{field}"),
        false => field.to_string(),
    }
}

/// Where the sheet goes, under the reports folder.
pub fn settings_path(election: &Election, county: CountyCode) -> String {
    format!("{}/settings/{}.csv", county.code(), election.id())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ELECTION: &str = "id = \"2026-11-03-GEN\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
        [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@sos.example.gov\"\nurl = \"https://sos.example.gov\"\n\
        [counties.19]\nphone = \"(800) 815-2666\"\ncure_deadline = \"2026-11-25\"\nimb = \"both\"\n";

    fn row<'a>(rows: &'a [Setting], name: &str) -> &'a Setting {
        rows.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn a_county_sees_which_of_what_its_voters_are_told_is_its_own_and_which_a_default() {
        let e = Election::from_toml("e", ELECTION).unwrap();
        let (la, alameda) = (CountyCode::parse("19").unwrap(), CountyCode::parse("01").unwrap());
        // Los Angeles gave its deadline and phone: its own; the rest the election's
        let la_rows = county_settings(&e, la);
        assert_eq!((row(&la_rows, "cure_deadline").value.as_str(), row(&la_rows, "cure_deadline").from), ("2026-11-25 17:00 Pacific", Source::County));
        assert_eq!(row(&la_rows, "not_accepted_if_never_fixed_on").value, "2026-11-27");
        assert_eq!((row(&la_rows, "phone").value.as_str(), row(&la_rows, "phone").from), ("(800) 815-2666", Source::County));
        assert_eq!((row(&la_rows, "email").value.as_str(), row(&la_rows, "email").from), ("elections@sos.example.gov", Source::Election));
        assert_eq!((row(&la_rows, "imb").value.as_str(), row(&la_rows, "imb").from), ("both", Source::County));
        // Alameda gave nothing: the default deadline, said to be one, with how to set its own
        let csv = settings_csv(&e, alameda);
        assert!(csv.starts_with("election_id,county,setting,value,from\n"), "{csv}");
        assert!(csv.contains("2026-11-03-GEN,01,cure_deadline,2026-12-01 17:00 Pacific,default: 28 days after election day; a county that certifies earlier sets its own in its enrolment file\n"), "{csv}");
        assert!(csv.contains("2026-11-03-GEN,01,phone,(916) 657-2166,election: the contact shared by every county without its own; a county sets its own in its enrolment file\n"), "{csv}");
        assert!(csv.contains("2026-11-03-GEN,01,not_accepted_if_never_fixed_on,2026-12-03,default: two days after the cure deadline (certification) or tracking_end if that comes first\n"), "{csv}");
        assert!(csv.contains("2026-11-03-GEN,01,imb,none,default\n"), "{csv}");
        assert!(csv.contains("2026-11-03-GEN,01,tracking_end,2026-12-03,default\n"), "{csv}");
        assert_eq!(settings_path(&e, alameda), "01/settings/2026-11-03-GEN.csv");
    }

    #[test]
    fn a_county_that_says_it_uses_no_imb_said_so_and_a_phone_with_a_plus_stays_text_in_a_spreadsheet() {
        let e = Election::from_toml("e", &ELECTION.replace("[counties.19]\n", "[counties.01]\nimb = \"none\"\nphone = \"+1-510-555-0100\"\n[counties.19]\n")).unwrap();
        let csv = settings_csv(&e, CountyCode::parse("01").unwrap());
        assert!(csv.contains("\n2026-11-03-GEN,01,imb,none,county\n"), "{csv}");
        assert!(csv.contains("\n2026-11-03-GEN,01,phone,'+1-510-555-0100,county\n"), "{csv}");
    }

    #[test]
    fn an_election_wide_deadline_is_the_elections_and_a_window_ending_on_it_gives_no_verdict_day() {
        let e = Election::from_toml("e", &ELECTION.replace("kind = \"statewide\"\n", "kind = \"statewide\"\ntracking_end = \"2026-11-30\"\n[reminders]\ncure_deadline = \"2026-11-30\"\n")).unwrap();
        let rows = county_settings(&e, CountyCode::parse("01").unwrap());
        assert_eq!(row(&rows, "cure_deadline").from, Source::Election);
        assert!(row(&rows, "not_accepted_if_never_fixed_on").value.starts_with("never"));
        assert_eq!(row(&rows, "tracking_end").from, Source::Election);
    }
}

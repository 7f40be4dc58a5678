//! The embedded store's form of a roll entry: one line of `|`-separated fields, without the
//! VoteCal ID (the row's key). About 45 bytes against 190 as JSON: statewide, the roll is 22.6 M
//! rows, read back on every re-sent roll and once for every message's county check.

use chrono::NaiveDate;
use wmb_core::formats::{VoterRecord, VoterStatus};
use wmb_core::kept::{esc, unesc};
use wmb_core::CountyCode;

/// `county|status|first name|last name|date of birth|zip`, fields escaped as kept facts' are
/// (`wmb_core::kept::esc`); the date as chrono writes it (`1966-03-16`; a year outside 0 to 9999
/// with its sign).
pub fn to_line(v: &VoterRecord) -> String {
    let status = match v.status {
        VoterStatus::Active => "A",
        VoterStatus::Inactive => "I",
        VoterStatus::Canceled => "C",
        VoterStatus::Pending => "P",
    };
    format!("{}|{status}|{}|{}|{}|{}", v.county.code(), esc(&v.first_name), esc(&v.last_name), v.date_of_birth, esc(&v.zip))
}

/// Reads [`to_line`]'s form back for the voter `votecal_id`; None if it is not one.
pub fn from_line(votecal_id: &str, line: &str) -> Option<VoterRecord> {
    let f: Vec<&str> = line.split('|').collect();
    let [county, status, first, last, dob, zip] = f[..] else { return None };
    let status = match status {
        "A" => VoterStatus::Active,
        "I" => VoterStatus::Inactive,
        "C" => VoterStatus::Canceled,
        "P" => VoterStatus::Pending,
        _ => return None,
    };
    Some(VoterRecord {
        votecal_id: votecal_id.to_string(),
        county: CountyCode::parse(county)?,
        first_name: unesc(first),
        last_name: unesc(last),
        date_of_birth: date(dob)?,
        zip: unesc(zip),
        status,
    })
}

/// `YYYY-MM-DD` (every date of birth a county file can give); any other form as chrono reads
/// what it wrote.
fn date(s: &str) -> Option<NaiveDate> {
    wmb_core::time::parse_date(s).or_else(|| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voter(first: &str, last: &str, status: VoterStatus) -> VoterRecord {
        VoterRecord {
            votecal_id: "CA0000001554".into(),
            county: CountyCode::parse("38").unwrap(),
            first_name: first.into(),
            last_name: last.into(),
            date_of_birth: NaiveDate::from_ymd_opt(1966, 3, 16).unwrap(),
            zip: "94760".into(),
            status,
        }
    }

    #[test]
    fn a_roll_entry_comes_back_as_it_was_whatever_its_names_hold() {
        let names = [("James", "Sato"), ("María José", "Núñez-García"), ("A|B", "100% O'Brien"), ("%7C", "%25|%"), ("", "阮")];
        let statuses = [VoterStatus::Active, VoterStatus::Inactive, VoterStatus::Canceled, VoterStatus::Pending];
        for ((first, last), status) in names.into_iter().zip(statuses.into_iter().cycle()) {
            let v = voter(first, last, status);
            let line = to_line(&v);
            assert_eq!(from_line(&v.votecal_id, &line).as_ref(), Some(&v), "{line}");
        }
        // Years outside 1000 to 9999 (a county file's dates have four digits; the store reads
        // any date the roll entry holds).
        for year in [905, 1, 0, -1, -2024, 10_000, 262_000] {
            let mut odd = voter("Ana", "Li", VoterStatus::Active);
            odd.date_of_birth = NaiveDate::from_ymd_opt(year, 1, 2).unwrap();
            assert_eq!(from_line(&odd.votecal_id, &to_line(&odd)), Some(odd), "{year}");
        }
        let mut newline = voter("Ana\nMaría", "Li", VoterStatus::Active);
        newline.zip = "9|4%".into();
        assert_eq!(from_line(&newline.votecal_id, &to_line(&newline)), Some(newline));
        assert_eq!(to_line(&voter("James", "Sato", VoterStatus::Active)), "38|A|James|Sato|1966-03-16|94760");
    }

    #[test]
    fn a_line_that_is_not_a_roll_entry_is_refused() {
        for bad in ["", "38|A|James|Sato|1966-03-16", "38|X|James|Sato|1966-03-16|94760", "99|A|James|Sato|1966-03-16|94760", "38|A|James|Sato|1966-02-30|94760", "38|A|James|Sato|1966-03|94760", "38|A|James|Sato|1966-3-160|94760", "38|A|J|S|1966-03-16|94760|x"] {
            assert_eq!(from_line("CA1", bad), None, "{bad}");
        }
    }
}

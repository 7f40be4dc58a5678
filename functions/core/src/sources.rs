//! Who sends which files: the folders of the incoming bucket, the kinds each source may send,
//! and the rule that a county's file touches only that county's rows.

use crate::county::CountyCode;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use crate::formats::{FileError, FileKind, RowError};

/// Where a file comes from: `incoming/<source>/<kind>/<file>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A county elections office, by its number.
    County(CountyCode),
    /// The statewide voter database.
    VoteCal,
    /// A ballot print vendor (IMb crosswalks).
    Vendor,
    /// USPS Informed Visibility (scan feeds).
    Usps,
    /// The Secretary of State (batches of sign-ups, and stops it took by phone or letter).
    Sos,
}

impl Source {
    /// The source of an object key, if its folder is one.
    pub fn of_key(key: &str) -> Option<Source> {
        let folder = key.strip_prefix("incoming/")?.split('/').next()?;
        Some(match folder {
            "votecal" => Source::VoteCal,
            "vendor" => Source::Vendor,
            "usps" => Source::Usps,
            "sos" => Source::Sos,
            other => Source::County(CountyCode::parse(other)?),
        })
    }

    /// The kinds of file this source may send.
    pub fn kinds(self) -> &'static [FileKind] {
        match self {
            Source::County(_) => &[FileKind::Vbm, FileKind::Vph, FileKind::Imb, FileKind::Stops],
            Source::VoteCal => &[FileKind::Voters, FileKind::Vbm, FileKind::Vph],
            Source::Vendor => &[FileKind::Imb],
            Source::Usps => &[FileKind::Scans],
            Source::Sos => &[FileKind::Signups, FileKind::Stops],
        }
    }

    /// The county whose rows alone this source's files may carry.
    pub fn county(self) -> Option<CountyCode> {
        match self {
            Source::County(c) => Some(c),
            _ => None,
        }
    }
}

/// Whether a file of this kind may come in under this key; the reason when it may not.
pub fn accepts(key: &str, kind: FileKind) -> Result<Source, String> {
    let Some(source) = Source::of_key(key) else {
        let folder = key.strip_prefix("incoming/").and_then(|k| k.split('/').next()).unwrap_or(key);
        return Err(format!(
            "'{folder}' is not a source: files go to incoming/<county number>/, incoming/votecal/, incoming/vendor/, incoming/usps/ or incoming/sos/"
        ));
    };
    if source.kinds().contains(&kind) {
        return Ok(source);
    }
    let names: Vec<&str> = source.kinds().iter().map(|k| k.as_str()).collect();
    let who = if source.county().is_some() { "a county's folder" } else { "this folder" };
    Err(format!("a {kind} file: {who} takes {} files", names.join(", ")))
}

/// Whether a key is the temporary name a file is uploaded under before it is renamed to its own:
/// WinSCP's `name.filepart`, other clients' `.part`, `.partial`, `.tmp` or `.temp`, rsync's hidden
/// `.name.XXXXXX`. An SFTP rename on S3 is a copy to the new name, which S3 announces as a file of
/// its own: the file is read then, once, and its report is named after it.
pub fn still_uploading(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    let lower = name.to_ascii_lowercase();
    name.starts_with('.') || [".filepart", ".part", ".partial", ".tmp", ".temp"].iter().any(|suffix| lower.ends_with(suffix))
}

/// The kind of file a key's folder names (`incoming/<source>/<kind>/…`), if it names one.
pub fn folder_kind(key: &str) -> Option<FileKind> {
    let mut parts = key.strip_prefix("incoming/")?.split('/');
    parts.next()?;
    let kind = parts.next()?;
    parts.next()?;
    FileKind::parse(kind)
}

/// The kind of a file that came in under `key`, from its first bytes. Nothing but a byte order
/// mark and blanks is an empty file. A header that is no kind's, in a folder that names a kind
/// (a column added, missing or renamed), is reported as that kind's wrong header, naming the
/// columns expected.
pub fn detect_kind_under(key: &str, head: &[u8]) -> Result<FileKind, FileError> {
    if head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head).trim_ascii().is_empty() {
        return Err(FileError::Empty { file: key.to_string() });
    }
    match crate::formats::detect_kind(key, head) {
        Err(FileError::UnknownKind { .. }) if folder_kind(key).is_some() => {
            let kind = folder_kind(key).expect("named");
            Err(FileError::Header { file: key.to_string(), kind: kind.to_string(), expected: kind.header().join(",") })
        }
        other => other,
    }
}

/// A row of another county in a county's file: rejected, with the reason.
pub fn out_of_scope(scope: Option<CountyCode>, county: CountyCode, line: u64) -> Option<RowError> {
    match scope {
        Some(own) if own != county => Some(RowError {
            line,
            field: "county_code".into(),
            reason: format!("county {own}'s folder may only carry county {own}'s rows, not county {county}'s"),
        }),
        _ => None,
    }
}

/// How far after its file's arrival a status or participation row may be dated: clocks that
/// differ by minutes, or a time written in the wrong zone, pass; a wrong day, month or year does
/// not.
pub const MAX_HOURS_AHEAD: i64 = 24;

/// A row dated more than [`MAX_HOURS_AHEAD`] after its file arrived: rejected, with the reason.
/// Recorded, it would be the ballot's newest status until that time came, and every true status
/// before then would be taken for an older one and ignored (an ACCEPTED typed in the wrong year
/// would keep its ballot's signature problem from ever being told).
pub fn dated_ahead(field: &'static str, at: DateTime<Utc>, arrived: DateTime<Utc>, line: u64) -> Option<RowError> {
    (at > arrived + Duration::hours(MAX_HOURS_AHEAD)).then(|| RowError {
        line,
        field: field.into(),
        reason: format!(
            "{} is more than a day after the file arrived ({}): a row cannot be dated in the future",
            at.to_rfc3339_opts(SecondsFormat::Secs, true),
            arrived.to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
    })
}

/// How many days before its election's day a status or participation row may be dated: counties
/// mail ballots from E-29 (EC §3000.5), military and overseas voters' as early as E-60 (EC §3114);
/// a row dated earlier has a wrong year or month.
pub const EARLIEST_DAYS_BEFORE: i64 = 60;

/// A row dated more than [`EARLIEST_DAYS_BEFORE`] days before its election's day (`election_day`,
/// Pacific): rejected, with the reason. Recorded, it would be older than what is known of the
/// ballot and ignored without a word: an ACCEPTED typed in last year would tell the voter
/// nothing, and then remind her that the county has not received her ballot.
pub fn dated_before(field: &'static str, at: DateTime<Utc>, election_day: NaiveDate, line: u64) -> Option<RowError> {
    let earliest = election_day - Duration::days(EARLIEST_DAYS_BEFORE);
    (crate::time::pacific_date(at) < earliest).then(|| RowError {
        line,
        field: field.into(),
        reason: format!(
            "{} is more than {EARLIEST_DAYS_BEFORE} days before election day ({election_day}): no ballot of this election was mailed then (a wrong year or month?)",
            at.to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
    })
}

/// A status or participation row dated where no true one can be: more than a day after its file
/// `arrived` ([`dated_ahead`]), or, when its election's day is known, more than
/// [`EARLIEST_DAYS_BEFORE`] days before it ([`dated_before`]).
pub fn misdated(field: &'static str, at: DateTime<Utc>, arrived: DateTime<Utc>, election_day: Option<NaiveDate>, line: u64) -> Option<RowError> {
    dated_ahead(field, at, arrived, line).or_else(|| election_day.and_then(|day| dated_before(field, at, day, line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_under_its_uploads_temporary_name_waits_for_its_rename() {
        for key in ["incoming/19/vbm/la-2026-10-06.csv.filepart", "incoming/19/la.csv.PART", "incoming/votecal/vbm.csv.partial", "incoming/37/x.csv.tmp", "incoming/sos/.signups.csv.Xa81Qz"] {
            assert!(still_uploading(key), "{key}");
        }
        for key in ["incoming/19/vbm/la-2026-10-06.csv", "incoming/19/vbm/part-2.csv", "incoming/usps/scans.txt", "incoming/19/vbm.part.csv", "incoming/37/temporary.csv"] {
            assert!(!still_uploading(key), "{key}");
        }
    }

    #[test]
    fn a_row_dated_in_another_year_is_refused_and_one_of_a_military_voters_early_ballot_is_not() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let typo = dated_before("status_time", at("2025-10-20T10:00:00-07:00"), day, 7).expect("last year");
        assert_eq!((typo.line, typo.field.as_str()), (7, "status_time"));
        assert!(typo.reason.contains("2025-10-20T17:00:00Z") && typo.reason.contains("2026-11-03"), "{}", typo.reason);
        assert!(dated_before("status_time", at("2026-09-03T23:59:00-07:00"), day, 1).is_some(), "E-60 is 4 Sep, Pacific");
        assert!(dated_before("status_time", at("2026-09-04T00:00:00-07:00"), day, 1).is_none());
        assert!(dated_before("status_time", at("2026-09-19T09:00:00-07:00"), day, 1).is_none(), "E-45");
    }

    #[test]
    fn a_header_with_a_column_too_many_in_a_kinds_folder_names_the_columns_expected() {
        let head = b"votecal_id,county_code,election_id,ballot_id,status_code,status_time,notes\nCA1,19,E,B1,INR,2026-10-06T09:15:00-07:00,x\n";
        let msg = detect_kind_under("incoming/19/vbm/f.csv", head).unwrap_err().to_string();
        assert!(msg.contains("not a vbm file's header") && msg.contains("votecal_id,county_code,election_id,ballot_id,status_code,status_time"), "{msg}");
        assert!(matches!(detect_kind_under("incoming/19/other/f.csv", head), Err(FileError::UnknownKind { .. })), "a folder that names no kind");
        for empty in [&b""[..], b"\xEF\xBB\xBF\r\n  \n"] {
            assert!(matches!(detect_kind_under("incoming/19/vbm/f.csv", empty), Err(FileError::Empty { .. })));
        }
        let right = b"votecal_id,county_code,election_id,ballot_id,status_code,status_time\n";
        assert_eq!(detect_kind_under("incoming/19/vbm/f.csv", right).unwrap(), FileKind::Vbm);
    }

    #[test]
    fn each_source_sends_only_its_kinds_of_file() {
        assert_eq!(accepts("incoming/19/vbm/f.csv", FileKind::Vbm), Ok(Source::County(CountyCode::parse("19").unwrap())));
        assert!(accepts("incoming/19/voters/f.csv", FileKind::Voters).unwrap_err().contains("a county's folder takes vbm, vph, imb, stops"));
        assert_eq!(accepts("incoming/votecal/voters/f.csv", FileKind::Voters), Ok(Source::VoteCal));
        assert!(accepts("incoming/vendor/x/f.csv", FileKind::Signups).is_err());
        assert_eq!(accepts("incoming/sos/signups/f.csv", FileKind::Signups), Ok(Source::Sos));
        assert_eq!(accepts("incoming/usps/scans/f.jsonl", FileKind::Scans), Ok(Source::Usps));
        assert!(accepts("incoming/vendr/imb/f.csv", FileKind::Imb).unwrap_err().contains("'vendr' is not a source"));
        assert!(accepts("incoming/99/vbm/f.csv", FileKind::Vbm).is_err(), "99 is no county");
    }

    #[test]
    fn a_countys_folder_is_its_scope() {
        assert_eq!(Source::of_key("incoming/19/vbm/f.csv").and_then(Source::county), CountyCode::parse("19"));
        assert_eq!(Source::of_key("incoming/votecal/vbm/f.csv").and_then(Source::county), None);
        let e = out_of_scope(CountyCode::parse("19"), CountyCode::parse("37").unwrap(), 4).unwrap();
        assert_eq!((e.line, e.field.as_str()), (4, "county_code"));
        assert!(out_of_scope(None, CountyCode::parse("37").unwrap(), 4).is_none());
    }
}

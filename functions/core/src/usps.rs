//! Intelligent Mail barcode tracking: the print vendor's crosswalk (IMb → voter) and the USPS
//! Informed Visibility (IV-MTR) piece-scan feed.

use crate::county::CountyCode;
use crate::formats::{ballot_id, votecal_id, FieldError, FileKind, Line, RowError, RowFormat};
use crate::imb::{self, ImbData};
use crate::time::{parse_rfc3339, PACIFIC};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use csv::ByteRecord;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};

/// Which way an envelope travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The ballot on its way to the voter.
    Outbound,
    /// The return envelope on its way back to the county.
    Inbound,
}

/// Reads an IMb as written in a file: the 20-digit tracking code, the tracking code followed by
/// its routing code (25, 29 or 31 digits), or the 65 bars (F, A, D, T). Returns the 20-digit
/// tracking code, which identifies the piece.
pub fn tracking_code(field: &'static str, text: &str) -> Result<String, FieldError> {
    let t = text.trim();
    let data = if t.len() == 65 && t.bytes().all(|b| matches!(b.to_ascii_uppercase(), b'F' | b'A' | b'D' | b'T')) {
        imb::decode(t)
    } else {
        ImbData::parse_digits(t)
    };
    data.map(|d| d.tracking_code()).map_err(|e| FieldError::new(field, format!("not a valid IMb: {e}")))
}

/// A row of the crosswalk: which voter's envelope carries which IMb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImbMapping {
    /// The 20-digit tracking code.
    pub tracking: String,
    pub county: CountyCode,
    pub votecal_id: String,
    pub election_id: String,
    /// The VoteCal ballot id, when the vendor has it; otherwise the voter's current ballot.
    pub ballot_id: Option<String>,
    pub direction: Direction,
}

impl RowFormat for ImbMapping {
    const KIND: FileKind = FileKind::Imb;
    fn parse(r: &ByteRecord) -> Result<Self, FieldError> {
        let text = |i: usize, name: &'static str| {
            std::str::from_utf8(&r[i]).map(str::trim).map_err(|_| FieldError::new(name, "is not valid UTF-8"))
        };
        let county_text = text(1, "county_code")?;
        let election = text(3, "election_id")?;
        if !crate::election::valid_election_id(election.as_bytes()) {
            return Err(FieldError::new("election_id", format!("'{election}' is not an election id")));
        }
        Ok(ImbMapping {
            tracking: tracking_code("imb", text(0, "imb")?)?,
            county: CountyCode::parse_in_file(county_text.as_bytes())
                .ok_or_else(|| FieldError::new("county_code", format!("'{county_text}' is not a county number 01-58")))?,
            votecal_id: votecal_id(&r[2])?.to_string(),
            election_id: election.to_string(),
            ballot_id: match text(4, "ballot_id")? {
                "" => None,
                _ => Some(ballot_id(&r[4])?.to_string()),
            },
            direction: match text(5, "direction")?.to_ascii_lowercase().as_str() {
                "outbound" => Direction::Outbound,
                "inbound" => Direction::Inbound,
                other => return Err(FieldError::new("direction", format!("'{other}' is not outbound or inbound"))),
            },
        })
    }
}

/// One scan of a mail piece, from Informed Visibility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PieceScan {
    pub tracking: String,
    pub at: DateTime<Utc>,
    pub event_code: String,
    pub facility_zip: String,
    pub handling_event_type: String,
    pub mail_phase: String,
}

/// The fields read from a JSON piece-scan record (IV-MTR names; others are ignored). Strings
/// are borrowed from the line where they can be: this runs for every scan of a statewide feed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IvScanJson<'a> {
    #[serde(borrow, default)]
    imb: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    scan_datetime: Option<Cow<'a, str>>,
    #[serde(default)]
    scan_event_code: Option<Text>,
    #[serde(default)]
    scan_facility_zip: Option<Text>,
    #[serde(default)]
    handling_event_type: Option<Text>,
    #[serde(default)]
    mail_phase: Option<Text>,
}

/// A field IV may send as a string or a number, kept as text.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.trim().to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

fn value_text(v: Option<Text>) -> String {
    v.map(|t| t.0).unwrap_or_default()
}

/// A scan time: RFC 3339, or `YYYY-MM-DD HH:MM:SS` without an offset, read as Pacific time.
pub fn scan_time(text: &str) -> Result<DateTime<Utc>, FieldError> {
    let t = text.trim();
    if let Some(at) = parse_rfc3339(t.as_bytes()) {
        return Ok(at);
    }
    // IV's plain form, read as an RFC 3339 time at UTC and then placed on the Pacific clock.
    let naive = (t.len() == 19 && t.as_bytes()[10] == b' ')
        .then(|| parse_rfc3339(format!("{}T{}Z", &t[..10], &t[11..]).as_bytes()))
        .flatten()
        .map(|u| u.naive_utc())
        .or_else(|| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok());
    naive
        .and_then(|n| PACIFIC.from_local_datetime(&n).earliest())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| FieldError::new("scan_datetime", format!("'{t}' is not a time (RFC 3339, or YYYY-MM-DD HH:MM:SS Pacific)")))
}

impl PieceScan {
    fn from_json(s: IvScanJson<'_>) -> Result<PieceScan, FieldError> {
        let imb = s.imb.ok_or_else(|| FieldError::new("imb", "is missing"))?;
        let at = s.scan_datetime.ok_or_else(|| FieldError::new("scanDatetime", "is missing"))?;
        Ok(PieceScan {
            tracking: tracking_code("imb", &imb)?,
            at: scan_time(&at).map_err(|e| FieldError::new("scanDatetime", e.reason))?,
            event_code: value_text(s.scan_event_code),
            facility_zip: value_text(s.scan_facility_zip),
            handling_event_type: value_text(s.handling_event_type),
            mail_phase: value_text(s.mail_phase),
        })
    }
}

/// The delimited form's header (comma or '|' separated).
pub const SCAN_HEADER: [&str; 6] = ["imb", "scan_datetime", "scan_event_code", "scan_facility_zip", "handling_event_type", "mail_phase"];

impl RowFormat for PieceScan {
    const KIND: FileKind = FileKind::Scans;
    fn parse(r: &ByteRecord) -> Result<Self, FieldError> {
        let text = |i: usize, name: &'static str| {
            std::str::from_utf8(&r[i]).map(|s| s.trim().to_string()).map_err(|_| FieldError::new(name, "is not valid UTF-8"))
        };
        Ok(PieceScan {
            tracking: tracking_code("imb", &text(0, "imb")?)?,
            at: scan_time(&text(1, "scan_datetime")?)?,
            event_code: text(2, "scan_event_code")?,
            facility_zip: text(3, "scan_facility_zip")?,
            handling_event_type: text(4, "handling_event_type")?,
            mail_phase: text(5, "mail_phase")?,
        })
    }
}

/// A scan whose IMb is in no crosswalk: rejected at its line (ingest, `simulate` and `check
/// --crosswalk` alike).
pub fn unknown_imb(line: u64, tracking: &str) -> RowError {
    RowError { line, field: "imb".into(), reason: format!("IMb {tracking} is in no crosswalk") }
}

/// How many days before its feed's arrival a scan may be dated: Informed Visibility sends a
/// day's scans, and a ballot's envelope is in the mail for weeks, not months.
pub const SCAN_MAX_DAYS_OLD: i64 = 60;

/// A scan dated more than a day after its feed arrived, or more than [`SCAN_MAX_DAYS_OLD`] days
/// before (a wrong day, month or year): rejected at its line, as a status row is
/// ([`crate::sources::dated_ahead`]). Applied, a scan dated ahead would date the ballot's mailing
/// in the future, and every true status of the ballot before then would be taken for an older
/// one and never told; one dated months back tells her a mailing date that is not true.
pub fn scan_misdated(scan: &PieceScan, arrived: DateTime<Utc>, line: u64) -> Option<RowError> {
    crate::sources::dated_ahead("scan_datetime", scan.at, arrived, line).or_else(|| {
        (scan.at < arrived - chrono::Duration::days(SCAN_MAX_DAYS_OLD)).then(|| RowError {
            line,
            field: "scan_datetime".into(),
            reason: format!(
                "{} is more than {SCAN_MAX_DAYS_OLD} days before the feed arrived ({}): a scan feed carries recent scans (a wrong year or month?)",
                scan.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                arrived.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        })
    })
}

/// A scan dated before any ballot of its election could be mailed (E-60; the crosswalk names
/// the election): rejected at its line, as a status row dated then is.
pub fn scan_before_mailing(line: u64, at: DateTime<Utc>, election_day: chrono::NaiveDate) -> RowError {
    crate::sources::dated_before("scan_datetime", at, election_day, line)
        .unwrap_or_else(|| RowError { line, field: "scan_datetime".into(), reason: format!("dated before the ballots of the election of {election_day} were mailed") })
}

/// Reads a scan feed in any accepted form, calling `each` for every record: JSON Lines (one
/// piece-scan object a line), a JSON array of them, or the delimited form with [`SCAN_HEADER`]
/// (comma- or '|'-separated). Line numbers are the file's lines; in a JSON array, the record's
/// position (1 = first). Streams in every form.
pub fn read_scans<R: Read>(file: &str, input: R, mut each: impl FnMut(Result<Line<PieceScan>, RowError>)) -> Result<(), crate::formats::FileError> {
    let unreadable = |e: &dyn std::fmt::Display| crate::formats::FileError::Unreadable { file: file.to_string(), reason: e.to_string() };
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let first = loop {
        let buf = reader.fill_buf().map_err(|e| unreadable(&e))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF) {
            Some(i) => break buf[i],
            None if buf.is_empty() => return Ok(()),
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    match first {
        b'{' => {
            let mut bytes = Vec::new();
            let mut number = 0u64;
            loop {
                bytes.clear();
                if reader.read_until(b'\n', &mut bytes).map_err(|e| unreadable(&e))? == 0 {
                    return Ok(());
                }
                number += 1;
                // A line that is not UTF-8 is one bad row; the lines after it are still read.
                let Ok(line) = std::str::from_utf8(&bytes) else {
                    each(Err(RowError { line: number, field: "row".into(), reason: "is not UTF-8 text (save the file as UTF-8 and send it again)".into() }));
                    continue;
                };
                if line.trim().is_empty() {
                    continue;
                }
                each(parse_json_record(line, number));
            }
        }
        b'[' => {
            let mut de = serde_json::Deserializer::from_reader(reader);
            let visitor = ArrayVisitor { each: &mut each };
            serde::Deserializer::deserialize_seq(&mut de, visitor).map_err(|e| unreadable(&e))
        }
        _ => {
            let mut header_line = String::new();
            reader.read_line(&mut header_line).map_err(|e| unreadable(&e))?;
            let delimiter = if header_line.contains('|') { b'|' } else { b',' };
            let names: Vec<String> = header_line.trim_start_matches('\u{feff}').split(delimiter as char).map(|s| s.trim().to_ascii_lowercase()).collect();
            if names != SCAN_HEADER {
                return Err(crate::formats::FileError::Header { file: file.to_string(), kind: "scans".into(), expected: SCAN_HEADER.join(",") });
            }
            let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(crate::line_endings::LineEndings::new(reader));
            let mut record = ByteRecord::new();
            loop {
                match csv.read_byte_record(&mut record) {
                    Ok(false) => return Ok(()),
                    Ok(true) => {
                        let line = record.position().map_or(0, |p| csv.get_ref().record_start(p).1) + 1;
                        if record.len() == 1 && record[0].is_empty() {
                            continue;
                        }
                        if record.len() != SCAN_HEADER.len() {
                            each(Err(RowError { line, field: "row".into(), reason: format!("expected 6 fields, found {}", record.len()) }));
                            continue;
                        }
                        each(PieceScan::parse(&record).map(|row| Line { line, row }).map_err(|e| RowError { line, field: e.field.into(), reason: e.reason }));
                    }
                    Err(e) => return Err(unreadable(&e)),
                }
            }
        }
    }
}

fn parse_json_record(text: &str, line: u64) -> Result<Line<PieceScan>, RowError> {
    let raw: IvScanJson = serde_json::from_str(text).map_err(|e| RowError { line, field: "record".into(), reason: format!("not a JSON piece-scan object: {e}") })?;
    PieceScan::from_json(raw).map(|row| Line { line, row }).map_err(|e| RowError { line, field: e.field.into(), reason: e.reason })
}

struct ArrayVisitor<'a, F> {
    each: &'a mut F,
}

impl<'de, F: FnMut(Result<Line<PieceScan>, RowError>)> serde::de::Visitor<'de> for ArrayVisitor<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of piece-scan records")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0u64;
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            n += 1;
            let record = IvScanJson::deserialize(&value)
                .map_err(|e| RowError { line: n, field: "record".into(), reason: format!("not a piece-scan object: {e}") })
                .and_then(|raw| PieceScan::from_json(raw).map(|row| Line { line: n, row }).map_err(|e| RowError { line: n, field: e.field.into(), reason: e.reason }));
            (self.each)(record);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_dated_ahead_of_its_feed_or_months_before_it_is_refused_at_its_line() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let scan = |when: &str| PieceScan { tracking: "x".into(), at: at(when), event_code: "SD".into(), facility_zip: "90052".into(), handling_event_type: "L".into(), mail_phase: "1b".into() };
        let arrived = at("2026-10-06T10:00:00-07:00");
        assert!(scan_misdated(&scan("2026-10-06T07:15:00-07:00"), arrived, 1).is_none());
        assert!(scan_misdated(&scan("2026-08-10T07:15:00-07:00"), arrived, 1).is_none(), "57 days back: a slow envelope");
        let ahead = scan_misdated(&scan("2026-11-06T07:15:00-08:00"), arrived, 3).expect("a month ahead");
        assert_eq!((ahead.line, ahead.field.as_str()), (3, "scan_datetime"));
        let back = scan_misdated(&scan("2026-06-10T07:15:00-07:00"), arrived, 4).expect("June in an October feed");
        assert!(back.reason.contains("more than 60 days before the feed arrived"), "{}", back.reason);
    }

    const TRACKING: &str = "01234567094987654321";
    const BARS: &str = "AADTFFDFTDADTAADAATFDTDDAAADDTDTTDAFADADDDTFFFDDTTTADFAAADFTDAADA";

    fn scans(text: &str) -> (Vec<Line<PieceScan>>, Vec<RowError>) {
        let (mut ok, mut bad) = (vec![], vec![]);
        read_scans("scans", text.as_bytes(), |r| match r {
            Ok(l) => ok.push(l),
            Err(e) => bad.push(e),
        })
        .unwrap();
        (ok, bad)
    }

    #[test]
    fn an_imb_is_read_as_digits_with_routing_or_as_bars() {
        assert_eq!(tracking_code("imb", TRACKING).unwrap(), TRACKING);
        assert_eq!(tracking_code("imb", &format!("{TRACKING}01234567891")).unwrap(), TRACKING);
        assert_eq!(tracking_code("imb", BARS).unwrap(), TRACKING);
        let err = tracking_code("imb", "0123456709498765432X").unwrap_err();
        assert!(err.reason.starts_with("not a valid IMb"), "{}", err.reason);
    }

    #[test]
    fn json_lines_json_arrays_and_pipe_delimited_scans_read_alike() {
        let record = format!(r#"{{"imb":"{TRACKING}01234567891","scanDatetime":"2026-10-06 07:15:00","scanEventCode":"SD","scanFacilityZip":"90052","handlingEventType":"L","mailPhase":"2a","machineName":"DBCS-1"}}"#);
        let (lines, bad) = scans(&format!("{record}\n\n{{\"imb\":\"12\",\"scanDatetime\":\"2026-10-06T07:15:00Z\"}}\nnot json\n"));
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].row.at, DateTime::parse_from_rfc3339("2026-10-06T14:15:00Z").unwrap());
        assert_eq!((lines[0].row.facility_zip.as_str(), lines[0].row.mail_phase.as_str()), ("90052", "2a"));
        assert_eq!(bad.iter().map(|e| (e.line, e.field.as_str())).collect::<Vec<_>>(), [(3, "imb"), (4, "record")]);
        let (array, bad) = scans(&format!("[{record}, {{\"scanDatetime\":\"2026-10-06T07:15:00Z\"}}]"));
        assert_eq!((array.len(), bad[0].line, bad[0].field.as_str()), (1, 2, "imb"));
        assert_eq!(array[0].row, lines[0].row);
        let (piped, _) = scans(&format!("imb|scan_datetime|scan_event_code|scan_facility_zip|handling_event_type|mail_phase\n{TRACKING}|2026-10-06 07:15:00|SD|90052|L|2a\n"));
        assert_eq!(piped[0].row, lines[0].row);
        assert_eq!(piped[0].line, 2);
    }

    #[test]
    fn a_scan_line_that_is_not_utf8_is_one_bad_row_and_the_lines_after_it_are_read() {
        let record = format!(r#"{{"imb":"{TRACKING}01234567891","scanDatetime":"2026-10-06 07:15:00","scanEventCode":"SD","scanFacilityZip":"90052"}}"#);
        let mut feed = format!("{record}\n").into_bytes();
        feed.extend_from_slice(b"{\"imb\":\"\xff\xfe\"}\n");
        feed.extend_from_slice(format!("{record}\n").as_bytes());
        let (mut ok, mut bad) = (vec![], vec![]);
        read_scans("scans", &feed[..], |r| match r {
            Ok(l) => ok.push(l.line),
            Err(e) => bad.push((e.line, e.field, e.reason)),
        })
        .unwrap();
        assert_eq!(ok, [1, 3], "the line after the bad one is read");
        assert_eq!(bad, [(2, "row".to_string(), "is not UTF-8 text (save the file as UTF-8 and send it again)".to_string())]);
    }
}

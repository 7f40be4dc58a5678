//! County file formats, version 1: CSV, UTF-8, a header row, RFC 4180 quoting.
//!
//! Every file is read as a stream of rows. A header that does not match is a whole-file error;
//! a bad row is a [`RowError`] with its line number, field and reason, and the rows around it
//! are still read. Errors never quote a personal field's value (names, birth dates, phone
//! numbers, email addresses): they name the field and say what is wrong.

use crate::line_endings::LineEndings;
use crate::county::CountyCode;
use crate::election::valid_election_id;
use crate::signup::SignupRequest;
use crate::status::{ParticipationMethod, StatusCode};
use crate::time::{parse_date, parse_rfc3339};
use chrono::{DateTime, NaiveDate, Utc};
use csv::ByteRecord;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Read;

/// The kinds of county file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// VoteCal voter roll extract.
    Voters,
    /// VBM ballot status.
    Vbm,
    /// Voter participation history.
    Vph,
    /// A batch of sign-up requests.
    Signups,
    /// The print vendor's IMb crosswalk.
    Imb,
    /// USPS Informed Visibility piece scans (JSON Lines, a JSON array, or delimited).
    Scans,
    /// Stops the Secretary of State took by other means than a reply, a link or the page
    /// (`stop_requests.rs`).
    Stops,
}

impl FileKind {
    pub const ALL: [FileKind; 7] = [FileKind::Voters, FileKind::Vbm, FileKind::Vph, FileKind::Signups, FileKind::Imb, FileKind::Scans, FileKind::Stops];

    pub fn header(self) -> &'static [&'static str] {
        match self {
            FileKind::Voters => &["votecal_id", "county_code", "first_name", "last_name", "date_of_birth", "zip", "status"],
            FileKind::Vbm => &["votecal_id", "county_code", "election_id", "ballot_id", "status_code", "status_time"],
            FileKind::Vph => &["votecal_id", "county_code", "election_id", "participation_method", "participation_time", "active"],
            FileKind::Signups => &[
                "first_name", "last_name", "date_of_birth", "zip", "votecal_id", "language", "sms", "email", "voice",
                "notify_from", "notify_until",
            ],
            FileKind::Imb => &["imb", "county_code", "votecal_id", "election_id", "ballot_id", "direction"],
            FileKind::Scans => &crate::usps::SCAN_HEADER,
            FileKind::Stops => &crate::stop_requests::HEADER,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Voters => "voters",
            FileKind::Vbm => "vbm",
            FileKind::Vph => "vph",
            FileKind::Signups => "signups",
            FileKind::Imb => "imb",
            FileKind::Scans => "scans",
            FileKind::Stops => "stops",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The kind whose header this is, if any.
    pub fn from_header(header: &ByteRecord) -> Option<Self> {
        Self::ALL.into_iter().find(|k| header_matches(header, k.header()))
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn header_matches(found: &ByteRecord, expected: &[&str]) -> bool {
    found.len() == expected.len()
        && found.iter().zip(expected).enumerate().all(|(i, (f, e))| {
            let f = if i == 0 { f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f) } else { f };
            trim(f).eq_ignore_ascii_case(e.as_bytes())
        })
}

/// A whole file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{file}: cannot be read: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}: line 1: the header is not a {kind} file's header; expected: {expected}")]
    Header { file: String, kind: String, expected: String },
    #[error("{file}: line 1: the header matches no known file kind (voters, vbm, vph, signups, imb, scans, stops)")]
    UnknownKind { file: String },
    #[error("{file}: the file is empty: send it again with its header and rows")]
    Empty { file: String },
    #[error("{file}: line {line}: a row runs on for more than {mib} MiB: a quote opened there is not closed (close it and send the file again)")]
    RowTooLong { file: String, line: u64, mib: u64 },
}

/// One rejected row: where, which field, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// What is wrong with one field of a row (the line is added by the reader).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        FieldError { field, reason: reason.into() }
    }
}

/// A row read from a file, with its line number (the header is line 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Line<T> {
    pub line: u64,
    pub row: T,
}

/// A parser from one CSV record to a row type.
pub trait RowFormat: Sized {
    const KIND: FileKind;
    fn parse(record: &ByteRecord) -> Result<Self, FieldError>;
}

/// Streams the rows of a file of kind `T::KIND`. Memory stays flat whatever the file's size.
pub struct Rows<R: Read, T> {
    reader: csv::Reader<LineEndings<R>>,
    record: ByteRecord,
    done: bool,
    _row: std::marker::PhantomData<T>,
}

/// Opens a stream of rows, checking the header first. `file` names the file in errors.
pub fn read_rows<R: Read, T: RowFormat>(file: &str, input: R) -> Result<Rows<R, T>, FileError> {
    let mut reader = csv_reader(LineEndings::new(input));
    let header = reader
        .byte_headers()
        .map_err(|e| FileError::Unreadable { file: file.to_string(), reason: e.to_string() })?
        .clone();
    if !header_matches(&header, T::KIND.header()) {
        return Err(FileError::Header {
            file: file.to_string(),
            kind: T::KIND.to_string(),
            expected: T::KIND.header().join(","),
        });
    }
    Ok(Rows { reader, record: ByteRecord::new(), done: false, _row: std::marker::PhantomData })
}

/// Reads just the start of a file and says which kind it is: a JSON file is a scan feed, a
/// '|'-separated one too; a CSV file is known by its header.
pub fn detect_kind<R: Read>(file: &str, input: R) -> Result<FileKind, FileError> {
    let mut head = Vec::with_capacity(4096);
    input.take(4096).read_to_end(&mut head).map_err(|e| FileError::Unreadable { file: file.to_string(), reason: e.to_string() })?;
    let start = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    match start.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => return Ok(FileKind::Scans),
        _ if start.split(|b| *b == b'\n').next().is_some_and(|l| l.contains(&b'|')) => return Ok(FileKind::Scans),
        _ => {}
    }
    let mut reader = csv_reader(&head[..]);
    let header = reader
        .byte_headers()
        .map_err(|e| FileError::Unreadable { file: file.to_string(), reason: e.to_string() })?;
    FileKind::from_header(header).ok_or_else(|| FileError::UnknownKind { file: file.to_string() })
}

fn csv_reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new().has_headers(true).flexible(true).buffer_capacity(1 << 16).from_reader(input)
}

impl<R: Read, T: RowFormat> Iterator for Rows<R, T> {
    type Item = Result<Line<T>, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {
                    let line = self.record.position().map(|p| self.reader.get_ref().record_start(p).1).unwrap_or(0);
                    // A blank line between rows is not a row, nor is one of spaces or tabs only.
                    if self.record.len() == 1 && self.record[0].trim_ascii().is_empty() {
                        continue;
                    }
                    let expected = T::KIND.header().len();
                    if self.record.len() != expected {
                        return Some(Err(RowError { line, field: "row".into(), reason: width_error(expected, &self.record, line) }));
                    }
                    return Some(
                        T::parse(&self.record)
                            .map(|row| Line { line, row })
                            .map_err(|e| RowError { line, field: e.field.into(), reason: e.reason }),
                    );
                }
                Err(e) => {
                    let line = e.position().map(|p| self.reader.get_ref().record_start(p).1).unwrap_or(0);
                    // An I/O failure ends the stream; a malformed record is one bad row.
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        self.done = true;
                    }
                    return Some(Err(RowError { line, field: "row".into(), reason: format!("unreadable CSV: {e}") }));
                }
            }
        }
    }
}

/// Why a row with the wrong number of fields was refused. A quote that opens a field and is
/// never closed takes the lines after it into that field, up to the next quote or the end of the
/// file: the reason says which lines, so the county can close it and send the file again.
pub fn width_error(expected: usize, record: &ByteRecord, line: u64) -> String {
    let found = record.len();
    // Line breaks inside fields (CR LF as one), but for one that ends a field: the file ended
    // inside the quote.
    let breaks: u64 = record
        .iter()
        .map(|f| {
            let f = f.strip_suffix(b"\n").unwrap_or(f);
            let f = f.strip_suffix(b"\r").unwrap_or(f);
            memchr::memchr2_iter(b'\n', b'\r', f).filter(|&i| !(f[i] == b'\n' && i > 0 && f[i - 1] == b'\r')).count() as u64
        })
        .sum();
    match breaks {
        0 => format!("expected {expected} fields, found {found}"),
        _ => format!(
            "expected {expected} fields, found {found}, over lines {line} to {}: a quote opened on this line may not be closed, and took the lines after it into this row (close it and send the file again)",
            line + breaks
        ),
    }
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

pub(crate) fn text<'a>(field: &'static str, b: &'a [u8]) -> Result<&'a str, FieldError> {
    std::str::from_utf8(trim(b)).map_err(|_| FieldError::new(field, "is not valid UTF-8"))
}

fn required<'a>(field: &'static str, b: &'a [u8]) -> Result<&'a str, FieldError> {
    let t = text(field, b)?;
    if t.is_empty() {
        return Err(FieldError::new(field, "is empty"));
    }
    Ok(t)
}

/// A VoteCal voter id: 1-24 ASCII letters and digits.
pub fn votecal_id(b: &[u8]) -> Result<&str, FieldError> {
    let b = trim(b);
    if b.is_empty() {
        return Err(FieldError::new("votecal_id", "is empty"));
    }
    if b.len() > 24 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return Err(FieldError::new("votecal_id", "must be 1-24 letters and digits"));
    }
    Ok(std::str::from_utf8(b).expect("ascii"))
}

fn county(b: &[u8]) -> Result<CountyCode, FieldError> {
    let b = trim(b);
    // Quoted only when it looks like a code: a slipped column could put a name here.
    CountyCode::parse_in_file(b).ok_or_else(|| {
        let shown = if b.len() <= 3 && b.iter().all(u8::is_ascii_alphanumeric) { format!("'{}' ", String::from_utf8_lossy(b)) } else { String::new() };
        FieldError::new("county_code", format!("{shown}is not a county number 01-58"))
    })
}

fn election_id(b: &[u8]) -> Result<&str, FieldError> {
    let b = trim(b);
    if !valid_election_id(b) {
        return Err(FieldError::new("election_id", format!("'{}' is not an election id", String::from_utf8_lossy(b))));
    }
    Ok(std::str::from_utf8(b).expect("ascii"))
}

fn timestamp(field: &'static str, b: &[u8]) -> Result<DateTime<Utc>, FieldError> {
    let b = trim(b);
    parse_rfc3339(b).ok_or_else(|| {
        FieldError::new(field, format!("'{}' is not an RFC 3339 time with offset", String::from_utf8_lossy(b)))
    })
}

/// A date of birth: `YYYY-MM-DD`. The value is personal, so errors do not quote it.
pub fn date_of_birth(b: &[u8]) -> Result<NaiveDate, FieldError> {
    let t = text("date_of_birth", b)?;
    parse_date(t).ok_or_else(|| FieldError::new("date_of_birth", "must be a date written YYYY-MM-DD"))
}

/// A California ZIP code: five digits (a ZIP+4's extension is dropped).
pub fn zip(b: &[u8]) -> Result<String, FieldError> {
    let b = trim(b);
    let five = match b.len() {
        5 => b,
        10 if b[5] == b'-' && b[6..].iter().all(u8::is_ascii_digit) => &b[..5],
        _ => return Err(FieldError::new("zip", "must be 5 digits")),
    };
    if !five.iter().all(u8::is_ascii_digit) {
        return Err(FieldError::new("zip", "must be 5 digits"));
    }
    Ok(String::from_utf8(five.to_vec()).expect("ascii"))
}

/// Registration status on the voter roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum VoterStatus {
    Active,
    Inactive,
    Canceled,
    Pending,
}

impl VoterStatus {
    /// In any letter case, as status codes are (a spreadsheet may write `Active`).
    pub fn parse(b: &[u8]) -> Option<Self> {
        let b = trim(b);
        let names: [(&[u8], VoterStatus); 4] =
            [(b"ACTIVE", VoterStatus::Active), (b"INACTIVE", VoterStatus::Inactive), (b"CANCELED", VoterStatus::Canceled), (b"PENDING", VoterStatus::Pending)];
        names.into_iter().find(|(name, _)| b.eq_ignore_ascii_case(name)).map(|(_, status)| status)
    }
}

/// A row of the voter roll extract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoterRecord {
    pub votecal_id: String,
    pub county: CountyCode,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    pub zip: String,
    pub status: VoterStatus,
}

impl RowFormat for VoterRecord {
    const KIND: FileKind = FileKind::Voters;
    fn parse(r: &ByteRecord) -> Result<Self, FieldError> {
        Ok(VoterRecord {
            votecal_id: votecal_id(&r[0])?.to_string(),
            county: county(&r[1])?,
            first_name: required("first_name", &r[2])?.to_string(),
            last_name: required("last_name", &r[3])?.to_string(),
            date_of_birth: date_of_birth(&r[4])?,
            zip: zip(&r[5])?,
            status: VoterStatus::parse(&r[6])
                .ok_or_else(|| FieldError::new("status", "must be ACTIVE, INACTIVE, CANCELED or PENDING"))?,
        })
    }
}

/// A row of the VBM ballot status file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VbmStatus {
    pub votecal_id: String,
    pub county: CountyCode,
    pub election_id: String,
    pub ballot_id: String,
    pub status: StatusCode,
    pub status_time: DateTime<Utc>,
}

/// A ballot id: 1-40 ASCII letters, digits, '-' or '_', at least one a letter or digit (a lone
/// "-" is what a journey calls a ballot it does not know yet: [`crate::lifecycle::UNKNOWN_BALLOT`]).
pub fn ballot_id(b: &[u8]) -> Result<&str, FieldError> {
    let b = trim(b);
    if b.is_empty() {
        return Err(FieldError::new("ballot_id", "is empty"));
    }
    if b.len() > 40 || !b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_')) {
        return Err(FieldError::new("ballot_id", "must be 1-40 letters, digits, '-' or '_'"));
    }
    if !b.iter().any(u8::is_ascii_alphanumeric) {
        return Err(FieldError::new("ballot_id", "has no letter or digit"));
    }
    Ok(std::str::from_utf8(b).expect("ascii"))
}

impl VbmStatus {
    /// Checks a row without building it: the fast path of `check` and the benchmark.
    pub fn validate(r: &ByteRecord) -> Result<(StatusCode, DateTime<Utc>), FieldError> {
        votecal_id(&r[0])?;
        county(&r[1])?;
        election_id(&r[2])?;
        ballot_id(&r[3])?;
        let status = status_code(&r[4])?;
        Ok((status, timestamp("status_time", &r[5])?))
    }
}

fn status_code(b: &[u8]) -> Result<StatusCode, FieldError> {
    let b = trim(b);
    // Counties type codes in any letter case: "nvs" is NVS.
    let upper = b.to_ascii_uppercase();
    StatusCode::parse_bytes(&upper).ok_or_else(|| {
        let hint = match upper.as_slice() {
            b"REISSUED" => ": send the new ballot's ISSUED row (with its own ballot_id); a second ballot is told as a re-issue",
            b"POLL" | b"VCR" => ": an in-person vote goes in a vph file (participation_method)",
            _ => "",
        };
        FieldError::new("status_code", format!("'{}' is not a VBM ballot status code{hint}", String::from_utf8_lossy(b)))
    })
}

impl RowFormat for VbmStatus {
    const KIND: FileKind = FileKind::Vbm;
    fn parse(r: &ByteRecord) -> Result<Self, FieldError> {
        Ok(VbmStatus {
            votecal_id: votecal_id(&r[0])?.to_string(),
            county: county(&r[1])?,
            election_id: election_id(&r[2])?.to_string(),
            ballot_id: ballot_id(&r[3])?.to_string(),
            status: status_code(&r[4])?,
            status_time: timestamp("status_time", &r[5])?,
        })
    }
}

/// A row of the voter participation history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participation {
    pub votecal_id: String,
    pub county: CountyCode,
    pub election_id: String,
    pub method: ParticipationMethod,
    pub time: DateTime<Utc>,
    pub active: bool,
}

impl RowFormat for Participation {
    const KIND: FileKind = FileKind::Vph;
    fn parse(r: &ByteRecord) -> Result<Self, FieldError> {
        let method_text = text("participation_method", &r[3])?;
        Ok(Participation {
            votecal_id: votecal_id(&r[0])?.to_string(),
            county: county(&r[1])?,
            election_id: election_id(&r[2])?.to_string(),
            method: ParticipationMethod::parse(method_text).ok_or_else(|| {
                FieldError::new("participation_method", format!("'{method_text}' is not POLL, VCR or VBM"))
            })?,
            time: timestamp("participation_time", &r[4])?,
            active: match trim(&r[5]) {
                b"Y" | b"y" => true,
                b"N" | b"n" => false,
                _ => return Err(FieldError::new("active", "must be Y or N")),
            },
        })
    }
}

impl RowFormat for SignupRequest {
    const KIND: FileKind = FileKind::Signups;
    fn parse(r: &ByteRecord) -> Result<Self, FieldError> {
        let field = |i: usize, name: &'static str| text(name, &r[i]);
        SignupRequest::from_fields(
            field(0, "first_name")?,
            field(1, "last_name")?,
            field(2, "date_of_birth")?,
            field(3, "zip")?,
            field(4, "votecal_id")?,
            field(5, "language")?,
            field(6, "sms")?,
            field(7, "email")?,
            field(8, "voice")?,
            field(9, "notify_from")?,
            field(10, "notify_until")?,
        )
    }
}

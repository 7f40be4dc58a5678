//! `check`: validate one county file on its own and say what it would trigger. Streams, so a
//! statewide file is checked in flat memory.

use wmb_core::line_endings::LineEndings;
use anyhow::{Context, Result};
use csv::ByteRecord;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Instant;
use wmb_core::election::Election;
use wmb_core::formats::{detect_kind, read_rows, FileKind, Participation, RowError, VbmStatus, VoterRecord};
use chrono::{DateTime, Utc};
use wmb_core::lifecycle::{BallotFact, BallotJourney};
use wmb_core::sources::{dated_ahead, dated_before, misdated};
use wmb_core::signup::SignupRequest;
use wmb_core::usps::{read_scans, ImbMapping};
use wmb_core::status::MessageKind;
use wmb_core::CountyCode;

/// Errors kept in memory for printing; all of them go to `--report` when given.
const KEPT_ERRORS: usize = 1000;

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub file: String,
    pub kind: FileKind,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// The first rejected rows (all of them are in the report file).
    pub errors: Vec<RowError>,
    /// What the accepted rows would trigger for a voter with no earlier status, by message.
    pub milestones: BTreeMap<String, u64>,
    /// Rows of counties not enrolled in the given election (they trigger nothing).
    pub not_enrolled: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub peak_rss_kib: Option<u64>,
}

/// The process's peak resident memory, from /proc (Linux).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The crosswalk loaded for checking a scan feed: tracking code → (county, direction).
pub type CrosswalkIndex = std::collections::HashMap<String, (CountyCode, wmb_core::usps::Direction)>;

/// Loads a crosswalk file into memory, for `check --crosswalk` and the benchmark.
pub fn load_crosswalk(path: &Path) -> Result<CrosswalkIndex> {
    let name = path.display().to_string();
    let mut index = CrosswalkIndex::new();
    let mut skipped = 0u64;
    for row in read_rows::<_, ImbMapping>(&name, BufReader::new(File::open(path).with_context(|| format!("{name}: cannot be read"))?))? {
        match row {
            Ok(l) => {
                index.insert(l.row.tracking, (l.row.county, l.row.direction));
            }
            Err(_) => skipped += 1,
        }
    }
    if skipped > 0 {
        eprintln!("{name}: {skipped} crosswalk rows are invalid and were not loaded (run `ballot-tracking check {name}` to see why)");
    }
    Ok(index)
}

/// Checks one county file as ingest would read it had it `arrived` then: a row dated more than a
/// day after that is refused, as is a scan more than 60 days before it.
pub fn check(path: &Path, election: Option<&Election>, report_path: Option<&Path>, crosswalk: Option<&CrosswalkIndex>, arrived: DateTime<Utc>) -> Result<CheckReport> {
    let name = path.display().to_string();
    let now = arrived;
    let open = || File::open(path).with_context(|| format!("{name}: cannot be read"));
    let kind = detect_kind(&name, open()?)?;
    let started = Instant::now();
    let mut report = CheckReport {
        file: name.clone(),
        kind,
        rows: 0,
        accepted: 0,
        rejected: 0,
        errors: vec![],
        milestones: BTreeMap::new(),
        not_enrolled: 0,
        seconds: 0.0,
        rows_per_second: 0.0,
        peak_rss_kib: None,
    };
    let mut sink = match report_path {
        Some(p) => {
            let mut w = csv::Writer::from_path(p)?;
            w.write_record(["line", "field", "reason"])?;
            Some(w)
        }
        None => None,
    };
    let mut reject = |report: &mut CheckReport, e: RowError| -> Result<()> {
        report.rejected += 1;
        if let Some(w) = sink.as_mut() {
            w.write_record([e.line.to_string().as_str(), e.field.as_str(), e.reason.as_str()])?;
        }
        if report.errors.len() < KEPT_ERRORS {
            report.errors.push(e);
        }
        Ok(())
    };
    match kind {
        FileKind::Vbm => check_vbm(open()?, election, now, &mut report, &mut reject)?,
        FileKind::Voters => {
            for row in read_rows::<_, VoterRecord>(&name, BufReader::new(open()?))? {
                report.rows += 1;
                match row {
                    Ok(_) => report.accepted += 1,
                    Err(e) => reject(&mut report, e)?,
                }
            }
        }
        FileKind::Vph => {
            for row in read_rows::<_, Participation>(&name, BufReader::new(open()?))? {
                report.rows += 1;
                let day = |l: &wmb_core::formats::Line<Participation>| election.filter(|e| e.id() == l.row.election_id).map(|e| e.def.date);
                match row.and_then(|l| match misdated("participation_time", l.row.time, now, day(&l), l.line) {
                    Some(e) => Err(e),
                    None => Ok(l),
                }) {
                    Ok(l) => {
                        report.accepted += 1;
                        if l.row.active && l.row.method.is_in_person() {
                            *report.milestones.entry(MessageKind::InPerson.key().into()).or_default() += 1;
                        }
                    }
                    Err(e) => reject(&mut report, e)?,
                }
            }
        }
        FileKind::Imb => {
            for row in read_rows::<_, ImbMapping>(&name, BufReader::new(open()?))? {
                report.rows += 1;
                match row {
                    Ok(_) => report.accepted += 1,
                    Err(e) => reject(&mut report, e)?,
                }
            }
        }
        FileKind::Scans => {
            let mut crosswalk_hits = 0u64;
            let mut rows = 0u64;
            let mut accepted = 0u64;
            let mut failure = None;
            read_scans(&name, open()?, |r| {
                rows += 1;
                match r {
                    // With a crosswalk, a scan of an IMb in none of it is rejected at its line,
                    // and so is one dated ahead of now or months before it, as ingest and `simulate` reject them
                    // (against the feed's arrival).
                    Ok(l) => {
                        let refused = match crosswalk.is_some_and(|cw| cw.get(&l.row.tracking).is_none()) {
                            true => Some(wmb_core::usps::unknown_imb(l.line, &l.row.tracking)),
                            false => wmb_core::usps::scan_misdated(&l.row, now, l.line),
                        };
                        match refused {
                            Some(e) => {
                                if let Err(e) = reject(&mut report, e) {
                                    failure.get_or_insert(e);
                                }
                            }
                            None => {
                                accepted += 1;
                                crosswalk_hits += u64::from(crosswalk.is_some());
                            }
                        }
                    }
                    Err(e) => {
                        if let Err(e) = reject(&mut report, e) {
                            failure.get_or_insert(e);
                        }
                    }
                }
            })?;
            if let Some(e) = failure {
                return Err(e);
            }
            report.rows = rows;
            report.accepted = accepted;
            if crosswalk.is_some() {
                report.milestones.insert("scans_matched".into(), crosswalk_hits);
            }
        }
        FileKind::Signups => {
            for row in read_rows::<_, SignupRequest>(&name, BufReader::new(open()?))? {
                report.rows += 1;
                match row {
                    Ok(_) => report.accepted += 1,
                    Err(e) => reject(&mut report, e)?,
                }
            }
        }
        FileKind::Stops => {
            for row in read_rows::<_, wmb_core::stop_requests::StopRequest>(&name, BufReader::new(open()?))? {
                report.rows += 1;
                match row {
                    Ok(_) => report.accepted += 1,
                    Err(e) => reject(&mut report, e)?,
                }
            }
        }
    }
    if let Some(mut w) = sink {
        w.flush()?;
    }
    report.seconds = started.elapsed().as_secs_f64();
    report.rows_per_second = report.rows as f64 / report.seconds.max(1e-9);
    report.peak_rss_kib = peak_rss_kib();
    Ok(report)
}

/// The hot path: parse, validate and decide each row of a VBM status file.
fn check_vbm(
    file: File,
    election: Option<&Election>,
    now: DateTime<Utc>,
    report: &mut CheckReport,
    reject: &mut impl FnMut(&mut CheckReport, RowError) -> Result<()>,
) -> Result<()> {
    // (Through LineEndings: a Windows spreadsheet's CR LF file gets its rows' true line numbers.)
    let mut reader = csv::ReaderBuilder::new().flexible(true).buffer_capacity(1 << 17).from_reader(LineEndings::new(file));
    reader.byte_headers()?;
    let mut record = ByteRecord::new();
    let mut journey = BallotJourney::new("check", "check", CountyCode::new(1).expect("01"));
    let mut counts = [0u64; MessageKind::ALL.len()];
    let width = FileKind::Vbm.header().len();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                report.rows += 1;
                let line = e.position().map_or(0, |p| reader.get_ref().record_start(p).1);
                reject(report, RowError { line, field: "row".into(), reason: format!("unreadable CSV: {e}") })?;
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        if record.len() == 1 && record[0].trim_ascii().is_empty() {
            continue;
        }
        report.rows += 1;
        let line = || record.position().map_or(0, |p| reader.get_ref().record_start(p).1);
        if record.len() != width {
            let e = RowError { line: line(), field: "row".into(), reason: wmb_core::formats::width_error(width, &record, line()) };
            reject(report, e)?;
            continue;
        }
        let (code, at) = match VbmStatus::validate(&record) {
            Ok(v) => v,
            Err(e) => {
                reject(report, RowError { line: line(), field: e.field.into(), reason: e.reason })?;
                continue;
            }
        };
        if let Some(e) = dated_ahead("status_time", at, now, line()) {
            reject(report, e)?;
            continue;
        }
        if let Some(e) = election {
            let id = record[2].trim_ascii();
            if id != e.id().as_bytes() {
                let reason = format!("'{}' is not this election ({})", String::from_utf8_lossy(id), e.id());
                reject(report, RowError { line: line(), field: "election_id".into(), reason })?;
                continue;
            }
            if let Some(e) = dated_before("status_time", at, e.def.date, line()) {
                reject(report, e)?;
                continue;
            }
            let county = CountyCode::parse_in_file(record[1].trim_ascii()).expect("validated");
            if !e.is_enrolled(county) {
                report.accepted += 1;
                report.not_enrolled += 1;
                continue;
            }
        }
        report.accepted += 1;
        // The lifecycle's decision for a voter with no earlier status.
        journey.ballots.clear();
        journey.milestones.clear();
        let ballot_id = std::str::from_utf8(record[3].trim_ascii()).expect("validated").to_string();
        for d in journey.apply(BallotFact::Status { ballot_id, code, at }) {
            counts[MessageKind::ALL.iter().position(|m| *m == MessageKind::from(d.milestone)).expect("listed")] += 1;
        }
    }
    for (kind, n) in MessageKind::ALL.iter().zip(counts) {
        if n > 0 {
            report.milestones.insert(kind.key().to_string(), n);
        }
    }
    Ok(())
}

pub fn print(report: &CheckReport) {
    println!("{}: {} file", report.file, report.kind);
    println!("rows read: {}, accepted: {}, rejected: {}", report.rows, report.accepted, report.rejected);
    for e in &report.errors {
        println!("  line {}: {}: {}", e.line, e.field, e.reason);
    }
    if report.rejected as usize > report.errors.len() {
        println!("  … and {} more (use --report FILE for all of them)", report.rejected as usize - report.errors.len());
    }
    if report.not_enrolled > 0 {
        println!("rows of counties not enrolled in this election: {}", report.not_enrolled);
    }
    if !report.milestones.is_empty() {
        let list: Vec<String> = report.milestones.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("would trigger (for voters with no earlier status): {}", list.join(", "));
    }
}

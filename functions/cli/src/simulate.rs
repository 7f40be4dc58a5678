//! `simulate`: replay an election folder through the pipeline on a virtual clock.

use crate::lane_threads::Lanes;
use crate::outbox::Outbox;
use crate::read_ahead::{ReadAhead, ScanFeed};
use crate::reports::FileReport;
use crate::store::{ReadIndex, SqliteStore};
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use wmb_core::election::Election;
use wmb_core::formats::{read_rows, FileKind, Line, Participation, RowError, RowFormat, VbmStatus, VoterRecord};
use wmb_core::pipeline::{Pipeline, ScanOutcome, Tally};
use wmb_core::usps::ImbMapping;
use wmb_core::signup::SignupRequest;
use wmb_core::templates::Catalog;
use wmb_core::voice::VoicePlan;
use wmb_core::time::parse_rfc3339;

/// One line of `timeline.csv`: when a file arrives, its kind and path.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub line: u64,
    pub at: DateTime<Utc>,
    pub kind: FileKind,
    pub path: String,
}

pub fn read_timeline(dir: &Path) -> Result<Vec<Arrival>> {
    let path = dir.join("timeline.csv");
    let name = path.display().to_string();
    let mut reader = csv::Reader::from_path(&path).with_context(|| format!("{name}: cannot be read"))?;
    let header: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_string()).collect();
    if header != ["at", "kind", "path"] {
        bail!("{name}: line 1: the header must be at,kind,path");
    }
    let mut out = vec![];
    for record in reader.records() {
        let record = record.with_context(|| format!("{name}: unreadable row"))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let at = parse_rfc3339(field(0).as_bytes())
            .with_context(|| format!("{name}: line {line}: at: '{}' is not an RFC 3339 time", field(0)))?;
        let kind = FileKind::parse(field(1))
            .with_context(|| format!("{name}: line {line}: kind: '{}' is not voters, vbm, vph, signups, imb or scans", field(1)))?;
        out.push(Arrival { line, at, kind, path: field(2).to_string() });
    }
    out.sort_by_key(|a| (a.at, a.line));
    Ok(out)
}

/// What `summary.json` says.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub election_id: String,
    pub files: Vec<FileReport>,
    pub messages_in_outbox: u64,
    pub still_held: u64,
    pub failed_sends: Vec<(String, String)>,
    pub tally: Tally,
    /// Seconds each file took (the releases before it included), in the files' order: printed,
    /// not written (a second run would differ).
    #[serde(skip)]
    pub seconds: Vec<f64>,
}

/// What a run on an election folder needs: the election, the templates (checked against the
/// election's names), and the voice plan (`voice-prompts.toml`, if the folder has one).
pub struct ElectionFolder {
    pub election: Election,
    pub catalog: Catalog,
    pub voice: VoicePlan,
}

pub fn load_folder(dir: &Path) -> Result<ElectionFolder> {
    let election_path = dir.join("election.toml");
    let text = std::fs::read_to_string(&election_path).with_context(|| format!("{}: cannot be read", election_path.display()))?;
    let mut election = Election::from_toml(&election_path.display().to_string(), &text)?;
    // Counties' enrolment files, if the folder has them (`enrolments/*.toml`), in name order.
    if let Ok(entries) = std::fs::read_dir(dir.join("enrolments")) {
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
        files.sort();
        for file in files {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file).with_context(|| format!("{name}: cannot be read"))?;
            let enrolment = wmb_core::enrolment::Enrolment::from_toml(&name, &text)?;
            election.enrol(&name, &enrolment)?;
        }
    }
    let catalog = Catalog::embedded()?;
    election.check_sms_budget(&catalog)?;
    let prompts_path = dir.join("voice-prompts.toml");
    let voice = match std::fs::read_to_string(&prompts_path) {
        Ok(text) => VoicePlan::from_toml(&prompts_path.display().to_string(), &text)?,
        Err(_) => VoicePlan::default(),
    };
    Ok(ElectionFolder { election, catalog, voice })
}

/// A fresh embedded store in `out` (an earlier run's file is removed), with `out/reports/`.
pub fn fresh_store(out: &Path) -> Result<SqliteStore> {
    fresh_store_at(out, "state.db", 256)
}

/// A fresh embedded store `out/<name>` with a page cache of `cache_mib` MiB (an earlier run's
/// file is removed), with `out/reports/`.
pub fn fresh_store_at(out: &Path, name: &str, cache_mib: usize) -> Result<SqliteStore> {
    std::fs::create_dir_all(out.join("reports")).with_context(|| format!("{}: cannot be created", out.display()))?;
    let db = out.join(name);
    for stale in [db.clone(), out.join(format!("{name}-wal")), out.join(format!("{name}-shm"))] {
        let _ = std::fs::remove_file(stale);
    }
    Ok(SqliteStore::open_scratch_with_cache(&db, cache_mib)?)
}

pub struct Simulation<'a> {
    pub dir: &'a Path,
    pub out: &'a Path,
}

/// The outbox's file name; `--compress` writes it zstd-compressed.
pub const OUTBOX: &str = "outbox.jsonl";
pub const OUTBOX_ZST: &str = "outbox.jsonl.zst";

impl Simulation<'_> {
    /// Runs the election with its outbox in `outbox.jsonl`.
    pub fn run(&self) -> Result<Summary> {
        self.run_writing(OUTBOX)
    }

    /// Runs the election with its outbox in `out/<outbox>` (zstd-compressed if it ends `.zst`).
    pub fn run_writing(&self, outbox: &str) -> Result<Summary> {
        self.run_in_lanes(outbox, 1)
    }

    /// Runs the election on `lanes` stores split by voter (`lanes.rs`), files of a row a voter
    /// applied on a thread a lane. One lane writes `state.db` and `out/<outbox>`; more write
    /// `state.<k>.db` and `outbox.<k>.jsonl[.zst]`, each lane's messages in its own order.
    pub fn run_in_lanes(&self, outbox: &str, lanes: usize) -> Result<Summary> {
        let lanes = lanes.max(1);
        let ElectionFolder { election, catalog, voice } = load_folder(self.dir)?;
        let timeline = read_timeline(self.dir)?;
        remove_earlier_runs(self.out)?;
        // One lane's page cache is 256 MiB; more share 512 MiB, at least 64 each.
        let cache_mib = if lanes == 1 { 256 } else { (512 / lanes).max(64) };
        let stores = (0..lanes).map(|k| fresh_store_at(self.out, &lane_file("state.db", k, lanes), cache_mib)).collect::<Result<Vec<_>>>()?;
        // More lanes keep the contact index in stores of its own (`lanes.rs`), sharing 256 MiB of
        // cache (at least 32 MiB each): statewide, two lanes' contact stores are about 200 MB
        // each, so most contacts a sign-up links at a random place are in the cache.
        let contact_cache_mib = (256 / lanes).max(32);
        let contact_stores = if lanes == 1 { vec![] } else { (0..lanes).map(|k| fresh_store_at(self.out, &lane_file("state.contacts.db", k, lanes), contact_cache_mib)).collect::<Result<Vec<_>>>()? };
        let contacts = if lanes == 1 { &stores } else { &contact_stores };
        let outboxes = (0..lanes).map(|k| Outbox::create_lane(&self.out.join(lane_file(outbox, k, lanes)), k, lanes)).collect::<std::io::Result<Vec<_>>>()?;
        let elections = BTreeMap::from([(election.id().to_string(), election.clone())]);
        let access = crate::local_access(wmb_core::access::LOCAL_PUBLIC_URL);
        let ctx = Lanes { stores: &stores, contacts, outboxes: &outboxes, catalog: &catalog, elections: &elections, voice: &voice, access: &access };
        // Each release and each file is one transaction a lane's store and contact store (far
        // faster on disk), begun and committed on a thread a lane: a commit writes out the pages
        // the lane changed.
        let each = |f: &(dyn Fn(&SqliteStore) -> Result<(), wmb_core::ports::StoreError> + Sync)| {
            ctx.in_each(|k| {
                f(&stores[k])?;
                contact_stores.get(k).map(f).transpose()?;
                Ok(())
            })
            .map(drop)
        };
        let mut tally = Tally::default();
        let mut files = vec![];
        let mut seconds = vec![];
        for arrival in &timeline {
            let started = std::time::Instant::now();
            each(&SqliteStore::begin)?;
            let released = ctx.release_until(arrival.at, &mut tally);
            each(&SqliteStore::commit)?;
            released?;
            let path = self.dir.join(&arrival.path);
            each(&SqliteStore::begin)?;
            if let Some(index) = index_left_out(arrival.kind) {
                each(&|s| s.defer_index(index))?;
            }
            let before = tally.milestones.clone();
            let report = ctx.ingest(&path, &arrival.path, arrival.kind, arrival.at, &mut tally);
            each(&SqliteStore::commit)?;
            let mut report = report?;
            report.milestones = tally.milestones.iter().map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0))).filter(|(_, n)| *n > 0).collect();
            report.write(&self.out.join("reports"))?;
            files.push(report);
            seconds.push(started.elapsed().as_secs_f64());
        }
        // Run the clock on until nothing is held.
        each(&SqliteStore::begin)?;
        let released = ctx.release_until(DateTime::<Utc>::MAX_UTC, &mut tally);
        each(&SqliteStore::commit)?;
        released?;
        // Each lane's outbox closed and its store read for the summary, on a thread a lane.
        let ends = ctx.in_each(|k| Ok((outboxes[k].finish()?, stores[k].held_count()?, stores[k].failures()?)))?;
        let mut messages_in_outbox = 0;
        let mut still_held = 0;
        let mut failed_sends = vec![];
        for (messages, held, failures) in ends {
            messages_in_outbox += messages;
            still_held += held;
            failed_sends.extend(failures);
        }
        failed_sends.sort();
        let summary = Summary { election_id: election.id().to_string(), files, messages_in_outbox, still_held, failed_sends, tally, seconds };
        std::fs::write(self.out.join("summary.json"), serde_json::to_string_pretty(&summary)? + "\n")?;
        write_daily_summaries(&self.out.join("reports"), &summary.tally.county_days)?;
        write_county_settings(&self.out.join("reports"), &election)?;
        Ok(summary)
    }
}

/// A lane's file: the name itself for one lane, `state.<k>.db`, `state.<k>.contacts.db` and
/// `outbox.<k>.jsonl` for more.
pub fn lane_file(name: &str, lane: usize, lanes: usize) -> String {
    match (lanes, name.split_once('.')) {
        (1, _) | (_, None) => name.to_string(),
        (_, Some((stem, rest))) => format!("{stem}.{lane}.{rest}"),
    }
}

/// An earlier run's store and outbox files in `out`, whatever its lanes: removed.
fn remove_earlier_runs(out: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(out) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if (name.starts_with("state.") && name.contains(".db")) || (name.starts_with("outbox.") && name.contains(".jsonl")) {
            std::fs::remove_file(entry.path()).with_context(|| format!("{}: cannot be removed", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The index only sign-ups read that a file of many rows of its table leaves to be built after
/// it (store.rs, `defer_index`): the roll's by identity, or the kept facts' by voter.
pub fn index_left_out(kind: FileKind) -> Option<ReadIndex> {
    match kind {
        FileKind::Voters => Some(ReadIndex::VotersByIdentity),
        FileKind::Vbm | FileKind::Vph | FileKind::Scans => Some(ReadIndex::KeptByVoter),
        FileKind::Signups | FileKind::Imb | FileKind::Stops => None,
    }
}

use wmb_core::ports::{Dispatcher, Store};

/// What each enrolled county's voters are told, and from where, as the morning job writes it on
/// AWS: `reports/<NN>/settings/<election>.csv` ([`wmb_core::county_settings`]).
pub fn write_county_settings(reports: &Path, election: &Election) -> Result<()> {
    for county in wmb_core::CountyCode::all().filter(|c| election.is_enrolled(*c)) {
        write_report(&reports.join(wmb_core::county_settings::settings_path(election, county)), &wmb_core::county_settings::settings_csv(election, county))?;
    }
    Ok(())
}

/// A report at its path under reports/, its folders made as needed.
fn write_report(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot be created", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("{}: cannot be written", path.display()))
}

/// Each county's summary of each day something happened for its voters, as the morning job
/// writes them on AWS: `reports/<NN>/daily/<date>.csv`.
pub fn write_daily_summaries(reports: &Path, days: &wmb_core::daily::CountyDays) -> Result<()> {
    for (date, county, counts) in days.iter() {
        write_report(&reports.join(wmb_core::daily::summary_path(date, county)), &wmb_core::daily::summary_csv(date, county, counts))?;
    }
    Ok(())
}

/// Releases everything held up to `until`, in time order, as the release schedules would.
pub async fn release_until<S: Store, D: Dispatcher>(pipeline: &Pipeline<'_, S, D>, until: DateTime<Utc>, tally: &mut Tally) -> Result<()> {
    while let Some(next) = pipeline.store.next_release().await? {
        if next > until {
            break;
        }
        pipeline.release_due(next, tally).await?;
    }
    Ok(())
}

/// A county file's rows, read and parsed on a thread of their own while the pipeline applies
/// the rows before (its header is checked here first).
fn open_rows<T: RowFormat + Send + 'static>(path: &Path, name: &str) -> Result<ReadAhead<Result<Line<T>, RowError>>, wmb_core::formats::FileError> {
    let file = File::open(path)
        .map_err(|e| wmb_core::formats::FileError::Unreadable { file: name.to_string(), reason: e.to_string() })?;
    Ok(ReadAhead::new(read_rows::<_, T>(name, file)?))
}

/// A county file's rows as [`open_rows`] reads them, or, when the file cannot be used at all (no
/// file, a bad header), none, with the reason in the file's report.
pub(crate) fn open_or_report<T: RowFormat + Send + 'static>(path: &Path, name: &str, report: &mut FileReport) -> Option<ReadAhead<Result<Line<T>, RowError>>> {
    open_rows::<T>(path, name).inspect_err(|e| report.file_error = Some(e.to_string())).ok()
}

/// A row of the roll, a status file or a participation file: the election it is for, and the
/// time it is dated with (its field and value).
pub(crate) trait ElectionRow {
    fn election(&self) -> Option<&str>;
    fn dated(&self) -> Option<(&'static str, DateTime<Utc>)>;
}

impl ElectionRow for VoterRecord {
    fn election(&self) -> Option<&str> {
        None
    }
    fn dated(&self) -> Option<(&'static str, DateTime<Utc>)> {
        None
    }
}

impl ElectionRow for VbmStatus {
    fn election(&self) -> Option<&str> {
        Some(&self.election_id)
    }
    fn dated(&self) -> Option<(&'static str, DateTime<Utc>)> {
        Some(("status_time", self.status_time))
    }
}

impl ElectionRow for Participation {
    fn election(&self) -> Option<&str> {
        Some(&self.election_id)
    }
    fn dated(&self) -> Option<(&'static str, DateTime<Utc>)> {
        Some(("participation_time", self.time))
    }
}

/// A row to apply, counted as accepted; or, in the report, a row the file's format refuses, one
/// for an election not defined, or one dated more than a day after the file `arrived` or more
/// than 60 days before its election's day.
pub(crate) fn accept<T: ElectionRow>(report: &mut FileReport, elections: &BTreeMap<String, Election>, arrived: DateTime<Utc>, row: Result<Line<T>, RowError>) -> Option<Line<T>> {
    match row {
        Err(e) => report.reject(e),
        Ok(l) => match l.row.election() {
            Some(id) if !elections.contains_key(id) => report.reject_field(l.line, "election_id", format!("election '{id}' is not defined")),
            election => match l.row.dated().and_then(|(field, at)| {
                let day = election.and_then(|id| elections.get(id)).map(|e| e.def.date);
                wmb_core::sources::misdated(field, at, arrived, day, l.line)
            }) {
                Some(e) => report.reject(e),
                None => {
                    report.accepted += 1;
                    return Some(l);
                }
            },
        },
    }
    None
}

/// A scan's outcome in its file's report.
pub(crate) fn report_scan(report: &mut FileReport, line: u64, tracking: &str, outcome: ScanOutcome) {
    match outcome {
        ScanOutcome::Applied => report.accepted += 1,
        ScanOutcome::NotUsed => {
            report.accepted += 1;
            report.not_used += 1;
        }
        ScanOutcome::UnknownImb => report.reject(wmb_core::usps::unknown_imb(line, tracking)),
        ScanOutcome::UnknownElection(id) => report.reject_field(line, "imb", format!("election '{id}' is not defined")),
        ScanOutcome::BeforeMailing { at, election_day } => report.reject(wmb_core::usps::scan_before_mailing(line, at, election_day)),
    }
}

/// Reads one county file into the pipeline; bad rows go to the file's report.
pub async fn ingest_file<S: Store, D: Dispatcher>(
    pipeline: &Pipeline<'_, S, D>,
    elections: &BTreeMap<String, Election>,
    path: &Path,
    name: &str,
    kind: FileKind,
    now: DateTime<Utc>,
    tally: &mut Tally,
) -> Result<FileReport> {
    let mut report = FileReport::new(name, kind);
    macro_rules! rows_or_report {
        ($t:ty) => {
            match open_or_report::<$t>(path, name, &mut report) {
                Some(rows) => rows,
                None => return Ok(report),
            }
        };
    }
    match kind {
        FileKind::Voters => {
            for l in rows_or_report!(VoterRecord) {
                if let Some(l) = accept(&mut report, elections, now, l) {
                    pipeline.record_voter(&l.row).await?;
                }
            }
        }
        FileKind::Vbm => {
            for l in rows_or_report!(VbmStatus) {
                if let Some(l) = accept(&mut report, elections, now, l) {
                    pipeline.apply_status(&l.row, now, tally).await?;
                }
            }
        }
        FileKind::Vph => {
            for l in rows_or_report!(Participation) {
                if let Some(l) = accept(&mut report, elections, now, l) {
                    pipeline.apply_participation(&l.row, now, tally).await?;
                }
            }
        }
        FileKind::Imb => {
            for row in rows_or_report!(ImbMapping) {
                match row {
                    Ok(l) => match pipeline.record_mapping(&l.row, now).await? {
                        Ok(()) => report.accepted += 1,
                        Err(reason) => report.reject_field(l.line, "votecal_id", reason),
                    },
                    Err(e) => report.reject(e),
                }
            }
        }
        FileKind::Scans => {
            // Read on a thread of its own and applied as they come. A header that does not match
            // stops the file before its first row; a file that stops reading part-way keeps the
            // rows read before.
            let (records, feed) = match ScanFeed::open(path, name) {
                Ok(feed) => feed,
                Err(e) => {
                    report.file_error = Some(e);
                    return Ok(report);
                }
            };
            for r in records {
                let l = match r {
                    Ok(l) => l,
                    Err(e) => {
                        report.reject(e);
                        continue;
                    }
                };
                if let Some(e) = wmb_core::usps::scan_misdated(&l.row, now, l.line) {
                    report.reject(e);
                    continue;
                }
                let outcome = pipeline.apply_scan(&l.row, now, tally).await?;
                report_scan(&mut report, l.line, &l.row.tracking, outcome);
            }
            if let Some(e) = feed.finish() {
                report.file_error = Some(e);
            }
        }
        FileKind::Signups => {
            for row in rows_or_report!(SignupRequest) {
                match row {
                    Ok(l) => match pipeline.signup(&l.row, now, tally).await? {
                        Ok(_) => report.accepted += 1,
                        Err(refusal) => report.refuse(l.line, refusal),
                    },
                    Err(e) => report.reject(e),
                }
            }
        }
        FileKind::Stops => {
            for row in rows_or_report!(wmb_core::stop_requests::StopRequest) {
                match row {
                    Ok(l) => match pipeline.stop_as_asked(&l.row, None, now, tally).await? {
                        Ok(_) => report.accepted += 1,
                        Err(e) => report.reject(RowError { line: l.line, field: e.field.into(), reason: e.reason }),
                    },
                    Err(e) => report.reject(e),
                }
            }
        }
    }
    Ok(report)
}

/// The default output folder for an election folder.
pub fn default_out(dir: &Path) -> PathBuf {
    PathBuf::from("out").join(dir.file_name().unwrap_or_default())
}

//! The replay's lanes at work: releases, and every county file, its rows applied on a thread a
//! lane: the roll, status, participation and sign-up files and scans on their voters' lanes,
//! crosswalk rows on their IMbs' (sign-ups and scans found first: `lane_lookups.rs`).

use crate::lane_lookups::{Ask, Found};
use crate::lanes::{lane_of, Lane};
use crate::outbox::Outbox;
use crate::reports::FileReport;
use crate::simulate::{accept, ElectionRow};
use crate::store::SqliteStore;
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use wmb_core::access::AccessKeys;
use wmb_core::election::Election;
use wmb_core::formats::{FileKind, Participation, RowError, VbmStatus, VoterRecord};
use wmb_core::pipeline::{Pipeline, Tally};
use wmb_core::ports::Inline;
use wmb_core::signup::{Refusal, SignupRequest};
use wmb_core::templates::Catalog;
use wmb_core::usps::{ImbMapping, PieceScan};
use wmb_core::voice::VoicePlan;

/// Everything a lane's pipeline is made of.
pub struct Lanes<'a> {
    pub stores: &'a [SqliteStore],
    /// The contact index's stores (`Lane::contacts`).
    pub contacts: &'a [SqliteStore],
    pub outboxes: &'a [Outbox],
    pub catalog: &'a Catalog,
    pub elections: &'a BTreeMap<String, Election>,
    pub voice: &'a VoicePlan,
    pub access: &'a AccessKeys,
}

/// Rows handed to a lane at a time, and batches waiting for it at most.
pub(crate) const BATCH: usize = 512;
const WAITING: usize = 16;

/// One row for a lane.
pub(crate) enum Row {
    Voter(VoterRecord),
    Status(VbmStatus),
    Participation(Participation),
    /// A crosswalk row, on the lane of its IMb.
    Mapping { line: u64, mapping: ImbMapping },
    /// A sign-up, matched to its voter on the roll by the thread that reads the file.
    Signup { line: u64, request: SignupRequest, voter: VoterRecord },
    /// A scan of an envelope the crosswalk names (found by the thread that reads the file), on
    /// its voter's lane.
    Scan { scan: PieceScan, envelope: ImbMapping },
    /// Keys to look up in the lane's own part of the store; the answers go back to the reading
    /// thread, with the lane's number.
    Lookup { ask: Ask, answer: SyncSender<(usize, Found)> },
}

/// What a lane did with a file's rows: its counts, the sign-ups it refused (a change of choices
/// too soon after the last) and the crosswalk rows it rejected, by line.
#[derive(Default)]
struct LaneDone {
    tally: Tally,
    refused: Vec<(u64, Refusal)>,
    rejected: Vec<RowError>,
}

impl Lanes<'_> {
    pub fn count(&self) -> usize {
        self.stores.len()
    }

    /// `f` with the pipeline seen from lane `own` (or from none: see `Lane`).
    pub fn with_pipeline<R>(&self, own: impl Into<Option<usize>>, f: impl FnOnce(&Pipeline<'_, Lane<'_>, Lane<'_>>) -> R) -> R {
        let lane = Lane { stores: self.stores, contacts: self.contacts, outboxes: self.outboxes, own: own.into() };
        let pipeline = Pipeline { store: &lane, dispatcher: &lane, queue: &Inline, catalog: self.catalog, elections: self.elections, voice: self.voice, access: self.access };
        f(&pipeline)
    }

    /// `f` for every lane, each on a thread of its own (one lane: on this thread); the answers
    /// in lane order, or the first lane's error.
    pub fn in_each<T: Send>(&self, f: impl Fn(usize) -> Result<T> + Sync) -> Result<Vec<T>> {
        if self.count() == 1 {
            return Ok(vec![f(0)?]);
        }
        let f = &f;
        std::thread::scope(|s| {
            let threads: Vec<_> = (0..self.count()).map(|k| std::thread::Builder::new().name(format!("lane {k}")).spawn_scoped(s, move || f(k))).collect::<Result<_, _>>()?;
            join_all(threads)
        })
    }

    /// Every lane's held messages due by `until`, released in time order on the lane's thread;
    /// their counts added to `tally`.
    pub fn release_until(&self, until: DateTime<Utc>, tally: &mut Tally) -> Result<()> {
        let tallies = self.in_each(|k| {
            let mut mine = Tally::default();
            self.with_pipeline(k, |p| futures::executor::block_on(crate::simulate::release_until(p, until, &mut mine)))?;
            Ok(mine)
        })?;
        tallies.into_iter().for_each(|t| tally.merge(t));
        Ok(())
    }

    /// A county file, its rows read on one thread and applied on their lanes, in the file's
    /// order for each voter (each IMb, for a crosswalk). Rows the file's format refuses, and
    /// statuses of elections not defined, go to the report as they do on one thread
    /// (`simulate::accept`); sign-ups are matched to the roll, and scans to the crosswalk, on
    /// the reading thread from what the lanes look up (`lane_lookups.rs`). A lane that fails
    /// stops the file: the others take no more rows, and its error (or panic) is the answer.
    pub fn ingest(&self, path: &Path, name: &str, kind: FileKind, now: DateTime<Utc>, tally: &mut Tally) -> Result<FileReport> {
        if kind == FileKind::Stops {
            // A stop of a phone or an address finds its voters in the contact index, on every
            // lane: the file's few rows are applied on this thread, in a view of no lane (each
            // voter's records on her own lane).
            return self.with_pipeline(None, |p| futures::executor::block_on(crate::simulate::ingest_file(p, self.elections, path, name, kind, now, tally)));
        }
        let mut report = FileReport::new(name, kind);
        let stop = AtomicBool::new(false);
        let done = std::thread::scope(|s| -> Result<Vec<LaneDone>> {
            let mut senders = vec![];
            let mut threads = vec![];
            for k in 0..self.count() {
                let (tx, rx) = sync_channel::<Vec<Row>>(WAITING);
                senders.push(tx);
                let stop = &stop;
                let work = move || -> Result<LaneDone> {
                    let _panic_stops = PanicStops(stop);
                    let mut done = LaneDone::default();
                    let applied = self.with_pipeline(k, |p| {
                        futures::executor::block_on(async {
                            for rows in rx {
                                if stop.load(Ordering::Relaxed) {
                                    break;
                                }
                                for row in rows {
                                    match row {
                                        Row::Voter(v) => p.record_voter(&v).await?,
                                        Row::Status(s) => p.apply_status(&s, now, &mut done.tally).await?,
                                        Row::Participation(r) => p.apply_participation(&r, now, &mut done.tally).await?,
                                        Row::Mapping { line, mapping } => {
                                            if let Err(reason) = p.record_mapping(&mapping, now).await? {
                                                done.rejected.push(RowError { line, field: "votecal_id".into(), reason });
                                            }
                                        }
                                        Row::Signup { line, request, voter } => {
                                            if let Err(refusal) = p.signup_matched(&request, &voter, now, &mut done.tally).await? {
                                                done.refused.push((line, refusal));
                                            }
                                        }
                                        Row::Scan { scan, envelope } => p.apply_mapped_scan(&scan, &envelope, now, &mut done.tally).await?,
                                        Row::Lookup { ask, answer } => {
                                            let found = self.look_up(k, &ask).await?;
                                            // The reading thread may have stopped on a lane's error.
                                            let _ = answer.send((k, found));
                                        }
                                    }
                                }
                            }
                            anyhow::Ok(())
                        })
                    });
                    if applied.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    applied.map(|()| done)
                };
                threads.push(std::thread::Builder::new().name(format!("lane {k}")).spawn_scoped(s, work)?);
            }
            let mut batches = Batches { rows: senders.iter().map(|_| Vec::with_capacity(BATCH)).collect(), senders: &senders, stop: &stop };
            let routed = match kind {
                FileKind::Voters => self.route(path, name, now, &mut report, Row::Voter, &mut batches),
                FileKind::Vbm => self.route(path, name, now, &mut report, Row::Status, &mut batches),
                FileKind::Vph => self.route(path, name, now, &mut report, Row::Participation, &mut batches),
                FileKind::Signups => self.route_signups(path, name, &mut report, tally, &mut batches),
                FileKind::Imb => self.route_mappings(path, name, &mut report, &mut batches),
                FileKind::Scans => self.route_scans(path, name, now, &mut report, &mut batches),
                FileKind::Stops => unreachable!("applied above, on this thread"),
            };
            batches.finish();
            drop(senders);
            let done = join_all(threads)?;
            routed.map(|()| done)
        })?;
        for lane in done {
            tally.merge(lane.tally);
            for (line, refusal) in lane.refused {
                report.accepted -= 1;
                report.refuse(line, refusal);
            }
            for e in lane.rejected {
                report.accepted -= 1;
                report.reject(e);
            }
        }
        report.errors.sort_by_key(|e| e.line);
        Ok(report)
    }

    /// Reads a file's rows and hands each accepted one to its voter's lane.
    fn route<T: LaneRow>(&self, path: &Path, name: &str, now: DateTime<Utc>, report: &mut FileReport, wrap: fn(T) -> Row, batches: &mut Batches) -> Result<()> {
        let Some(rows) = crate::simulate::open_or_report::<T>(path, name, report) else { return Ok(()) };
        for row in rows {
            let Some(l) = accept(report, self.elections, now, row) else { continue };
            let lane = lane_of(l.row.voter(), self.count());
            if !batches.push(lane, wrap(l.row)) {
                break;
            }
        }
        Ok(())
    }

    /// Reads a crosswalk and hands each row to the lane of its IMb (where its voter's county is
    /// checked on the roll, which the file does not change): a tracking code's rows stay in the
    /// file's order, so the first county to map an envelope keeps it.
    fn route_mappings(&self, path: &Path, name: &str, report: &mut FileReport, batches: &mut Batches) -> Result<()> {
        let Some(rows) = crate::simulate::open_or_report::<ImbMapping>(path, name, report) else { return Ok(()) };
        for row in rows {
            match row {
                Err(e) => report.reject(e),
                Ok(l) => {
                    report.accepted += 1;
                    let lane = lane_of(&l.row.tracking, self.count());
                    if !batches.push(lane, Row::Mapping { line: l.line, mapping: l.row }) {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Stops the file when a lane's thread ends in a panic, as an error does (the panic itself is
/// passed on when the threads join).
struct PanicStops<'a>(&'a AtomicBool);

impl Drop for PanicStops<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Rows waiting to go to each lane, sent a batch at a time.
pub(crate) struct Batches<'s> {
    rows: Vec<Vec<Row>>,
    senders: &'s [SyncSender<Vec<Row>>],
    stop: &'s AtomicBool,
}

impl Batches<'_> {
    /// False once a lane has stopped: it takes no more rows, and its error is the answer.
    pub(crate) fn push(&mut self, lane: usize, row: Row) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        self.rows[lane].push(row);
        if self.rows[lane].len() >= BATCH {
            let full = std::mem::replace(&mut self.rows[lane], Vec::with_capacity(BATCH));
            return self.senders[lane].send(full).is_ok();
        }
        true
    }

    /// `row` to `lane` ahead of the rows still waiting for it (false once a lane has stopped).
    pub(crate) fn send_now(&mut self, lane: usize, row: Row) -> bool {
        !self.stop.load(Ordering::Relaxed) && self.senders[lane].send(vec![row]).is_ok()
    }

    /// The last rows of each lane.
    fn finish(self) {
        for (lane, rest) in self.rows.into_iter().enumerate() {
            let _ = self.senders[lane].send(rest);
        }
    }
}

/// The threads' answers in lane order: the first error, or a lane's panic passed on as it was.
fn join_all<T>(threads: Vec<std::thread::ScopedJoinHandle<'_, Result<T>>>) -> Result<Vec<T>> {
    let mut out = vec![];
    let mut first_error = None;
    for t in threads {
        match t.join() {
            Ok(Ok(v)) => out.push(v),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// A row a lane applies: a roll, status or participation row, with its voter.
trait LaneRow: ElectionRow + wmb_core::formats::RowFormat + Send + 'static {
    fn voter(&self) -> &str;
}

impl LaneRow for VoterRecord {
    fn voter(&self) -> &str {
        &self.votecal_id
    }
}

impl LaneRow for VbmStatus {
    fn voter(&self) -> &str {
        &self.votecal_id
    }
}

impl LaneRow for Participation {
    fn voter(&self) -> &str {
        &self.votecal_id
    }
}

//! The replay's lanes at work: releases, and files of a row a voter (the roll, status files,
//! participation, sign-ups), applied on a thread a lane, each to its own voters; crosswalks and
//! scans on one thread.

use crate::lanes::{lane_of, Lane};
use crate::outbox::Outbox;
use crate::reports::FileReport;
use crate::store::SqliteStore;
use crate::simulate::{accept, ElectionRow};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use wmb_core::access::AccessKeys;
use wmb_core::election::Election;
use wmb_core::formats::{FileKind, Participation, VbmStatus, VoterRecord};
use wmb_core::signup::{Refusal, SignupRequest};
use wmb_core::pipeline::{Pipeline, Tally};
use wmb_core::ports::Inline;
use wmb_core::templates::Catalog;
use wmb_core::voice::VoicePlan;

/// Everything a lane's pipeline is made of.
pub struct Lanes<'a> {
    pub stores: &'a [SqliteStore],
    pub outboxes: &'a [Outbox],
    pub catalog: &'a Catalog,
    pub elections: &'a BTreeMap<String, Election>,
    pub voice: &'a VoicePlan,
    pub access: &'a AccessKeys,
}

/// Rows handed to a lane at a time, and batches waiting for it at most.
const BATCH: usize = 512;
const WAITING: usize = 8;

/// One row for a lane.
enum Row {
    Voter(VoterRecord),
    Status(VbmStatus),
    Participation(Participation),
    /// A sign-up, matched to its voter on the roll by the thread that reads the file.
    Signup { line: u64, request: SignupRequest, voter: VoterRecord },
}

/// What a lane did with a file's rows: its counts, and the sign-ups it refused (a change of
/// choices too soon after the last), by line.
type LaneDone = (Tally, Vec<(u64, Refusal)>);

impl Lanes<'_> {
    pub fn count(&self) -> usize {
        self.stores.len()
    }

    /// `f` with the pipeline seen from lane `own` (or from none: see `Lane`).
    pub fn with_pipeline<R>(&self, own: impl Into<Option<usize>>, f: impl FnOnce(&Pipeline<'_, Lane<'_>, Lane<'_>>) -> R) -> R {
        let lane = Lane { stores: self.stores, outboxes: self.outboxes, own: own.into() };
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

    /// A file of a row a voter, its rows read on one thread and applied on their voters' lanes.
    /// Rows the file's format refuses, and statuses of elections not defined, go to the report
    /// as they do on one thread (`simulate::accept`); sign-ups are matched to the roll on the
    /// reading thread (the roll is every lane's) and signed up on the voter's lane, in the
    /// file's order for each voter. A lane that fails stops the file: the others take no more
    /// rows, and its error (or panic) is the answer.
    pub fn ingest(&self, path: &Path, name: &str, kind: FileKind, now: DateTime<Utc>, tally: &mut Tally) -> Result<FileReport> {
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
                    let mut mine = Tally::default();
                    let mut refused = vec![];
                    let applied = self.with_pipeline(k, |p| {
                        futures::executor::block_on(async {
                            for rows in rx {
                                if stop.load(Ordering::Relaxed) {
                                    break;
                                }
                                for row in rows {
                                    match row {
                                        Row::Voter(v) => p.record_voter(&v).await?,
                                        Row::Status(s) => p.apply_status(&s, now, &mut mine).await?,
                                        Row::Participation(r) => p.apply_participation(&r, now, &mut mine).await?,
                                        Row::Signup { line, request, voter } => {
                                            if let Err(refusal) = p.signup_matched(&request, &voter, now, &mut mine).await? {
                                                refused.push((line, refusal));
                                            }
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
                    applied.map(|()| (mine, refused))
                };
                threads.push(std::thread::Builder::new().name(format!("lane {k}")).spawn_scoped(s, work)?);
            }
            let mut batches = Batches { rows: senders.iter().map(|_| Vec::with_capacity(BATCH)).collect(), senders: &senders, stop: &stop };
            let routed = match kind {
                FileKind::Voters => self.route(path, name, &mut report, Row::Voter, &mut batches),
                FileKind::Vbm => self.route(path, name, &mut report, Row::Status, &mut batches),
                FileKind::Vph => self.route(path, name, &mut report, Row::Participation, &mut batches),
                FileKind::Signups => self.route_signups(path, name, &mut report, tally, &mut batches),
                FileKind::Imb | FileKind::Scans => unreachable!("crosswalks and scans are not read in lanes"),
            };
            batches.finish();
            drop(senders);
            let done = join_all(threads)?;
            routed.map(|()| done)
        })?;
        for (mine, refused) in done {
            tally.merge(mine);
            for (line, refusal) in refused {
                report.accepted -= 1;
                report.refuse(line, refusal);
            }
        }
        report.errors.sort_by_key(|e| e.line);
        Ok(report)
    }

    /// Reads a file's rows and hands each accepted one to its voter's lane.
    fn route<T: LaneRow>(&self, path: &Path, name: &str, report: &mut FileReport, wrap: fn(T) -> Row, batches: &mut Batches) -> Result<()> {
        let Some(rows) = crate::simulate::open_or_report::<T>(path, name, report) else { return Ok(()) };
        for row in rows {
            let Some(l) = accept(report, self.elections, row) else { continue };
            let lane = lane_of(l.row.voter(), self.count());
            if !batches.push(lane, wrap(l.row)) {
                break;
            }
        }
        Ok(())
    }

    /// Reads a sign-up file, matches each request to the roll (refusals to the report and the
    /// count), and hands the matched ones to their voters' lanes.
    fn route_signups(&self, path: &Path, name: &str, report: &mut FileReport, tally: &mut Tally, batches: &mut Batches) -> Result<()> {
        let Some(rows) = crate::simulate::open_or_report::<SignupRequest>(path, name, report) else { return Ok(()) };
        self.with_pipeline(None, |p| {
            futures::executor::block_on(async {
                for row in rows {
                    let l = match row {
                        Ok(l) => l,
                        Err(e) => {
                            report.reject(e);
                            continue;
                        }
                    };
                    match p.match_signup(&l.row, tally).await? {
                        Err(refusal) => report.refuse(l.line, refusal),
                        Ok(voter) => {
                            report.accepted += 1;
                            let lane = lane_of(&voter.votecal_id, self.count());
                            if !batches.push(lane, Row::Signup { line: l.line, request: l.row, voter }) {
                                break;
                            }
                        }
                    }
                }
                Ok(())
            })
        })
    }
}

/// Rows waiting to go to each lane, sent a batch at a time.
struct Batches<'s> {
    rows: Vec<Vec<Row>>,
    senders: &'s [SyncSender<Vec<Row>>],
    stop: &'s AtomicBool,
}

impl Batches<'_> {
    /// False once a lane has stopped: it takes no more rows, and its error is the answer.
    fn push(&mut self, lane: usize, row: Row) -> bool {
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

/// Whether a file's rows go to the lanes: the roll, statuses and participation (a row a voter),
/// and sign-ups (matched first). Crosswalks and scans are read on one thread.
pub fn in_lanes(kind: FileKind) -> bool {
    matches!(kind, FileKind::Voters | FileKind::Vbm | FileKind::Vph | FileKind::Signups)
}

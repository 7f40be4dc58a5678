//! The replay's lanes at work: releases and files of a row a voter (the roll, status files,
//! participation) applied on a thread a lane, each to its own voters; the rest on one thread.

use crate::lanes::{lane_of, Lane};
use crate::outbox::Outbox;
use crate::reports::FileReport;
use crate::store::SqliteStore;
use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::sync_channel;
use wmb_core::access::AccessKeys;
use wmb_core::election::Election;
use wmb_core::formats::{FileKind, Participation, VbmStatus, VoterRecord};
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
}

impl Lanes<'_> {
    pub fn count(&self) -> usize {
        self.stores.len()
    }

    /// `f` with the pipeline seen from lane `own`.
    pub fn with_pipeline<R>(&self, own: usize, f: impl FnOnce(&Pipeline<'_, Lane<'_>, Lane<'_>>) -> R) -> R {
        let lane = Lane { stores: self.stores, outboxes: self.outboxes, own };
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
            threads.into_iter().map(|t| t.join().map_err(|_| anyhow!("a lane's thread panicked"))?).collect()
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
    /// as they do on one thread.
    pub fn ingest(&self, path: &Path, name: &str, kind: FileKind, now: DateTime<Utc>, tally: &mut Tally) -> Result<FileReport> {
        let mut report = FileReport::new(name, kind);
        let unknown_election = |id: &str| format!("election '{id}' is not defined");
        let lanes = self.count();
        let tallies = std::thread::scope(|s| -> Result<Vec<Tally>> {
            let mut senders = vec![];
            let mut threads = vec![];
            for k in 0..lanes {
                let (tx, rx) = sync_channel::<Vec<Row>>(WAITING);
                senders.push(tx);
                let work = move || -> Result<Tally> {
                    let mut mine = Tally::default();
                    self.with_pipeline(k, |p| {
                        futures::executor::block_on(async {
                            for rows in rx {
                                for row in rows {
                                    match row {
                                        Row::Voter(v) => p.record_voter(&v).await?,
                                        Row::Status(s) => p.apply_status(&s, now, &mut mine).await?,
                                        Row::Participation(r) => p.apply_participation(&r, now, &mut mine).await?,
                                    }
                                }
                            }
                            anyhow::Ok(())
                        })
                    })?;
                    Ok(mine)
                };
                threads.push(std::thread::Builder::new().name(format!("lane {k}")).spawn_scoped(s, work)?);
            }
            let mut batches: Vec<Vec<Row>> = (0..lanes).map(|_| Vec::with_capacity(BATCH)).collect();
            // A lane that stopped (its error is the answer) takes no more rows.
            let send = |lane: usize, row: Row, batches: &mut Vec<Vec<Row>>| {
                batches[lane].push(row);
                if batches[lane].len() >= BATCH {
                    let full = std::mem::replace(&mut batches[lane], Vec::with_capacity(BATCH));
                    return senders[lane].send(full).is_ok();
                }
                true
            };
            let mut going = true;
            macro_rules! route {
                ($t:ty, $variant:ident, $election:expr) => {
                    match crate::simulate::open_rows::<$t>(path, name) {
                        Err(e) => report.file_error = Some(e.to_string()),
                        Ok(rows) => {
                            for row in rows {
                                match row {
                                    Err(e) => report.reject(e),
                                    Ok(l) if ($election)(&l.row).is_some_and(|id: &str| !self.elections.contains_key(id)) => {
                                        report.reject_field(l.line, "election_id", unknown_election(($election)(&l.row).unwrap_or_default()))
                                    }
                                    Ok(l) => {
                                        report.accepted += 1;
                                        let lane = lane_of(&l.row.votecal_id, lanes);
                                        if !send(lane, Row::$variant(l.row), &mut batches) {
                                            going = false;
                                            break;
                                        }
                                    }
                                }
                            }
                        }
                    }
                };
            }
            match kind {
                FileKind::Voters => route!(VoterRecord, Voter, no_election),
                FileKind::Vbm => route!(VbmStatus, Status, status_election),
                FileKind::Vph => route!(Participation, Participation, participation_election),
                _ => unreachable!("only files of a row a voter go to the lanes"),
            }
            if going {
                for (lane, rest) in batches.into_iter().enumerate() {
                    let _ = senders[lane].send(rest);
                }
            }
            drop(senders);
            threads.into_iter().map(|t| t.join().map_err(|_| anyhow!("a lane's thread panicked"))?).collect()
        })?;
        tallies.into_iter().for_each(|t| tally.merge(t));
        Ok(report)
    }
}

/// Whether a file's rows go to the lanes (a row a voter, nothing shared between voters).
pub fn in_lanes(kind: FileKind) -> bool {
    matches!(kind, FileKind::Voters | FileKind::Vbm | FileKind::Vph)
}

/// The election a row is for: none for the roll.
fn no_election(_: &VoterRecord) -> Option<&str> {
    None
}

fn status_election(row: &VbmStatus) -> Option<&str> {
    Some(&row.election_id)
}

fn participation_election(row: &Participation) -> Option<&str> {
    Some(&row.election_id)
}

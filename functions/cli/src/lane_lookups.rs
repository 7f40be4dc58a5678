//! What the lanes look up for the thread that reads a file, ahead of the rows they are
//! applying: the roll's entries under sign-ups' identity keys (the roll is split among the
//! lanes, and a sign-up file does not change it), and the crosswalk's entries for scans' IMbs
//! (split by IMb; a scan file does not change it). The reading thread decides each row from
//! every lane's answers, in the file's order, and hands it to its voter's lane.

use chrono::{DateTime, Utc};
use crate::lane_threads::{Batches, Lanes, Row, BATCH};
use crate::lanes::lane_of;
use crate::read_ahead::ScanFeed;
use crate::reports::FileReport;
use anyhow::Result;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use wmb_core::file_signups::match_among;
use wmb_core::formats::{Line, RowError, VoterRecord};
use wmb_core::pipeline::{ScanOutcome, Tally};
use wmb_core::ports::{ImbCrosswalk, StoreError, VoterRoll};
use wmb_core::signup::{IdentityKey, SignupRequest};
use wmb_core::usps::{ImbMapping, PieceScan};

/// Batches of rows whose keys the lanes look up ahead of the one being decided.
const LOOKUPS_AHEAD: usize = 8;

/// What the reading thread asks every lane to look up, for a batch of rows.
#[derive(Clone)]
pub(crate) enum Ask {
    /// The roll's entries under sign-ups' identity keys.
    Identities(Arc<[IdentityKey]>),
    /// The crosswalk's entries for scans' IMbs (each answered by the lane that holds it).
    Envelopes(Arc<[String]>),
}

/// A lane's answers, one a key asked.
pub(crate) enum Found {
    Voters(Vec<Vec<VoterRecord>>),
    Envelopes(Vec<Option<ImbMapping>>),
}

impl Lanes<'_> {
    /// Reads a sign-up file, matches each request to the roll (refusals to the report and the
    /// count), and hands the matched ones to their voters' lanes. The roll is every lane's, and
    /// a sign-up file does not change it: the lanes look each batch's identity keys up ahead.
    pub(crate) fn route_signups(&self, path: &Path, name: &str, report: &mut FileReport, tally: &mut Tally, batches: &mut Batches) -> Result<()> {
        let Some(rows) = crate::simulate::open_or_report::<SignupRequest>(path, name, report) else { return Ok(()) };
        let ask = |chunk: &[Line<SignupRequest>]| Ask::Identities(chunk.iter().map(|l| l.row.identity()).collect());
        self.look_ahead(rows, report, batches, ask, |chunk, ask, found, report, batches| {
            let Ask::Identities(keys) = ask else { unreachable!("sign-ups ask for identities") };
            let mut found: Vec<Vec<Vec<VoterRecord>>> = found.into_iter().map(|f| match f {
                Found::Voters(v) => v,
                Found::Envelopes(_) => unreachable!("sign-ups ask for identities"),
            }).collect();
            for (i, (l, key)) in chunk.into_iter().zip(keys.iter()).enumerate() {
                let mut candidates: Vec<VoterRecord> = found.iter_mut().flat_map(|lane| std::mem::take(&mut lane[i])).collect();
                candidates.sort_by(|a, b| a.votecal_id.cmp(&b.votecal_id));
                match match_among(&l.row, key, &candidates, tally) {
                    Err(refusal) => report.refuse(l.line, refusal),
                    Ok(voter) => {
                        report.accepted += 1;
                        let lane = lane_of(&voter.votecal_id, self.count());
                        if !batches.push(lane, Row::Signup { line: l.line, request: l.row, voter }) {
                            return false;
                        }
                    }
                }
            }
            true
        });
        Ok(())
    }

    /// Reads a scan feed (on a thread of its own: `ScanFeed`), finds each
    /// scan's envelope in the crosswalk (the lanes look each batch's IMbs up ahead; a scan file
    /// does not change the crosswalk), and hands the scans to be recorded to their voters' lanes.
    /// A header that does not match stops the file before its first row; a file that stops
    /// reading part-way keeps the rows read before.
    pub(crate) fn route_scans(&self, path: &Path, name: &str, now: DateTime<Utc>, report: &mut FileReport, batches: &mut Batches) -> Result<()> {
        let (records, feed) = match ScanFeed::open(path, name) {
            Ok(feed) => feed,
            Err(e) => {
                report.file_error = Some(e);
                return Ok(());
            }
        };
        let ask = |chunk: &[Line<PieceScan>]| Ask::Envelopes(chunk.iter().map(|l| l.row.tracking.clone()).collect());
        self.with_pipeline(None, |p| {
            self.look_ahead(records, report, batches, ask, |chunk, _, found, report, batches| {
                let mut found: Vec<Vec<Option<ImbMapping>>> = found.into_iter().map(|f| match f {
                    Found::Envelopes(v) => v,
                    Found::Voters(_) => unreachable!("scans ask for envelopes"),
                }).collect();
                for (i, l) in chunk.into_iter().enumerate() {
                    let envelope = found.iter_mut().find_map(|lane| lane[i].take());
                    if let Some(e) = wmb_core::usps::scan_misdated(&l.row, now, l.line) {
                        report.reject(e);
                        continue;
                    }
                    match p.scan_use(envelope, l.row.at) {
                        Err(outcome) => crate::simulate::report_scan(report, l.line, &l.row.tracking, outcome),
                        Ok(envelope) => {
                            crate::simulate::report_scan(report, l.line, &l.row.tracking, ScanOutcome::Applied);
                            let lane = lane_of(&envelope.votecal_id, self.count());
                            if !batches.push(lane, Row::Scan { scan: l.row, envelope }) {
                                return false;
                            }
                        }
                    }
                }
                true
            })
        });
        // The records are dropped: a reader not done yet (a lane stopped) stops reading.
        if let Some(e) = feed.finish() {
            report.file_error = Some(e);
        }
        Ok(())
    }

    /// Rows whose keys the lanes look up ahead of applying the rows before: each batch's keys
    /// (`ask`) go to every lane as soon as it is read, and `decide` gets the batch with every
    /// lane's answers, in lane order, batch after batch in the file's order (false from it
    /// stops the file). Rows the format refuses go to the report.
    fn look_ahead<T>(
        &self,
        rows: impl IntoIterator<Item = Result<Line<T>, RowError>>,
        report: &mut FileReport,
        batches: &mut Batches,
        ask: impl Fn(&[Line<T>]) -> Ask,
        mut decide: impl FnMut(Vec<Line<T>>, &Ask, Vec<Found>, &mut FileReport, &mut Batches) -> bool,
    ) {
        let mut rows = rows.into_iter();
        let mut waiting = VecDeque::new();
        loop {
            while waiting.len() < LOOKUPS_AHEAD {
                let mut chunk = Vec::with_capacity(BATCH);
                for row in rows.by_ref() {
                    match row {
                        Ok(l) => chunk.push(l),
                        Err(e) => report.reject(e),
                    }
                    if chunk.len() == BATCH {
                        break;
                    }
                }
                if chunk.is_empty() {
                    break;
                }
                let keys = ask(&chunk);
                let (answer, answers) = sync_channel(self.count());
                for lane in 0..self.count() {
                    if !batches.send_now(lane, Row::Lookup { ask: keys.clone(), answer: answer.clone() }) {
                        return;
                    }
                }
                waiting.push_back((chunk, keys, answers));
            }
            let Some((chunk, keys, answers)) = waiting.pop_front() else { return };
            let mut found: Vec<Option<Found>> = (0..self.count()).map(|_| None).collect();
            for _ in 0..self.count() {
                // A lane that stopped answers no more: its error is the answer.
                let Ok((lane, answer)) = answers.recv() else { return };
                found[lane] = Some(answer);
            }
            if !decide(chunk, &keys, found.into_iter().flatten().collect(), report, batches) {
                return;
            }
        }
    }

    /// Lane `k`'s answers to `ask`, from its own store.
    pub(crate) async fn look_up(&self, k: usize, ask: &Ask) -> Result<Found, StoreError> {
        let store = &self.stores[k];
        Ok(match ask {
            Ask::Identities(keys) => {
                let mut found = Vec::with_capacity(keys.len());
                for key in keys.iter() {
                    found.push(store.voters_by_identity(key).await?);
                }
                Found::Voters(found)
            }
            Ask::Envelopes(trackings) => {
                let mut found = Vec::with_capacity(trackings.len());
                for tracking in trackings.iter() {
                    found.push(if lane_of(tracking, self.count()) == k { store.mapping(tracking).await? } else { None });
                }
                Found::Envelopes(found)
            }
        })
    }
}

//! Recording what county files say: a roll row in the roll (if it changed), a status, a
//! participation record or a piece scan in the voter's journey (if they may have signed up) or
//! kept for a later sign-up ([`crate::kept`]), a crosswalk row after checking the county's voter.

use crate::formats::{Participation, VbmStatus, VoterRecord};
use crate::kept::{Change, KeptFact};
use crate::lifecycle::{BallotFact, ScanEvent};
use crate::pipeline::{Pipeline, PipelineError, Tally, Written};
use crate::ports::*;
use crate::usps::{Direction, ImbMapping, PieceScan};
use chrono::{DateTime, Utc};

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    pub async fn record_voter(&self, voter: &VoterRecord) -> Result<(), PipelineError> {
        Ok(self.store.put_voter(voter).await?)
    }

    /// Records a batch of roll rows, writing only those that changed; returns how many did.
    pub async fn record_voters(&self, voters: &[VoterRecord]) -> Result<usize, PipelineError> {
        Ok(self.store.put_voters(voters).await?)
    }

    /// Records what a row that reached us at `arrived` says: in the voter's journey if they may
    /// have signed up (returning the journey and what it decided), otherwise kept for a later
    /// sign-up ([`crate::kept`]): None.
    pub async fn record(&self, election_id: &str, votecal_id: &str, county: crate::county::CountyCode, change: Change, arrived: DateTime<Utc>) -> Result<Written, PipelineError> {
        if !self.store.may_be_subscribed(votecal_id) {
            let fact = KeptFact::new(election_id, votecal_id, county, change, arrived);
            self.store.keep(fact).await?;
            return Ok(None);
        }
        Ok(Some(self.update_journey(election_id, votecal_id, county, |j| change.apply_arrived(j, Some(arrived))).await?))
    }

    /// Records one VBM status row that reached us at `arrived` (on AWS the ingest step; the
    /// stream fan-out then sends what was decided).
    pub async fn record_status(&self, row: &VbmStatus, arrived: DateTime<Utc>) -> Result<Written, PipelineError> {
        self.election(&row.election_id)?;
        let fact = BallotFact::Status { ballot_id: row.ballot_id.clone(), code: row.status, at: row.status_time };
        self.record(&row.election_id, &row.votecal_id, row.county, Change::Fact(fact), arrived).await
    }

    /// Records one participation history row that reached us at `arrived`.
    pub async fn record_participation(&self, row: &Participation, arrived: DateTime<Utc>) -> Result<Written, PipelineError> {
        self.election(&row.election_id)?;
        let change = Change::Participation { method: row.method, at: row.time, active: row.active };
        self.record(&row.election_id, &row.votecal_id, row.county, change, arrived).await
    }

    /// Records one piece scan in the voter's journey (see [`Self::apply_scan`]).
    pub async fn record_scan(&self, scan: &PieceScan, arrived: DateTime<Utc>) -> Result<(ScanOutcome, Written), PipelineError> {
        let mapping = self.store.mapping(&scan.tracking).await?;
        match self.scan_use(mapping, scan.at) {
            Err(outcome) => Ok((outcome, None)),
            Ok(m) => Ok((ScanOutcome::Applied, self.record_mapped_scan(scan, &m, arrived).await?)),
        }
    }

    /// The envelope a scan made `at` is of, from the crosswalk's entry for its IMb (`None`: no
    /// entry), if the scan is to be recorded; otherwise why not.
    pub fn scan_use(&self, mapping: Option<ImbMapping>, at: DateTime<Utc>) -> Result<ImbMapping, ScanOutcome> {
        let Some(m) = mapping else {
            return Err(ScanOutcome::UnknownImb);
        };
        let Ok(election) = self.election(&m.election_id) else {
            return Err(ScanOutcome::UnknownElection(m.election_id));
        };
        // Before any ballot of the election could be mailed, a scan's date is a wrong month or
        // year: told, it would give her a mailing date that is not true.
        if crate::sources::dated_before("scan_datetime", at, election.def.date, 0).is_some() {
            return Err(ScanOutcome::BeforeMailing { at, election_day: election.def.date });
        }
        let uses = election.imb_use(m.county);
        let used = match m.direction {
            Direction::Outbound => uses.outbound(),
            Direction::Inbound => uses.inbound(),
        };
        if !used {
            return Err(ScanOutcome::NotUsed);
        }
        Ok(m)
    }

    /// Records a scan of the envelope `m` (one [`Self::scan_use`] let through) in its voter's
    /// journey.
    pub async fn record_mapped_scan(&self, scan: &PieceScan, m: &ImbMapping, arrived: DateTime<Utc>) -> Result<Written, PipelineError> {
        let fact = BallotFact::Scan {
            ballot_id: m.ballot_id.clone(),
            scan: ScanEvent { at: scan.at, direction: m.direction, event_code: scan.event_code.clone(), facility_zip: scan.facility_zip.clone() },
        };
        self.record(&m.election_id, &m.votecal_id, m.county, Change::Fact(fact), arrived).await
    }

    /// [`Self::record_mapped_scan`], then fans out what it decided.
    pub async fn apply_mapped_scan(&self, scan: &PieceScan, m: &ImbMapping, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        match self.record_mapped_scan(scan, m, now).await? {
            Some((journey, decided)) => self.fan_out(&journey, &decided, now, tally).await,
            None => Ok(()),
        }
    }

    /// Ingests one VBM status row, then fans out what it decided.
    pub async fn apply_status(&self, row: &VbmStatus, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        match self.record_status(row, now).await? {
            Some((journey, decided)) => self.fan_out(&journey, &decided, now, tally).await,
            None => Ok(()),
        }
    }

    /// Ingests one participation history row, then fans out what it decided.
    pub async fn apply_participation(&self, row: &Participation, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        match self.record_participation(row, now).await? {
            Some((journey, decided)) => self.fan_out(&journey, &decided, now, tally).await,
            None => Ok(()),
        }
    }

    /// Whether the voter roll places this voter in this county. A county's own file may only
    /// touch its own voters: a row for anyone else is refused with one neutral reason.
    pub async fn in_county(&self, votecal_id: &str, county: crate::county::CountyCode) -> Result<Result<(), String>, PipelineError> {
        match self.store.voter(votecal_id).await? {
            Some(v) if v.county == county => Ok(Ok(())),
            _ => Ok(Err(format!("not a voter of county {county} on the voter roll"))),
        }
    }

    /// Records a crosswalk row that arrived at `arrived`. A county maps only its own voters: the
    /// voter must be on the roll in the row's county; and it takes over no envelope of another
    /// county's election still tracked then ([`crate::ports::ImbCrosswalk::put_mapping`]).
    pub async fn record_mapping(&self, m: &ImbMapping, arrived: DateTime<Utc>) -> Result<Result<(), String>, PipelineError> {
        if let Err(reason) = self.in_county(&m.votecal_id, m.county).await? {
            return Ok(Err(reason));
        }
        let closed: Vec<&str> = self.elections.values().filter(|e| arrived >= e.window_closes()).map(|e| e.id()).collect();
        if !self.store.put_mapping(m, &closed).await? {
            return Ok(Err(format!("IMb {} is another county's envelope in an election still tracked: its mapping is not changed", m.tracking)));
        }
        Ok(Ok(()))
    }

    /// Ingests one piece scan: finds the envelope in the crosswalk and, where the county uses
    /// IMbs for that direction, adds it to the voter's journey and fans out what it decides.
    pub async fn apply_scan(&self, scan: &PieceScan, now: DateTime<Utc>, tally: &mut Tally) -> Result<ScanOutcome, PipelineError> {
        let (outcome, written) = self.record_scan(scan, now).await?;
        if let Some((journey, decided)) = written {
            self.fan_out(&journey, &decided, now, tally).await?;
        }
        Ok(outcome)
    }
}

/// What became of a piece scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOutcome {
    /// Added to the voter's journey (it may or may not have sent a message).
    Applied,
    /// The IMb is in no crosswalk: reported to the sender.
    UnknownImb,
    /// The crosswalk names an election that is not defined: reported.
    UnknownElection(String),
    /// The county does not use IMbs for this direction in this election: not used.
    NotUsed,
    /// Dated before any ballot of its election could be mailed (E-60): rejected, as a status
    /// row is ([`crate::usps::scan_before_mailing`]).
    BeforeMailing { at: DateTime<Utc>, election_day: chrono::NaiveDate },
}

//! The ballot lifecycle of one voter in one election: which message, if any, each new fact sends.
//!
//! The status time decides, not arrival order: a repeated or older status sends nothing. Each
//! (ballot, milestone) is decided at most once, so replaying a file decides nothing new. The
//! journey is a plain value: the local pipeline keeps it in its embedded store and the Lambdas in
//! DynamoDB, where the stream's old and new images tell the fan-out which milestones are new.

use crate::county::CountyCode;
use crate::status::{Milestone, ParticipationMethod, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a "Not Accepted" for a cancelled ballot (CLD) or an already-voted ballot (VAV) waits
/// before it is sent: long enough for the re-issue, the other ballot's acceptance or the in-person
/// vote that explains it to arrive, so a voter who did nothing wrong is not alarmed. It counts from the status time, or
/// from the status's arrival when that is later (a county's file a day late would otherwise leave
/// no time at all for the file that explains it).
pub const SETTLE_HOURS: i64 = 24;

/// How many times one ballot coming back undeliverable is news (each mailed again after it:
/// see `new_round` in [`BallotJourney::apply_arrived`]).
pub const MAX_BOUNCES: usize = 3;

/// The latest status of one ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotStatus {
    pub status: StatusCode,
    pub at: DateTime<Utc>,
    /// When the ballot was issued (from ISSUED or an outbound scan), if known.
    pub issued_at: Option<DateTime<Utc>>,
}

/// A milestone decided for this voter: it is what the fan-out turns into messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneDecision {
    /// The ballot it is about; none for InPerson, which is about the voter.
    pub ballot_id: Option<String>,
    pub milestone: Milestone,
    /// The status code behind it, which gives Not Accepted and Contact County their reason.
    pub code: Option<StatusCode>,
    /// When the status happened (the status time, scan time or participation time).
    pub status_time: DateTime<Utc>,
    /// Not to be sent before this time; it is checked again then (see [`SETTLE_HOURS`]).
    pub settle_until: Option<DateTime<Utc>>,
    /// How many Contact County decisions this ballot had before this one (each a new reason to
    /// contact the county), or decisions of its milestone before a new round of mailing (the same
    /// ballot mailed again after it came back undeliverable): it keys the message, so each is
    /// sent once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub earlier: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Everything known about one voter's ballots in one election.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotJourney {
    pub election_id: String,
    pub votecal_id: String,
    pub county: CountyCode,
    pub ballots: BTreeMap<String, BallotStatus>,
    /// The latest participation record, if any: (method, time, active).
    pub participation: Option<(ParticipationMethod, DateTime<Utc>, bool)>,
    /// Every milestone decided so far, in the order decided.
    pub milestones: Vec<MilestoneDecision>,
    /// The envelopes' journey through the mail (IMb scans), oldest first, at most [`MAX_SCANS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scans: Vec<ScanEvent>,
}

/// The most scans a journey keeps (the latest ones).
pub const MAX_SCANS: usize = 64;

/// Stands for the voter's ballot when a scan arrives before any ballot id is known.
pub const UNKNOWN_BALLOT: &str = "-";

/// A scan of a voter's envelope, kept so a voter or county can see the ballot's journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanEvent {
    pub at: DateTime<Utc>,
    pub direction: crate::usps::Direction,
    pub event_code: String,
    pub facility_zip: String,
}

/// A fact about a ballot: a VoteCal status, or a scan of its envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BallotFact {
    Status { ballot_id: String, code: StatusCode, at: DateTime<Utc> },
    /// An envelope was scanned in the mail (IMb). Without a ballot id the scan is about the
    /// voter's latest issued ballot.
    Scan { ballot_id: Option<String>, scan: ScanEvent },
}

impl BallotJourney {
    pub fn new(election_id: &str, votecal_id: &str, county: CountyCode) -> Self {
        BallotJourney {
            election_id: election_id.to_string(),
            votecal_id: votecal_id.to_string(),
            county,
            ballots: BTreeMap::new(),
            participation: None,
            milestones: vec![],
            scans: vec![],
        }
    }

    /// The voter's most recently issued ballot, if any.
    pub fn latest_ballot(&self) -> Option<String> {
        self.ballots.iter().filter_map(|(id, b)| b.issued_at.map(|t| (t, id))).max().map(|(_, id)| id.clone())
    }

    /// The voter's most recently issued ballot that was not cancelled, if any.
    pub fn latest_live_ballot(&self) -> Option<String> {
        self.ballots.iter().filter(|(_, b)| b.status != StatusCode::Cld).filter_map(|(id, b)| b.issued_at.map(|t| (t, id))).max().map(|(_, id)| id.clone())
    }

    /// Whether the voter has an active in-person (POLL or VCR) participation record.
    pub fn voted_in_person(&self) -> bool {
        matches!(self.participation, Some((m, _, true)) if m.is_in_person())
    }

    /// Whether another of the voter's ballots was issued after `t` (news of this one from before
    /// then is no longer the voter's news: the new ballot is).
    pub fn replaced_after(&self, ballot_id: &str, t: DateTime<Utc>) -> bool {
        self.ballots.iter().any(|(id, b)| id != ballot_id && b.issued_at.is_some_and(|issued| issued > t))
    }

    /// Whether a cancellation (CLD) or "already voted" (VAV) of a ballot is explained by what
    /// else the voter did, and so is not her problem: she voted in person; a cancelled ballot was
    /// replaced by a newer one, or another of hers came back to the county; she already voted
    /// with another ballot, which was accepted. (The newest ballot cancelled beside an older one
    /// still out is not explained: she was told to use it, and must hear that it is void. A
    /// ballot whose mailing was never seen is explained by any other.)
    fn explained(&self, ballot_id: &str, code: StatusCode) -> bool {
        let other = |pick: &dyn Fn(&BallotStatus) -> bool| self.ballots.iter().any(|(id, b)| id != ballot_id && pick(b));
        let replaced = match self.ballots.get(ballot_id).and_then(|b| b.issued_at) {
            Some(_) => self.newer_ballot_than(ballot_id),
            None => other(&|_| true),
        };
        let back = other(&|b| matches!(b.status.milestone(), Milestone::Received | Milestone::Accepted));
        self.voted_in_person() || (code == StatusCode::Cld && (replaced || back)) || (code == StatusCode::Vav && other(&|b| b.status == StatusCode::Accepted))
    }

    /// Whether the county has another of the voter's ballots back, so that a reminder to return
    /// this one (mailed at `mailed`) would say what is not so: another received or accepted,
    /// refused because she already voted, seen by a scan on its way back since this one was
    /// mailed, or found to need fixing since (a ballot mailed after a problem was found is how
    /// she may fix it: its reminder stands).
    pub fn another_back(&self, ballot_id: &str, mailed: DateTime<Utc>) -> bool {
        let status_back = self.ballots.iter().any(|(id, b)| {
            id != ballot_id
                && match b.status.milestone() {
                    Milestone::Received | Milestone::Accepted => true,
                    // When the problem was first found (its status time moves on as NVS
                    // becomes NMS).
                    Milestone::ContactCounty => self.problem_found(id).unwrap_or(b.at) > mailed,
                    _ => b.status == StatusCode::Vav,
                }
        });
        status_back || self.milestones.iter().any(|d| d.milestone == Milestone::Inbound && d.ballot_id.as_deref().is_some_and(|b| b != ballot_id) && d.status_time > mailed)
    }

    /// When a problem to fix was first found on this ballot, if one was.
    fn problem_found(&self, ballot_id: &str) -> Option<DateTime<Utc>> {
        self.milestones.iter().filter(|d| d.ballot_id.as_deref() == Some(ballot_id) && d.milestone == Milestone::ContactCounty).map(|d| d.status_time).min()
    }

    /// Whether another of the voter's ballots counts, or came back to the county after `t`:
    /// news from then of this ballot's mailing is no longer hers.
    fn another_counted_or_back_after(&self, ballot_id: &str, t: DateTime<Utc>) -> bool {
        self.ballots.iter().any(|(id, b)| {
            id != ballot_id && (b.status == StatusCode::Accepted || (b.status.milestone() == Milestone::Received && b.at > t))
        })
    }

    /// Whether another of the voter's ballots was issued after this one and replaced it: not one
    /// cancelled since (then this one is hers again: its news, its reminder).
    pub fn newer_ballot_than(&self, ballot_id: &str) -> bool {
        let Some(mine) = self.ballots.get(ballot_id).and_then(|b| b.issued_at) else { return false };
        self.ballots.iter().any(|(id, b)| {
            id.as_str() != ballot_id && b.status != StatusCode::Cld && b.issued_at.is_some_and(|t| (t, id.as_str()) > (mine, ballot_id))
        })
    }

    fn decided(&self, ballot_id: &str, milestone: Milestone) -> bool {
        self.milestones.iter().any(|d| d.ballot_id.as_deref() == Some(ballot_id) && d.milestone == milestone)
    }

    fn latest_decision(&self, ballot_id: &str) -> Option<&MilestoneDecision> {
        self.milestones.iter().rev().find(|d| d.ballot_id.as_deref() == Some(ballot_id))
    }

    fn highest_stage(&self, ballot_id: &str) -> u8 {
        self.milestones
            .iter()
            .filter(|d| d.ballot_id.as_deref() == Some(ballot_id))
            .map(|d| d.milestone.stage())
            .max()
            .unwrap_or(0)
    }

    /// Whether another ballot of this voter was issued after (`later`) or before this one.
    /// Ties in time are broken by ballot id, so two ballots never both count as the first.
    fn other_issued(&self, ballot_id: &str, later: bool) -> bool {
        let Some(mine) = self.ballots.get(ballot_id).and_then(|b| b.issued_at) else { return false };
        self.ballots.iter().any(|(id, b)| {
            id.as_str() != ballot_id
                && b.issued_at.is_some_and(|t| {
                    let other = (t, id.as_str());
                    if later { other > (mine, ballot_id) } else { other < (mine, ballot_id) }
                })
        })
    }

    /// Applies a fact; returns the milestones it newly decides (none for a repeated, older or
    /// superseded fact). The journey records the new state either way. A fact whose arrival is
    /// not known (one kept for a voter who signs up later) settles from its status time alone.
    pub fn apply(&mut self, fact: BallotFact) -> Vec<MilestoneDecision> {
        self.apply_arrived(fact, None)
    }

    /// [`Self::apply`], for a fact that reached us at `arrived`: a cancellation or an
    /// already-voted status settles for [`SETTLE_HOURS`] from then if that is later than its time.
    pub fn apply_arrived(&mut self, fact: BallotFact, arrived: Option<DateTime<Utc>>) -> Vec<MilestoneDecision> {
        let (ballot_id, at, milestone, code, was) = match fact {
            BallotFact::Status { ballot_id, code, at } => {
                if let Some(prev) = self.ballots.get(&ballot_id) {
                    // Older news, or the same again: nothing. At the same time, the status
                    // further along wins (see `StatusCode::same_time_rank`); of two as far along
                    // (NVS and NMS on one date), the one that came last.
                    if prev.at > at || (prev.at == at && (code == prev.status || code.same_time_rank() < prev.status.same_time_rank())) {
                        return vec![];
                    }
                    // ISSUED again for a ballot the county already has back (a county's export
                    // repeating its mailing): not news, and it does not make the ballot out
                    // again (a reminder to return it would follow).
                    if code == StatusCode::Issued && prev.status.milestone().stage() >= Milestone::Received.stage() {
                        return vec![];
                    }
                }
                let was = self.ballots.get(&ballot_id).map(|b| b.status);
                let issued_at = self.ballots.get(&ballot_id).and_then(|b| b.issued_at);
                let issued_at = if code == StatusCode::Issued { Some(issued_at.map_or(at, |t| t.min(at))) } else { issued_at };
                self.ballots.insert(ballot_id.clone(), BallotStatus { status: code, at, issued_at });
                (ballot_id, at, code.milestone(), Some(code), was)
            }
            BallotFact::Scan { ballot_id, scan } => {
                if !self.scans.contains(&scan) {
                    self.scans.push(scan.clone());
                    self.scans.sort_by_key(|s| s.at);
                    if self.scans.len() > MAX_SCANS {
                        self.scans.remove(0);
                    }
                }
                let at = scan.at;
                let ballot_id = ballot_id.or_else(|| self.latest_ballot()).unwrap_or_else(|| UNKNOWN_BALLOT.to_string());
                match scan.direction {
                    crate::usps::Direction::Outbound if ballot_id == UNKNOWN_BALLOT => {
                        if self.milestones.iter().any(|d| matches!(d.milestone, Milestone::Outbound | Milestone::Reissued)) {
                            return vec![];
                        }
                    }
                    crate::usps::Direction::Outbound => {
                        let entry = self.ballots.entry(ballot_id.clone()).or_insert(BallotStatus {
                            status: StatusCode::Issued,
                            at,
                            issued_at: Some(at),
                        });
                        entry.issued_at = Some(entry.issued_at.map_or(at, |t| t.min(at)));
                    }
                    crate::usps::Direction::Inbound => {}
                }
                let milestone = match scan.direction {
                    crate::usps::Direction::Outbound => Milestone::Outbound,
                    crate::usps::Direction::Inbound => Milestone::Inbound,
                };
                (ballot_id, at, milestone, None, None)
            }
        };
        // The same ballot mailed again after it came back undeliverable (the county corrected
        // the address and sent it again), or coming back undeliverable once more: each round is
        // news of its own, under a key of its own; up to three bounces (a status going back and
        // forth beyond that is not news at every turn).
        let decided_here = |m: Milestone| self.milestones.iter().filter(|d| d.ballot_id.as_deref() == Some(ballot_id.as_str()) && d.milestone == m).count();
        let new_round = matches!((was, code), (Some(StatusCode::Und), Some(StatusCode::Issued)) | (Some(StatusCode::Issued), Some(StatusCode::Und)))
            && (1..MAX_BOUNCES).contains(&decided_here(Milestone::Undeliverable));
        let milestone = match (milestone, code) {
            // Issued: a second ballot is a re-issue; an older ballot issued after a newer one was
            // already announced is no news at all.
            (Milestone::Outbound, _) => {
                if self.other_issued(&ballot_id, true) {
                    return vec![];
                } else if self.other_issued(&ballot_id, false) {
                    Milestone::Reissued
                } else if !new_round && (self.decided(&ballot_id, Milestone::Reissued) || self.decided(UNKNOWN_BALLOT, Milestone::Outbound)) {
                    return vec![];
                } else {
                    Milestone::Outbound
                }
            }
            (m, _) => m,
        };
        // Do not alarm: a ballot cancelled because another was issued, or not accepted because
        // the voter voted otherwise, is not the voter's problem.
        let mut settle_until = None;
        if let Some(c @ (StatusCode::Cld | StatusCode::Vav)) = code {
            if self.explained(&ballot_id, c) {
                return vec![];
            }
            settle_until = Some(arrived.map_or(at, |a| a.max(at)) + Duration::hours(SETTLE_HOURS));
        }
        // Never back along the journey, never the same milestone twice; but a new reason to
        // contact the county (NVS, then NMS) is news while the ballot has no outcome yet: the
        // voter who fixed one problem must hear of the next. So is the same reason back once the
        // ballot had left it (NVS, back in review with her statement, NVS again: the fix failed,
        // and her days to fix it run), once: a county whose status goes back and forth again
        // leaves the rest to the cure reminders.
        let told_of = |c: Option<StatusCode>| self.milestones.iter().filter(|d| d.ballot_id.as_deref() == Some(ballot_id.as_str()) && d.milestone == Milestone::ContactCounty && d.code == c).count();
        let new_reason = milestone == Milestone::ContactCounty
            && self.latest_decision(&ballot_id).is_some_and(|d| {
                d.milestone == Milestone::ContactCounty && (d.code != code || (was.is_some_and(|w| w.milestone() != Milestone::ContactCounty) && told_of(code) < 2))
            });
        if !new_round && ((self.decided(&ballot_id, milestone) && !new_reason) || milestone.stage() < self.highest_stage(&ballot_id)) {
            return vec![];
        }
        let earlier = match milestone == Milestone::ContactCounty || new_round {
            true => decided_here(milestone) as u32,
            false => 0,
        };
        let decision = MilestoneDecision { ballot_id: Some(ballot_id), milestone, code, status_time: at, settle_until, earlier };
        self.milestones.push(decision.clone());
        vec![decision]
    }

    /// Applies a participation history record; an active POLL or VCR record decides InPerson once.
    pub fn apply_participation(&mut self, method: ParticipationMethod, at: DateTime<Utc>, active: bool) -> Vec<MilestoneDecision> {
        // Older news, or the same record again: nothing. Of two at the same time, the one that
        // came last wins: VoteCal makes a record inactive with its own time.
        if matches!(self.participation, Some((m, prev, a)) if prev > at || (prev == at && m == method && a == active)) {
            return vec![];
        }
        self.participation = Some((method, at, active));
        let already = self.milestones.iter().any(|d| d.milestone == Milestone::InPerson);
        if !(active && method.is_in_person()) || already {
            return vec![];
        }
        let decision =
            MilestoneDecision { ballot_id: None, milestone: Milestone::InPerson, code: None, status_time: at, settle_until: None, earlier: 0 };
        self.milestones.push(decision.clone());
        vec![decision]
    }

    /// Whether a decided milestone is still worth sending now (checked when a held message is
    /// released): not when newer news about the same ballot has been decided since, nor a
    /// cancellation explained by a re-issue or an in-person vote.
    pub fn still_current(&self, decision: &MilestoneDecision) -> bool {
        if let Some(c @ (StatusCode::Cld | StatusCode::Vav)) = decision.code {
            if self.explained(decision.ballot_id.as_deref().unwrap_or_default(), c) {
                return false;
            }
        }
        let Some(position) = self.milestones.iter().position(|d| d == decision) else { return false };
        let Some(ballot) = &decision.ballot_id else { return true };
        // A mailing seen by a scan before the envelope was tied to a ballot: news until a ballot
        // has news of its own (its receipt, its outcome), which is then the voter's.
        if ballot == UNKNOWN_BALLOT && self.milestones[position + 1..].iter().any(|d| d.ballot_id.as_deref().is_some_and(|b| b != UNKNOWN_BALLOT)) {
            return false;
        }
        // A ballot replaced since by a newer one (issued after this news): that it was mailed,
        // came back undeliverable or needs fixing is no longer the voter's news (the new ballot
        // is). Its return, receipt and outcome still are, and so is a problem found after the new
        // ballot was issued: a replaced ballot the voter mailed back may still be the one counted.
        if matches!(decision.milestone, Milestone::Outbound | Milestone::Reissued | Milestone::Undeliverable | Milestone::ContactCounty)
            && self.replaced_after(ballot, decision.status_time)
        {
            return false;
        }
        // That a ballot was mailed, or came back undeliverable, is no longer news once a newer
        // ballot was mailed to her (the old one coming back from her old address says nothing
        // of the one she has), once another of hers was accepted or reached the county after
        // it (a voter who signs up late is told her ballot counts, not also to use only a new
        // one), or once she voted in person.
        if matches!(decision.milestone, Milestone::Outbound | Milestone::Reissued | Milestone::Undeliverable)
            && (self.newer_ballot_than(ballot) || self.another_counted_or_back_after(ballot, decision.status_time) || self.voted_in_person())
        {
            return false;
        }
        // That her mail ballot is on its way back or in review ("we will tell you when it is
        // accepted") is not news once she voted in person: it will not be counted, and no
        // message follows it.
        if matches!(decision.milestone, Milestone::Inbound | Milestone::Received) && self.voted_in_person() {
            return false;
        }
        // A problem to fix is news while the ballot may still count: not once the voter voted
        // in person, nor once the ballot was cancelled or another of hers accepted. (A ballot
        // back in review after it was found unsigned is still current here, for her page to show
        // it in review; a message asking her to fix it is not sent then:
        // [`crate::reminders::still_worth_sending`].)
        if decision.milestone == Milestone::ContactCounty
            && (self.voted_in_person()
                || self.ballots.get(ballot).is_some_and(|b| b.status == StatusCode::Cld)
                || self.ballots.iter().any(|(id, b)| id != ballot && b.status == StatusCode::Accepted))
        {
            return false;
        }
        // That it came back undeliverable is no longer news once the same ballot was mailed again.
        if decision.milestone == Milestone::Undeliverable && self.milestones[position + 1..].iter().any(|d| d.ballot_id.as_ref() == Some(ballot) && d.milestone.stage() == 1) {
            return false;
        }
        !self.milestones[position + 1..]
            .iter()
            .any(|d| d.ballot_id.as_ref() == Some(ballot) && d.milestone.stage() >= decision.milestone.stage())
    }

    /// The milestones decided in `self` that `old` did not have (for the stream fan-out).
    pub fn new_since<'a>(&'a self, old: Option<&BallotJourney>) -> &'a [MilestoneDecision] {
        let seen = old.map_or(0, |o| o.milestones.len()).min(self.milestones.len());
        &self.milestones[seen..]
    }
}

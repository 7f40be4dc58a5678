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
/// before it is sent: long enough for the re-issue or the in-person vote that explains it to
/// arrive, so a voter who did nothing wrong is not alarmed.
pub const SETTLE_HOURS: i64 = 24;

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
    /// contact the county): it keys the message, so each is sent once.
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

    /// Whether the voter has an active in-person (POLL or VCR) participation record.
    pub fn voted_in_person(&self) -> bool {
        matches!(self.participation, Some((m, _, true)) if m.is_in_person())
    }

    /// Whether another of the voter's ballots was issued after this one (it replaced it).
    pub fn newer_ballot_than(&self, ballot_id: &str) -> bool {
        self.other_issued(ballot_id, true)
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
    /// superseded fact). The journey records the new state either way.
    pub fn apply(&mut self, fact: BallotFact) -> Vec<MilestoneDecision> {
        let (ballot_id, at, milestone, code) = match fact {
            BallotFact::Status { ballot_id, code, at } => {
                if let Some(prev) = self.ballots.get(&ballot_id) {
                    // Older news, or the same again: nothing. At the same time, the status
                    // further along wins (see `StatusCode::same_time_rank`); of two as far along
                    // (NVS and NMS on one date), the one that came last.
                    if prev.at > at || (prev.at == at && (code == prev.status || code.same_time_rank() < prev.status.same_time_rank())) {
                        return vec![];
                    }
                }
                let issued_at = self.ballots.get(&ballot_id).and_then(|b| b.issued_at);
                let issued_at = if code == StatusCode::Issued { Some(issued_at.map_or(at, |t| t.min(at))) } else { issued_at };
                self.ballots.insert(ballot_id.clone(), BallotStatus { status: code, at, issued_at });
                (ballot_id, at, code.milestone(), Some(code))
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
                (ballot_id, at, milestone, None)
            }
        };
        let milestone = match (milestone, code) {
            // Issued: a second ballot is a re-issue; an older ballot issued after a newer one was
            // already announced is no news at all.
            (Milestone::Outbound, _) => {
                if self.other_issued(&ballot_id, true) {
                    return vec![];
                } else if self.other_issued(&ballot_id, false) {
                    Milestone::Reissued
                } else if self.decided(&ballot_id, Milestone::Reissued) || self.decided(UNKNOWN_BALLOT, Milestone::Outbound) {
                    return vec![];
                } else {
                    Milestone::Outbound
                }
            }
            (m, _) => m,
        };
        // Do not alarm: a ballot cancelled because another was issued, or not accepted because
        // the voter voted in person, is not the voter's problem.
        let mut settle_until = None;
        if let Some(c @ (StatusCode::Cld | StatusCode::Vav)) = code {
            let reissued = self.ballots.keys().any(|id| id != &ballot_id);
            if self.voted_in_person() || (c == StatusCode::Cld && reissued) {
                return vec![];
            }
            settle_until = Some(at + Duration::hours(SETTLE_HOURS));
        }
        // Never back along the journey, never the same milestone twice; but a new reason to
        // contact the county (NVS, then NMS) is news while the ballot has no outcome yet: the
        // voter who fixed one problem must hear of the next.
        let new_reason = milestone == Milestone::ContactCounty
            && self.latest_decision(&ballot_id).is_some_and(|d| d.milestone == Milestone::ContactCounty && d.code != code);
        if (self.decided(&ballot_id, milestone) && !new_reason) || milestone.stage() < self.highest_stage(&ballot_id) {
            return vec![];
        }
        let earlier = match milestone {
            Milestone::ContactCounty => self.milestones.iter().filter(|d| d.ballot_id.as_deref() == Some(ballot_id.as_str()) && d.milestone == milestone).count() as u32,
            _ => 0,
        };
        let decision = MilestoneDecision { ballot_id: Some(ballot_id), milestone, code, status_time: at, settle_until, earlier };
        self.milestones.push(decision.clone());
        vec![decision]
    }

    /// Applies a participation history record; an active POLL or VCR record decides InPerson once.
    pub fn apply_participation(&mut self, method: ParticipationMethod, at: DateTime<Utc>, active: bool) -> Vec<MilestoneDecision> {
        if matches!(self.participation, Some((_, prev, _)) if prev >= at) {
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
            let ballot = decision.ballot_id.as_deref().unwrap_or_default();
            if self.voted_in_person() || (c == StatusCode::Cld && self.ballots.keys().any(|id| id != ballot)) {
                return false;
            }
        }
        let Some(position) = self.milestones.iter().position(|d| d == decision) else { return false };
        let Some(ballot) = &decision.ballot_id else { return true };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn journey() -> BallotJourney {
        BallotJourney::new("2026-11-03-GEN", "CA1", CountyCode::parse("19").unwrap())
    }

    fn status(j: &mut BallotJourney, ballot: &str, code: &str, at: &str) -> Vec<Milestone> {
        let fact = BallotFact::Status { ballot_id: ballot.into(), code: StatusCode::parse(code).unwrap(), at: t(at) };
        j.apply(fact).into_iter().map(|d| d.milestone).collect()
    }

    #[test]
    fn a_ballot_mailed_received_and_accepted_sends_three_milestones() {
        let mut j = journey();
        assert_eq!(status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00"), [Milestone::Outbound]);
        assert_eq!(status(&mut j, "B1", "INR", "2026-10-20T09:00:00-07:00"), [Milestone::Received]);
        assert_eq!(status(&mut j, "B1", "ACCEPTED", "2026-10-22T09:00:00-07:00"), [Milestone::Accepted]);
    }

    #[test]
    fn a_repeated_or_older_status_sends_nothing() {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        status(&mut j, "B1", "ACCEPTED", "2026-10-22T09:00:00-07:00");
        assert!(status(&mut j, "B1", "ACCEPTED", "2026-10-22T09:00:00-07:00").is_empty());
        // A late "In Review" dated before the acceptance: nothing, and the state stays Accepted.
        assert!(status(&mut j, "B1", "INR", "2026-10-20T09:00:00-07:00").is_empty());
        assert_eq!(j.ballots["B1"].status, StatusCode::Accepted);
        // Even a newer "In Review" does not walk the voter back from Accepted to Received.
        assert!(status(&mut j, "B1", "INR", "2026-10-23T09:00:00-07:00").is_empty());
    }

    #[test]
    fn a_cured_signature_turns_contact_county_into_accepted() {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        let first = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Nms, at: t("2026-10-21T09:00:00-07:00") });
        assert_eq!((first[0].milestone, first[0].code), (Milestone::ContactCounty, Some(StatusCode::Nms)));
        assert_eq!(status(&mut j, "B1", "ACCEPTED", "2026-10-28T09:00:00-07:00"), [Milestone::Accepted]);
    }

    #[test]
    fn a_county_that_keeps_only_dates_still_tells_a_cured_ballot_accepted_whatever_the_row_order() {
        // Two reasons on one date: the one that came last is the ballot's, and both are told
        for order in [["NVS", "NMS"], ["NMS", "NVS"]] {
            let mut j = journey();
            status(&mut j, "B1", "ISSUED", "2026-10-06T00:00:00-07:00");
            let told: Vec<Vec<Milestone>> = order.iter().map(|code| status(&mut j, "B1", code, "2026-11-06T00:00:00-08:00")).collect();
            assert_eq!(told, [[Milestone::ContactCounty], [Milestone::ContactCounty]], "{order:?}");
            assert_eq!(j.ballots["B1"].status.as_str(), order[1]);
        }
        // NVS and, once cured, ACCEPTED, both dated midnight; INR and ACCEPTED in one file.
        for order in [["NVS", "ACCEPTED"], ["ACCEPTED", "NVS"]] {
            let mut j = journey();
            status(&mut j, "B1", "ISSUED", "2026-10-06T00:00:00-07:00");
            for code in order {
                status(&mut j, "B1", code, "2026-11-06T00:00:00-08:00");
            }
            assert_eq!(j.ballots["B1"].status, StatusCode::Accepted, "{order:?}");
            assert!(j.milestones.iter().any(|d| d.milestone == Milestone::Accepted), "{order:?}");
        }
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T00:00:00-07:00");
        assert_eq!(status(&mut j, "B1", "INR", "2026-10-20T00:00:00-07:00"), [Milestone::Received]);
        assert_eq!(status(&mut j, "B1", "ACCEPTED", "2026-10-20T00:00:00-07:00"), [Milestone::Accepted]);
        assert!(status(&mut j, "B1", "INR", "2026-10-20T00:00:00-07:00").is_empty(), "the same day's INR again");
        assert!(status(&mut j, "B1", "ACCEPTED", "2026-10-20T00:00:00-07:00").is_empty(), "the same status again");
    }

    #[test]
    fn a_new_reason_to_contact_the_county_is_news_until_the_ballot_has_an_outcome() {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        let nvs = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Nvs, at: t("2026-11-06T09:00:00-08:00") });
        // The voter signed; now the signature does not match: a new message, and the first no
        // longer current (a held one is not sent)
        let nms = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Nms, at: t("2026-11-12T09:00:00-08:00") });
        assert_eq!((nms[0].milestone, nms[0].code), (Milestone::ContactCounty, Some(StatusCode::Nms)));
        assert!(!j.still_current(&nvs[0]));
        let key = |d: &MilestoneDecision| crate::notify::milestone_key("E", "CA1", d, crate::status::Channel::Sms);
        assert_eq!(key(&nvs[0]), "E#CA1#B1#contact_county#sms", "the first reason's key is the milestone's");
        assert_ne!(key(&nvs[0]), key(&nms[0]), "each reason its own message");
        // The same reason again, later, is no news; the first reason back again is
        assert!(status(&mut j, "B1", "NMS", "2026-11-13T09:00:00-08:00").is_empty());
        let back = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Nvs, at: t("2026-11-14T09:00:00-08:00") });
        assert!(![key(&nvs[0]), key(&nms[0])].contains(&key(&back[0])), "a third message, not the first's key again");
        // Nor is any after the outcome
        assert_eq!(status(&mut j, "B1", "ACCEPTED", "2026-11-20T09:00:00-08:00"), [Milestone::Accepted]);
        assert!(status(&mut j, "B1", "NID", "2026-11-21T09:00:00-08:00").is_empty());
    }

    #[test]
    fn a_reissued_ballot_sends_reissued_and_the_cancelled_one_sends_nothing() {
        // The county cancels the first ballot a second before it issues the second one.
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        let cld = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Cld, at: t("2026-10-15T09:00:00-07:00") });
        assert_eq!(cld[0].settle_until, Some(t("2026-10-16T09:00:00-07:00")), "held to settle");
        assert_eq!(status(&mut j, "B2", "ISSUED", "2026-10-15T09:00:01-07:00"), [Milestone::Reissued]);
        assert!(!j.still_current(&cld[0]), "the re-issue explains the cancellation");
        // The same facts in the other order: the cancellation decides nothing at all.
        let mut k = journey();
        status(&mut k, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        assert_eq!(status(&mut k, "B2", "ISSUED", "2026-10-15T09:00:00-07:00"), [Milestone::Reissued]);
        assert!(status(&mut k, "B1", "CLD", "2026-10-15T09:00:00-07:00").is_empty());
        // And the first ballot's ISSUED arriving late, after the second was announced, is no news.
        let mut late = journey();
        assert_eq!(status(&mut late, "B2", "ISSUED", "2026-10-15T09:00:00-07:00"), [Milestone::Outbound]);
        assert!(status(&mut late, "B1", "ISSUED", "2026-10-06T09:00:00-07:00").is_empty());
    }

    #[test]
    fn an_in_person_voter_is_never_told_their_mail_ballot_was_not_accepted() {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        let in_person = j.apply_participation(ParticipationMethod::VoteCenter, t("2026-11-01T10:00:00-07:00"), true);
        assert_eq!(in_person[0].milestone, Milestone::InPerson);
        assert!(status(&mut j, "B1", "CLD", "2026-11-02T09:00:00-08:00").is_empty());
        assert!(status(&mut j, "B1", "VAV", "2026-11-05T09:00:00-08:00").is_empty());
        // And InPerson is decided once, however often the record is sent.
        assert!(j.apply_participation(ParticipationMethod::Poll, t("2026-11-03T10:00:00-08:00"), true).is_empty());
    }

    #[test]
    fn a_cancellation_waits_to_settle_and_is_dropped_if_an_in_person_vote_explains_it() {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        let cld = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Cld, at: t("2026-11-02T09:00:00-08:00") });
        assert_eq!(cld[0].milestone, Milestone::NotAccepted);
        assert_eq!(cld[0].settle_until, Some(t("2026-11-03T09:00:00-08:00")));
        assert!(j.still_current(&cld[0]));
        j.apply_participation(ParticipationMethod::Poll, t("2026-11-03T08:00:00-08:00"), true);
        assert!(!j.still_current(&cld[0]));
    }

    #[test]
    fn every_not_accepted_and_contact_county_code_carries_its_reason() {
        for code in StatusCode::ALL.into_iter().filter(|c| c.has_reason()) {
            let mut j = journey();
            status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
            let d = j.apply(BallotFact::Status { ballot_id: "B1".into(), code, at: t("2026-10-25T09:00:00-07:00") });
            assert_eq!(d.len(), 1, "{code}");
            assert_eq!((d[0].milestone, d[0].code), (code.milestone(), Some(code)));
        }
    }

    #[test]
    fn an_undeliverable_ballot_is_reported_once() {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        assert_eq!(status(&mut j, "B1", "UND", "2026-10-12T09:00:00-07:00"), [Milestone::Undeliverable]);
        assert!(status(&mut j, "B1", "UND", "2026-10-13T09:00:00-07:00").is_empty());
    }

    fn scan(ballot: Option<&str>, direction: crate::usps::Direction, at: &str) -> BallotFact {
        BallotFact::Scan {
            ballot_id: ballot.map(str::to_string),
            scan: ScanEvent { at: t(at), direction, event_code: "SD".into(), facility_zip: "90052".into() },
        }
    }

    #[test]
    fn outbound_is_sent_once_whichever_comes_first_the_scan_or_issued() {
        use crate::usps::Direction::*;
        // The scan first: it sends Outbound, and ISSUED (earlier or later) sends nothing.
        let mut j = journey();
        let first = j.apply(scan(Some("B1"), Outbound, "2026-10-06T07:00:00-07:00"));
        assert_eq!(first[0].milestone, Milestone::Outbound);
        assert!(status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00").is_empty());
        // ISSUED first: the scan that follows sends nothing.
        let mut k = journey();
        assert_eq!(status(&mut k, "B1", "ISSUED", "2026-10-05T09:00:00-07:00"), [Milestone::Outbound]);
        assert!(k.apply(scan(None, Outbound, "2026-10-06T07:00:00-07:00")).is_empty());
        // A scan with no ballot id before any ISSUED: Outbound once, and the ISSUED that names the
        // ballot later is the same news.
        let mut m = journey();
        assert_eq!(m.apply(scan(None, Outbound, "2026-10-06T07:00:00-07:00"))[0].milestone, Milestone::Outbound);
        assert!(status(&mut m, "B1", "ISSUED", "2026-10-06T09:00:00-07:00").is_empty());
        assert!(m.apply(scan(None, Outbound, "2026-10-07T07:00:00-07:00")).is_empty());
    }

    #[test]
    fn an_inbound_scan_sends_inbound_once_and_never_after_received() {
        use crate::usps::Direction::*;
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-05T09:00:00-07:00");
        let inbound = j.apply(scan(None, Inbound, "2026-10-18T07:00:00-07:00"));
        assert_eq!((inbound[0].milestone, inbound[0].ballot_id.as_deref()), (Milestone::Inbound, Some("B1")));
        assert!(j.apply(scan(None, Inbound, "2026-10-18T09:00:00-07:00")).is_empty(), "a second scan of the same piece");
        assert_eq!(j.scans.len(), 2, "both scans are kept as the journey");
        let mut k = journey();
        status(&mut k, "B1", "ISSUED", "2026-10-05T09:00:00-07:00");
        status(&mut k, "B1", "INR", "2026-10-19T09:00:00-07:00");
        assert!(k.apply(scan(None, Inbound, "2026-10-18T07:00:00-07:00")).is_empty(), "received already");
    }

    #[test]
    fn newer_news_about_a_ballot_supersedes_a_held_older_message() {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        let received = j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::InReview, at: t("2026-10-20T23:00:00-07:00") });
        assert!(j.still_current(&received[0]));
        status(&mut j, "B1", "ACCEPTED", "2026-10-21T02:00:00-07:00");
        assert!(!j.still_current(&received[0]));
    }

    #[test]
    fn the_stream_fan_out_sees_only_new_milestones() {
        let mut j = journey();
        status(&mut j, "B1", "ISSUED", "2026-10-06T09:00:00-07:00");
        let old = j.clone();
        status(&mut j, "B1", "INR", "2026-10-20T09:00:00-07:00");
        assert_eq!(j.new_since(Some(&old)).iter().map(|d| d.milestone).collect::<Vec<_>>(), [Milestone::Received]);
        assert_eq!(j.new_since(None).len(), 2);
        assert!(j.new_since(Some(&j)).is_empty());
    }
}

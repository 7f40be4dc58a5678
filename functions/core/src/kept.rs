//! Facts about the ballots of voters who have not signed up: kept, not made into journeys.
//!
//! About four voters in five never sign up. Their status rows, scans and participation records
//! are still checked and counted, but ingest writes no journey for them (no read, no conditional
//! write, no stream record, no fan-out): it keeps the bare fact, many to a stored item, where a
//! later sign-up finds it. When a voter's choices go live, the catch-up first *adopts* their kept
//! facts (replays them, in the order they arrived, into the voter's journey) and then tells the
//! voter where each ballot is, as before.
//!
//! Which voters may have signed up, ingest learns from a [`Roster`]: a sorted list of hashes,
//! with false positives (a voter who stopped, a hash collision: their rows just take the
//! journey path) but no false negatives. A sign-up that lands while a file is being read is not
//! lost: after writing its kept facts, ingest asks who joined since it started and adopts
//! theirs ([`crate::pipeline::Pipeline::adopt_late`]). Either the sign-up's catch-up read the
//! fact, or the fact was written after the voter's "joined" mark, which ingest then sees.

use crate::county::CountyCode;
use crate::lifecycle::{BallotFact, BallotJourney, MilestoneDecision, ScanEvent};
use crate::usps::Direction;
use crate::status::ParticipationMethod;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// What one row says about a voter's ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Fact(BallotFact),
    Participation { method: ParticipationMethod, at: DateTime<Utc>, active: bool },
}

impl Change {
    /// Applies the change to a journey; returns the milestones it decided.
    pub fn apply_to(&self, journey: &mut BallotJourney) -> Vec<MilestoneDecision> {
        self.apply_arrived(journey, None)
    }

    /// [`Self::apply_to`], for a change that reached us at `arrived` (see
    /// [`BallotJourney::apply_arrived`]).
    pub fn apply_arrived(&self, journey: &mut BallotJourney, arrived: Option<DateTime<Utc>>) -> Vec<MilestoneDecision> {
        match self {
            Change::Fact(f) => journey.apply_arrived(f.clone(), arrived),
            Change::Participation { method, at, active } => journey.apply_participation(*method, *at, *active),
        }
    }
}

/// A fact kept for a voter who had not signed up when it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptFact {
    #[serde(rename = "e")]
    pub election_id: String,
    #[serde(rename = "v")]
    pub votecal_id: String,
    #[serde(rename = "c")]
    pub county: CountyCode,
    #[serde(rename = "f")]
    pub change: Change,
    /// When it reached us, kept only where it decides something: a cancellation or an
    /// already-voted status settles for a day from it ([`BallotJourney::apply_arrived`]).
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub arrived: Option<DateTime<Utc>>,
}

impl KeptFact {
    /// The fact of `change`, which reached us at `arrived` (kept only where it matters).
    pub fn new(election_id: &str, votecal_id: &str, county: CountyCode, change: Change, arrived: DateTime<Utc>) -> KeptFact {
        let settles = matches!(change, Change::Fact(BallotFact::Status { code: crate::status::StatusCode::Cld | crate::status::StatusCode::Vav, .. }));
        KeptFact { election_id: election_id.to_string(), votecal_id: votecal_id.to_string(), county, change, arrived: settles.then_some(arrived) }
    }

    /// The stored form, one line of `|`-separated fields (about 60 bytes a status: a statewide
    /// file's kept facts bill a sixteenth of a write unit a row). Fields are escaped (`%7C`).
    pub fn to_line(&self) -> String {
        // Written field by field into one string: statewide, ingest writes some 50 M of them.
        let mut out = String::with_capacity(80);
        push_esc(&mut out, &self.votecal_id);
        out.push('|');
        push_esc(&mut out, &self.election_id);
        out.push('|');
        out.push_str(&self.county.code());
        match &self.change {
            Change::Fact(BallotFact::Status { ballot_id, code, at }) => {
                out.push_str("|S|");
                push_esc(&mut out, ballot_id);
                out.push('|');
                out.push_str(code.as_str());
                push_instant(&mut out, at);
                if let Some(arrived) = &self.arrived {
                    push_instant(&mut out, arrived);
                }
            }
            Change::Fact(BallotFact::Scan { ballot_id, scan }) => {
                out.push_str("|N|");
                push_esc(&mut out, ballot_id.as_deref().unwrap_or_default());
                out.push_str(match scan.direction {
                    Direction::Outbound => "|o",
                    Direction::Inbound => "|i",
                });
                push_instant(&mut out, &scan.at);
                out.push('|');
                push_esc(&mut out, &scan.event_code);
                out.push('|');
                push_esc(&mut out, &scan.facility_zip);
            }
            Change::Participation { method, at, active } => {
                out.push_str(match method {
                    ParticipationMethod::Poll => "|P|POLL",
                    ParticipationMethod::VoteCenter => "|P|VCR",
                    ParticipationMethod::Mail => "|P|VBM",
                });
                push_instant(&mut out, at);
                out.push_str(if *active { "|1" } else { "|0" });
            }
        }
        out
    }

    /// Reads [`KeptFact::to_line`]'s form back; None if it is not one.
    pub fn from_line(line: &str) -> Option<KeptFact> {
        let f: Vec<String> = line.split('|').map(unesc).collect();
        let time = crate::time::parse_unix;
        let arrived = match (f.get(3).map(String::as_str), f.len()) {
            (Some("S"), 8) => Some(time(&f[7])?),
            _ => None,
        };
        let change = match (f.get(3).map(String::as_str), f.len()) {
            (Some("S"), 7 | 8) => Change::Fact(BallotFact::Status { ballot_id: f[4].clone(), code: crate::status::StatusCode::parse(&f[5])?, at: time(&f[6])? }),
            (Some("N"), 9) => Change::Fact(BallotFact::Scan {
                ballot_id: Some(f[4].clone()).filter(|b| !b.is_empty()),
                scan: ScanEvent {
                    direction: match f[5].as_str() {
                        "o" => Direction::Outbound,
                        "i" => Direction::Inbound,
                        _ => return None,
                    },
                    at: time(&f[6])?,
                    event_code: f[7].clone(),
                    facility_zip: f[8].clone(),
                },
            }),
            (Some("P"), 7) => Change::Participation { method: ParticipationMethod::parse(&f[4])?, at: time(&f[5])?, active: f[6] == "1" },
            _ => return None,
        };
        Some(KeptFact { votecal_id: f[0].clone(), election_id: f[1].clone(), county: CountyCode::parse(&f[2])?, change, arrived })
    }
}

/// `|` and an instant (a county file's time may carry a fraction: `time::push_unix`).
fn push_instant(out: &mut String, at: &DateTime<Utc>) {
    out.push('|');
    crate::time::push_unix(out, at);
}

/// A field of a `|`-separated line (kept facts here; the local store's roll entries): `%`, `|`
/// and line breaks escaped as `%25`, `%7C` and `%0A`.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_esc(&mut out, s);
    out
}

/// [`esc`], written at the end of `out`.
pub fn push_esc(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(at) = rest.find(['%', '|', '\n']) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'%' => "%25",
            b'|' => "%7C",
            _ => "%0A",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

/// A field [`esc`] wrote, as it was.
pub fn unesc(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    s.replace("%0A", "\n").replace("%7C", "|").replace("%25", "%")
}

/// Replays kept facts (oldest first) into the voter's journeys: the journeys as they would be had
/// every row gone the journey path. Facts already in a journey change nothing (every change is
/// idempotent). Returns each journey with whether the facts changed it.
pub fn replay(mut journeys: Vec<BallotJourney>, kept: &[KeptFact]) -> Vec<(BallotJourney, bool)> {
    let mut changed = vec![false; journeys.len()];
    for fact in kept {
        let i = match journeys.iter().position(|j| j.election_id == fact.election_id) {
            Some(i) => i,
            None => {
                journeys.push(BallotJourney::new(&fact.election_id, &fact.votecal_id, fact.county));
                changed.push(true);
                journeys.len() - 1
            }
        };
        let before = journeys[i].clone();
        fact.change.apply_arrived(&mut journeys[i], fact.arrived);
        journeys[i].county = fact.county;
        changed[i] |= journeys[i] != before;
    }
    journeys.into_iter().zip(changed).collect()
}

/// A stable 64-bit hash of a VoteCal ID (FNV-1a, then MurmurHash3's finalizer so that IDs
/// differing in one digit spread over every shard): the roster's entries and the facts' shard.
pub fn voter_hash(votecal_id: &str) -> u64 {
    stable_hash(votecal_id)
}

/// A 64-bit hash of any text that is the same in every build and on every machine.
pub fn stable_hash(text: &str) -> u64 {
    let mut h = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3));
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The shard a voter's kept facts are filed under, of `shards`.
pub fn shard(votecal_id: &str, shards: u32) -> u32 {
    (voter_hash(votecal_id) % shards.max(1) as u64) as u32
}

/// How far clocks and writes may lag: rosters and "joined" marks are read this far back.
pub const ROSTER_MARGIN_MINUTES: i64 = 10;

/// Who may have signed up, as of a time: sorted hashes of VoteCal IDs (8 bytes a voter: 40 MB
/// for five million).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    hashes: Vec<u64>,
    /// Every sign-up before this time is in the roster; later ones are read from their marks.
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the roster of signed-up voters is damaged: {0}")]
pub struct RosterError(&'static str);

const MAGIC: &[u8; 8] = b"WMBROST1";

impl Roster {
    pub fn new(ids: impl IntoIterator<Item = impl AsRef<str>>, as_of: DateTime<Utc>) -> Roster {
        let mut r = Roster { hashes: vec![], as_of };
        r.add(ids);
        r
    }

    pub fn add(&mut self, ids: impl IntoIterator<Item = impl AsRef<str>>) {
        self.hashes.extend(ids.into_iter().map(|id| voter_hash(id.as_ref())));
        self.hashes.sort_unstable();
        self.hashes.dedup();
    }

    /// False only for a voter certainly not signed up (as of `as_of`, plus what was added).
    pub fn may_contain(&self, votecal_id: &str) -> bool {
        self.hashes.binary_search(&voter_hash(votecal_id)).is_ok()
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// From when sign-up marks must be read to complete this roster.
    pub fn marks_from(&self) -> DateTime<Utc> {
        self.as_of - Duration::minutes(ROSTER_MARGIN_MINUTES)
    }

    /// The stored form: a magic, the time, the count, the hashes (little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + 8 * self.hashes.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.as_of.timestamp().to_le_bytes());
        out.extend_from_slice(&(self.hashes.len() as u64).to_le_bytes());
        for h in &self.hashes {
            out.extend_from_slice(&h.to_le_bytes());
        }
        out
    }

    /// Reads the stored form; a roster that is cut short, unsorted or of another format is
    /// refused (the caller rebuilds it from the subscriptions rather than miss a voter).
    pub fn from_bytes(bytes: &[u8]) -> Result<Roster, RosterError> {
        if bytes.len() < 24 || &bytes[..8] != MAGIC {
            return Err(RosterError("not a roster"));
        }
        let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        let as_of = DateTime::from_timestamp(word(8) as i64, 0).ok_or(RosterError("bad time"))?;
        let count = word(16) as usize;
        if bytes.len() != 24 + 8 * count {
            return Err(RosterError("cut short"));
        }
        let hashes: Vec<u64> = (0..count).map(|i| word(24 + 8 * i)).collect();
        if hashes.windows(2).any(|w| w[0] >= w[1]) {
            return Err(RosterError("not sorted"));
        }
        Ok(Roster { hashes, as_of })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Milestone;
    use crate::status::StatusCode;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn status(id: &str, code: StatusCode, when: &str) -> KeptFact {
        KeptFact {
            election_id: "2026-11-03-GEN".into(),
            votecal_id: id.into(),
            county: CountyCode::parse("19").unwrap(),
            change: Change::Fact(BallotFact::Status { ballot_id: "B1".into(), code, at: at(when) }),
            arrived: None,
        }
    }

    #[test]
    fn replaying_kept_facts_gives_the_journey_the_rows_would_have_written() {
        let facts = [status("CA1", StatusCode::Issued, "2026-10-05T10:00:00Z"), status("CA1", StatusCode::InReview, "2026-10-20T10:00:00Z")];
        let replayed = replay(vec![], &facts);
        let mut direct = BallotJourney::new("2026-11-03-GEN", "CA1", CountyCode::parse("19").unwrap());
        for f in &facts {
            f.change.apply_to(&mut direct);
        }
        assert_eq!(replayed, vec![(direct.clone(), true)]);
        let milestones: Vec<Milestone> = direct.milestones.iter().map(|d| d.milestone).collect();
        assert_eq!(milestones.len(), 2, "{milestones:?}");
        // Replayed again onto the journey they made, they change nothing.
        assert_eq!(replay(vec![direct.clone()], &facts), vec![(direct, false)]);
    }

    #[test]
    fn a_kept_fact_survives_its_stored_line_whatever_its_fields_hold() {
        let scan = ScanEvent { at: at("2026-10-09T14:07:00Z"), direction: Direction::Inbound, event_code: "S|D%".into(), facility_zip: "92199".into() };
        let facts = [
            status("CA000000110", StatusCode::Issued, "2026-10-05T14:00:00Z"),
            KeptFact { change: Change::Fact(BallotFact::Scan { ballot_id: None, scan: scan.clone() }), ..status("CA1", StatusCode::Issued, "2026-10-05T14:00:00Z") },
            KeptFact { change: Change::Fact(BallotFact::Scan { ballot_id: Some("B|2\nx".into()), scan }), ..status("CA1", StatusCode::Issued, "2026-10-05T14:00:00Z") },
            KeptFact { change: Change::Participation { method: ParticipationMethod::VoteCenter, at: at("2026-11-03T18:00:00Z"), active: true }, ..status("CA2", StatusCode::Issued, "2026-10-05T14:00:00Z") },
        ];
        for f in &facts {
            let line = f.to_line();
            assert!(!line.contains('\n'));
            assert_eq!(KeptFact::from_line(&line).as_ref(), Some(f), "{line}");
        }
        assert_eq!(facts[0].to_line(), "CA000000110|2026-11-03-GEN|19|S|B1|ISSUED|1791208800");
        // A fraction of a second is kept: two statuses a fraction apart stay in their order.
        let in_review = status("CA1", StatusCode::InReview, "2026-10-20T10:00:00.2Z");
        let accepted = status("CA1", StatusCode::Accepted, "2026-10-20T10:00:00.8Z");
        assert!(in_review.to_line().ends_with("|1792490400.200000000"), "{}", in_review.to_line());
        for f in [&in_review, &accepted] {
            assert_eq!(KeptFact::from_line(&f.to_line()).as_ref(), Some(f));
        }
        // A cancellation keeps when it reached us (it settles a day from then); other facts do not.
        let county = CountyCode::parse("19").unwrap();
        let cld = Change::Fact(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Cld, at: at("2026-10-05T14:00:00Z") });
        let late = KeptFact::new("E", "CA1", county, cld, at("2026-10-07T14:00:00Z"));
        assert_eq!(late.to_line(), "CA1|E|19|S|B1|CLD|1791208800|1791381600");
        assert_eq!(KeptFact::from_line(&late.to_line()), Some(late));
        let issued = Change::Fact(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Issued, at: at("2026-10-05T14:00:00Z") });
        assert_eq!(KeptFact::new("E", "CA1", county, issued, at("2026-10-07T14:00:00Z")).arrived, None);
        assert_eq!(KeptFact::from_line("CA1|E|19|S|B1|ISSUED|1.5"), None, "a fraction has nine digits");
        assert_eq!(KeptFact::from_line("CA1|E|19|S|B1|NOPE|1"), None);
    }

    #[test]
    fn a_roster_finds_every_voter_it_holds_and_survives_its_stored_form() {
        let ids: Vec<String> = (0..10_000).map(|i| format!("CA{i:09}")).collect();
        let roster = Roster::new(&ids, at("2026-10-01T00:00:00Z"));
        assert!(ids.iter().all(|id| roster.may_contain(id)));
        let strangers = (10_000..20_000).filter(|i| roster.may_contain(&format!("CA{i:09}"))).count();
        assert_eq!(strangers, 0, "64-bit hashes: no false positives at this size");
        let back = Roster::from_bytes(&roster.to_bytes()).unwrap();
        assert_eq!(back, roster);
        let mut cut = roster.to_bytes();
        cut.truncate(cut.len() - 3);
        assert_eq!(Roster::from_bytes(&cut), Err(RosterError("cut short")));
        assert!(Roster::from_bytes(b"hello").is_err());
    }

    #[test]
    fn shards_spread_voters_evenly() {
        let mut counts = vec![0u32; 64];
        for i in 0..64_000 {
            counts[shard(&format!("CA{i:09}"), 64) as usize] += 1;
        }
        assert!(counts.iter().all(|&n| (800..1200).contains(&n)), "{counts:?}");
    }
}

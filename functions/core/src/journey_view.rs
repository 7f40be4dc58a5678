//! "My ballot": a voter's ballot journey as the voter's page shows it, per election: every status
//! with its time, the envelope's mail scans (time, facility ZIP), the current status, and whether
//! the ballot needs the voter to act. Given only after a code sent to a proven contact.

use crate::election::Election;
use crate::lifecycle::{BallotJourney, MilestoneDecision};
use crate::status::{Language, MessageKind, Milestone};
use crate::templates::Catalog;
use crate::usps::Direction;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// One thing that happened to a ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JourneyEvent {
    Status {
        at: DateTime<Utc>,
        /// The milestone's message key (`outbound`, `received`, `contact_county`...).
        milestone: &'static str,
        /// Why (Not Accepted, Contact County), in the voter's language.
        reason: Option<String>,
    },
    Scan {
        at: DateTime<Utc>,
        direction: Direction,
        facility_zip: String,
    },
}

impl JourneyEvent {
    fn at(&self) -> DateTime<Utc> {
        match self {
            JourneyEvent::Status { at, .. } | JourneyEvent::Scan { at, .. } => *at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountyContactView {
    pub phone: String,
    pub email: String,
    pub url: String,
}

/// One election's journey, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElectionJourney {
    pub election_id: String,
    pub election_name: String,
    pub election_date: String,
    pub county_name: String,
    pub county_contact: CountyContactView,
    /// The latest status that still stands.
    pub current: Option<&'static str>,
    /// The ballot needs the voter (a signature to cure, a ballot not accepted or undeliverable),
    /// and there is still time to act.
    pub needs_action: bool,
    /// Until when what the current status asks of her can be done: the county's cure deadline
    /// (5 p.m. Pacific) for a problem to fix, the polls' close for a ballot not accepted or
    /// undeliverable. None where the status asks nothing.
    pub act_by: Option<DateTime<Utc>>,
    /// That time has passed: the page tells her so instead of asking her to act.
    pub too_late: bool,
    /// A problem to fix that is back in review (after her statement, say): nothing is asked of
    /// her now, and the county has not decided yet.
    pub in_review: bool,
    pub events: Vec<JourneyEvent>,
}

/// The journeys of one voter in the elections this service tracks, oldest event first. A
/// decision still settling (a cancellation waiting to see whether a new ballot explains it) is
/// not shown before its message would be sent.
pub fn ballot_journeys(journeys: &[BallotJourney], elections: &BTreeMap<String, Election>, catalog: &Catalog, lang: Language, now: DateTime<Utc>) -> Vec<ElectionJourney> {
    let t = catalog.language(lang);
    let mut out = vec![];
    for j in journeys {
        let Some(election) = elections.get(&j.election_id) else { continue };
        let shown: Vec<_> = j.milestones.iter().filter(|d| d.settle_until.is_none_or(|s| s <= now)).collect();
        let mut events: Vec<JourneyEvent> = shown
            .iter()
            .map(|d| JourneyEvent::Status {
                at: d.status_time,
                milestone: MessageKind::from(d.milestone).key(),
                reason: d.code.filter(|c| c.has_reason()).map(|c| t.reason(c).to_string()),
            })
            .collect();
        events.extend(j.scans.iter().map(|s| JourneyEvent::Scan { at: s.at, direction: s.direction, facility_zip: s.facility_zip.clone() }));
        events.sort_by_key(JourneyEvent::at);
        let latest = shown.iter().filter(|d| j.still_current(d)).max_by_key(|d| d.status_time);
        let current = latest.map(|d| d.milestone);
        // A problem to fix needs her while the ballot's status still says so (not once it is back
        // in review after her signature statement).
        let still_asks = |d: &MilestoneDecision| {
            d.ballot_id.as_ref().and_then(|b| j.ballots.get(b)).is_none_or(|b| b.status.milestone() == Milestone::ContactCounty)
        };
        let act_by = match latest {
            Some(d) if d.milestone == Milestone::ContactCounty && still_asks(d) => Some(election.cure_deadline(j.county)),
            Some(d) if matches!(d.milestone, Milestone::NotAccepted | Milestone::Undeliverable) => Some(election.polls_close()),
            _ => None,
        };
        let too_late = act_by.is_some_and(|by| now >= by);
        let in_review = latest.is_some_and(|d| d.milestone == Milestone::ContactCounty && !still_asks(d));
        let contact = election.contact(j.county);
        out.push(ElectionJourney {
            election_id: j.election_id.clone(),
            election_name: election.name_in(lang.code()).to_string(),
            election_date: election.def.date.format("%Y-%m-%d").to_string(),
            county_name: j.county.name().to_string(),
            county_contact: CountyContactView { phone: contact.phone, email: contact.email, url: contact.url },
            current: current.map(|m| MessageKind::from(m).key()),
            needs_action: act_by.is_some() && !too_late,
            act_by,
            too_late,
            in_review,
            events,
        });
    }
    out.sort_by(|a, b| b.election_date.cmp(&a.election_date));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{BallotFact, ScanEvent};
    use crate::status::StatusCode;
    use crate::CountyCode;

    const ELECTION: &str = "id = \"E\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
        [names]\nes = \"Elección General 2026\"\n\
        [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_voter_sees_every_status_and_scan_in_order_and_what_to_do_when_the_signature_does_not_match() {
        let elections = BTreeMap::from([("E".to_string(), Election::from_toml("e", ELECTION).unwrap())]);
        let mut j = BallotJourney::new("E", "CA1", CountyCode::parse("19").unwrap());
        j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Issued, at: t("2026-10-05T16:00:00Z") });
        j.apply(BallotFact::Scan {
            ballot_id: Some("B1".into()),
            scan: ScanEvent { at: t("2026-10-15T18:00:00Z"), direction: Direction::Inbound, event_code: "SD".into(), facility_zip: "90052".into() },
        });
        j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Nms, at: t("2026-10-20T18:00:00Z") });
        let catalog = Catalog::embedded().unwrap();
        let view = ballot_journeys(&[j], &elections, &catalog, Language::Es, t("2026-10-21T00:00:00Z"));
        let e = &view[0];
        assert_eq!(e.election_name, "Elección General 2026");
        assert_eq!((e.current, e.needs_action), (Some("contact_county"), true));
        let kinds: Vec<String> = e.events.iter().map(|ev| serde_json::to_value(ev).unwrap()["type"].as_str().unwrap().to_string()).collect();
        assert_eq!(kinds.first().map(String::as_str), Some("status"));
        assert!(kinds.contains(&"scan".to_string()));
        let last = serde_json::to_value(e.events.last().unwrap()).unwrap();
        assert_eq!(last["milestone"], "contact_county");
        assert_eq!(last["reason"].as_str(), Some(catalog.language(Language::Es).reason(StatusCode::Nms)), "the reason in the voter's language");
        assert_eq!(e.county_contact.phone, "(916) 657-2166");
        // AND once the ballot is back in review after her signature statement, it asks nothing
        // more of her
        let mut back = j_again();
        back.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::InReview, at: t("2026-10-22T18:00:00Z") });
        let view = ballot_journeys(&[back], &elections, &catalog, Language::Es, t("2026-10-23T00:00:00Z"));
        assert!(!view[0].needs_action);
        assert_eq!((view[0].act_by, view[0].too_late, view[0].in_review), (None, false, true), "no deadline for what is not asked");
    }

    #[test]
    fn once_the_time_to_act_has_passed_the_page_says_so_instead_of_asking_her_to_act() {
        let elections = BTreeMap::from([("E".to_string(), Election::from_toml("e", ELECTION).unwrap())]);
        let catalog = Catalog::embedded().unwrap();
        let at = |j: &BallotJourney, now: &str| ballot_journeys(std::slice::from_ref(j), &elections, &catalog, Language::En, t(now)).remove(0);
        // A problem to fix: the deadline is the county's, 5 p.m. Pacific on E+28 (1 Dec)
        let deadline = t("2026-12-01T17:00:00-08:00");
        let before = at(&j_again(), "2026-12-01T16:59:00-08:00");
        assert_eq!((before.current, before.needs_action, before.act_by, before.too_late, before.in_review), (Some("contact_county"), true, Some(deadline), false, false));
        let after = at(&j_again(), "2026-12-01T17:00:00-08:00");
        assert_eq!((after.current, after.needs_action, after.act_by, after.too_late), (Some("contact_county"), false, Some(deadline), true));
        // A ballot that came back undeliverable can be replaced until the polls close
        let mut und = BallotJourney::new("E", "CA1", CountyCode::parse("19").unwrap());
        und.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Issued, at: t("2026-10-05T16:00:00Z") });
        und.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Und, at: t("2026-10-14T16:00:00Z") });
        let polls = t("2026-11-03T20:00:00-08:00");
        let on_the_day = at(&und, "2026-11-03T19:00:00-08:00");
        assert_eq!((on_the_day.needs_action, on_the_day.act_by, on_the_day.too_late), (true, Some(polls), false));
        let next_day = at(&und, "2026-11-04T09:00:00-08:00");
        assert_eq!((next_day.current, next_day.needs_action, next_day.too_late), (Some("undeliverable"), false, true));
    }

    /// A ballot mailed on 5 Oct and found with a non-matching signature on 20 Oct.
    fn j_again() -> BallotJourney {
        let mut j = BallotJourney::new("E", "CA1", CountyCode::parse("19").unwrap());
        j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Issued, at: t("2026-10-05T16:00:00Z") });
        j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Nms, at: t("2026-10-20T18:00:00Z") });
        j
    }
}

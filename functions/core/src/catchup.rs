//! The catch-up: what a voter gets once their choices are live. A confirmation, and where each
//! ballot already is, from their journeys and the facts kept while they had not signed up
//! ([`crate::kept`]), so a late sign-up loses no status.

use crate::kept::{replay, KeptFact};
use crate::lifecycle::{BallotJourney, MilestoneDecision};
use crate::notify::{confirmation_key, Notification};
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::Subscription;
use crate::status::{Channel, MessageKind};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// What a voter gets once their choices are live: a confirmation by SMS and email (never by
    /// voice) inside their hours, once per sign-up, and where their ballot already is in any
    /// election being tracked (a late sign-up loses no status). Only live, proven contacts get it.
    pub async fn welcome(&self, sub: &Subscription, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        self.welcome_but(sub, &[], now, tally).await
    }

    /// [`Self::welcome`], with no confirmation on the channels in `awaiting` (a contact the voter
    /// is moving away from, while the new one waits for its code: it is confirmed once proven).
    pub async fn welcome_but(&self, sub: &Subscription, awaiting: &[Channel], now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        for (channel, _) in sub.channels() {
            if channel == Channel::Voice || awaiting.contains(&channel) {
                continue;
            }
            let n = Notification::new(confirmation_key(sub, channel), &sub.votecal_id, sub.county, MessageKind::SignupConfirmation, channel, now);
            // Like every message, the confirmation respects the hours the voter chose.
            self.schedule(n, None, sub, None, now, tally).await?;
        }
        // Catch up: statuses reached before the voter signed up are not lost on them.
        for journey in self.adopt(&sub.votecal_id).await? {
            let Ok(election) = self.election(&journey.election_id) else { continue };
            if !election.in_window(now) && now >= election.window_closes() {
                continue;
            }
            let mut latest: BTreeMap<Option<String>, &MilestoneDecision> = BTreeMap::new();
            for d in &journey.milestones {
                latest.insert(d.ballot_id.clone(), d);
            }
            let current: Vec<MilestoneDecision> = latest.into_values().filter(|d| journey.still_current(d)).cloned().collect();
            self.fan_out_quietly(&journey, &current, now, tally).await?;
        }
        Ok(())
    }

    /// Fan-out without counting the milestones again (they were counted when decided), nor as
    /// news that reached no one.
    pub(crate) async fn fan_out_quietly(&self, journey: &BallotJourney, decided: &[MilestoneDecision], now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        let before = tally.milestones.clone();
        self.fan_out_as(journey, decided, now, false, tally).await?;
        tally.milestones = before;
        Ok(())
    }

    /// The voter's journeys with the facts kept for them replayed in (nothing written): what the
    /// voter's page shows.
    pub async fn current_journeys(&self, votecal_id: &str) -> Result<Vec<BallotJourney>, PipelineError> {
        let kept = self.store.kept_facts(votecal_id).await?;
        let journeys = self.store.journeys_of_voter(votecal_id).await?;
        Ok(replay(journeys, &kept).into_iter().map(|(j, _)| j).collect())
    }

    /// Adopts the facts kept for a voter into their journeys, written without announcing
    /// anything (the catch-up tells the voter what is current), and returns the journeys.
    pub async fn adopt(&self, votecal_id: &str) -> Result<Vec<BallotJourney>, PipelineError> {
        let kept = self.store.kept_facts(votecal_id).await?;
        if kept.is_empty() {
            return Ok(self.store.journeys_of_voter(votecal_id).await?);
        }
        let mut out = vec![];
        for (election_id, facts) in by_election(&kept) {
            let county = facts.last().map(|f| f.county).expect("at least one fact");
            let (journey, _) = self.update_journey_quietly(&election_id, votecal_id, county, &facts).await?;
            out.push(journey);
        }
        // Journeys with no kept facts, as they are.
        for j in self.store.journeys_of_voter(votecal_id).await? {
            if !out.iter().any(|o| o.election_id == j.election_id) {
                out.push(j);
            }
        }
        Ok(out)
    }

    /// Facts kept for voters who signed up while they were being kept (`joined`): recorded in
    /// their journeys after all, announcing what they decide, so the stream's fan-out sends it.
    /// Whatever the voter's catch-up already sent, the ledger keeps from going twice.
    pub async fn adopt_late(&self, kept: &[KeptFact], joined: &BTreeSet<String>) -> Result<usize, PipelineError> {
        let mut adopted = 0;
        for fact in kept.iter().filter(|f| joined.contains(&f.votecal_id)) {
            self.update_journey(&fact.election_id, &fact.votecal_id, fact.county, |j| fact.change.apply_arrived(j, fact.arrived)).await?;
            adopted += 1;
        }
        Ok(adopted)
    }

    async fn update_journey_quietly(&self, election_id: &str, votecal_id: &str, county: crate::county::CountyCode, facts: &[KeptFact]) -> Result<(BallotJourney, bool), PipelineError> {
        loop {
            let current = self.store.journey(election_id, votecal_id).await?;
            let (existing, version) = match current {
                Some(v) => (vec![v.value], Some(v.version)),
                None => (vec![], None),
            };
            let Some((mut journey, changed)) = replay(existing, facts).into_iter().next() else {
                return Ok((BallotJourney::new(election_id, votecal_id, county), false));
            };
            if !changed {
                return Ok((journey, false));
            }
            journey.county = county;
            match self.store.put_journey(&journey, version, 0).await {
                Ok(_) => return Ok((journey, true)),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn by_election(kept: &[KeptFact]) -> BTreeMap<String, Vec<KeptFact>> {
    let mut m: BTreeMap<String, Vec<KeptFact>> = BTreeMap::new();
    for f in kept {
        m.entry(f.election_id.clone()).or_default().push(f.clone());
    }
    m
}

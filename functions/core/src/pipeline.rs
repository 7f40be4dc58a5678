//! The pipeline: the same steps whether run locally on an embedded store or as Lambdas.
//!
//! ingest (a row → the journey, conditional write) → fan-out (new milestones → one notification
//! per chosen channel, sent now or held) → deliver (still current? claimed? render, send, record)
//! and release (held notifications that are due → deliver); the last two in `delivery.rs`.

use crate::daily::CountyDays;
use crate::election::Election;
use crate::lifecycle::{BallotJourney, MilestoneDecision};
use crate::notify::{milestone_key, plan_send, Notification, SendPlan};
use crate::past_deadline::plan_within_deadline;
use crate::ports::*;
use crate::signup::Subscription;
use crate::status::MessageKind;
use crate::templates::Catalog;
use crate::voice::VoicePlan;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// What happened, counted: the summary a county or the cloud team reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Milestones decided, by message.
    pub milestones: BTreeMap<String, u64>,
    /// Messages sent, by channel.
    pub sent: BTreeMap<String, u64>,
    /// Messages held for later (quiet hours, tracking start, settling).
    pub held: u64,
    /// Messages put on a channel queue for the delivery functions.
    pub queued: u64,
    /// Held messages dropped at release because newer news superseded them.
    pub superseded: u64,
    /// Messages whose key was already sent: duplicates suppressed.
    pub duplicates: u64,
    /// Messages not sent because the tracking window had closed.
    pub too_late: u64,
    /// Milestones in counties not enrolled in the election.
    pub not_enrolled: u64,
    /// Milestones of voters who have not signed up.
    pub not_subscribed: u64,
    /// Milestones of voters whose sign-up is for another county (they moved).
    pub moved_county: u64,
    /// Sends retried later after throttling or a passing failure.
    pub retried: u64,
    /// Sends that failed for good, with the reason recorded in the ledger.
    pub failed: u64,
    pub signups_accepted: u64,
    pub signups_refused: BTreeMap<String, u64>,
    /// The counties' daily summaries (see [`crate::daily`]).
    #[serde(skip)]
    pub county_days: CountyDays,
}

impl Tally {
    /// Adds another's counts to these (the local replay's lanes each count their own voters).
    pub fn merge(&mut self, other: Tally) {
        fn add(mine: &mut BTreeMap<String, u64>, theirs: BTreeMap<String, u64>) {
            for (k, n) in theirs {
                *mine.entry(k).or_default() += n;
            }
        }
        // Every field named: a new one does not compile until it is merged too.
        let Tally { milestones, sent, held, queued, superseded, duplicates, too_late, not_enrolled, not_subscribed, moved_county, retried, failed, signups_accepted, signups_refused, county_days } = other;
        add(&mut self.milestones, milestones);
        add(&mut self.sent, sent);
        add(&mut self.signups_refused, signups_refused);
        for (mine, theirs) in [
            (&mut self.held, held),
            (&mut self.queued, queued),
            (&mut self.superseded, superseded),
            (&mut self.duplicates, duplicates),
            (&mut self.too_late, too_late),
            (&mut self.not_enrolled, not_enrolled),
            (&mut self.not_subscribed, not_subscribed),
            (&mut self.moved_county, moved_county),
            (&mut self.retried, retried),
            (&mut self.failed, failed),
            (&mut self.signups_accepted, signups_accepted),
        ] {
            *mine += theirs;
        }
        self.county_days.merge(county_days);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("election '{0}' is not defined")]
    UnknownElection(String),
    #[error("template: {0}")]
    Template(#[from] crate::templates::TemplateError),
    /// A message that must go now (a code, an answer to a text) could not be sent.
    #[error("send: {0}")]
    Send(DeliveryError),
}

/// A journey as written and the milestones the write decided; None when the row's fact was kept
/// instead (the voter has not signed up).
pub type Written = Option<(BallotJourney, Vec<MilestoneDecision>)>;

pub use crate::recording::ScanOutcome;

/// The backoff before retrying a throttled or failed send: 1, 2, 4 … minutes, at most an hour.
pub fn retry_delay(attempts: u32) -> Duration {
    Duration::minutes(1i64 << attempts.min(6)).min(Duration::hours(1))
}

/// Held notifications taken at once by a release.
pub(crate) const RELEASE_PAGE: usize = 1000;

/// After this many passing failures a send is recorded as failed instead of retried again.
pub const MAX_ATTEMPTS: u32 = 8;

/// After this many throttled attempts (backing off to an hour, inside the voter's hours: three
/// to four days with the default 08:00-20:00) a send is recorded as failed: a message with no
/// election (a confirmation) has no window to end it.
pub const MAX_THROTTLES: u32 = 48;

pub struct Pipeline<'a, S, D, Q = Inline> {
    pub store: &'a S,
    pub dispatcher: &'a D,
    /// Where notifications due now go ([`Inline`]: delivered at once).
    pub queue: &'a Q,
    pub catalog: &'a Catalog,
    pub elections: &'a BTreeMap<String, Election>,
    pub voice: &'a VoicePlan,
    /// The key for codes and unsubscribe links, randomness, and the API's public URL.
    pub access: &'a crate::access::AccessKeys,
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    pub(crate) fn election(&self, id: &str) -> Result<&'a Election, PipelineError> {
        self.elections.get(id).ok_or_else(|| PipelineError::UnknownElection(id.to_string()))
    }

    /// Applies a change to a journey with a conditional write, retrying when another writer won.
    /// Returns the journey as written and the milestones the change decided.
    pub async fn update_journey(
        &self,
        election_id: &str,
        votecal_id: &str,
        county: crate::county::CountyCode,
        change: impl Fn(&mut BallotJourney) -> Vec<MilestoneDecision>,
    ) -> Result<(BallotJourney, Vec<MilestoneDecision>), PipelineError> {
        let mut attempt = 0;
        loop {
            // First a cheaper read that may be a second stale: the conditional write catches it,
            // and the retry reads strongly.
            let current = if attempt == 0 { self.store.recent_journey(election_id, votecal_id).await? } else { self.store.journey(election_id, votecal_id).await? };
            attempt += 1;
            let (mut journey, version) = match current {
                Some(v) => (v.value, Some(v.version)),
                None => (BallotJourney::new(election_id, votecal_id, county), None),
            };
            let before = journey.clone();
            let decided = change(&mut journey);
            if journey == before {
                return Ok((journey, decided));
            }
            journey.county = county;
            match self.store.put_journey(&journey, version, decided.len()).await {
                Ok(_) => return Ok((journey, decided)),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Turns newly decided milestones into notifications on the voter's channels (or, with none
    /// live, counts them for the county as news that reached no one).
    pub async fn fan_out(&self, journey: &BallotJourney, decided: &[MilestoneDecision], now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        self.fan_out_as(journey, decided, now, true, tally).await
    }

    /// [`Self::fan_out`]; `newly` false for news told again (a catch-up), not counted as news
    /// that reached no one.
    pub(crate) async fn fan_out_as(&self, journey: &BallotJourney, decided: &[MilestoneDecision], now: DateTime<Utc>, newly: bool, tally: &mut Tally) -> Result<(), PipelineError> {
        if decided.is_empty() {
            return Ok(());
        }
        let election = self.election(&journey.election_id)?;
        for decision in decided {
            *tally.milestones.entry(MessageKind::from(decision.milestone).key().to_string()).or_default() += 1;
        }
        if !election.is_enrolled(journey.county) {
            tally.not_enrolled += decided.len() as u64;
            return Ok(());
        }
        // The subscription and the roll, read once for every milestone this write decided.
        let Some(sub) = self.store.subscription(&journey.votecal_id).await? else {
            tally.not_subscribed += decided.len() as u64;
            return Ok(());
        };
        // A voter who moved county must sign up again there (the roll says where they are now):
        // she is told so, once an election, and hears only of a ballot her old county already
        // has ([`crate::moved`]).
        let hers;
        let decided = match self.still_hers_after_move(journey, &sub, decided, election, now, tally).await? {
            None => decided,
            Some(h) if h.is_empty() => return Ok(()),
            Some(h) => {
                hers = h;
                &hers[..]
            }
        };
        if sub.channels().is_empty() {
            return match newly {
                true => self.count_not_reached(journey, decided, election, now, tally).await,
                false => Ok(()),
            };
        }
        for decision in decided {
            for (channel, _) in sub.channels() {
                let key = milestone_key(&journey.election_id, &journey.votecal_id, decision, channel);
                let n = Notification {
                    election_id: Some(journey.election_id.clone()),
                    decision: Some(decision.clone()),
                    ..Notification::new(key, &journey.votecal_id, journey.county, decision.milestone.into(), channel, now)
                };
                let settle = crate::notify::settle_in_window(now, Some(election), sub.hours, decision.settle_until);
                self.schedule(n, Some(election), &sub, settle, now, tally).await?;
            }
            self.plan_reminders(journey, decision, election, &sub, now, tally).await?;
        }
        Ok(())
    }

    /// The ledger's record of a message the provider took.
    pub(crate) fn sent(&self, msg: &OutgoingMessage, provider_id: String, at: DateTime<Utc>, counted: Option<crate::daily::MessageTag>) -> DeliveryOutcome {
        let indexed = self.dispatcher.receipts_find_it_by_id(msg);
        DeliveryOutcome::Sent { provider_id, at, counted, indexed }
    }

    pub(crate) async fn schedule(
        &self,
        mut n: Notification,
        election: Option<&Election>,
        sub: &Subscription,
        not_before: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        tally: &mut Tally,
    ) -> Result<(), PipelineError> {
        // A county that starts tracking later than the election holds its messages until then.
        let not_before = match election.map(|e| e.county_window_opens(n.county)) {
            Some(opens) => Some(not_before.map_or(opens, |t| t.max(opens))),
            None => not_before,
        };
        match plan_within_deadline(&mut n, election, plan_send(now, election, sub.hours, not_before), now) {
            SendPlan::Now => {
                if self.queue.enqueue(&n).await? {
                    tally.queued += 1;
                    Ok(())
                } else {
                    self.deliver(n, now, tally).await
                }
            }
            SendPlan::HoldUntil(at) => {
                n.release_at = at;
                self.store.hold(&n).await?;
                tally.held += 1;
                Ok(())
            }
            SendPlan::TooLate => {
                tally.too_late += 1;
                Ok(())
            }
        }
    }
}

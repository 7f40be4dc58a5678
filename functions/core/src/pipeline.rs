//! The pipeline: the same steps whether run locally on an embedded store or as Lambdas.
//!
//! ingest (a row → the journey, conditional write) → fan-out (new milestones → one notification
//! per chosen channel, sent now or held) → deliver (still current? claimed? render, send, record)
//! and release (held notifications that are due → deliver).

use crate::daily::{Counted, CountyDays};
use crate::election::Election;
use crate::lifecycle::{BallotJourney, MilestoneDecision};
use crate::notify::{message_values, milestone_key, plan_send, Notification, SendPlan};
use crate::past_deadline::plan_within_deadline;
use crate::ports::*;
use crate::signup::Subscription;
use crate::status::{Channel, MessageKind};
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
const RELEASE_PAGE: usize = 1000;

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

    /// Sends one notification if it is still current and not sent before.
    pub async fn deliver(&self, mut n: Notification, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        let election = match &n.election_id {
            Some(id) => Some(self.election(id)?),
            None => None,
        };
        if let (Some(decision), Some(e)) = (&n.decision, election) {
            if !crate::reminders::still_asked_for(e, n.kind, n.reminder_days) {
                tally.superseded += 1;
                return Ok(());
            }
            // A cheap read first; before dropping the message, a read that cannot be stale (a
            // catch-up's journey may have been written a moment ago).
            let worth = |j: &Versioned<BallotJourney>| {
                crate::reminders::still_worth_sending(&j.value, n.kind, decision) && !crate::reminders::just_mailed_again(&j.value, n.kind, now)
            };
            let mut current = self.store.recent_journey(e.id(), &n.votecal_id).await?.filter(worth);
            if current.is_none() {
                current = self.store.journey(e.id(), &n.votecal_id).await?.filter(worth);
                if current.is_none() {
                    tally.superseded += 1;
                    return Ok(());
                }
            }
            // A cure reminder, and a problem's verdict, give the reason the ballot has now.
            let calls_to_fix = n.kind == MessageKind::CureReminder || crate::past_deadline::told_as_not_accepted(n.kind, decision.milestone);
            if let (true, Some(j)) = (calls_to_fix, &current) {
                let code = crate::reminders::current_code(&j.value, decision);
                if let Some(d) = n.decision.as_mut() {
                    d.code = code;
                }
            }
        }
        // The subscription as it is now: an opt-out or a move while the message was held wins.
        let Some(sub) = self.store.subscription(&n.votecal_id).await? else {
            tally.not_subscribed += 1;
            return Ok(());
        };
        let Some(to) = sub.address(n.channel).map(str::to_string) else {
            tally.not_subscribed += 1;
            return self.count_held_not_reached(&n, &sub, election, now, tally).await;
        };
        if (sub.county != n.county && !self.old_countys_news_still_hers(&n, &sub).await?) || (n.kind == MessageKind::MovedCounty && !self.still_moved(&sub, election).await?) {
            tally.moved_county += 1;
            return Ok(());
        }
        if self.moved_since_planned(&n, &sub, election, now, tally).await? {
            return Ok(());
        }
        // Re-check the hours, the window and the message's own deadline: a retry or a release
        // may land outside them (a call to fix a problem past its deadline is "not accepted").
        let mut not_before = election.map(|e| e.county_window_opens(n.county));
        // A problem's verdict waits for the certification day the election has now.
        if n.verdict {
            match crate::past_deadline::verdict_due(&n, election, sub.hours) {
                Some(due) => not_before = not_before.max(Some(due)),
                None => {
                    tally.superseded += 1;
                    return Ok(());
                }
            }
        }
        match plan_within_deadline(&mut n, election, plan_send(now, election, sub.hours, not_before), now) {
            SendPlan::Now => {}
            SendPlan::HoldUntil(at) => {
                n.release_at = at;
                self.store.hold(&n).await?;
                tally.held += 1;
                return Ok(());
            }
            // A reminder past its deadline has nothing left to remind of, nor news of a mailing
            // after the polls closed (each says to act by election day), nor a problem to fix
            // once the tracking window has closed: dropped, not failed (for the last, unless
            // tries to send it failed first: then it failed, and the county counts it).
            SendPlan::TooLate
                if n.kind.is_reminder()
                    || matches!(n.kind, MessageKind::Outbound | MessageKind::Reissued | MessageKind::Undeliverable)
                    || (n.kind == MessageKind::ContactCounty && n.attempts == 0 && n.throttled == 0) =>
            {
                tally.superseded += 1;
                return Ok(());
            }
            SendPlan::TooLate => {
                if self.store.claim(&n.key, now).await? == Claim::Claimed {
                    let reason = "the election's tracking window closed before it could be sent".to_string();
                    self.store.complete(&n.key, &DeliveryOutcome::Failed { reason, at: now, counted: Some(n.tag()) }).await?;
                }
                tally.too_late += 1;
                return Ok(());
            }
        }
        match self.store.claim(&n.key, now).await? {
            Claim::Claimed => {}
            Claim::Done => {
                tally.duplicates += 1;
                return Ok(());
            }
            Claim::InProgress => {
                n.release_at = now + retry_delay(n.tries());
                self.store.hold(&n).await?;
                tally.retried += 1;
                return Ok(());
            }
        }
        // A language without templates falls back to English, and the message says so.
        let language = if self.catalog.has(sub.language) { sub.language } else { crate::status::Language::En };
        let t = self.catalog.language(language);
        // Not accepted, told after the polls closed, no longer points to Election Day.
        let wording = crate::wording::Wording::at(n.kind, election, now);
        let mut values = message_values(t, language, election, n.county, n.decision.as_ref(), sub.hours, wording);
        // Every email carries a one-click unsubscribe link (RFC 8058) when the API's URL is known.
        let unsubscribe_url = match (n.channel, &self.access.public_url) {
            (Channel::Email, Some(base)) => Some(crate::optout::unsubscribe_url(base, &self.access.signing, &n.votecal_id, &to, now)),
            _ => None,
        };
        if let Some(url) = &unsubscribe_url {
            values.insert("unsubscribe_url", url.clone());
        }
        // Where the voter changes their choices: the page, at the same address as the API.
        if let (Channel::Email, Some(base)) = (n.channel, &self.access.public_url) {
            values.insert("page_url", format!("{}/", base.trim_end_matches('/')));
        }
        let rendered = self.catalog.render_as(language, wording, n.channel, &values)?;
        let voice = match n.channel {
            Channel::Voice => match self.voice.rendering_as(sub.language, wording) {
                Ok(v) => Some(v),
                Err(reason) => {
                    // Never a call in the wrong voice: recorded as failed, with the reason.
                    self.store.complete(&n.key, &DeliveryOutcome::Failed { reason, at: now, counted: Some(n.tag()) }).await?;
                    tally.failed += 1;
                    tally.county_days.count(now, n.county, Counted::SendFailed(n.kind, n.channel));
                    return Ok(());
                }
            },
            _ => None,
        };
        let msg = OutgoingMessage {
            key: n.key.clone(),
            votecal_id: n.votecal_id.clone(),
            election_id: n.election_id.clone(),
            ballot_id: n.decision.as_ref().and_then(|d| d.ballot_id.clone()).filter(|b| b != crate::lifecycle::UNKNOWN_BALLOT),
            kind: n.kind,
            channel: n.channel,
            language,
            to,
            send_at: now,
            rendered,
            voice,
            unsubscribe_url,
        };
        match self.dispatcher.dispatch(&msg).await {
            Ok(provider_id) => {
                // Sent: the record of it must not be lost, or the claim would expire and the
                // message go out again. Retry the write here rather than fail the message.
                let outcome = self.sent(&msg, provider_id, now, Some(n.tag()));
                let mut attempt = 0;
                while let Err(e) = self.store.complete(&n.key, &outcome).await {
                    attempt += 1;
                    if attempt >= 5 {
                        return Err(e.into());
                    }
                }
                *tally.sent.entry(n.channel.to_string()).or_default() += 1;
                tally.county_days.count(now, n.county, Counted::Sent(n.kind, n.channel));
            }
            Err(DeliveryError::Permanent(reason)) => {
                self.store.complete(&n.key, &DeliveryOutcome::Failed { reason, at: now, counted: Some(n.tag()) }).await?;
                tally.failed += 1;
                tally.county_days.count(now, n.county, Counted::SendFailed(n.kind, n.channel));
            }
            Err(e @ (DeliveryError::Throttled | DeliveryError::Temporary(_))) => {
                self.store.release(&n.key).await?;
                // A throttle is the provider's "not now" (a full quota of calls, say): it backs
                // off like a failure but counts apart, and is given up only after 48 tries
                // (days of hourly tries), or when the message's window ends (`plan_send`).
                match e {
                    DeliveryError::Throttled => n.throttled += 1,
                    _ => n.attempts += 1,
                }
                if n.attempts >= MAX_ATTEMPTS || n.throttled >= MAX_THROTTLES {
                    let reason = match e {
                        DeliveryError::Throttled => format!("gave up after {} throttled attempts", n.throttled),
                        _ => format!("gave up after {} attempts: {e}", n.attempts),
                    };
                    // Only if no other copy of the message (a redelivery) has claimed or sent it
                    // meanwhile: its record is not overwritten, nor the message counted twice.
                    if self.store.claim(&n.key, now).await? == Claim::Claimed {
                        self.store.complete(&n.key, &DeliveryOutcome::Failed { reason, at: now, counted: Some(n.tag()) }).await?;
                        tally.failed += 1;
                        tally.county_days.count(now, n.county, Counted::SendFailed(n.kind, n.channel));
                    }
                } else {
                    n.release_at = now + retry_delay(n.tries());
                    self.store.hold(&n).await?;
                    tally.retried += 1;
                }
            }
        }
        Ok(())
    }

    /// Releases every held notification due at `now`, a page at a time.
    pub async fn release_due(&self, now: DateTime<Utc>, tally: &mut Tally) -> Result<usize, PipelineError> {
        let mut count = 0;
        loop {
            let page = self.store.take_due(now, RELEASE_PAGE).await?;
            if page.is_empty() {
                return Ok(count);
            }
            count += page.len();
            let mut due = page.into_iter();
            while let Some(n) = due.next() {
                if let Err(e) = self.deliver(n.clone(), now, tally).await {
                    // Nothing taken is lost: this one and the rest wait for the next release (the
                    // ledger keeps a message that did go out from going again).
                    for waiting in std::iter::once(n).chain(due) {
                        self.store.hold(&waiting).await?;
                    }
                    return Err(e);
                }
            }
        }
    }
}

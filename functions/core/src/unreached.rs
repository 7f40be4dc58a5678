//! News that reached no one: a milestone decided for a signed-up voter whose every chosen channel
//! is stopped (STOP, the unsubscribe link, the page) or suspended (a hard bounce, a dead number).
//! Nothing is sent, and the county's daily summary counts it (`not_reached/<message>/`), so a
//! county sees how many of its voters' notices, a problem to fix among them, went to nobody and
//! can reach those voters its own way. Counted when decided (not when a catch-up tells a voter
//! again where her ballot is), or, for a notice that waited (her hours, a retry, a late sign-up's
//! catch-up), when it falls due and finds every channel stopped, if no channel's copy of it was
//! sent or is being sent. Once per milestone however often the stream or the queue delivers it:
//! a counter per milestone, bumped first, counts only at 1.

use crate::daily::Counted;
use crate::election::Election;
use crate::reminders::send_by;
use crate::lifecycle::{BallotJourney, MilestoneDecision};
use crate::county::CountyCode;
use crate::notify::{milestone_key, Notification};
use crate::signup::Subscription;
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::status::{Channel, MessageKind};
use chrono::{DateTime, Duration, Utc};

/// How long a milestone's mark is kept: longer than the stream keeps a record it may deliver again.
const MARK_DAYS: i64 = 3;

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Counts each of these newly decided milestones, the first time it is seen, as news that
    /// reached no one: not one still settling (a cancellation or "already voted" that what the
    /// voter did may yet explain, and then would never have been sent; one nothing explains is
    /// not looked at again after its day, so it is not counted), nor one past its own deadline
    /// (it would not have been sent either).
    pub(crate) async fn count_not_reached(&self, journey: &BallotJourney, decided: &[MilestoneDecision], election: &Election, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        for decision in decided {
            let kind = MessageKind::from(decision.milestone);
            // Only news that would have gone (not a replaced ballot's mailing, nor a call to fix
            // a ballot back in review; one past the cure deadline would have gone as "not
            // accepted"): the county counts what it may need to tell her itself.
            if decision.settle_until.is_some_and(|s| s > now)
                || (send_by(kind, election, journey.county).is_some_and(|by| by <= now) && kind != MessageKind::ContactCounty)
                || !crate::reminders::still_worth_sending(journey, kind, decision)
            {
                continue;
            }
            self.mark_not_reached(&journey.election_id, &journey.votecal_id, decision, journey.county, now, tally).await?;
        }
        Ok(())
    }

    /// A milestone's notice that finds, when it falls due (held for her hours, a retry, a
    /// catch-up), every channel of the voter stopped or suspended: counted as news that reached
    /// no one, once, as if she had stopped them before (not a reminder, nor a notice past its own
    /// deadline).
    /// Not one settling (as at the fan-out), nor for a voter who moved county since, nor one whose
    /// copy on some channel went, or is going, out (a second copy after a STOP that came after
    /// the first reached her): the ledger is asked, channel by channel.
    pub(crate) async fn count_held_not_reached(&self, n: &Notification, sub: &Subscription, election: Option<&Election>, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        let (Some(decision), Some(election)) = (&n.decision, election) else { return Ok(()) };
        // A call to fix a problem told past its deadline as "not accepted" (or falling due past
        // it, to be told so) goes, on each channel, under the ballot's Not Accepted key
        // ([`crate::past_deadline`]).
        let past = send_by(n.kind, election, n.county).is_some_and(|by| by <= now);
        let not_accepted = crate::past_deadline::told_as_not_accepted(n.kind, decision.milestone) || (n.kind == MessageKind::ContactCounty && past);
        let told = match not_accepted {
            true => crate::past_deadline::as_not_accepted(decision),
            false => decision.clone(),
        };
        if !sub.channels().is_empty()
            || n.verdict
            || sub.county != n.county
            || decision.settle_until.is_some()
            || (n.kind != MessageKind::from(decision.milestone) && !not_accepted)
            || (past && !not_accepted)
        {
            return Ok(());
        }
        for channel in Channel::ALL {
            let key = milestone_key(election.id(), &n.votecal_id, &told, channel);
            match self.store.claim(&key, now).await? {
                Claim::Claimed => self.store.release(&key).await?,
                Claim::Done | Claim::InProgress => return Ok(()),
            }
        }
        self.mark_not_reached(election.id(), &n.votecal_id, decision, n.county, now, tally).await
    }

    /// Counts the milestone for the county the first time it is marked: the milestone's own key
    /// with no channel, one mark whichever channels were stopped, and however often it comes.
    async fn mark_not_reached(&self, election_id: &str, votecal_id: &str, decision: &MilestoneDecision, county: CountyCode, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        let key = milestone_key(election_id, votecal_id, decision, Channel::Sms);
        let mark = format!("not-reached#{}", key.rsplit_once('#').map_or(key.as_str(), |(k, _)| k));
        if self.store.bump(&mark, now + Duration::days(MARK_DAYS)).await? == 1 {
            tally.county_days.count(now, county, Counted::NotReached(MessageKind::from(decision.milestone)));
        }
        Ok(())
    }
}

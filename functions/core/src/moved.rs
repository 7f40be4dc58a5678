//! A voter who moved county: her sign-up is for the county she signed up in, and a voter who moves
//! must sign up again in her new one (the guidance's rule). When county records place her in
//! another county as news of her ballot is decided, that news is not sent; instead she is told,
//! once an election on each of her live channels (in her hours), that it will not come and how
//! to get it: only when signing up again would bring it (her record there is active, and that
//! county takes part in the election), and only while the records still say so when it goes.

use crate::election::Election;
use crate::formats::{VoterRecord, VoterStatus};
use crate::notify::Notification;
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::Subscription;
use crate::lifecycle::{BallotJourney, MilestoneDecision};
use crate::status::{Channel, MessageKind, Milestone, StatusCode};
use chrono::{DateTime, Utc};

/// The at-most-once key of the notice: one per election, sign-up and channel (a voter who signs
/// up again and moves again is told again).
pub fn moved_key(sub: &Subscription, election_id: &str, channel: Channel) -> String {
    format!("moved#{election_id}#{}#{}#{channel}", sub.votecal_id, sub.signed_up_at.timestamp())
}

/// Whether the roll places the voter of `sub` where signing up again would bring her news of
/// `election`: another county, her record there active, that county enrolled.
pub fn signs_up_again(sub: &Subscription, roll: Option<&VoterRecord>, election: &Election) -> bool {
    roll.is_some_and(|v| v.county != sub.county && v.status == VoterStatus::Active && election.is_enrolled(v.county))
}

/// Whether a message of `kind` is news of a ballot the county already has, which still reaches
/// a voter who moved away (that ballot may still count, or need her): on its way back,
/// received, accepted, not accepted, a problem to fix and its cure reminders, her vote there in
/// person. Not news of a mailing (mailed, a new ballot, undeliverable, the return reminder), nor
/// a cancellation of a ballot that never `came_back` (the old county voids what she did not
/// return).
pub fn news_of_a_ballot_it_has(kind: MessageKind, code: Option<StatusCode>, came_back: bool) -> bool {
    match kind {
        MessageKind::NotAccepted if code == Some(StatusCode::Cld) => came_back,
        MessageKind::Inbound | MessageKind::Received | MessageKind::Accepted | MessageKind::NotAccepted | MessageKind::ContactCounty | MessageKind::CureReminder | MessageKind::InPerson => true,
        _ => false,
    }
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Tells a voter whom county records place outside the county of her sign-up that her
    /// ballot news for `election` will not come, naming the county she signed up in (if signing
    /// up again would bring it).
    pub(crate) async fn tell_moved(&self, sub: &Subscription, roll: Option<&VoterRecord>, election: &Election, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        if !signs_up_again(sub, roll, election) {
            return Ok(());
        }
        for (channel, _) in sub.channels() {
            let key = moved_key(sub, election.id(), channel);
            let n = Notification { election_id: Some(election.id().to_string()), ..Notification::new(key, &sub.votecal_id, sub.county, MessageKind::MovedCounty, channel, now) };
            self.schedule(n, Some(election), sub, None, now, tally).await?;
        }
        Ok(())
    }

    /// Whether a return reminder, planned days or weeks before it goes, is for a voter the roll
    /// has placed in another county since: it is not sent (it would ask her to mail back a
    /// ballot of a county she no longer votes in), and she is told of the move instead, as
    /// fan-out tells her (once an election).
    pub(crate) async fn moved_since_planned(&self, n: &Notification, sub: &Subscription, election: Option<&Election>, now: DateTime<Utc>, tally: &mut Tally) -> Result<bool, PipelineError> {
        // (A cure reminder is for a ballot the county has back: still hers, see
        // [`Self::still_hers_after_move`].)
        if n.kind != MessageKind::ReturnReminder {
            return Ok(false);
        }
        let roll = self.store.voter(&n.votecal_id).await?;
        if roll.as_ref().is_none_or(|v| v.county == sub.county) {
            return Ok(false);
        }
        tally.moved_county += 1;
        if let Some(e) = election {
            // (Boxed: the notice is delivered through `deliver`, which called this.)
            Box::pin(self.tell_moved(sub, roll.as_ref(), e, now, tally)).await?;
        }
        Ok(true)
    }

    /// Of the news just decided for a voter whom county records place outside the county of her
    /// sign-up, what is still hers: news of a ballot her sign-up county already has (on its way
    /// back, received, accepted or not, a problem to fix, or her vote there in person): that
    /// ballot may still count, or need her. For the rest (a ballot's mailing), she is told of
    /// the move instead, once an election. None when the records place her where she signed up.
    pub(crate) async fn still_hers_after_move(
        &self,
        journey: &BallotJourney,
        sub: &Subscription,
        decided: &[MilestoneDecision],
        election: &Election,
        now: DateTime<Utc>,
        tally: &mut Tally,
    ) -> Result<Option<Vec<MilestoneDecision>>, PipelineError> {
        let roll = self.store.voter(&journey.votecal_id).await?;
        let roll = roll.as_ref();
        if sub.county == journey.county && roll.is_none_or(|v| v.county == sub.county) {
            return Ok(None);
        }
        // The ballot's county is hers, or one she left and signed up again elsewhere since (the
        // roll places her where she signed up): not a county she lives in now and has not
        // signed up in.
        let left_or_hers = sub.county == journey.county || roll.is_some_and(|v| v.county == sub.county);
        // A ballot the county has: seen on its way back or received.
        let came_back = |b: Option<&String>| journey.milestones.iter().any(|m| m.ballot_id.as_ref() == b && matches!(m.milestone, Milestone::Inbound | Milestone::Received));
        let back = |d: &MilestoneDecision| news_of_a_ballot_it_has(d.milestone.into(), d.code, came_back(d.ballot_id.as_ref()));
        let (hers, rest): (Vec<MilestoneDecision>, Vec<MilestoneDecision>) = decided.iter().cloned().partition(|d| left_or_hers && back(d));
        if !rest.is_empty() {
            tally.moved_county += rest.len() as u64;
            self.tell_moved(sub, roll, election, now, tally).await?;
        }
        Ok(Some(hers))
    }

    /// Whether a message of another county than her sign-up's is still hers as it goes: news of a
    /// ballot that county already has (on its way back, received, accepted, not accepted but
    /// for a cancellation, a problem to fix and its reminders, her vote there), once she signed
    /// up again where the roll places her. (She must not lose the last cure reminders for doing
    /// what she was told.)
    pub(crate) async fn old_countys_news_still_hers(&self, n: &Notification, sub: &Subscription) -> Result<bool, PipelineError> {
        // (Whether a cancelled ballot came back is not read here: its cancellation is not sent.)
        let back = news_of_a_ballot_it_has(n.kind, n.decision.as_ref().and_then(|d| d.code), false);
        Ok(back && self.store.voter(&n.votecal_id).await?.is_some_and(|v| v.county == sub.county))
    }

    /// Whether a held notice of a move is still true as it goes (a roll corrected overnight, or
    /// her sign-up again, calls it off).
    pub(crate) async fn still_moved(&self, sub: &Subscription, election: Option<&Election>) -> Result<bool, PipelineError> {
        let Some(election) = election else { return Ok(false) };
        Ok(signs_up_again(sub, self.store.voter(&sub.votecal_id).await?.as_ref(), election))
    }
}

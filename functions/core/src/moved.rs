//! A voter who moved county: her sign-up is for the county she signed up in, and a voter who moves
//! must sign up again in her new one (the guidance's rule). When county records place her in
//! another county as news of her ballot is decided, that news is not sent; instead she is told,
//! once per sign-up on each of her live channels (in her hours), that it will not come and how
//! to get it.

use crate::election::Election;
use crate::notify::Notification;
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::Subscription;
use crate::status::{Channel, MessageKind};
use chrono::{DateTime, Utc};

/// The at-most-once key of the notice: one per sign-up and channel (a voter who signs up again
/// and moves again is told again).
pub fn moved_key(sub: &Subscription, channel: Channel) -> String {
    format!("moved#{}#{}#{channel}", sub.votecal_id, sub.signed_up_at.timestamp())
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Tells a voter whom county records place outside the county of her sign-up that her
    /// ballot news for `election` will not come, naming the county she signed up in.
    pub(crate) async fn tell_moved(&self, sub: &Subscription, election: &Election, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        for (channel, _) in sub.channels() {
            let n = Notification {
                key: moved_key(sub, channel),
                election_id: Some(election.id().to_string()),
                votecal_id: sub.votecal_id.clone(),
                county: sub.county,
                kind: MessageKind::MovedCounty,
                channel,
                decision: None,
                release_at: now,
                attempts: 0,
                throttled: 0,
                reminder_days: None,
            };
            self.schedule(n, Some(election), sub, None, now, tally).await?;
        }
        Ok(())
    }
}

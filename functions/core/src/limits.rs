//! The abuse limits of the voters' API, counted in the store so every instance shares them:
//! failed identity matches per name and ZIP and per client address, requests that send codes
//! per voter, and codes per contact a day. Each is read and added to so that what it answers
//! does not tell a stranger whether the voter signed up (see README, "Threat model").

use crate::access::{contact_name, CodeTarget, PendingChange};
use crate::access::{MAX_CODES_PER_CONTACT_PER_DAY, MAX_FAILED_MATCHES_PER_CLIENT, MAX_FAILED_MATCHES_PER_IDENTITY, MAX_REQUESTS_PER_VOTER};
use crate::account::Refused;
use crate::formats::VoterRecord;
use crate::pipeline::{Pipeline, PipelineError};
use crate::ports::*;
use crate::signup::{match_identity, name_and_zip, IdentityRequest, Refusal};
use chrono::{DateTime, Duration, DurationRound, Utc};

/// The UTC day of `now`, named, and when a counter of that day may go (a day after it ends).
pub(crate) fn day(now: DateTime<Utc>) -> (String, DateTime<Utc>) {
    let start = now.duration_trunc(Duration::days(1)).unwrap_or(now);
    (start.format("%Y-%m-%d").to_string(), start + Duration::days(2))
}

/// The window of `minutes` that `now` falls in, named, and when its counter may go.
fn window(now: DateTime<Utc>, minutes: i64) -> (String, DateTime<Utc>) {
    let start = now.duration_trunc(Duration::minutes(minutes)).unwrap_or(now);
    (start.format("%Y-%m-%dT%H%M").to_string(), start + Duration::minutes(2 * minutes))
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Matches who the caller says they are against the roll, with the abuse limits: failed
    /// matches per name and ZIP and per client address lock for a while; a voter's requests are
    /// limited per 10 minutes.
    pub(crate) async fn identify(&self, who: &IdentityRequest, client: &str, now: DateTime<Utc>) -> Result<Result<VoterRecord, Refused>, PipelineError> {
        let keys = &self.access.signing;
        let (today, day_end) = day(now);
        let (hour, hour_end) = window(now, 60);
        let named = keys.name("identity", &name_and_zip(&who.first_name, &who.last_name, &who.zip));
        let (tries, matched) = (format!("fail-id#{named}#{today}"), format!("match-id#{named}#{today}"));
        let from = format!("fail-ip#{}#{hour}", keys.name("client", &crate::access::client_network(client)));
        if self.store.count(&from, now).await? >= MAX_FAILED_MATCHES_PER_CLIENT {
            return Ok(Err(Refusal::Locked.into()));
        }
        // Each try counts as failed before the match (an atomic add) and is taken back by a
        // match: a burst of birth-date guesses in parallel cannot each find the count under the
        // limit before any of them adds to it, and voters who match are never counted.
        let failed = self.store.bump(&tries, day_end).await?.saturating_sub(self.store.count(&matched, now).await?);
        if failed > MAX_FAILED_MATCHES_PER_IDENTITY {
            return Ok(Err(Refusal::Locked.into()));
        }
        let candidates = match self.store.voters_by_identity(&who.identity()).await {
            Ok(c) => c,
            Err(e) => {
                // The store failed, not the caller: the try is taken back (as far as the store lets).
                let _ = self.store.bump(&matched, day_end).await;
                return Err(e.into());
            }
        };
        let voter = match match_identity(&who.identity(), who.votecal_id.as_deref(), &candidates) {
            Ok(v) => v.clone(),
            Err(Refusal::NeedsVotecalId) => {
                self.store.bump(&matched, day_end).await?;
                return Ok(Err(Refusal::NeedsVotecalId.into()));
            }
            Err(refusal) => {
                self.store.bump(&from, hour_end).await?;
                return Ok(Err(refusal.into()));
            }
        };
        self.store.bump(&matched, day_end).await?;
        Ok(Ok(voter))
    }

    /// Counts a request that will send codes against the voter's requests in this window (one
    /// refused before, for a contact in use or stopped, sent none and is not counted).
    pub(crate) async fn count_request(&self, votecal_id: &str, now: DateTime<Utc>) -> Result<Result<(), Refused>, PipelineError> {
        let (slot, slot_end) = window(now, crate::signup::MIN_MINUTES_BETWEEN_CHANGES);
        let key = format!("requests#{}#{slot}", self.access.signing.name("voter", votecal_id));
        Ok(match self.store.bump(&key, slot_end).await? > MAX_REQUESTS_PER_VOTER {
            true => Err(Refusal::TryLater.into()),
            false => Ok(()),
        })
    }

    /// Counts a code for each contact a change sends to. A new contact to prove that has had its
    /// codes for the day refuses the change; one of the voter's own proven contacts that has is
    /// skipped (returned), and the answer stays the same: refusing would tell a stranger who
    /// asks again and again that the voter signed up, since a voter who did not has no contacts
    /// to count (and would lock her out of changes her other contacts can approve). Every count
    /// is read before any is added to, so a refused change counts nothing: a stranger cannot use
    /// up a phone's codes without a code going to it. The adds are atomic: of requests in
    /// parallel, those past the limit are refused or skipped all the same.
    pub(crate) async fn count_codes(&self, change: &PendingChange, now: DateTime<Utc>) -> Result<Result<Vec<usize>, Refused>, PipelineError> {
        let (today, day_end) = day(now);
        let key = |t: &CodeTarget| format!("codes#{}#{today}", contact_name(&self.access.signing, t.via, &t.address));
        let refuse = |t: &CodeTarget| Ok(Err(Refused { refusal: Refusal::TooManyCodes, field: Some(t.via) }));
        let mut skipped = vec![];
        for (i, t) in change.targets.iter().enumerate() {
            if self.store.count(&key(t), now).await? >= MAX_CODES_PER_CONTACT_PER_DAY {
                if t.proves {
                    return refuse(t);
                }
                skipped.push(i);
            }
        }
        // The contacts that can refuse the change first: a change refused here has counted
        // nothing against the voter's proven contacts.
        let order = change.targets.iter().enumerate().filter(|(_, t)| t.proves).chain(change.targets.iter().enumerate().filter(|(_, t)| !t.proves));
        for (i, t) in order {
            if !skipped.contains(&i) && self.store.bump(&key(t), day_end).await? > MAX_CODES_PER_CONTACT_PER_DAY {
                if t.proves {
                    return refuse(t);
                }
                skipped.push(i);
            }
        }
        Ok(Ok(skipped))
    }
}

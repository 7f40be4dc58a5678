//! Lanes: the replay's store split by voter into several SQLite files, so that county files are
//! applied on as many threads as there are lanes.
//!
//! Every record goes to one lane, chosen from its own key: a voter's roll entry, subscription,
//! journeys, kept facts, held messages and outbox lines by the VoteCal ID; a ledger entry by its
//! message key's second `#` part (the VoteCal ID in every key of a milestone, reminder or
//! sign-up message: `<election>#<id>#…`, `signup#<id>#…`, so a lane's thread claims in its own
//! store; a code's key has its change there, which `simulate` never sends); a crosswalk entry by
//! its IMb; counters and pending changes by their keys; contacts by their names, in stores of
//! their own (`contacts`: a household's phone is linked by voters of every lane, and an entry in
//! a lane's own store would hold that lane's lock against the others). The roll by identity asks every
//! lane and sorts the answers as one store does. Held messages are taken from the lane the view
//! belongs to (`own`: a lane's thread releases its own voters' messages), or from every lane in
//! turn for a view of none.
//!
//! Lane threads never apply rows of the same voter (a crosswalk row's lane reads its voter's
//! roll entry, wherever it is). What voters share: the roll by identity is only
//! read while lanes run (each lane looks sign-ups up in its own part for the reading thread,
//! which matches them: `lane_lookups.rs`; the roll is written by roll files, a voter's row in the
//! voter's lane); a contact's entry (a household's phone) is linked by each voter's sign-up,
//! read, changed and written under its contact store's lock, so its set of voters is the same as on one
//! thread (their order in the entry may differ: only inbound texts read it, and `simulate` has
//! none); counters and pending changes belong to the API. A crosswalk row is recorded on its
//! IMb's lane (reading its voter's roll entry, which no lane writes then), so an IMb's rows keep
//! the file's order; a scan file only reads the crosswalk.

use crate::outbox::Outbox;
use crate::store::SqliteStore;
use chrono::{DateTime, Utc};
use wmb_core::access::PendingChange;
use wmb_core::formats::VoterRecord;
use wmb_core::lifecycle::BallotJourney;
use wmb_core::notify::Notification;
use wmb_core::ports::*;
use wmb_core::signup::{IdentityKey, Subscription};

/// The lane of a key among `n`: FNV-1a, fixed, so a key is in the same lane on every run.
pub fn lane_of(key: &str, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    (wmb_core::notify::fnv1a(key.as_bytes()) % n as u64) as usize
}

/// The part of a message key that chooses its ledger entry's lane: the second (see above).
fn ledger_part(key: &str) -> &str {
    key.split('#').nth(1).unwrap_or(key)
}

/// All lanes' stores and outboxes, seen from one lane (whose held messages it releases) or from
/// none (`own: None`: every lane's).
#[derive(Clone, Copy)]
pub struct Lane<'a> {
    pub stores: &'a [SqliteStore],
    /// The contact index's stores: `stores` itself for one lane.
    pub contacts: &'a [SqliteStore],
    pub outboxes: &'a [Outbox],
    pub own: Option<usize>,
}

impl<'a> Lane<'a> {
    fn of(&self, key: &str) -> &'a SqliteStore {
        &self.stores[lane_of(key, self.stores.len())]
    }
}

impl VoterRoll for Lane<'_> {
    async fn put_voter(&self, voter: &VoterRecord) -> Result<(), StoreError> {
        self.of(&voter.votecal_id).put_voter(voter).await
    }

    async fn put_voters(&self, voters: &[VoterRecord]) -> Result<usize, StoreError> {
        let mut written = 0;
        for v in voters {
            written += self.of(&v.votecal_id).put_voters(std::slice::from_ref(v)).await?;
        }
        Ok(written)
    }

    async fn voter(&self, votecal_id: &str) -> Result<Option<VoterRecord>, StoreError> {
        self.of(votecal_id).voter(votecal_id).await
    }

    /// Every lane's matches, in VoteCal ID order (as one store gives them).
    async fn voters_by_identity(&self, key: &IdentityKey) -> Result<Vec<VoterRecord>, StoreError> {
        let mut all = vec![];
        for store in self.stores {
            all.extend(store.voters_by_identity(key).await?);
        }
        all.sort_by(|a, b| a.votecal_id.cmp(&b.votecal_id));
        Ok(all)
    }
}

impl SubscriptionStore for Lane<'_> {
    async fn put_subscription(&self, sub: &Subscription) -> Result<(), StoreError> {
        self.of(&sub.votecal_id).put_subscription(sub).await
    }

    async fn replace_subscription(&self, sub: &Subscription, base: Option<&Subscription>) -> Result<(), StoreError> {
        self.of(&sub.votecal_id).replace_subscription(sub, base).await
    }

    async fn subscription(&self, votecal_id: &str) -> Result<Option<Subscription>, StoreError> {
        self.of(votecal_id).subscription(votecal_id).await
    }
}

impl JourneyStore for Lane<'_> {
    async fn journey(&self, election_id: &str, votecal_id: &str) -> Result<Option<Versioned<BallotJourney>>, StoreError> {
        self.of(votecal_id).journey(election_id, votecal_id).await
    }

    async fn recent_journey(&self, election_id: &str, votecal_id: &str) -> Result<Option<Versioned<BallotJourney>>, StoreError> {
        self.of(votecal_id).recent_journey(election_id, votecal_id).await
    }

    async fn put_journey(&self, journey: &BallotJourney, expected: Option<u64>, decided: usize) -> Result<u64, StoreError> {
        self.of(&journey.votecal_id).put_journey(journey, expected, decided).await
    }

    async fn journeys_of_voter(&self, votecal_id: &str) -> Result<Vec<BallotJourney>, StoreError> {
        self.of(votecal_id).journeys_of_voter(votecal_id).await
    }
}

impl KeptFacts for Lane<'_> {
    fn may_be_subscribed(&self, votecal_id: &str) -> bool {
        self.of(votecal_id).may_be_subscribed(votecal_id)
    }

    async fn keep(&self, fact: wmb_core::kept::KeptFact) -> Result<(), StoreError> {
        let store = self.of(&fact.votecal_id);
        store.keep(fact).await
    }

    async fn kept_facts(&self, votecal_id: &str) -> Result<Vec<wmb_core::kept::KeptFact>, StoreError> {
        self.of(votecal_id).kept_facts(votecal_id).await
    }
}

impl MessageLedger for Lane<'_> {
    async fn claim(&self, key: &str, now: DateTime<Utc>) -> Result<Claim, StoreError> {
        self.of(ledger_part(key)).claim(key, now).await
    }

    async fn complete(&self, key: &str, outcome: &DeliveryOutcome) -> Result<(), StoreError> {
        self.of(ledger_part(key)).complete(key, outcome).await
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.of(ledger_part(key)).release(key).await
    }
}

impl ReceiptLedger for Lane<'_> {
    async fn sent_key(&self, provider_id: &str) -> Result<Option<String>, StoreError> {
        for store in self.stores {
            if let Some(key) = store.sent_key(provider_id).await? {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }

    async fn record_delivery(&self, key: &str, provider_id: &str, delivery: &wmb_core::receipts::Delivery) -> Result<Recorded, StoreError> {
        self.of(ledger_part(key)).record_delivery(key, provider_id, delivery).await
    }
}

impl HoldQueue for Lane<'_> {
    async fn hold(&self, n: &Notification) -> Result<(), StoreError> {
        self.of(&n.votecal_id).hold(n).await
    }

    /// This lane's own (each lane's thread releases its voters' messages); for a view of none,
    /// the first lane's that has any due.
    async fn take_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Notification>, StoreError> {
        if let Some(own) = self.own {
            return self.stores[own].take_due(now, limit).await;
        }
        for store in self.stores {
            let due = store.take_due(now, limit).await?;
            if !due.is_empty() {
                return Ok(due);
            }
        }
        Ok(vec![])
    }

    async fn next_release(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        if let Some(own) = self.own {
            return self.stores[own].next_release().await;
        }
        let mut next: Option<DateTime<Utc>> = None;
        for store in self.stores {
            if let Some(at) = store.next_release().await? {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        Ok(next)
    }
}

impl ImbCrosswalk for Lane<'_> {
    async fn put_mapping(&self, mapping: &wmb_core::usps::ImbMapping, closed: &[&str]) -> Result<bool, StoreError> {
        self.of(&mapping.tracking).put_mapping(mapping, closed).await
    }

    async fn mapping(&self, tracking: &str) -> Result<Option<wmb_core::usps::ImbMapping>, StoreError> {
        self.of(tracking).mapping(tracking).await
    }
}

impl PendingChanges for Lane<'_> {
    async fn change(&self, id: &str) -> Result<Option<Versioned<PendingChange>>, StoreError> {
        self.of(id).change(id).await
    }

    async fn put_change(&self, change: &PendingChange, expected: Option<u64>) -> Result<u64, StoreError> {
        self.of(&change.id).put_change(change, expected).await
    }
}

impl Counters for Lane<'_> {
    async fn bump(&self, key: &str, expires_at: DateTime<Utc>) -> Result<u64, StoreError> {
        self.of(key).bump(key, expires_at).await
    }

    async fn count(&self, key: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.of(key).count(key, now).await
    }
}

impl<'a> Lane<'a> {
    fn contacts_of(&self, name: &str) -> &'a SqliteStore {
        &self.contacts[lane_of(name, self.contacts.len())]
    }
}

impl ContactIndex for Lane<'_> {
    async fn contact(&self, name: &str) -> Result<ContactEntry, StoreError> {
        self.contacts_of(name).contact(name).await
    }

    async fn link_contact(&self, name: &str, votecal_id: &str, max: usize) -> Result<bool, StoreError> {
        self.contacts_of(name).link_contact(name, votecal_id, max).await
    }

    async fn unlink_contact(&self, name: &str, votecal_id: &str) -> Result<(), StoreError> {
        self.contacts_of(name).unlink_contact(name, votecal_id).await
    }

    async fn set_stopped(&self, name: &str, stopped: bool) -> Result<(), StoreError> {
        self.contacts_of(name).set_stopped(name, stopped).await
    }

    async fn stop_sent_at(&self, name: &str, at_ms: i64) -> Result<(), StoreError> {
        self.contacts_of(name).stop_sent_at(name, at_ms).await
    }

    async fn start_sent_at(&self, name: &str, at_ms: i64) -> Result<(), StoreError> {
        self.contacts_of(name).start_sent_at(name, at_ms).await
    }

    async fn mark_stop(&self, name: &str, mark: &str, stopped: bool) -> Result<(), StoreError> {
        self.contacts_of(name).mark_stop(name, mark, stopped).await
    }
}

impl<'a> Lane<'a> {
    fn outbox(&self, msg: &OutgoingMessage) -> &'a Outbox {
        &self.outboxes[lane_of(&msg.votecal_id, self.outboxes.len())]
    }
}

/// Each message to the outbox of its voter's lane.
impl Dispatcher for Lane<'_> {
    fn receipts_find_it_by_id(&self, msg: &OutgoingMessage) -> bool {
        self.outbox(msg).receipts_find_it_by_id(msg)
    }

    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        self.outbox(msg).dispatch(msg).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_keeps_its_lane_and_keys_spread_over_the_lanes() {
        assert_eq!(lane_of("CA123", 1), 0);
        assert_eq!(lane_of("CA123", 2), lane_of("CA123", 2));
        let mut counts = [0usize; 2];
        for i in 0..10_000 {
            counts[lane_of(&format!("CA{i:09}"), 2)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 4_500), "{counts:?}");
    }
}

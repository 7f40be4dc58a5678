//! In-memory implementations of the ports: for tests, and the reference the other adapters'
//! contract tests compare with.

use crate::formats::VoterRecord;
use crate::lifecycle::BallotJourney;
use crate::notify::Notification;
use crate::ports::*;
use crate::signup::{IdentityKey, Subscription};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
struct State {
    voters: BTreeMap<String, VoterRecord>,
    subscriptions: BTreeMap<String, Subscription>,
    journeys: BTreeMap<(String, String), (BallotJourney, u64)>,
    /// Each key's claim time and, once done, its outcome.
    ledger: BTreeMap<String, (DateTime<Utc>, Option<DeliveryOutcome>)>,
    held: Vec<Notification>,
    imb: BTreeMap<String, crate::usps::ImbMapping>,
    changes: BTreeMap<String, (crate::access::PendingChange, u64)>,
    counters: BTreeMap<String, (u64, DateTime<Utc>)>,
    contacts: BTreeMap<String, ContactEntry>,
    kept: Vec<crate::kept::KeptFact>,
    sent_by_provider: BTreeMap<String, String>,
    deliveries: BTreeMap<String, crate::receipts::Delivery>,
}

/// Every store port in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Reads of kept facts still to fail (tests: a store that fails in the middle of a step).
    failing_kept_reads: std::sync::atomic::AtomicUsize,
    /// Stop marks still to fail to be written.
    failing_marks: std::sync::atomic::AtomicUsize,
    /// Ledger outcomes still to fail to be written (tests: a worker that stops before its record).
    failing_completes: std::sync::atomic::AtomicUsize,
    /// Reads of a subscription still to pause once after reading (tests: two requests at once).
    pausing_subscription_reads: std::sync::atomic::AtomicUsize,
}

impl MemoryStore {
    /// The next `n` reads of kept facts fail as an unavailable store would.
    pub fn fail_kept_reads(&self, n: usize) {
        self.failing_kept_reads.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next `n` writes of a voter's stop mark fail as an unavailable store would.
    pub fn fail_marks(&self, n: usize) {
        self.failing_marks.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next `n` ledger outcomes fail to be written, as an unavailable store would (the claim
    /// stays until it lapses, as a worker's that stopped would).
    pub fn fail_completes(&self, n: usize) {
        self.failing_completes.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next `n` reads of a subscription each give way once after reading, as a request to a
    /// remote store would: run beside each other, two requests then both act on what they read
    /// before either writes.
    pub fn pause_subscription_reads(&self, n: usize) {
        self.pausing_subscription_reads.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("memory store poisoned"))
    }

    /// The ledger's outcome for a key, if completed.
    pub fn outcome(&self, key: &str) -> Option<DeliveryOutcome> {
        self.with(|s| s.ledger.get(key).and_then(|(_, o)| o.clone()))
    }

    /// How the message ended, by its receipt.
    pub fn delivery(&self, key: &str) -> Option<crate::receipts::Delivery> {
        self.with(|s| s.deliveries.get(key).cloned())
    }

    pub fn held_count(&self) -> usize {
        self.with(|s| s.held.len())
    }

    /// The messages held now, in no particular order.
    pub fn held(&self) -> Vec<Notification> {
        self.with(|s| s.held.clone())
    }
}

impl VoterRoll for MemoryStore {
    async fn put_voters(&self, voters: &[VoterRecord]) -> Result<usize, StoreError> {
        Ok(self.with(|s| {
            let mut written = 0;
            for v in voters {
                if s.voters.get(&v.votecal_id) != Some(v) {
                    s.voters.insert(v.votecal_id.clone(), v.clone());
                    written += 1;
                }
            }
            written
        }))
    }
    async fn put_voter(&self, voter: &VoterRecord) -> Result<(), StoreError> {
        self.with(|s| s.voters.insert(voter.votecal_id.clone(), voter.clone()));
        Ok(())
    }
    async fn voter(&self, id: &str) -> Result<Option<VoterRecord>, StoreError> {
        Ok(self.with(|s| s.voters.get(id).cloned()))
    }
    async fn voters_by_identity(&self, key: &IdentityKey) -> Result<Vec<VoterRecord>, StoreError> {
        Ok(self.with(|s| s.voters.values().filter(|v| &IdentityKey::of_voter(v) == key).cloned().collect()))
    }
}

impl SubscriptionStore for MemoryStore {
    async fn put_subscription(&self, sub: &Subscription) -> Result<(), StoreError> {
        self.with(|s| s.subscriptions.insert(sub.votecal_id.clone(), sub.clone()));
        Ok(())
    }
    async fn replace_subscription(&self, sub: &Subscription, base: Option<&Subscription>) -> Result<(), StoreError> {
        self.with(|s| match s.subscriptions.get(&sub.votecal_id) == base {
            true => {
                s.subscriptions.insert(sub.votecal_id.clone(), sub.clone());
                Ok(())
            }
            false => Err(StoreError::Conflict("the subscription changed meanwhile".into())),
        })
    }
    async fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        let read = self.with(|s| s.subscriptions.get(id).cloned());
        if self.pausing_subscription_reads.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok() {
            GiveWay(false).await;
        }
        Ok(read)
    }
}

impl JourneyStore for MemoryStore {
    async fn recent_journey(&self, election_id: &str, votecal_id: &str) -> Result<Option<Versioned<BallotJourney>>, StoreError> {
        self.journey(election_id, votecal_id).await
    }
    async fn journey(&self, election_id: &str, votecal_id: &str) -> Result<Option<Versioned<BallotJourney>>, StoreError> {
        Ok(self.with(|s| {
            s.journeys
                .get(&(election_id.to_string(), votecal_id.to_string()))
                .map(|(j, v)| Versioned { value: j.clone(), version: *v })
        }))
    }
    async fn put_journey(&self, journey: &BallotJourney, expected: Option<u64>, _decided: usize) -> Result<u64, StoreError> {
        self.with(|s| {
            let key = (journey.election_id.clone(), journey.votecal_id.clone());
            let current = s.journeys.get(&key).map(|(_, v)| *v);
            if current != expected {
                return Err(StoreError::Conflict(format!("a journey in {} changed meanwhile", key.0)));
            }
            let next = current.unwrap_or(0) + 1;
            s.journeys.insert(key, (journey.clone(), next));
            Ok(next)
        })
    }
    async fn journeys_of_voter(&self, votecal_id: &str) -> Result<Vec<BallotJourney>, StoreError> {
        Ok(self.with(|s| s.journeys.values().filter(|(j, _)| j.votecal_id == votecal_id).map(|(j, _)| j.clone()).collect()))
    }
}

impl KeptFacts for MemoryStore {
    fn may_be_subscribed(&self, votecal_id: &str) -> bool {
        self.with(|s| s.subscriptions.contains_key(votecal_id))
    }
    async fn keep(&self, fact: crate::kept::KeptFact) -> Result<(), StoreError> {
        self.with(|s| s.kept.push(fact));
        Ok(())
    }
    async fn kept_facts(&self, votecal_id: &str) -> Result<Vec<crate::kept::KeptFact>, StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.failing_kept_reads.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(StoreError::Unavailable("kept facts cannot be read now".into()));
        }
        Ok(self.with(|s| s.kept.iter().filter(|f| f.votecal_id == votecal_id).cloned().collect()))
    }
}

impl MessageLedger for MemoryStore {
    async fn claim(&self, key: &str, now: DateTime<Utc>) -> Result<Claim, StoreError> {
        Ok(self.with(|s| match s.ledger.get(key) {
            Some((_, Some(_))) => Claim::Done,
            Some((at, None)) if now - *at < chrono::Duration::minutes(CLAIM_EXPIRY_MINUTES) => Claim::InProgress,
            // New, or claimed by a worker that never finished (it crashed): this caller's now.
            _ => {
                s.ledger.insert(key.to_string(), (now, None));
                Claim::Claimed
            }
        }))
    }
    async fn complete(&self, key: &str, outcome: &DeliveryOutcome) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.failing_completes.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(StoreError::Unavailable("the ledger cannot be written now".into()));
        }
        self.with(|s| {
            if let DeliveryOutcome::Sent { provider_id, indexed: true, .. } = outcome {
                s.sent_by_provider.insert(provider_id.clone(), key.to_string());
            }
            let at = s.ledger.get(key).map(|(at, _)| *at).unwrap_or(DateTime::<Utc>::MIN_UTC);
            s.ledger.insert(key.to_string(), (at, Some(outcome.clone())))
        });
        Ok(())
    }
    async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.with(|s| {
            if matches!(s.ledger.get(key), Some((_, None))) {
                s.ledger.remove(key);
            }
        });
        Ok(())
    }
}

impl ReceiptLedger for MemoryStore {
    async fn sent_key(&self, provider_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.with(|s| s.sent_by_provider.get(provider_id).cloned()))
    }
    async fn record_delivery(&self, key: &str, provider_id: &str, delivery: &crate::receipts::Delivery) -> Result<Recorded, StoreError> {
        Ok(self.with(|s| {
            let Some(outcome) = s.ledger.get(key).and_then(|(_, o)| o.clone()).filter(|o| o.sent_as(provider_id)) else { return Recorded::Unknown };
            if s.deliveries.insert(key.to_string(), delivery.clone()).as_ref() == Some(delivery) {
                Recorded::Again
            } else {
                Recorded::New(outcome.tag())
            }
        }))
    }
}

impl HoldQueue for MemoryStore {
    async fn hold(&self, n: &Notification) -> Result<(), StoreError> {
        // Held again for the same minute (a record delivered twice, or planned again): held
        // once, as last written (as DynamoDB's put of the same item does).
        self.with(|s| match s.held.iter_mut().find(|h| h.key == n.key && h.tries() == n.tries() && h.release_at == n.release_at) {
            Some(same) => *same = n.clone(),
            None => s.held.push(n.clone()),
        });
        Ok(())
    }
    async fn take_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Notification>, StoreError> {
        Ok(self.with(|s| {
            s.held.sort_by(|a, b| a.release_at.cmp(&b.release_at).then(a.key.cmp(&b.key)));
            let due = s.held.iter().take_while(|n| n.release_at <= now).count().min(limit);
            s.held.drain(..due).collect()
        }))
    }
    async fn next_release(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.with(|s| s.held.iter().map(|n| n.release_at).min()))
    }
}

impl ImbCrosswalk for MemoryStore {
    async fn put_mapping(&self, m: &crate::usps::ImbMapping, closed: &[&str]) -> Result<bool, StoreError> {
        Ok(self.with(|s| {
            if s.imb.get(&m.tracking).is_some_and(|old| old.county != m.county && !closed.contains(&old.election_id.as_str())) {
                return false;
            }
            s.imb.insert(m.tracking.clone(), m.clone());
            true
        }))
    }
    async fn mapping(&self, tracking: &str) -> Result<Option<crate::usps::ImbMapping>, StoreError> {
        Ok(self.with(|s| s.imb.get(tracking).cloned()))
    }
}

impl PendingChanges for MemoryStore {
    async fn change(&self, id: &str) -> Result<Option<Versioned<crate::access::PendingChange>>, StoreError> {
        Ok(self.with(|s| s.changes.get(id).map(|(c, v)| Versioned { value: c.clone(), version: *v })))
    }
    async fn put_change(&self, change: &crate::access::PendingChange, expected: Option<u64>) -> Result<u64, StoreError> {
        self.with(|s| {
            let current = s.changes.get(&change.id).map(|(_, v)| *v);
            if current != expected {
                return Err(StoreError::Conflict("a pending change".into()));
            }
            let next = current.unwrap_or(0) + 1;
            s.changes.insert(change.id.clone(), (change.clone(), next));
            Ok(next)
        })
    }
}

impl Counters for MemoryStore {
    async fn bump(&self, key: &str, expires_at: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self.with(|s| {
            let entry = s.counters.entry(key.to_string()).or_insert((0, expires_at));
            entry.0 += 1;
            entry.0
        }))
    }
    async fn count(&self, key: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self.with(|s| s.counters.get(key).filter(|(_, exp)| *exp > now).map_or(0, |(n, _)| *n)))
    }
}

impl ContactIndex for MemoryStore {
    async fn contact(&self, name: &str) -> Result<ContactEntry, StoreError> {
        Ok(self.with(|s| s.contacts.get(name).cloned().unwrap_or_default()))
    }
    async fn link_contact(&self, name: &str, votecal_id: &str, max: usize) -> Result<bool, StoreError> {
        Ok(self.with(|s| s.contacts.entry(name.to_string()).or_default().link(votecal_id, max)))
    }
    async fn unlink_contact(&self, name: &str, votecal_id: &str) -> Result<(), StoreError> {
        self.with(|s| {
            if let Some(e) = s.contacts.get_mut(name) {
                e.voters.retain(|v| v != votecal_id);
            }
        });
        Ok(())
    }
    async fn set_stopped(&self, name: &str, stopped: bool) -> Result<(), StoreError> {
        self.with(|s| s.contacts.entry(name.to_string()).or_default().stopped = stopped);
        Ok(())
    }
    async fn stop_sent_at(&self, name: &str, at_ms: i64) -> Result<(), StoreError> {
        self.with(|s| {
            let e = s.contacts.entry(name.to_string()).or_default();
            e.stop_sent_at = e.stop_sent_at.max(Some(at_ms));
        });
        Ok(())
    }
    async fn start_sent_at(&self, name: &str, at_ms: i64) -> Result<(), StoreError> {
        self.with(|s| {
            let e = s.contacts.entry(name.to_string()).or_default();
            e.start_sent_at = e.start_sent_at.max(Some(at_ms));
        });
        Ok(())
    }
    async fn mark_stop(&self, name: &str, mark: &str, stopped: bool) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.failing_marks.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(StoreError::Unavailable("the contact index cannot be written now".into()));
        }
        self.with(|s| s.contacts.entry(name.to_string()).or_default().mark(mark, stopped));
        Ok(())
    }
}

/// A dispatcher that keeps what it was asked to send, and can be told to fail.
#[derive(Default)]
pub struct RecordingDispatcher {
    pub sent: Mutex<Vec<OutgoingMessage>>,
    /// Errors to return, in order, before sending succeeds again.
    pub failures: Mutex<Vec<DeliveryError>>,
}

impl Dispatcher for RecordingDispatcher {
    /// True: its receipts name a message by its id, as SNS's do a text.
    fn receipts_find_it_by_id(&self, _msg: &OutgoingMessage) -> bool {
        true
    }

    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        if let Some(e) = self.failures.lock().expect("poisoned").pop() {
            return Err(e);
        }
        let mut sent = self.sent.lock().expect("poisoned");
        sent.push(msg.clone());
        Ok(format!("local-{}", sent.len()))
    }
}

/// A future that is pending once (waking itself at once), then ready.
struct GiveWay(bool);

impl std::future::Future for GiveWay {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

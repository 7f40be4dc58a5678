//! Ports: what the core needs from the world, as traits. The local pipeline implements them on
//! an embedded store and an outbox; the Lambdas on DynamoDB, SQS, SES, SNS and Connect.

use crate::formats::VoterRecord;
use crate::lifecycle::BallotJourney;
use crate::notify::Notification;
use crate::signup::{IdentityKey, Subscription};
use crate::status::{Channel, Language, MessageKind};
use crate::templates::Rendered;
use crate::usps::ImbMapping;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost a race: read again and retry.
    #[error("{0} was changed by another writer")]
    Conflict(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// A journey as stored, with the version a conditional write must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

pub trait VoterRoll: Sync {
    fn put_voter(&self, voter: &VoterRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Writes the voters whose record differs from the one stored (a roll upload writes what
    /// changed); returns how many it wrote. The last record of a VoteCal ID named twice wins.
    fn put_voters(&self, voters: &[VoterRecord]) -> impl Future<Output = Result<usize, StoreError>> + Send;
    fn voter(&self, votecal_id: &str) -> impl Future<Output = Result<Option<VoterRecord>, StoreError>> + Send;
    fn voters_by_identity(&self, key: &IdentityKey) -> impl Future<Output = Result<Vec<VoterRecord>, StoreError>> + Send;
}

pub trait SubscriptionStore: Sync {
    fn put_subscription(&self, sub: &Subscription) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Writes `sub` only while the stored subscription is still `base` (None: there is none),
    /// else [`StoreError::Conflict`]: a read, change and write that lost a race to another
    /// writer (a STOP, a bounce, a code entered, a file's row) never writes over what that
    /// writer wrote. `base` is a subscription as this store read it (see [`ReadAs`]).
    fn replace_subscription(&self, sub: &Subscription, base: Option<&Subscription>) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn subscription(&self, votecal_id: &str) -> impl Future<Output = Result<Option<Subscription>, StoreError>> + Send;
}

pub trait JourneyStore: Sync {
    fn journey(&self, election_id: &str, votecal_id: &str) -> impl Future<Output = Result<Option<Versioned<BallotJourney>>, StoreError>> + Send;
    /// The journey as recently written: it may miss a write of the last second or so (on
    /// DynamoDB an eventually consistent read, at half the price). For a read that a conditional
    /// write checks, and for delivery's "is it still news" (a second late at worst).
    fn recent_journey(&self, election_id: &str, votecal_id: &str) -> impl Future<Output = Result<Option<Versioned<BallotJourney>>, StoreError>> + Send;
    /// Writes the journey if its stored version is still `expected` (None: it must not exist yet).
    /// `decided` is how many milestones this write decided: 0 tells the stream's fan-out there is
    /// nothing to send (a catch-up's adoption, a fact that changed no milestone).
    fn put_journey(&self, journey: &BallotJourney, expected: Option<u64>, decided: usize) -> impl Future<Output = Result<u64, StoreError>> + Send;
    fn journeys_of_voter(&self, votecal_id: &str) -> impl Future<Output = Result<Vec<BallotJourney>, StoreError>> + Send;
}

/// Facts of voters who have not signed up (see [`crate::kept`]).
pub trait KeptFacts: Sync {
    /// False only when the voter has certainly not signed up: ingest then keeps the row's fact
    /// instead of writing a journey. When unsure, true.
    fn may_be_subscribed(&self, votecal_id: &str) -> bool;
    /// Keeps a fact (an adapter may buffer it until the file's chunk is done).
    fn keep(&self, fact: crate::kept::KeptFact) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every fact kept for the voter, oldest first.
    fn kept_facts(&self, votecal_id: &str) -> impl Future<Output = Result<Vec<crate::kept::KeptFact>, StoreError>> + Send;
}

/// The result of a send, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DeliveryOutcome {
    Sent {
        provider_id: String,
        at: DateTime<Utc>,
        /// What a county's daily summary counts it as (ballot news, reminders, confirmations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        counted: Option<crate::daily::MessageTag>,
        /// The ledger indexes the provider's id: the message's receipts will name it by that id
        /// only (see [`Dispatcher::receipts_find_it_by_id`]).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        indexed: bool,
    },
    Failed {
        reason: String,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        counted: Option<crate::daily::MessageTag>,
    },
}

impl DeliveryOutcome {
    /// What a county's daily summary counts the message as, if anything.
    pub fn tag(&self) -> Option<crate::daily::MessageTag> {
        match self {
            DeliveryOutcome::Sent { counted, .. } | DeliveryOutcome::Failed { counted, .. } => *counted,
        }
    }

    /// True when this is a send the provider knows by this id.
    pub fn sent_as(&self, id: &str) -> bool {
        matches!(self, DeliveryOutcome::Sent { provider_id, .. } if provider_id == id)
    }

    /// How a county's daily summary counts it, if it does.
    pub fn counted(&self) -> Option<(DateTime<Utc>, crate::CountyCode, crate::daily::Counted)> {
        match self {
            DeliveryOutcome::Sent { at, counted: Some(t), .. } => Some((*at, t.county, crate::daily::Counted::Sent(t.kind, t.channel))),
            DeliveryOutcome::Failed { at, counted: Some(t), .. } => Some((*at, t.county, crate::daily::Counted::SendFailed(t.kind, t.channel))),
            _ => None,
        }
    }
}

/// Claim state of a message key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This caller may send it.
    Claimed,
    /// Sent (or permanently failed) already: do nothing.
    Done,
    /// Another worker holds the claim and it has not expired: try later.
    InProgress,
}

/// A claim not completed within this time is taken to be a worker that died mid-send: another
/// may claim the message (every store; the at-least-once window the README's Reliability states).
pub const CLAIM_EXPIRY_MINUTES: i64 = 15;

/// The message ledger: at most one send per key, whatever is delivered twice.
pub trait MessageLedger: Sync {
    fn claim(&self, key: &str, now: DateTime<Utc>) -> impl Future<Output = Result<Claim, StoreError>> + Send;
    fn complete(&self, key: &str, outcome: &DeliveryOutcome) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Gives a claim back after a passing failure, so a retry can send.
    fn release(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Delivery receipts in the ledger: a sent message is found by its key when the receipt names it,
/// or else by the provider's id, and how it ended is recorded beside it (see [`crate::receipts`]).
/// [`MessageLedger::complete`] with [`DeliveryOutcome::Sent`] indexes the provider's id when the
/// outcome says `indexed`.
pub trait ReceiptLedger: Sync {
    /// The message key of the message the provider knows by this id, if the ledger has it.
    fn sent_key(&self, provider_id: &str) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// Records how the message ended, if the ledger holds it as sent under this provider id (a
    /// key read from a receipt is checked against the send it names).
    fn record_delivery(&self, key: &str, provider_id: &str, delivery: &crate::receipts::Delivery) -> impl Future<Output = Result<Recorded, StoreError>> + Send;
}

/// What recording a delivery receipt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded now; with what its county's daily summary counts the message as, if anything.
    New(Option<crate::daily::MessageTag>),
    /// The ledger said so already (the same receipt again).
    Again,
    /// No message was sent under that key and provider id.
    Unknown,
}

/// Messages held until their release time (quiet hours, tracking start, settling).
pub trait HoldQueue: Sync {
    fn hold(&self, n: &Notification) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes and returns up to `limit` of what is due at or before `now`, oldest first (a
    /// morning's release is taken a page at a time: memory stays flat).
    fn take_due(&self, now: DateTime<Utc>, limit: usize) -> impl Future<Output = Result<Vec<Notification>, StoreError>> + Send;
    fn next_release(&self) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send;
}

/// A message ready for a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    pub key: String,
    pub votecal_id: String,
    pub election_id: Option<String>,
    pub ballot_id: Option<String>,
    pub kind: MessageKind,
    pub channel: Channel,
    pub language: Language,
    /// Phone number or email address.
    pub to: String,
    pub send_at: DateTime<Utc>,
    pub rendered: Rendered,
    /// Voice only: how the call speaks (a recorded prompt, or Polly's voice for the language).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<crate::voice::VoiceRendering>,
    /// Email only: the one-click unsubscribe link (RFC 8058 `List-Unsubscribe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The provider asked us to slow down: retried later, never dropped.
    #[error("throttled")]
    Throttled,
    /// A passing failure (timeout, 5xx): retried later.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Will never succeed (opted-out number, rejected address): recorded with its reason.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

pub trait Dispatcher: Sync {
    /// Sends one message; returns the provider's message id.
    fn dispatch(&self, msg: &OutgoingMessage) -> impl Future<Output = Result<String, DeliveryError>> + Send;
    /// True when delivery receipts will come for this message naming it only by the provider's
    /// id (SNS's texts): the ledger then indexes that id. False when they carry its key (SES
    /// returns the tags an email was sent with, see [`crate::receipts::key_tag`]) or when no
    /// receipts come (calls, the local outbox). (No default: a wrapper must pass it on.)
    fn receipts_find_it_by_id(&self, msg: &OutgoingMessage) -> bool;
}

/// The print vendors' crosswalks: which voter's envelope carries which IMb.
pub trait ImbCrosswalk: Sync {
    /// Writes the mapping unless the tracking code is another county's envelope (false): a county
    /// (or a vendor's row for it) can never take over another county's mail pieces while their
    /// news may still go. Only an envelope of an election among `closed` (defined, its tracking
    /// window closed) may be mapped again, by any county: print vendors reuse serial numbers
    /// (USPS asks them to be unique for 45 days only). An election not defined yet is not
    /// closed: its envelopes stay their county's.
    fn put_mapping(&self, mapping: &ImbMapping, closed: &[&str]) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The mapping of a 20-digit tracking code.
    fn mapping(&self, tracking: &str) -> impl Future<Output = Result<Option<ImbMapping>, StoreError>> + Send;
}

/// Where a notification due now goes: the AWS side puts it on its channel's queue for the
/// delivery function; the local pipeline delivers it at once ([`Inline`]).
pub trait NotificationQueue: Sync {
    /// Queues the notification; `Ok(false)` means "not queued: deliver it here and now".
    fn enqueue(&self, n: &Notification) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Makes sure everything queued so far is on its queue (a queue that buffers sends it now).
    fn flush_queued(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }
}

/// No queue: notifications due now are delivered inline (the local pipeline).
pub struct Inline;

impl NotificationQueue for Inline {
    async fn enqueue(&self, _n: &Notification) -> Result<bool, StoreError> {
        Ok(false)
    }
}

/// Changes waiting for their codes (sign-ups, changes of choices, stops), by change id.
pub trait PendingChanges: Sync {
    fn change(&self, id: &str) -> impl Future<Output = Result<Option<Versioned<crate::access::PendingChange>>, StoreError>> + Send;
    /// Writes the change if its stored version is still `expected` (None: it must not exist yet).
    fn put_change(&self, change: &crate::access::PendingChange, expected: Option<u64>) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Counters shared by every instance (abuse limits): each is named with its window and is gone
/// after its expiry.
pub trait Counters: Sync {
    /// Adds one, atomically, and returns the new count.
    fn bump(&self, key: &str, expires_at: DateTime<Utc>) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// The count now (0 once expired).
    fn count(&self, key: &str, now: DateTime<Utc>) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// What the contact index knows of one phone or email address (named by
/// [`crate::access::contact_name`], never by the address itself).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactEntry {
    /// The voters whose live contact it is.
    pub voters: Vec<String>,
    /// The contact said stop. A phone texted STOP: no text goes to it, not even a code, until
    /// it texts START. An email address unsubscribed: a signups file does not start it again
    /// (a code the voter enters for it does). It outlives the voters' subscriptions, whose
    /// addresses are erased 30 days after a full stop.
    #[serde(alias = "sms_stopped")]
    pub stopped: bool,
    /// Stops of single voters on single channels ([`crate::keys::stop_mark`]): a voter who
    /// stopped calls, or texts to a phone the household shares, on the page. Only that voter's
    /// news on that channel stays stopped, also past the erasure of the voter's addresses,
    /// until the voter chooses it again with a code, or the phone texts START when no other
    /// voter's texts go to it (see [`crate::keys::stop_mark`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stops: Vec<String>,
    /// When the phone's latest STOP was sent, as the provider stamped it (Unix milliseconds):
    /// a START sent before it but handled after it (two-way SMS keeps no order, and a START
    /// whose handling failed comes again later) does not start what the phone has since
    /// stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sent_at: Option<i64>,
    /// When the latest START the phone sent was taken, as the provider stamped it (Unix
    /// milliseconds): a stop the Secretary of State's hotline was asked for before it, whose row
    /// is read after it, does not stop the texts the phone asked for again (a county's row does:
    /// see [`crate::stop_requests`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_sent_at: Option<i64>,
}

impl ContactEntry {
    /// Adds the voter unless `max` others hold the contact already; a voter there stays there.
    pub fn link(&mut self, votecal_id: &str, max: usize) -> bool {
        if self.voters.iter().any(|v| v == votecal_id) {
            return true;
        }
        if self.voters.len() >= max {
            return false;
        }
        self.voters.push(votecal_id.to_string());
        true
    }

    /// Adds or takes out a stop mark.
    pub fn mark(&mut self, mark: &str, stopped: bool) {
        self.stops.retain(|m| m != mark);
        if stopped {
            self.stops.push(mark.to_string());
        }
    }
}

/// Which voters a phone or email address serves, and whether it said stop.
pub trait ContactIndex: Sync {
    fn contact(&self, name: &str) -> impl Future<Output = Result<ContactEntry, StoreError>> + Send;
    /// Adds the voter, atomically, unless `max` other voters hold the contact already (false).
    fn link_contact(&self, name: &str, votecal_id: &str, max: usize) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn unlink_contact(&self, name: &str, votecal_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn set_stopped(&self, name: &str, stopped: bool) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Remembers when the phone's STOP was sent (the latest of those remembered stands).
    fn stop_sent_at(&self, name: &str, at_ms: i64) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Remembers when a START the phone sent was taken (the latest of those remembered stands).
    fn start_sent_at(&self, name: &str, at_ms: i64) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Adds (`stopped`) or takes out one voter's stop mark; doing it twice is doing it once.
    fn mark_stop(&self, name: &str, mark: &str, stopped: bool) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Every store port: what the pipeline needs of its store.
pub trait Store: VoterRoll + SubscriptionStore + JourneyStore + KeptFacts + MessageLedger + ReceiptLedger + HoldQueue + ImbCrosswalk + PendingChanges + Counters + ContactIndex {}

impl<T> Store for T where T: VoterRoll + SubscriptionStore + JourneyStore + KeptFacts + MessageLedger + ReceiptLedger + HoldQueue + ImbCrosswalk + PendingChanges + Counters + ContactIndex {}

/// What a store read a subscription as (on DynamoDB the item's `fp` attribute, as stored): a
/// conditional write checks the item is still that. Not part of the subscription's value (any
/// two compare equal) nor of what is stored, so nothing computed again has to match it.
#[derive(Debug, Clone, Default)]
pub struct ReadAs(pub Option<String>);

impl PartialEq for ReadAs {
    fn eq(&self, _: &ReadAs) -> bool {
        true
    }
}

impl Eq for ReadAs {}

//! Delivery at its edges: a provider that keeps failing (retried up to the limit, then recorded
//! as given up) or keeps throttling (retried until it takes the message), and two workers with one message (one sends; a worker that dies mid-send is
//! taken over once its claim expires: the at-least-once window).

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;
use wmb_core::access::{AccessKeys, SigningKey};
use wmb_core::election::Election;
use wmb_core::formats::{VbmStatus, VoterRecord, VoterStatus};
use wmb_core::memory::{MemoryStore, RecordingDispatcher};
use wmb_core::notify::Notification;
use wmb_core::pipeline::{Pipeline, Tally, MAX_ATTEMPTS, MAX_THROTTLES};
use wmb_core::ports::*;
use wmb_core::signup::Subscription;
use wmb_core::status::{Language, StatusCode};
use wmb_core::templates::Catalog;
use wmb_core::voice::VoicePlan;
use wmb_core::CountyCode;

const ELECTION: &str = "id = \"E\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
    [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn random() -> [u8; 16] {
    [5; 16]
}

/// A channel queue that keeps what it is given.
#[derive(Default)]
struct Queue(Mutex<Vec<Notification>>);

impl NotificationQueue for Queue {
    async fn enqueue(&self, n: &Notification) -> Result<bool, StoreError> {
        self.0.lock().unwrap().push(n.clone());
        Ok(true)
    }
}

struct World {
    store: MemoryStore,
    sent: RecordingDispatcher,
    queue: Queue,
    catalog: Catalog,
    elections: BTreeMap<String, Election>,
    voice: VoicePlan,
    keys: AccessKeys,
}

impl World {
    /// Ann Lee, signed up by text (08:00–20:00), with her ballot's Outbound news queued at 10:00.
    async fn new(now: DateTime<Utc>) -> (World, Notification) {
        let w = World {
            store: MemoryStore::default(),
            sent: RecordingDispatcher::default(),
            queue: Queue::default(),
            catalog: Catalog::embedded().unwrap(),
            elections: BTreeMap::from([("E".to_string(), Election::from_toml("e", ELECTION).unwrap())]),
            voice: VoicePlan::default(),
            keys: AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None },
        };
        let county = CountyCode::parse("19").unwrap();
        let dob = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
        w.store.put_voter(&VoterRecord { votecal_id: "CA1".into(), county, first_name: "Ann".into(), last_name: "Lee".into(), date_of_birth: dob, zip: "90012".into(), status: VoterStatus::Active }).await.unwrap();
        let sub = Subscription {
            votecal_id: "CA1".into(),
            county,
            language: Language::En,
            sms: Some("+13105550100".into()),
            email: None,
            voice: None,
            hours: Default::default(),
            signed_up_at: t("2026-09-01T12:00:00-07:00"),
            stopped: Default::default(),
            erase_after: None,
            file_row: None,
            read_as: Default::default(),
        };
        w.store.put_subscription(&sub).await.unwrap();
        let row = VbmStatus { votecal_id: "CA1".into(), county, election_id: "E".into(), ballot_id: "B1".into(), status: StatusCode::Issued, status_time: now - Duration::hours(1) };
        w.pipeline().apply_status(&row, now, &mut Tally::default()).await.unwrap();
        let n = w.queue.0.lock().unwrap().pop().expect("the Outbound text is queued");
        (w, n)
    }

    fn pipeline(&self) -> Pipeline<'_, MemoryStore, RecordingDispatcher, Queue> {
        Pipeline { store: &self.store, dispatcher: &self.sent, queue: &self.queue, catalog: &self.catalog, elections: &self.elections, voice: &self.voice, access: &self.keys }
    }

    /// Runs the release schedules until nothing is held (at most `limit` of them).
    async fn release_all(&self, tally: &mut Tally, limit: usize) {
        for _ in 0..limit {
            let Some(next) = self.store.next_release().await.unwrap() else { return };
            self.pipeline().release_due(next, tally).await.unwrap();
        }
        panic!("still held after {limit} releases");
    }
}

#[test]
fn a_provider_that_keeps_failing_is_retried_up_to_the_limit_then_the_message_is_recorded_as_given_up() {
    futures::executor::block_on(async {
        let now = t("2026-10-06T10:00:00-07:00");
        let (w, n) = World::new(now).await;
        // GIVEN the SMS provider fails every attempt with a passing error
        *w.sent.failures.lock().unwrap() = vec![DeliveryError::Temporary("503 from the provider".into()); 20];
        let mut tally = Tally::default();
        // WHEN the message is delivered and every retry falls due
        w.pipeline().deliver(n.clone(), now, &mut tally).await.unwrap();
        w.release_all(&mut tally, 50).await;
        // THEN it was tried exactly MAX_ATTEMPTS times, retried in between, and recorded as given up
        assert_eq!(20 - w.sent.failures.lock().unwrap().len(), MAX_ATTEMPTS as usize);
        assert_eq!((tally.retried, tally.failed), (u64::from(MAX_ATTEMPTS) - 1, 1));
        match w.store.outcome(&n.key) {
            Some(DeliveryOutcome::Failed { reason, .. }) => assert!(reason.starts_with("gave up after 8 attempts: temporary failure: 503"), "{reason}"),
            other => panic!("not recorded as given up: {other:?}"),
        }
        assert!(w.sent.sent.lock().unwrap().is_empty());
        assert_eq!(w.store.held_count(), 0, "nothing left waiting");
        // AND the queue delivering the message again sends nothing (given up is done)
        w.sent.failures.lock().unwrap().clear();
        w.pipeline().deliver(n, now + Duration::hours(4), &mut tally).await.unwrap();
        assert!(w.sent.sent.lock().unwrap().is_empty());
        assert_eq!(tally.duplicates, 1);
    });
}

#[test]
fn a_provider_that_keeps_throttling_is_retried_past_the_limit_and_the_message_goes_once_it_lets_it() {
    futures::executor::block_on(async {
        let now = t("2026-10-06T10:00:00-07:00");
        let (w, n) = World::new(now).await;
        // GIVEN the SMS provider answers "slow down" to twice as many attempts as a failing one gets
        let throttles = 2 * MAX_ATTEMPTS as usize;
        *w.sent.failures.lock().unwrap() = vec![DeliveryError::Throttled; throttles];
        let mut tally = Tally::default();
        // WHEN the message is delivered and every retry falls due
        w.pipeline().deliver(n.clone(), now, &mut tally).await.unwrap();
        w.release_all(&mut tally, 100).await;
        // THEN it was retried through every throttle and sent once, when the provider took it
        assert!(w.sent.failures.lock().unwrap().is_empty());
        assert_eq!((tally.retried, tally.failed), (throttles as u64, 0));
        assert_eq!(w.sent.sent.lock().unwrap().len(), 1, "sent once");
        assert!(matches!(w.store.outcome(&n.key), Some(DeliveryOutcome::Sent { .. })));
        assert_eq!(w.store.held_count(), 0);
    });
}

#[test]
fn a_provider_that_never_stops_throttling_is_given_up_after_days_of_hourly_tries() {
    futures::executor::block_on(async {
        let now = t("2026-10-06T10:00:00-07:00");
        let (w, n) = World::new(now).await;
        *w.sent.failures.lock().unwrap() = vec![DeliveryError::Throttled; 200];
        let mut tally = Tally::default();
        w.pipeline().deliver(n.clone(), now, &mut tally).await.unwrap();
        w.release_all(&mut tally, 400).await;
        assert_eq!(200 - w.sent.failures.lock().unwrap().len(), MAX_THROTTLES as usize, "tried until the limit, then no more");
        match w.store.outcome(&n.key) {
            Some(DeliveryOutcome::Failed { reason, at, .. }) => {
                assert_eq!(reason, format!("gave up after {MAX_THROTTLES} throttled attempts"));
                assert!(at - now > Duration::days(3), "backing off to an hour, inside her hours: {at}");
            }
            other => panic!("not recorded as given up: {other:?}"),
        }
        assert_eq!(w.store.held_count(), 0);
    });
}

#[test]
fn two_workers_with_one_message_send_it_once() {
    futures::executor::block_on(async {
        let now = t("2026-10-06T10:00:00-07:00");
        let (w, n) = World::new(now).await;
        let mut tally = Tally::default();
        // GIVEN worker A has claimed the message and is sending it
        assert_eq!(w.store.claim(&n.key, now).await.unwrap(), Claim::Claimed);
        // WHEN worker B gets the same message (SQS delivered it twice)
        w.pipeline().deliver(n.clone(), now, &mut tally).await.unwrap();
        // THEN B sends nothing and holds it for a retry
        assert!(w.sent.sent.lock().unwrap().is_empty());
        assert_eq!(tally.retried, 1);
        // AND once A has recorded its send, B's retry finds it done
        w.store.complete(&n.key, &DeliveryOutcome::Sent { provider_id: "A".into(), at: now, counted: None, indexed: true }).await.unwrap();
        w.release_all(&mut tally, 5).await;
        assert!(w.sent.sent.lock().unwrap().is_empty(), "B never sends it");
        assert_eq!(tally.duplicates, 1);
    });
}

#[test]
fn a_worker_that_dies_mid_send_is_taken_over_once_its_claim_expires_and_only_once() {
    futures::executor::block_on(async {
        let now = t("2026-10-06T10:00:00-07:00");
        let (w, n) = World::new(now).await;
        let mut tally = Tally::default();
        // GIVEN worker A claimed the message and died before recording anything (it may or may
        // not have sent: the one duplicate the at-least-once design allows)
        assert_eq!(w.store.claim(&n.key, now).await.unwrap(), Claim::Claimed);
        // WHEN worker B gets it, and its retries fall due
        w.pipeline().deliver(n.clone(), now, &mut tally).await.unwrap();
        w.release_all(&mut tally, 40).await;
        // THEN B sends it exactly once, after A's claim expired and not before
        let sent = w.sent.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].send_at >= now + Duration::minutes(CLAIM_EXPIRY_MINUTES), "sent at {}", sent[0].send_at);
        assert!(sent[0].send_at <= now + Duration::minutes(CLAIM_EXPIRY_MINUTES + 2), "sent at {}", sent[0].send_at);
        assert!(matches!(w.store.outcome(&n.key), Some(DeliveryOutcome::Sent { .. })));
    });
}

/// A provider whose answer comes only after the claim expired, by which time another worker has
/// sent the same message (B, delivering it at `later`); then it answers with a passing failure.
struct HungThenFailed<'w> {
    world: &'w World,
    later: DateTime<Utc>,
}

impl Dispatcher for HungThenFailed<'_> {
    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        let n = self.world.queue.0.lock().unwrap().iter().find(|n| n.key == msg.key).cloned().expect("the copy worker B delivers");
        self.world.pipeline().deliver(n, self.later, &mut Tally::default()).await.unwrap();
        Err(DeliveryError::Temporary("timed out".into()))
    }

    fn receipts_find_it_by_id(&self, _: &OutgoingMessage) -> bool {
        false
    }
}

#[test]
fn a_worker_giving_up_after_another_sent_the_message_leaves_it_recorded_as_sent() {
    futures::executor::block_on(async {
        let now = t("2026-10-06T10:00:00-07:00");
        let (w, n) = World::new(now).await;
        // GIVEN worker A on its last try, whose send hangs until its claim expires, while worker
        // B (the queue's redelivery) sends the message
        let mut last = n.clone();
        last.attempts = MAX_ATTEMPTS - 1;
        w.queue.0.lock().unwrap().push(n.clone());
        let hung = HungThenFailed { world: &w, later: now + Duration::minutes(CLAIM_EXPIRY_MINUTES + 1) };
        let a = Pipeline { store: &w.store, dispatcher: &hung, queue: &w.queue, catalog: &w.catalog, elections: &w.elections, voice: &w.voice, access: &w.keys };
        let mut tally = Tally::default();
        // WHEN A's send then fails and A gives up
        a.deliver(last, now, &mut tally).await.unwrap();
        // THEN the message stays recorded as B sent it, and A counts no failure
        assert_eq!(w.sent.sent.lock().unwrap().len(), 1);
        assert!(matches!(w.store.outcome(&n.key), Some(DeliveryOutcome::Sent { .. })), "{:?}", w.store.outcome(&n.key));
        assert_eq!(tally.failed, 0);
    });
}

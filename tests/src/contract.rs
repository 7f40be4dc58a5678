//! The port contract: what every store must do, whatever it is built on. The same suite runs
//! against the in-memory store, the local pipeline's SQLite store and the DynamoDB store (on
//! moto), so the local pipeline and the Lambdas cannot drift apart.

use chrono::{DateTime, Duration, Utc};
use wmb_core::formats::{VoterRecord, VoterStatus};
use wmb_core::lifecycle::{BallotFact, BallotJourney};
use wmb_core::notify::Notification;
use wmb_core::ports::*;
use wmb_core::signup::{IdentityKey, Subscription};
use wmb_core::status::{Channel, Language, MessageKind, StatusCode};
use wmb_core::usps::{Direction, ImbMapping};
use wmb_core::CountyCode;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn voter(id: &str, first: &str) -> VoterRecord {
    VoterRecord {
        votecal_id: id.into(),
        county: CountyCode::parse("19").unwrap(),
        first_name: first.into(),
        last_name: "Garcia".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap(),
        zip: "90012".into(),
        status: VoterStatus::Active,
    }
}

fn notification(key: &str, release: &str) -> Notification {
    Notification {
        key: key.into(),
        election_id: Some("E".into()),
        votecal_id: "CA1".into(),
        county: CountyCode::parse("19").unwrap(),
        kind: MessageKind::Accepted,
        channel: Channel::Sms,
        decision: None,
        release_at: t(release),
        attempts: 0,
        throttled: 0,
        reminder_days: None,
        verdict: false,
    }
}

/// A sign-up in Los Angeles, in Spanish, by text.
pub fn subscription(votecal_id: &str) -> Subscription {
    Subscription {
        votecal_id: votecal_id.into(),
        county: CountyCode::parse("19").unwrap(),
        language: Language::Es,
        sms: Some("+13105550123".into()),
        email: None,
        voice: None,
        hours: Default::default(),
        signed_up_at: t("2026-09-25T10:00:00Z"),
        stopped: Default::default(),
        erase_after: None,
        file_row: None,
        read_as: Default::default(),
    }
}

/// Every store port, as the pipeline uses them.
pub async fn store_contract<S>(store: &S)
where
    S: Store,
{
    // Voter roll: a record replaces the one with its id; the identity finds every namesake.
    store.put_voter(&voter("CA1", "María")).await.unwrap();
    store.put_voter(&voter("CA2", "Maria")).await.unwrap();
    store.put_voter(&voter("CA3", "Ana")).await.unwrap();
    let mut moved = voter("CA3", "Ana");
    moved.county = CountyCode::parse("37").unwrap();
    store.put_voter(&moved).await.unwrap();
    assert_eq!(store.voter("CA3").await.unwrap().unwrap().county, CountyCode::parse("37").unwrap());
    assert!(store.voter("CA9").await.unwrap().is_none());
    let key = IdentityKey::new("maria", "GARCIA", chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap(), "90012");
    let mut found: Vec<String> = store.voters_by_identity(&key).await.unwrap().into_iter().map(|v| v.votecal_id).collect();
    found.sort();
    assert_eq!(found, ["CA1", "CA2"]);
    // A roll upload writes what changed: the same rows again write nothing; the last of a
    // VoteCal ID named twice wins.
    let again = [voter("CA1", "María"), voter("CA2", "Maria")];
    assert_eq!(store.put_voters(&again).await.unwrap(), 0);
    let mut back = voter("CA3", "Ana");
    back.county = CountyCode::parse("01").unwrap();
    assert_eq!(store.put_voters(&[voter("CA4", "Eva"), moved.clone(), back.clone()]).await.unwrap(), 2);
    assert_eq!(store.voter("CA3").await.unwrap(), Some(back));
    assert!(store.voter("CA4").await.unwrap().is_some());

    // Subscriptions: the latest sign-up wins.
    let mut sub = subscription("CA1");
    store.put_subscription(&sub).await.unwrap();
    sub.language = Language::Vi;
    store.put_subscription(&sub).await.unwrap();
    assert_eq!(store.subscription("CA1").await.unwrap().unwrap().language, Language::Vi);
    assert!(store.subscription("CA2").await.unwrap().is_none());

    // A stopped channel survives the store: nothing goes to it after a restart.
    sub.stop(&[Channel::Sms], t("2026-09-26T10:00:00Z"));
    store.put_subscription(&sub).await.unwrap();
    let read = store.subscription("CA1").await.unwrap().unwrap();
    assert_eq!(read.address(Channel::Sms), None);
    assert!(read.erase_after.is_some(), "every channel stopped: its contacts have an erasure date");
    assert_eq!(read, sub);

    // A subscription's conditional write: only while it is still what its writer read. Two
    // writers read it; the first writes; the second, writing what it read changed, loses, and
    // wins once it reads again. A new subscription is written only where there is none.
    let (first, second) = (store.subscription("CA1").await.unwrap().unwrap(), store.subscription("CA1").await.unwrap().unwrap());
    let mut started = first.clone();
    started.start(Channel::Sms);
    store.replace_subscription(&started, Some(&first)).await.unwrap();
    let mut other = second.clone();
    other.language = Language::Es;
    assert!(matches!(store.replace_subscription(&other, Some(&second)).await, Err(StoreError::Conflict(_))), "a stale writer loses");
    assert_eq!(store.subscription("CA1").await.unwrap().unwrap(), started);
    let fresh = store.subscription("CA1").await.unwrap().unwrap();
    let mut other = fresh.clone();
    other.language = Language::Es;
    store.replace_subscription(&other, Some(&fresh)).await.unwrap();
    assert_eq!(store.subscription("CA1").await.unwrap().unwrap().language, Language::Es);
    assert!(matches!(store.replace_subscription(&subscription("CA1"), None).await, Err(StoreError::Conflict(_))), "one is there");
    store.replace_subscription(&subscription("CA9"), None).await.unwrap();
    assert!(matches!(store.replace_subscription(&subscription("CA9"), None).await, Err(StoreError::Conflict(_))));
    store.put_subscription(&read).await.unwrap();

    // Journeys: conditional writes; a stale writer loses.
    let mut j = BallotJourney::new("E", "CA1", CountyCode::parse("19").unwrap());
    j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::Issued, at: t("2026-10-05T16:00:00Z") });
    let v1 = store.put_journey(&j, None, 1).await.unwrap();
    assert!(matches!(store.put_journey(&j, None, 1).await, Err(StoreError::Conflict(_))), "creating twice conflicts");
    j.apply(BallotFact::Status { ballot_id: "B1".into(), code: StatusCode::InReview, at: t("2026-10-19T16:00:00Z") });
    let v2 = store.put_journey(&j, Some(v1), 1).await.unwrap();
    assert!(v2 > v1);
    assert!(matches!(store.put_journey(&j, Some(v1), 1).await, Err(StoreError::Conflict(_))), "a stale version conflicts");
    let read = store.journey("E", "CA1").await.unwrap().unwrap();
    assert_eq!(store.recent_journey("E", "CA1").await.unwrap().as_ref(), Some(&read), "a recent read, once the write has settled");
    assert_eq!((read.value.clone(), read.version), (j.clone(), v2));
    let mut other = BallotJourney::new("F", "CA1", CountyCode::parse("19").unwrap());
    other.apply(BallotFact::Status { ballot_id: "B9".into(), code: StatusCode::Issued, at: t("2027-02-05T16:00:00Z") });
    store.put_journey(&other, None, 1).await.unwrap();
    let mut all: Vec<String> = store.journeys_of_voter("CA1").await.unwrap().into_iter().map(|j| j.election_id).collect();
    all.sort();
    assert_eq!(all, ["E", "F"]);
    assert!(store.journey("E", "CA2").await.unwrap().is_none());

    // Ledger: one claim wins; done stays done; a released claim can be taken again.
    let now = t("2026-10-21T15:00:00Z");
    assert_eq!(store.claim("k1", now).await.unwrap(), Claim::Claimed);
    assert_eq!(store.claim("k1", now).await.unwrap(), Claim::InProgress);
    let tag = wmb_core::daily::MessageTag { county: wmb_core::CountyCode::parse("19").unwrap(), kind: wmb_core::status::MessageKind::ContactCounty, channel: wmb_core::status::Channel::Sms };
    store.complete("k1", &DeliveryOutcome::Sent { provider_id: "p".into(), at: now, counted: Some(tag), indexed: true }).await.unwrap();
    assert_eq!(store.claim("k1", now + Duration::days(1)).await.unwrap(), Claim::Done);
    assert_eq!(store.claim("k2", now).await.unwrap(), Claim::Claimed);
    store.release("k2").await.unwrap();
    assert_eq!(store.claim("k2", now).await.unwrap(), Claim::Claimed);
    store.release("k1").await.unwrap();
    assert_eq!(store.claim("k1", now).await.unwrap(), Claim::Done, "releasing a done key changes nothing");
    // A claim never completed (its worker died between claiming and recording) is another
    // worker's after CLAIM_EXPIRY_MINUTES, and not a minute before; done is done for ever.
    let expiry = Duration::minutes(wmb_core::ports::CLAIM_EXPIRY_MINUTES);
    assert_eq!(store.claim("k3", now).await.unwrap(), Claim::Claimed);
    assert_eq!(store.claim("k3", now + expiry - Duration::minutes(1)).await.unwrap(), Claim::InProgress);
    assert_eq!(store.claim("k3", now + expiry + Duration::minutes(1)).await.unwrap(), Claim::Claimed, "the crashed worker's claim expired");
    assert_eq!(store.claim("k3", now + expiry + Duration::minutes(2)).await.unwrap(), Claim::InProgress, "the new claim holds");
    assert_eq!(store.claim("k1", now + Duration::days(30)).await.unwrap(), Claim::Done);

    // Receipts: a sent message is found by the provider's id; one never sent is not, nor one
    // whose receipts name it by its key (an email's tag: no index entry is written for it).
    assert_eq!(store.sent_key("p").await.unwrap().as_deref(), Some("k1"));
    assert_eq!(store.sent_key("unknown").await.unwrap(), None);
    assert_eq!(store.claim("k4", now).await.unwrap(), Claim::Claimed);
    store.complete("k4", &DeliveryOutcome::Sent { provider_id: "p4".into(), at: now, counted: None, indexed: false }).await.unwrap();
    assert_eq!(store.sent_key("p4").await.unwrap(), None);
    assert_eq!(store.claim("k4", now).await.unwrap(), Claim::Done);
    // A receipt is recorded once, and only against a send the ledger holds under that id.
    use wmb_core::ports::Recorded;
    let delivered = wmb_core::receipts::Delivery::Delivered { at: now };
    assert_eq!(store.record_delivery("k1", "p", &delivered).await.unwrap(), Recorded::New(Some(tag)), "with what the county counted it as");
    assert_eq!(store.record_delivery("k1", "p", &delivered).await.unwrap(), Recorded::Again);
    assert_eq!(store.record_delivery("k4", "p4", &delivered).await.unwrap(), Recorded::New(None), "found by its key, not indexed");
    assert_eq!(store.record_delivery("k4", "p", &delivered).await.unwrap(), Recorded::Unknown, "another send's id");
    assert_eq!(store.record_delivery("never-sent", "p", &delivered).await.unwrap(), Recorded::Unknown);
    assert_eq!(store.record_delivery("k2", "p", &delivered).await.unwrap(), Recorded::Unknown, "claimed, never sent");

    // Held messages: released when due, oldest first, each once.
    store.hold(&notification("late", "2026-10-22T15:00:00Z")).await.unwrap();
    store.hold(&notification("early", "2026-10-21T15:00:00Z")).await.unwrap();
    assert_eq!(store.next_release().await.unwrap(), Some(t("2026-10-21T15:00:00Z")));
    assert!(store.take_due(t("2026-10-21T14:59:00Z"), 10).await.unwrap().is_empty());
    let first: Vec<String> = store.take_due(t("2026-10-22T15:00:00Z"), 1).await.unwrap().into_iter().map(|n| n.key).collect();
    assert_eq!(first, ["early"], "a page at a time, oldest first");
    let rest: Vec<String> = store.take_due(t("2026-10-22T15:00:00Z"), 10).await.unwrap().into_iter().map(|n| n.key).collect();
    assert_eq!(rest, ["late"]);
    assert!(store.take_due(t("2026-10-23T15:00:00Z"), 10).await.unwrap().is_empty());
    assert_eq!(store.next_release().await.unwrap(), None);

    // Crosswalk: a mapping is found by its tracking code.
    let m = ImbMapping {
        tracking: "00700123456000110001".into(),
        county: CountyCode::parse("19").unwrap(),
        votecal_id: "CA1".into(),
        election_id: "E".into(),
        ballot_id: None,
        direction: Direction::Outbound,
    };
    assert!(store.put_mapping(&m, &[]).await.unwrap());
    assert!(store.put_mapping(&m, &[]).await.unwrap(), "the same county's mapping again is written");
    assert_eq!(store.mapping("00700123456000110001").await.unwrap(), Some(m.clone()));
    // ... and another county cannot take the envelope over while its election is not closed
    // (still tracked, or not defined yet)
    let hijack = ImbMapping { county: CountyCode::parse("37").unwrap(), votecal_id: "CA9".into(), election_id: "F".into(), ..m.clone() };
    assert!(!store.put_mapping(&hijack, &[]).await.unwrap());
    assert!(!store.put_mapping(&hijack, &["F", "G"]).await.unwrap());
    assert_eq!(store.mapping("00700123456000110001").await.unwrap(), Some(m.clone()));
    assert_eq!(store.mapping("00700123456000110002").await.unwrap(), None);
    // ... but once that election is closed, a vendor reusing the serial number maps it for another
    // county's election (and then that county's envelope is not taken back while F is open)
    assert!(store.put_mapping(&hijack, &["G", "E"]).await.unwrap(), "E is closed");
    assert_eq!(store.mapping("00700123456000110001").await.unwrap(), Some(hijack.clone()));
    assert!(!store.put_mapping(&m, &["E"]).await.unwrap());
    assert!(store.put_mapping(&m, &["E", "F"]).await.unwrap(), "F closed too");
    assert_eq!(store.mapping("00700123456000110001").await.unwrap(), Some(m));

    access_contract(store).await;
}

/// How a store releases a minute's held messages: the pipeline takes what is due a page at a time
/// (the embedded stores); the release function reads each shard of the minute a page at a time
/// and deletes what it queued (DynamoDB).
pub trait ReleasePath {
    fn release_minute(&self, minute: DateTime<Utc>, page: usize) -> impl std::future::Future<Output = Vec<Notification>>;
}

/// The pipeline's release path: `take_due` a page at a time until nothing is due.
pub struct ByTakeDue<'a, S>(pub &'a S);

impl<S: HoldQueue> ReleasePath for ByTakeDue<'_, S> {
    async fn release_minute(&self, minute: DateTime<Utc>, page: usize) -> Vec<Notification> {
        let mut out = Vec::new();
        loop {
            let taken = self.0.take_due(minute, page).await.unwrap();
            assert!(taken.len() <= page, "a page at most");
            if taken.is_empty() {
                return out;
            }
            out.extend(taken);
        }
    }
}

/// Holding and releasing, as the release path of each store does it: nothing early, each
/// message once however often it was held (as last written), a retry (its next attempt) apart from the first,
/// a morning of many messages released a page at a time.
pub async fn release_contract<S: HoldQueue, R: ReleasePath>(store: &S, release: &R) {
    let morning = "2026-10-27T15:00:00Z";
    let later = "2026-10-27T16:00:00Z";
    let keys: Vec<String> = (0..40).map(|i| format!("E#CA{i:03}#B#accepted#sms")).collect();
    for key in &keys {
        store.hold(&notification(key, morning)).await.unwrap();
    }
    // (a stream record delivered twice holds the same message again)
    store.hold(&notification(&keys[0], morning)).await.unwrap();
    store.hold(&notification(&keys[1], morning)).await.unwrap();
    // (planned again for the same minute, with something changed: the last written is held)
    store.hold(&Notification { reminder_days: Some(3), verdict: true, ..notification(&keys[2], morning) }).await.unwrap();
    for key in &keys[..5] {
        store.hold(&notification(&format!("{key}:later"), later)).await.unwrap();
    }
    let retry = Notification { attempts: 1, ..notification(&keys[0], later) };
    store.hold(&retry).await.unwrap();

    assert!(release.release_minute(t(morning) - Duration::minutes(1), 7).await.is_empty(), "nothing before its minute");
    let released = release.release_minute(t(morning), 7).await;
    assert_eq!(released.iter().find(|n| n.key == keys[2]).map(|n| (n.reminder_days, n.verdict)), Some((Some(3), true)), "held as last written");
    let mut first: Vec<String> = released.into_iter().map(|n| n.key).collect();
    first.sort();
    assert_eq!(first, keys, "every message of the morning, each once");
    assert!(release.release_minute(t(morning), 7).await.is_empty(), "released once");
    let mut second: Vec<(String, u32)> = release.release_minute(t(later), 7).await.into_iter().map(|n| (n.key, n.attempts)).collect();
    second.sort();
    let mut expected: Vec<(String, u32)> = keys[..5].iter().map(|k| (format!("{k}:later"), 0)).chain([(keys[0].clone(), 1)]).collect();
    expected.sort();
    assert_eq!(second, expected, "the later minute, with the retry");
    assert_eq!(store.next_release().await.unwrap(), None, "nothing left held");
}

fn fixed_random() -> [u8; 16] {
    [7; 16]
}

/// Pending changes, counters and the contact index.
pub async fn access_contract<S: PendingChanges + Counters + ContactIndex>(store: &S) {
    let now = t("2026-10-06T19:00:00Z");
    // Pending changes: created once, then written only by whoever read the latest version.
    let keys = wmb_core::access::AccessKeys {
        signing: wmb_core::access::SigningKey::new(b"contract test key only").unwrap(),
        random: fixed_random,
        public_url: None,
    };
    let desired = Subscription {
        votecal_id: "CA1".into(),
        county: CountyCode::parse("19").unwrap(),
        language: Language::Ko,
        sms: Some("+19165550100".into()),
        email: Some("voter@example.com".into()),
        voice: None,
        hours: Default::default(),
        signed_up_at: now,
        stopped: Default::default(),
        erase_after: None,
        file_row: None,
        read_as: Default::default(),
    };
    let (mut change, _codes) = wmb_core::access::PendingChange::choices(&keys, None, desired, now);
    assert!(store.change(&change.id).await.unwrap().is_none());
    let v1 = store.put_change(&change, None).await.unwrap();
    assert!(matches!(store.put_change(&change, None).await, Err(StoreError::Conflict(_))), "an id is used once");
    change.wrong_codes = 1;
    let v2 = store.put_change(&change, Some(v1)).await.unwrap();
    assert!(matches!(store.put_change(&change, Some(v1)).await, Err(StoreError::Conflict(_))), "a stale version loses");
    let read = store.change(&change.id).await.unwrap().unwrap();
    assert_eq!((read.value, read.version), (change.clone(), v2));

    // Counters: each bump is counted once; an expired counter counts nothing.
    let exp = now + Duration::hours(1);
    for expected in 1..=3 {
        assert_eq!(store.bump("fail-id#abc#2026-10-06", exp).await.unwrap(), expected);
    }
    assert_eq!(store.count("fail-id#abc#2026-10-06", now).await.unwrap(), 3);
    assert_eq!(store.count("fail-id#abc#2026-10-06", exp).await.unwrap(), 0, "gone at its expiry");
    assert_eq!(store.count("never-bumped", now).await.unwrap(), 0);

    // The contact index: at most `max` voters per contact; a voter already there stays.
    for v in ["CA1", "CA2", "CA3"] {
        assert!(store.link_contact("phone-name", v, 3).await.unwrap(), "{v}");
    }
    assert!(!store.link_contact("phone-name", "CA4", 3).await.unwrap(), "a fourth voter is refused");
    assert!(store.link_contact("phone-name", "CA2", 3).await.unwrap(), "linking again is harmless");
    store.unlink_contact("phone-name", "CA2").await.unwrap();
    assert!(store.link_contact("phone-name", "CA4", 3).await.unwrap(), "a freed place can be taken");
    let mut entry = store.contact("phone-name").await.unwrap();
    entry.voters.sort();
    assert_eq!(entry, ContactEntry { voters: vec!["CA1".into(), "CA3".into(), "CA4".into()], stopped: false, stops: vec![], stop_sent_at: None, start_sent_at: None });
    store.set_stopped("phone-name", true).await.unwrap();
    assert!(store.contact("phone-name").await.unwrap().stopped);
    store.set_stopped("phone-name", false).await.unwrap();
    assert!(!store.contact("phone-name").await.unwrap().stopped);
    // The latest STOP's time stands, whatever order they are handled in.
    store.stop_sent_at("phone-name", 2_000).await.unwrap();
    store.stop_sent_at("phone-name", 1_000).await.unwrap();
    assert_eq!(store.contact("phone-name").await.unwrap().stop_sent_at, Some(2_000));
    store.stop_sent_at("phone-name", 3_000).await.unwrap();
    store.stop_sent_at("phone-name", 3_000).await.unwrap();
    assert_eq!(store.contact("phone-name").await.unwrap().stop_sent_at, Some(3_000), "the same time again is harmless");
    // So does the latest START's, apart from the STOP's.
    store.start_sent_at("phone-name", 5_000).await.unwrap();
    store.start_sent_at("phone-name", 4_000).await.unwrap();
    let entry = store.contact("phone-name").await.unwrap();
    assert_eq!((entry.start_sent_at, entry.stop_sent_at), (Some(5_000), Some(3_000)));
    // One voter's stop marks: added and taken out once however often, apart from the others'.
    for _ in 0..2 {
        store.mark_stop("phone-name", "mark-a", true).await.unwrap();
        store.mark_stop("phone-name", "mark-b", true).await.unwrap();
    }
    let mut marks = store.contact("phone-name").await.unwrap().stops;
    marks.sort();
    assert_eq!(marks, ["mark-a", "mark-b"]);
    for _ in 0..2 {
        store.mark_stop("phone-name", "mark-a", false).await.unwrap();
    }
    assert_eq!(store.contact("phone-name").await.unwrap().stops, ["mark-b"]);
    assert_eq!(store.contact("phone-name").await.unwrap().voters.len(), 3, "marks leave the voters be");
    assert_eq!(store.contact("unknown").await.unwrap(), ContactEntry::default());
}

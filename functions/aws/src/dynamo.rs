//! The store ports over DynamoDB. Items map through serde (serde_dynamo), one Rust type each.

use crate::settings::Settings;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use wmb_core::formats::VoterRecord;
use wmb_core::lifecycle::BallotJourney;
use wmb_core::ports::*;
use wmb_core::signup::{IdentityKey, Subscription};
use wmb_core::usps::ImbMapping;

/// A claim older than this is taken to belong to a worker that died: another may send.
pub(crate) const CLAIM_EXPIRY_SECONDS: i64 = wmb_core::ports::CLAIM_EXPIRY_MINUTES * 60;

#[derive(Serialize, Deserialize)]
pub struct VoterItem {
    pub pk: String,
    pub identity: String,
    pub voter: VoterRecord,
}

#[derive(Serialize, Deserialize)]
pub struct SubscriptionItem {
    pub pk: String,
    pub subscription: Subscription,
    /// TTL: a subscription stopped on every channel is deleted after its retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The subscription's fingerprint ([`fingerprint`]): a conditional write
    /// checks that the item is still the one its writer read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp: Option<String>,
}

/// A journey as the journeys table (and its stream) holds it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct JourneyItem {
    /// The VoteCal ID.
    pub pk: String,
    /// The election ID.
    pub sk: String,
    pub version: u64,
    /// How many milestones this write decided: the stream's event source mapping drops records
    /// where it is 0 (absent on items written before it existed: the fan-out works it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided: Option<u64>,
    pub journey: BallotJourney,
    /// TTL (`wmb_core::retention`): the election's tracking end plus 90 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

#[derive(Serialize, Deserialize)]
pub struct LedgerItem {
    pub pk: String,
    /// "claimed" or "done".
    pub state: String,
    pub claimed_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<DeliveryOutcome>,
    pub expires_at: i64,
    /// The provider's message id, once sent: the key of the `by_provider` index, where a
    /// delivery receipt finds its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// How the message ended, by its receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<wmb_core::receipts::Delivery>,
}

/// The ledger's index of sent messages by the provider's message id.
pub const BY_PROVIDER_INDEX: &str = "by_provider";

#[derive(Serialize, Deserialize)]
pub struct ImbItem {
    pub pk: String,
    pub mapping: ImbMapping,
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(crate) fn sdk_error<E: std::error::Error + 'static, R: std::fmt::Debug>(e: aws_sdk_dynamodb::error::SdkError<E, R>) -> StoreError {
    StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
}

// Mapping errors are reported with fixed text: serde's own message can quote an item's values,
// which may be personal data.
pub(crate) fn to_item<T: Serialize>(v: &T) -> Result<HashMap<String, AttributeValue>, StoreError> {
    serde_dynamo::to_item(v).map_err(|_| StoreError::Unavailable(format!("a {} could not be written as an item", std::any::type_name::<T>())))
}

pub(crate) fn from_item<T: for<'de> Deserialize<'de>>(item: HashMap<String, AttributeValue>) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|_| StoreError::Unavailable(format!("an item does not match {}", std::any::type_name::<T>())))
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub struct Tables {
    pub voters: String,
    pub subscriptions: String,
    pub journeys: String,
    pub ledger: String,
    pub held: String,
    pub imb: String,
    /// Pending changes, counters and the contact index (`change#`, `count#`, `contact#` keys).
    pub access: Option<String>,
    /// Kept facts and sign-up marks (see kept_store.rs).
    pub kept: Option<String>,
}

/// The time, as the app sees it (the system clock, or a test's fixed clock).
pub type NowFn = std::sync::Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Where release schedules are created.
pub struct ReleaseScheduling {
    pub now: NowFn,
    pub client: aws_sdk_scheduler::Client,
    pub group: String,
    pub role_arn: String,
    pub target_arn: Option<String>,
    pub dlq_arn: Option<String>,
    /// Buckets this instance already scheduled: at most one CreateSchedule per bucket per instance.
    pub known: Mutex<BTreeSet<String>>,
}

pub struct DynamoStore {
    pub client: Client,
    pub tables: Tables,
    pub scheduling: ReleaseScheduling,
    /// The roster of signed-up voters and the facts kept since the last write.
    pub kept: crate::kept_store::KeptState,
    /// When each election's data expires (TTL), from the elections of the configuration last
    /// read (`App::config` renews it).
    pub expiry: std::sync::RwLock<std::sync::Arc<wmb_core::retention::Expiry>>,
}

impl DynamoStore {
    /// The expiry rules of the configuration last read.
    pub fn expiry(&self) -> std::sync::Arc<wmb_core::retention::Expiry> {
        self.expiry.read().map(|e| e.clone()).unwrap_or_default()
    }
}

impl DynamoStore {
    pub fn new(client: Client, s: &Settings, scheduler: aws_sdk_scheduler::Client) -> Self {
        DynamoStore {
            client,
            tables: Tables {
                voters: s.voters_table.clone(),
                subscriptions: s.subscriptions_table.clone(),
                journeys: s.journeys_table.clone(),
                ledger: s.ledger_table.clone(),
                held: s.held_table.clone(),
                imb: s.imb_table.clone(),
                access: s.access_table.clone(),
                kept: s.kept_table.clone(),
            },
            kept: crate::kept_store::KeptState::new(s.kept_shards),
            expiry: Default::default(),
            scheduling: ReleaseScheduling {
                now: std::sync::Arc::new(Utc::now),
                client: scheduler,
                group: s.schedule_group.clone(),
                role_arn: s.scheduler_role_arn.clone(),
                target_arn: s.release_function_arn.clone(),
                dlq_arn: s.release_dlq_arn.clone(),
                known: Mutex::new(BTreeSet::new()),
            },
        }
    }

    pub(crate) async fn get<T: for<'de> Deserialize<'de>>(&self, table: &str, key: HashMap<String, AttributeValue>) -> Result<Option<T>, StoreError> {
        let out = self.client.get_item().table_name(table).set_key(Some(key)).consistent_read(true).send().await.map_err(sdk_error)?;
        out.item.map(from_item).transpose()
    }

    /// Writes (puts or deletes), 25 to a request, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn write_all(&self, table: &str, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            for attempt in 0..8 {
                let out = self.client.batch_write_item().request_items(table, pending).send().await.map_err(sdk_error)?;
                pending = out.unprocessed_items.and_then(|mut m| m.remove(table)).unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            if !pending.is_empty() {
                return Err(unavailable(format!("{} writes left unprocessed after retries", pending.len())));
            }
        }
        Ok(())
    }

    /// A put request of an item.
    pub(crate) fn put_request<T: Serialize>(item: &T) -> Result<WriteRequest, StoreError> {
        Ok(WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(to_item(item)?)).build().map_err(unavailable)?).build())
    }

    /// An eventually consistent read (half a read unit per 4 KB).
    pub(crate) async fn get_recent<T: for<'de> Deserialize<'de>>(&self, table: &str, key: HashMap<String, AttributeValue>) -> Result<Option<T>, StoreError> {
        let out = self.client.get_item().table_name(table).set_key(Some(key)).consistent_read(false).send().await.map_err(sdk_error)?;
        out.item.map(from_item).transpose()
    }

}

impl VoterRoll for DynamoStore {
    /// Reads the batch back (eventually consistent, 100 keys a request: half a read unit a voter),
    /// then writes the changed voters 25 to a request.
    async fn put_voters(&self, voters: &[VoterRecord]) -> Result<usize, StoreError> {
        let mut latest: BTreeMap<&str, &VoterRecord> = BTreeMap::new();
        for v in voters {
            latest.insert(&v.votecal_id, v);
        }
        let latest: Vec<&VoterRecord> = latest.into_values().collect();
        let mut changed: Vec<&VoterRecord> = vec![];
        for chunk in latest.chunks(100) {
            let mut stored: HashMap<String, VoterRecord> = HashMap::new();
            let mut keys: Vec<HashMap<String, AttributeValue>> = chunk.iter().map(|v| HashMap::from([("pk".to_string(), s(&v.votecal_id))])).collect();
            for attempt in 0..8 {
                let ask = aws_sdk_dynamodb::types::KeysAndAttributes::builder().set_keys(Some(keys.clone())).build().map_err(unavailable)?;
                let out = self.client.batch_get_item().request_items(&self.tables.voters, ask).send().await.map_err(sdk_error)?;
                for item in out.responses.and_then(|mut r| r.remove(&self.tables.voters)).unwrap_or_default() {
                    let item: VoterItem = from_item(item)?;
                    stored.insert(item.pk, item.voter);
                }
                keys = out.unprocessed_keys.and_then(|mut u| u.remove(&self.tables.voters)).map(|k| k.keys).unwrap_or_default();
                if keys.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            if !keys.is_empty() {
                return Err(unavailable("the roll could not be read back after retries"));
            }
            changed.extend(chunk.iter().filter(|v| stored.get(&v.votecal_id) != Some(**v)));
        }
        let requests = changed
            .iter()
            .map(|v| Self::put_request(&VoterItem { pk: v.votecal_id.clone(), identity: IdentityKey::of_voter(v).0, voter: (*v).clone() }))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.write_all(&self.tables.voters, requests).await?;
        Ok(changed.len())
    }

    async fn put_voter(&self, voter: &VoterRecord) -> Result<(), StoreError> {
        let item = VoterItem { pk: voter.votecal_id.clone(), identity: IdentityKey::of_voter(voter).0, voter: voter.clone() };
        self.client.put_item().table_name(&self.tables.voters).set_item(Some(to_item(&item)?)).send().await.map_err(sdk_error)?;
        Ok(())
    }

    async fn voter(&self, id: &str) -> Result<Option<VoterRecord>, StoreError> {
        // The roll changes by uploads, days apart: a read a second stale is as good.
        let item: Option<VoterItem> = self.get_recent(&self.tables.voters, HashMap::from([("pk".into(), s(id))])).await?;
        Ok(item.map(|i| i.voter))
    }

    async fn voters_by_identity(&self, key: &IdentityKey) -> Result<Vec<VoterRecord>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.tables.voters)
            .index_name("identity")
            .key_condition_expression("identity = :k")
            .expression_attribute_values(":k", s(&key.0))
            .send()
            .await
            .map_err(sdk_error)?;
        out.items.unwrap_or_default().into_iter().map(|i| from_item::<VoterItem>(i).map(|v| v.voter)).collect()
    }
}

impl SubscriptionStore for DynamoStore {
    async fn put_subscription(&self, sub: &Subscription) -> Result<(), StoreError> {
        self.write_subscription(sub, None).await
    }

    async fn replace_subscription(&self, sub: &Subscription, base: Option<&Subscription>) -> Result<(), StoreError> {
        self.write_subscription(sub, Some(base)).await
    }

    async fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        let item: Option<SubscriptionItem> = self.get(&self.tables.subscriptions, HashMap::from([("pk".into(), s(id))])).await?;
        Ok(item.map(|i| Subscription { read_as: ReadAs(i.fp), ..i.subscription }))
    }
}

impl DynamoStore {
    /// Writes a subscription; with `base`, only while the item is still `*base`: its `fp` is still
    /// the one `base` was read with (none, for an item written before items carried one).
    async fn write_subscription(&self, sub: &Subscription, base: Option<Option<&Subscription>>) -> Result<(), StoreError> {
        // Marked as joined first: a file being read now adopts this voter's kept facts.
        self.mark_joined(&sub.votecal_id).await?;
        let item = SubscriptionItem { pk: sub.votecal_id.clone(), subscription: sub.clone(), expires_at: sub.erase_after.map(|t| t.timestamp()), fp: Some(fingerprint(sub)) };
        let mut put = self.client.put_item().table_name(&self.tables.subscriptions).set_item(Some(to_item(&item)?));
        put = match base {
            None => put,
            Some(None) => put.condition_expression("attribute_not_exists(pk)"),
            Some(Some(b)) => match &b.read_as.0 {
                Some(fp) => put.condition_expression("fp = :fp").expression_attribute_values(":fp", s(fp)),
                None => put.condition_expression("attribute_exists(pk) AND attribute_not_exists(fp)"),
            },
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict("the subscription changed meanwhile".into()))
            }
            Err(e) => Err(sdk_error(e)),
        }
    }
}

impl JourneyStore for DynamoStore {
    async fn recent_journey(&self, election_id: &str, votecal_id: &str) -> Result<Option<Versioned<BallotJourney>>, StoreError> {
        let key = HashMap::from([("pk".into(), s(votecal_id)), ("sk".into(), s(election_id))]);
        let item: Option<JourneyItem> = self.get_recent(&self.tables.journeys, key).await?;
        Ok(item.map(|i| Versioned { value: i.journey, version: i.version }))
    }

    async fn journey(&self, election_id: &str, votecal_id: &str) -> Result<Option<Versioned<BallotJourney>>, StoreError> {
        let key = HashMap::from([("pk".into(), s(votecal_id)), ("sk".into(), s(election_id))]);
        let item: Option<JourneyItem> = self.get(&self.tables.journeys, key).await?;
        Ok(item.map(|i| Versioned { value: i.journey, version: i.version }))
    }

    async fn put_journey(&self, journey: &BallotJourney, expected: Option<u64>, decided: usize) -> Result<u64, StoreError> {
        let version = expected.map_or(1, |v| v + 1);
        let expires_at = Some(self.expiry().of_election(&journey.election_id, self.now()).timestamp());
        let item = JourneyItem { pk: journey.votecal_id.clone(), sk: journey.election_id.clone(), version, decided: Some(decided as u64), journey: journey.clone(), expires_at };
        let mut put = self.client.put_item().table_name(&self.tables.journeys).set_item(Some(to_item(&item)?));
        put = match expected {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(v) => put.condition_expression("version = :v").expression_attribute_values(":v", n(v as i64)),
        };
        match put.send().await {
            Ok(_) => Ok(version),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict(format!("a journey in {} changed meanwhile", journey.election_id)))
            }
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn journeys_of_voter(&self, votecal_id: &str) -> Result<Vec<BallotJourney>, StoreError> {
        // Strongly consistent, as the kept facts are read: a catch-up right after a journey's
        // write (whose fan-out saw the subscription before this sign-up) must tell its news.
        let out = self
            .client
            .query()
            .table_name(&self.tables.journeys)
            .key_condition_expression("pk = :v")
            .expression_attribute_values(":v", s(votecal_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        out.items.unwrap_or_default().into_iter().map(|i| from_item::<JourneyItem>(i).map(|j| j.journey)).collect()
    }
}

impl ImbCrosswalk for DynamoStore {
    async fn put_mapping(&self, m: &ImbMapping, closed: &[&str]) -> Result<bool, StoreError> {
        let item = to_item(&ImbItem { pk: m.tracking.clone(), mapping: m.clone() })?;
        // Written if new, or the same county's; `county` and `election` name the mapping found.
        let put = |condition: &str, values: &[(&str, &str)]| {
            let mut put = self
                .client
                .put_item()
                .table_name(&self.tables.imb)
                .set_item(Some(item.clone()))
                .condition_expression(condition)
                .expression_attribute_names("#m", "mapping");
            for (name, value) in values {
                put = put.expression_attribute_values(*name, s(*value));
            }
            put.send()
        };
        let refused = |e: &aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError, _>| {
            e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception())
        };
        match put("attribute_not_exists(pk) OR #m.county = :county", &[(":county", &m.county.code())]).await {
            Ok(_) => return Ok(true),
            Err(e) if refused(&e) => {}
            Err(e) => return Err(sdk_error(e)),
        }
        // Another county's envelope: taken over only if its election is closed, and only as it
        // was read (a read and a second write, on a takeover alone).
        let Some(old) = self.mapping(&m.tracking).await? else { return Ok(false) };
        if !closed.contains(&old.election_id.as_str()) {
            return Ok(false);
        }
        let condition = "#m.county = :old_county AND #m.election_id = :old_election";
        match put(condition, &[(":old_county", &old.county.code()), (":old_election", &old.election_id)]).await {
            Ok(_) => Ok(true),
            Err(e) if refused(&e) => Ok(false),
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn mapping(&self, tracking: &str) -> Result<Option<ImbMapping>, StoreError> {
        let item: Option<ImbItem> = self.get(&self.tables.imb, HashMap::from([("pk".into(), s(tracking))])).await?;
        Ok(item.map(|i| i.mapping))
    }
}

/// A fingerprint of everything a subscription holds, stored with it (`fp`): a conditional write
/// checks the stored one against the one its writer read ([`ReadAs`]); it is never computed again
/// to compare, so a release that serializes differently changes nothing.
fn fingerprint(sub: &Subscription) -> String {
    let json = serde_json::to_vec(sub).expect("a subscription serializes");
    format!("{:016x}", wmb_core::notify::fnv1a(&json))
}

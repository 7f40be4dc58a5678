//! The store ports over DynamoDB. Items map through serde (serde_dynamo), one Rust type each.

use crate::settings::Settings;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use wmb_core::formats::VoterRecord;
use wmb_core::lifecycle::BallotJourney;
use wmb_core::notify::Notification;
use wmb_core::ports::*;
use wmb_core::signup::{IdentityKey, Subscription};
use wmb_core::usps::ImbMapping;

/// How long a ledger entry is kept (TTL): past the end of any tracking window.
const LEDGER_DAYS: i64 = 400;
/// A claim older than this is taken to belong to a worker that died: another may send.
const CLAIM_EXPIRY_SECONDS: i64 = 900;

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
}

/// A journey as the journeys table (and its stream) holds it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct JourneyItem {
    /// The VoteCal ID.
    pub pk: String,
    /// The election ID.
    pub sk: String,
    pub version: u64,
    pub journey: BallotJourney,
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
}

/// A held notification, filed under its release bucket (the minute it is due).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct HeldItem {
    pub pk: String,
    pub sk: String,
    pub notification: Notification,
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize)]
pub struct ImbItem {
    pub pk: String,
    pub mapping: ImbMapping,
}

/// The release bucket of a time: the minute at or after it, written `2026-10-21T15:00Z`.
pub fn release_bucket(at: DateTime<Utc>) -> String {
    let floor = at.duration_trunc(Duration::minutes(1)).unwrap_or(at);
    let minute = if floor < at { floor + Duration::minutes(1) } else { floor };
    minute.format("%Y-%m-%dT%H:%MZ").to_string()
}

pub fn parse_bucket(bucket: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(bucket, "%Y-%m-%dT%H:%MZ").ok().map(|n| n.and_utc())
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
            },
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

    /// Creates the one-time schedule that releases a bucket, unless it exists. Idempotent: a
    /// schedule's name is its bucket, and "already exists" is success.
    pub async fn ensure_schedule(&self, bucket: &str) -> Result<(), StoreError> {
        let sch = &self.scheduling;
        if sch.known.lock().map_err(unavailable)?.contains(bucket) {
            return Ok(());
        }
        let target_arn = sch
            .target_arn
            .as_deref()
            .ok_or_else(|| StoreError::Unavailable("RELEASE_FUNCTION_ARN is not set: this function cannot hold messages".into()))?;
        let at = parse_bucket(bucket).ok_or_else(|| unavailable(format!("bad bucket {bucket}")))?;
        let mut target = aws_sdk_scheduler::types::Target::builder()
            .arn(target_arn)
            .role_arn(&sch.role_arn)
            .input(serde_json::json!({ "bucket": bucket }).to_string())
            .retry_policy(aws_sdk_scheduler::types::RetryPolicy::builder().maximum_retry_attempts(185).maximum_event_age_in_seconds(86_400).build());
        if let Some(dlq) = &sch.dlq_arn {
            target = target.dead_letter_config(aws_sdk_scheduler::types::DeadLetterConfig::builder().arn(dlq).build());
        }
        let result = sch
            .client
            .create_schedule()
            .name(schedule_name(bucket))
            .group_name(&sch.group)
            .schedule_expression(format!("at({})", at.format("%Y-%m-%dT%H:%M:%S")))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(
                aws_sdk_scheduler::types::FlexibleTimeWindow::builder()
                    .mode(aws_sdk_scheduler::types::FlexibleTimeWindowMode::Off)
                    .build()
                    .map_err(unavailable)?,
            )
            .action_after_completion(aws_sdk_scheduler::types::ActionAfterCompletion::Delete)
            .target(target.build().map_err(unavailable)?)
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conflict_exception()) => {}
            Err(e) => return Err(StoreError::Unavailable(aws_sdk_scheduler::error::DisplayErrorContext(e).to_string())),
        }
        // Remember only buckets well in the future: near ones are re-created (or found to exist)
        // each time, so a schedule that already fired is never assumed to be pending.
        if at > (sch.now)() + Duration::minutes(2) {
            sch.known.lock().map_err(unavailable)?.insert(bucket.to_string());
        }
        Ok(())
    }

    /// Up to `limit` held notifications of one release bucket. The release function takes a
    /// page, queues it, deletes it and asks again, so a bucket of millions stays in flat memory.
    pub async fn held_page(&self, bucket: &str, limit: i32) -> Result<Vec<HeldItem>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.tables.held)
            .key_condition_expression("pk = :b")
            .expression_attribute_values(":b", s(bucket))
            .limit(limit)
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        page.items.unwrap_or_default().into_iter().map(from_item).collect()
    }

    /// Deletes held items, 25 to a request, retrying what DynamoDB leaves unprocessed.
    pub async fn forget_held(&self, items: &[HeldItem]) -> Result<(), StoreError> {
        for chunk in items.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|h| {
                    let key = HashMap::from([("pk".to_string(), s(&h.pk)), ("sk".to_string(), s(&h.sk))]);
                    WriteRequest::builder().delete_request(DeleteRequest::builder().set_key(Some(key)).build().expect("key set")).build()
                })
                .collect();
            for attempt in 0..8 {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.tables.held, requests.clone())
                    .send()
                    .await
                    .map_err(sdk_error)?;
                requests = out.unprocessed_items.and_then(|mut m| m.remove(&self.tables.held)).unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            if !requests.is_empty() {
                return Err(unavailable("held items left undeleted after retries"));
            }
        }
        Ok(())
    }
}

/// A schedule's name from its bucket (names allow letters, digits, '-', '_', '.').
pub fn schedule_name(bucket: &str) -> String {
    format!("release-{}", bucket.replace(':', ""))
}

impl VoterRoll for DynamoStore {
    async fn put_voter(&self, voter: &VoterRecord) -> Result<(), StoreError> {
        let item = VoterItem { pk: voter.votecal_id.clone(), identity: IdentityKey::of_voter(voter).0, voter: voter.clone() };
        self.client.put_item().table_name(&self.tables.voters).set_item(Some(to_item(&item)?)).send().await.map_err(sdk_error)?;
        Ok(())
    }

    async fn voter(&self, id: &str) -> Result<Option<VoterRecord>, StoreError> {
        let item: Option<VoterItem> = self.get(&self.tables.voters, HashMap::from([("pk".into(), s(id))])).await?;
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
        let item = SubscriptionItem { pk: sub.votecal_id.clone(), subscription: sub.clone(), expires_at: sub.erase_after.map(|t| t.timestamp()) };
        self.client.put_item().table_name(&self.tables.subscriptions).set_item(Some(to_item(&item)?)).send().await.map_err(sdk_error)?;
        Ok(())
    }

    async fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        let item: Option<SubscriptionItem> = self.get(&self.tables.subscriptions, HashMap::from([("pk".into(), s(id))])).await?;
        Ok(item.map(|i| i.subscription))
    }
}

impl JourneyStore for DynamoStore {
    async fn journey(&self, election_id: &str, votecal_id: &str) -> Result<Option<Versioned<BallotJourney>>, StoreError> {
        let key = HashMap::from([("pk".into(), s(votecal_id)), ("sk".into(), s(election_id))]);
        let item: Option<JourneyItem> = self.get(&self.tables.journeys, key).await?;
        Ok(item.map(|i| Versioned { value: i.journey, version: i.version }))
    }

    async fn put_journey(&self, journey: &BallotJourney, expected: Option<u64>) -> Result<u64, StoreError> {
        let version = expected.map_or(1, |v| v + 1);
        let item = JourneyItem { pk: journey.votecal_id.clone(), sk: journey.election_id.clone(), version, journey: journey.clone() };
        let mut put = self.client.put_item().table_name(&self.tables.journeys).set_item(Some(to_item(&item)?));
        put = match expected {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(v) => put.condition_expression("version = :v").expression_attribute_values(":v", n(v as i64)),
        };
        match put.send().await {
            Ok(_) => Ok(version),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict(format!("journey {}/{}", journey.election_id, journey.votecal_id)))
            }
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn journeys_of_voter(&self, votecal_id: &str) -> Result<Vec<BallotJourney>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.tables.journeys)
            .key_condition_expression("pk = :v")
            .expression_attribute_values(":v", s(votecal_id))
            .send()
            .await
            .map_err(sdk_error)?;
        out.items.unwrap_or_default().into_iter().map(|i| from_item::<JourneyItem>(i).map(|j| j.journey)).collect()
    }
}

impl MessageLedger for DynamoStore {
    async fn claim(&self, key: &str, now: DateTime<Utc>) -> Result<Claim, StoreError> {
        let item = LedgerItem {
            pk: key.to_string(),
            state: "claimed".into(),
            claimed_at: now.timestamp(),
            outcome: None,
            expires_at: (now + Duration::days(LEDGER_DAYS)).timestamp(),
        };
        let put = self
            .client
            .put_item()
            .table_name(&self.tables.ledger)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk) OR (#s = :claimed AND claimed_at < :stale)")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":stale", n(now.timestamp() - CLAIM_EXPIRY_SECONDS))
            .send()
            .await;
        match put {
            Ok(_) => Ok(Claim::Claimed),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                let existing: Option<LedgerItem> = self.get(&self.tables.ledger, HashMap::from([("pk".into(), s(key))])).await?;
                Ok(match existing {
                    Some(i) if i.state == "done" => Claim::Done,
                    _ => Claim::InProgress,
                })
            }
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn complete(&self, key: &str, outcome: &DeliveryOutcome) -> Result<(), StoreError> {
        let value = serde_dynamo::to_attribute_value(outcome).map_err(unavailable)?;
        self.client
            .update_item()
            .table_name(&self.tables.ledger)
            .key("pk", s(key))
            .update_expression("SET #s = :done, outcome = :o")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":o", value)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.tables.ledger)
            .key("pk", s(key))
            .condition_expression("#s = :claimed")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":claimed", s("claimed"))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(sdk_error(e)),
        }
    }
}

impl HoldQueue for DynamoStore {
    async fn hold(&self, n: &Notification) -> Result<(), StoreError> {
        let bucket = release_bucket(n.release_at);
        let item = HeldItem {
            pk: bucket.clone(),
            sk: format!("{}#{}", n.key, n.attempts),
            notification: n.clone(),
            expires_at: (n.release_at + Duration::days(30)).timestamp(),
        };
        self.client.put_item().table_name(&self.tables.held).set_item(Some(to_item(&item)?)).send().await.map_err(sdk_error)?;
        self.ensure_schedule(&bucket).await
    }

    /// Every bucket due at `now` (a scan: for tests and operators; the release function reads
    /// the one bucket its schedule names).
    async fn take_due(&self, now: DateTime<Utc>) -> Result<Vec<Notification>, StoreError> {
        let mut due: Vec<HeldItem> = vec![];
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.tables.held)
                .filter_expression("pk <= :now")
                .expression_attribute_values(":now", s(now.format("%Y-%m-%dT%H:%MZ").to_string()))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(sdk_error)?;
            for item in page.items.unwrap_or_default() {
                due.push(from_item(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        self.forget_held(&due).await?;
        let mut out: Vec<Notification> = due.into_iter().map(|h| h.notification).collect();
        out.sort_by(|a, b| a.release_at.cmp(&b.release_at).then(a.key.cmp(&b.key)));
        Ok(out)
    }

    async fn next_release(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let page = self.client.scan().table_name(&self.tables.held).consistent_read(true).send().await.map_err(sdk_error)?;
        let mut times: Vec<DateTime<Utc>> = vec![];
        for item in page.items.unwrap_or_default() {
            times.push(from_item::<HeldItem>(item)?.notification.release_at);
        }
        Ok(times.into_iter().min())
    }
}

impl ImbCrosswalk for DynamoStore {
    async fn put_mapping(&self, m: &ImbMapping) -> Result<(), StoreError> {
        let item = ImbItem { pk: m.tracking.clone(), mapping: m.clone() };
        self.client.put_item().table_name(&self.tables.imb).set_item(Some(to_item(&item)?)).send().await.map_err(sdk_error)?;
        Ok(())
    }

    async fn mapping(&self, tracking: &str) -> Result<Option<ImbMapping>, StoreError> {
        let item: Option<ImbItem> = self.get(&self.tables.imb, HashMap::from([("pk".into(), s(tracking))])).await?;
        Ok(item.map(|i| i.mapping))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_bucket_is_the_minute_at_or_after_the_release_time() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(release_bucket(t("2026-10-21T08:00:00-07:00")), "2026-10-21T15:00Z");
        assert_eq!(release_bucket(t("2026-10-21T08:00:01-07:00")), "2026-10-21T15:01Z");
        assert_eq!(parse_bucket("2026-10-21T15:01Z"), Some(t("2026-10-21T15:01:00Z")));
        assert_eq!(schedule_name("2026-10-21T15:01Z"), "release-2026-10-21T1501Z");
    }
}

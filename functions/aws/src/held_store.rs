//! Held notifications (quiet hours, tracking start, settling, retries) and their release.
//!
//! A held notification is filed under its release bucket (the minute it is due) and one of
//! [`HOLD_SHARDS`] shards of that minute, by its key: the 08:00 morning release of a million
//! messages is written to 32 partitions, not one (a partition takes about 1,000 writes a
//! second). One EventBridge Scheduler schedule per minute releases every shard of it, and
//! exists only while something is held for that minute: nothing polls an empty table.
//!
//! A notification is never filed in a minute less than [`HOLD_LEAD_MINUTES`] ahead, so every
//! bucket is complete well before its schedule fires (a retry due in 60 seconds goes out in at
//! most three minutes). The sweep (`{"sweep_minutes": N}`) remains for operators.

use crate::dynamo::{from_item, s, sdk_error, to_item, unavailable, DynamoStore};
use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use wmb_core::notify::Notification;
use wmb_core::ports::*;

/// Shards of each release minute.
pub const HOLD_SHARDS: u32 = 32;
/// The nearest bucket a notification is filed in, in minutes from now.
pub const HOLD_LEAD_MINUTES: i64 = 2;

/// A held notification, filed under its release bucket (the minute it is due).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct HeldItem {
    pub pk: String,
    pub sk: String,
    pub notification: Notification,
    pub expires_at: i64,
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

/// The partition key of a bucket's shard: `2026-10-21T15:00Z#07`.
pub fn held_key(bucket: &str, shard: u32) -> String {
    format!("{bucket}#{shard:02}")
}

/// Every partition key a bucket's notifications may be held under: its shards, and the bare
/// minute (where notifications held before shards existed wait).
pub fn keys_of_bucket(bucket: &str) -> Vec<String> {
    (0..HOLD_SHARDS).map(|shard| held_key(bucket, shard)).chain([bucket.to_string()]).collect()
}

/// The shard a notification is held in.
pub fn hold_shard(key: &str) -> u32 {
    wmb_core::kept::shard(key, HOLD_SHARDS)
}

/// A schedule's name from its bucket (names allow letters, digits, '-', '_', '.').
pub fn schedule_name(bucket: &str) -> String {
    format!("release-{}", bucket.replace(':', ""))
}

impl DynamoStore {
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

    /// Up to `limit` held notifications of one shard of a release bucket (its partition key, see
    /// [`held_key`]). The release function takes a page, queues it, deletes it and asks again, so
    /// a bucket of millions stays in flat memory.
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

    /// Deletes held items (25 to a request).
    pub async fn forget_held(&self, items: &[HeldItem]) -> Result<(), StoreError> {
        let requests = items
            .iter()
            .map(|h| {
                let key = HashMap::from([("pk".to_string(), s(&h.pk)), ("sk".to_string(), s(&h.sk))]);
                Ok(WriteRequest::builder().delete_request(DeleteRequest::builder().set_key(Some(key)).build().map_err(unavailable)?).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.write_all(&self.tables.held, requests).await
    }
}

impl HoldQueue for DynamoStore {
    async fn hold(&self, n: &Notification) -> Result<(), StoreError> {
        loop {
            // Never in a minute whose schedule may be firing already.
            let earliest = (self.scheduling.now)() + Duration::minutes(HOLD_LEAD_MINUTES);
            let bucket = release_bucket(n.release_at.max(earliest));
            let item = HeldItem {
                pk: held_key(&bucket, hold_shard(&n.key)),
                sk: format!("{}#{}", n.key, n.tries()),
                notification: n.clone(),
                expires_at: (n.release_at + Duration::days(30)).timestamp(),
            };
            self.client.put_item().table_name(&self.tables.held).set_item(Some(to_item(&item)?)).send().await.map_err(sdk_error)?;
            self.ensure_schedule(&bucket).await?;
            // Written well before its minute: the minute's schedule finds it. A write slowed by
            // throttling past that holds it again, later (should both copies go out, the ledger
            // sends one).
            let due = parse_bucket(&bucket).ok_or_else(|| unavailable(format!("bad bucket {bucket}")))?;
            if (self.scheduling.now)() + Duration::minutes(1) <= due {
                return Ok(());
            }
        }
    }

    /// Every bucket due at `now` (a scan: for tests and operators; the release function reads
    /// the one bucket its schedule names).
    async fn take_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Notification>, StoreError> {
        let items = self
            .client
            .scan()
            .table_name(&self.tables.held)
            .filter_expression("pk <= :now")
            // Every shard of every minute up to now ('~' sorts after the shard digits).
            .expression_attribute_values(":now", s(format!("{}#~", now.format("%Y-%m-%dT%H:%MZ"))))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error)?;
        let mut due: Vec<HeldItem> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        due.sort_by(|a, b| a.notification.release_at.cmp(&b.notification.release_at).then(a.notification.key.cmp(&b.notification.key)));
        due.truncate(limit);
        self.forget_held(&due).await?;
        let out: Vec<Notification> = due.into_iter().map(|h| h.notification).collect();
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

//! Pending changes, abuse counters and the contact index over DynamoDB: one table (ACCESS_TABLE)
//! whose keys say what an item is (`change#…`, `count#…`, `contact#…`), with a TTL on
//! `expires_at`. Counters and the contact limit are single conditional updates, so they hold
//! across every Lambda instance.

use crate::dynamo::{n, s, sdk_error, to_item, unavailable, DynamoStore};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use wmb_core::access::PendingChange;
use wmb_core::ports::*;

/// A pending change as stored (its codes only as hashes).
#[derive(Serialize, Deserialize)]
pub struct ChangeItem {
    pub pk: String,
    pub version: u64,
    pub change: PendingChange,
    pub expires_at: i64,
}

impl DynamoStore {
    fn access_table(&self) -> Result<&str, StoreError> {
        self.tables.access.as_deref().ok_or_else(|| StoreError::Unavailable("ACCESS_TABLE is not set: this function cannot handle sign-ups or opt-outs".into()))
    }

    fn key(pk: String) -> HashMap<String, AttributeValue> {
        HashMap::from([("pk".to_string(), s(pk))])
    }

    /// Sets a contact's time attribute to `at_ms` unless it holds a later time already: the
    /// latest STOP's (or START's) time stands, and one handled late does not move it back.
    async fn latest_time(&self, name: &str, attribute: &str, at_ms: i64) -> Result<(), StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(self.access_table()?)
            .set_key(Some(Self::key(format!("contact#{name}"))))
            .update_expression("SET #t = :t")
            .condition_expression("attribute_not_exists(#t) OR #t < :t")
            .expression_attribute_names("#t", attribute)
            .expression_attribute_values(":t", AttributeValue::N(at_ms.to_string()))
            .send()
            .await;
        match update {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error(e)),
        }
    }
}

fn conditional_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &aws_sdk_dynamodb::error::SdkError<E, aws_smithy_runtime_api::http::Response>) -> bool {
    e.as_service_error().and_then(|se| se.code()) == Some("ConditionalCheckFailedException")
}

impl PendingChanges for DynamoStore {
    async fn change(&self, id: &str) -> Result<Option<Versioned<PendingChange>>, StoreError> {
        let item: Option<ChangeItem> = self.get(self.access_table()?, Self::key(format!("change#{id}"))).await?;
        Ok(item.map(|i| Versioned { value: i.change, version: i.version }))
    }

    async fn put_change(&self, change: &PendingChange, expected: Option<u64>) -> Result<u64, StoreError> {
        let version = expected.map_or(1, |v| v + 1);
        // Kept a day past the codes' expiry: a late code is answered "expired", not "unknown".
        let item = ChangeItem { pk: format!("change#{}", change.id), version, change: change.clone(), expires_at: (change.expires_at + Duration::days(1)).timestamp() };
        let mut put = self.client.put_item().table_name(self.access_table()?).set_item(Some(to_item(&item)?));
        put = match expected {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(v) => put.condition_expression("version = :v").expression_attribute_values(":v", n(v as i64)),
        };
        match put.send().await {
            Ok(_) => Ok(version),
            Err(e) if conditional_failed(&e) => Err(StoreError::Conflict("a pending change".into())),
            Err(e) => Err(sdk_error(e)),
        }
    }
}

impl Counters for DynamoStore {
    async fn bump(&self, key: &str, expires_at: DateTime<Utc>) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(self.access_table()?)
            .set_key(Some(Self::key(format!("count#{key}"))))
            .update_expression("ADD n :one SET expires_at = if_not_exists(expires_at, :exp)")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":exp", n(expires_at.timestamp()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(sdk_error)?;
        match out.attributes.as_ref().and_then(|a| a.get("n")) {
            Some(AttributeValue::N(v)) => v.parse().map_err(unavailable),
            _ => Err(unavailable("a counter update returned no count")),
        }
    }

    async fn count(&self, key: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct CounterItem {
            n: u64,
            expires_at: i64,
        }
        let item: Option<CounterItem> = self.get(self.access_table()?, Self::key(format!("count#{key}"))).await?;
        // TTL deletes lag: an expired counter counts nothing.
        Ok(item.filter(|i| i.expires_at > now.timestamp()).map_or(0, |i| i.n))
    }
}

/// The contact index's item: `voters` and `stops` are string sets, so adding and removing are
/// atomic.
fn entry_of(item: &HashMap<String, AttributeValue>) -> ContactEntry {
    let set = |name: &str| match item.get(name) {
        Some(AttributeValue::Ss(v)) => v.clone(),
        _ => vec![],
    };
    let voters = set("voters");
    // (`sms_stopped`: the attribute's name before email addresses could be stopped too.)
    let stopped = ["stopped", "sms_stopped"].iter().any(|a| matches!(item.get(*a), Some(AttributeValue::Bool(true))));
    let time = |name: &str| match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    };
    ContactEntry { voters, stopped, stops: set("stops"), stop_sent_at: time("stop_sent_at"), start_sent_at: time("start_sent_at") }
}

impl ContactIndex for DynamoStore {
    async fn contact(&self, name: &str) -> Result<ContactEntry, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.access_table()?)
            .set_key(Some(Self::key(format!("contact#{name}"))))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(out.item.as_ref().map(entry_of).unwrap_or_default())
    }

    async fn link_contact(&self, name: &str, votecal_id: &str, max: usize) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(self.access_table()?)
            .set_key(Some(Self::key(format!("contact#{name}"))))
            .update_expression("ADD voters :v")
            .condition_expression("attribute_not_exists(voters) OR size(voters) < :max OR contains(voters, :id)")
            .expression_attribute_values(":v", AttributeValue::Ss(vec![votecal_id.to_string()]))
            .expression_attribute_values(":id", s(votecal_id))
            .expression_attribute_values(":max", n(max.min(i64::MAX as usize) as i64))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn unlink_contact(&self, name: &str, votecal_id: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(self.access_table()?)
            .set_key(Some(Self::key(format!("contact#{name}"))))
            .update_expression("DELETE voters :v")
            .expression_attribute_values(":v", AttributeValue::Ss(vec![votecal_id.to_string()]))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    async fn set_stopped(&self, name: &str, stopped: bool) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(self.access_table()?)
            .set_key(Some(Self::key(format!("contact#{name}"))))
            .update_expression("SET stopped = :b REMOVE sms_stopped")
            .expression_attribute_values(":b", AttributeValue::Bool(stopped))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    async fn stop_sent_at(&self, name: &str, at_ms: i64) -> Result<(), StoreError> {
        self.latest_time(name, "stop_sent_at", at_ms).await
    }

    async fn start_sent_at(&self, name: &str, at_ms: i64) -> Result<(), StoreError> {
        self.latest_time(name, "start_sent_at", at_ms).await
    }

    async fn mark_stop(&self, name: &str, mark: &str, stopped: bool) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(self.access_table()?)
            .set_key(Some(Self::key(format!("contact#{name}"))))
            .update_expression(if stopped { "ADD stops :m" } else { "DELETE stops :m" })
            .expression_attribute_values(":m", AttributeValue::Ss(vec![mark.to_string()]))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_item_reads_its_voters_and_stop() {
        let item = HashMap::from([
            ("voters".to_string(), AttributeValue::Ss(vec!["CA1".into(), "CA2".into()])),
            ("sms_stopped".to_string(), AttributeValue::Bool(true)),
            ("stops".to_string(), AttributeValue::Ss(vec!["5e1f".into()])),
        ]);
        assert_eq!(entry_of(&item), ContactEntry { voters: vec!["CA1".into(), "CA2".into()], stopped: true, stops: vec!["5e1f".into()], stop_sent_at: None, start_sent_at: None });
        assert_eq!(entry_of(&HashMap::new()), ContactEntry::default());
        let stopped_at = HashMap::from([("stopped".to_string(), AttributeValue::Bool(true)), ("stop_sent_at".to_string(), AttributeValue::N("1791320400000".into()))]);
        assert_eq!(entry_of(&stopped_at).stop_sent_at, Some(1_791_320_400_000));
        let started_at = HashMap::from([("start_sent_at".to_string(), AttributeValue::N("1791324000000".into()))]);
        assert_eq!((entry_of(&started_at).start_sent_at, entry_of(&started_at).stop_sent_at), (Some(1_791_324_000_000), None));
    }
}

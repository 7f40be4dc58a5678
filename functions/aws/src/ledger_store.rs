//! The message ledger over DynamoDB: a claim before each send, its outcome after, and the
//! delivery receipt the provider reports (found by its key, or a text's by the provider's id).

use crate::dynamo::{n, s, sdk_error, to_item, unavailable, DynamoStore, LedgerItem, BY_PROVIDER_INDEX, CLAIM_EXPIRY_SECONDS};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use wmb_core::ports::*;

impl wmb_core::ports::ReceiptLedger for DynamoStore {
    async fn sent_key(&self, provider_id: &str) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.tables.ledger)
            .index_name(BY_PROVIDER_INDEX)
            .key_condition_expression("provider_id = :p")
            .expression_attribute_values(":p", s(provider_id))
            .limit(1)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(out.items.unwrap_or_default().into_iter().next().and_then(|i| i.get("pk").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn record_delivery(&self, key: &str, provider_id: &str, delivery: &wmb_core::receipts::Delivery) -> Result<Recorded, StoreError> {
        let value = serde_dynamo::to_attribute_value(delivery).map_err(unavailable)?;
        let update = self
            .client
            .update_item()
            .table_name(&self.tables.ledger)
            .key("pk", s(key))
            .update_expression("SET receipt = :r")
            // Only a message sent under this provider id: a key read from a receipt is checked
            // against the send it names.
            .condition_expression("#o.#p = :p AND (attribute_not_exists(receipt) OR receipt <> :r)")
            .expression_attribute_names("#o", "outcome")
            .expression_attribute_names("#p", "provider_id")
            .expression_attribute_values(":p", s(provider_id))
            .expression_attribute_values(":r", value)
            // The record as it was (no extra capacity): what the county's summary counts it as.
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        match update {
            Ok(out) => {
                let old: Option<LedgerItem> = out.attributes.map(serde_dynamo::from_item).transpose().map_err(unavailable)?;
                Ok(Recorded::New(old.and_then(|i| i.outcome).and_then(|o| o.tag())))
            }
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                // The same receipt again, or no such send (rare: one read to tell them apart).
                Ok(match self.ledger_item(key).await? {
                    Some(i) if i.outcome.as_ref().is_some_and(|o| o.sent_as(provider_id)) => Recorded::Again,
                    _ => Recorded::Unknown,
                })
            }
            Err(e) => Err(sdk_error(e)),
        }
    }
}

impl DynamoStore {
    /// A message's ledger record, read strongly (after a conditional write failed, to tell why).
    async fn ledger_item(&self, key: &str) -> Result<Option<LedgerItem>, StoreError> {
        self.get(&self.tables.ledger, HashMap::from([("pk".into(), s(key))])).await
    }
}

impl MessageLedger for DynamoStore {
    async fn claim(&self, key: &str, now: DateTime<Utc>) -> Result<Claim, StoreError> {
        let item = LedgerItem {
            pk: key.to_string(),
            state: "claimed".into(),
            claimed_at: now.timestamp(),
            outcome: None,
            expires_at: self.expiry().of_message(key, now).timestamp(),
            provider_id: None,
            receipt: None,
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
                Ok(match self.ledger_item(key).await? {
                    Some(i) if i.state == "done" => Claim::Done,
                    _ => Claim::InProgress,
                })
            }
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn complete(&self, key: &str, outcome: &DeliveryOutcome) -> Result<(), StoreError> {
        let value = serde_dynamo::to_attribute_value(outcome).map_err(unavailable)?;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.ledger)
            .key("pk", s(key))
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":o", value);
        // A sent text is indexed by the provider's id, for its delivery receipt (an email's
        // receipt names it by its tag; no receipts of calls are read).
        update = match outcome {
            DeliveryOutcome::Sent { provider_id, indexed: true, .. } if !provider_id.is_empty() => {
                update.update_expression("SET #s = :done, outcome = :o, provider_id = :p").expression_attribute_values(":p", s(provider_id))
            }
            _ => update.update_expression("SET #s = :done, outcome = :o"),
        };
        update.send().await.map_err(sdk_error)?;
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

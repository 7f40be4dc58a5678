//! The event sources as Lambda runs them against moto: a DynamoDB stream read the way the event
//! source mapping reads it, and a queue drained into Lambda's SQS event batches.

use crate::harness::{repo_path, BoxError};
use std::collections::HashMap;

/// Reads a DynamoDB stream the way Lambda's event source mapping does, and shapes the records
/// as Lambda's event (events/lambda/dynamodb-stream.json).
pub struct StreamReader {
    client: aws_sdk_dynamodbstreams::Client,
    arn: String,
    iterators: HashMap<String, Option<String>>,
}

impl StreamReader {
    pub async fn new(sdk: &aws_config::SdkConfig, table: &str) -> Result<StreamReader, BoxError> {
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        let arn = ddb.describe_table().table_name(table).send().await?.table.and_then(|t| t.latest_stream_arn).ok_or("no stream")?;
        Ok(StreamReader { client: aws_sdk_dynamodbstreams::Client::new(sdk), arn, iterators: HashMap::new() })
    }

    /// Every record written since the last call, as Lambda event records.
    pub async fn read(&mut self) -> Result<Vec<serde_json::Value>, BoxError> {
        let shards = self.client.describe_stream().stream_arn(&self.arn).send().await?.stream_description.and_then(|d| d.shards).unwrap_or_default();
        let mut out = vec![];
        for shard in shards {
            let id = shard.shard_id.unwrap_or_default();
            if !self.iterators.contains_key(&id) {
                let it = self
                    .client
                    .get_shard_iterator()
                    .stream_arn(&self.arn)
                    .shard_id(&id)
                    .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
                    .send()
                    .await?
                    .shard_iterator;
                self.iterators.insert(id.clone(), it);
            }
            while let Some(iterator) = self.iterators.get(&id).cloned().flatten() {
                let page = self.client.get_records().shard_iterator(iterator).send().await?;
                let records = page.records.unwrap_or_default();
                let empty = records.is_empty();
                for r in records {
                    out.push(lambda_record(r)?);
                }
                self.iterators.insert(id.clone(), page.next_shard_iterator);
                if empty {
                    break;
                }
            }
        }
        Ok(out)
    }
}

fn image(item: Option<HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>) -> Result<serde_json::Value, BoxError> {
    match item {
        None => Ok(serde_json::json!({})),
        Some(item) => {
            let item: serde_dynamo::Item = item.into();
            Ok(serde_json::to_value(item)?)
        }
    }
}

fn lambda_record(r: aws_sdk_dynamodbstreams::types::Record) -> Result<serde_json::Value, BoxError> {
    let change = r.dynamodb.ok_or("a stream record without its change")?;
    let template: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(repo_path("events/lambda/dynamodb-stream.json"))?)?;
    let mut record = template["Records"][0].clone();
    record["eventID"] = r.event_id.unwrap_or_default().into();
    record["eventName"] = r.event_name.map(|n| n.as_str().to_string()).unwrap_or_default().into();
    record["dynamodb"]["NewImage"] = image(change.new_image)?;
    record["dynamodb"]["OldImage"] = image(change.old_image)?;
    record["dynamodb"]["Keys"] = image(change.keys)?;
    record["dynamodb"]["SequenceNumber"] = change.sequence_number.unwrap_or_default().into();
    Ok(record)
}

/// Everything on a queue now, as Lambda's SQS event batches (10 a batch), with receipt handles.
pub async fn receive_all(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<Vec<(serde_json::Value, Vec<(String, String)>)>, BoxError> {
    let template: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(repo_path("events/lambda/sqs-notification.json"))?)?;
    let mut batches = vec![];
    loop {
        let out = sqs.receive_message().queue_url(url).max_number_of_messages(10).visibility_timeout(300).send().await?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(batches);
        }
        let mut records = vec![];
        let mut handles = vec![];
        for m in messages {
            let mut record = template["Records"][0].clone();
            record["messageId"] = m.message_id.clone().unwrap_or_default().into();
            record["receiptHandle"] = m.receipt_handle.clone().unwrap_or_default().into();
            record["body"] = m.body.clone().unwrap_or_default().into();
            records.push(record);
            handles.push((m.message_id.unwrap_or_default(), m.receipt_handle.unwrap_or_default()));
        }
        batches.push((serde_json::json!({ "Records": records }), handles));
    }
}

pub use crate::logs;
pub use crate::schedules::{due_schedules, next_schedule};

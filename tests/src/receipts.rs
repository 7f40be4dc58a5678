//! Delivery receipts as the providers send them: SES's events through its SNS topic (with the
//! tags each email was sent with) and SNS's SMS delivery status logs through a CloudWatch Logs
//! subscription (gzip, then base64).

use crate::world::World;
use aws_lambda_events::event::cloudwatch_logs::{LogEntry, LogsEvent};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};

/// An SNS event carrying one SES event (SNS hands Lambda one message at a time).
pub fn ses_event(message: &Value) -> Value {
    json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:us-west-2:123456789012:wmb-receipts:1",
        "Sns": {"Type": "Notification", "MessageId": "1", "TopicArn": "arn:aws:sns:us-west-2:123456789012:wmb-receipts", "Message": message.to_string(),
            "Timestamp": "2026-10-06T19:00:06.000Z", "SignatureVersion": "1", "Signature": "EXAMPLE", "SigningCertUrl": "https://sns.example/cert.pem",
            "UnsubscribeUrl": "https://sns.example/unsubscribe", "MessageAttributes": {}}}]})
}

/// A CloudWatch Logs subscription's event carrying SNS's SMS delivery status lines.
pub fn sms_status_logs(lines: &[Value], at_millis: i64) -> Value {
    let mut logs = LogsEvent::default();
    logs.aws_logs.data.log_group = "sns/us-east-1/123456789012/DirectPublishToPhoneNumber".into();
    logs.aws_logs.data.message_type = "DATA_MESSAGE".into();
    logs.aws_logs.data.log_events = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut entry = LogEntry::default();
            entry.id = i.to_string();
            entry.timestamp = at_millis;
            entry.message = line.to_string();
            entry
        })
        .collect();
    let mut logs = serde_json::to_value(&logs).unwrap();
    // As CloudWatch Logs delivers it: base64 with its padding (the event type's own serializer
    // leaves the padding off, which its decoder, like Lambda's real events, expects).
    let mut data = logs["awslogs"]["data"].as_str().unwrap().to_string();
    while data.len() % 4 != 0 {
        data.push('=');
    }
    logs["awslogs"]["data"] = data.into();
    logs
}

/// One SMS delivery status line as SNS logs it.
pub fn sms_status(provider_id: &str, to: &str, delivered: bool, response: &str) -> Value {
    json!({"notification": {"messageId": provider_id, "timestamp": "2026-10-06 19:00:00.000"},
        "delivery": {"destination": to, "providerResponse": response, "smsType": "Transactional"},
        "status": if delivered { "SUCCESS" } else { "FAILURE" }})
}

/// Every text and email the ledger records as sent: (ledger key, channel, the provider's id).
/// Read with the test's own requests (a caller that bills the functions resets the count after).
pub async fn sent_texts_and_emails(world: &World) -> Vec<(String, String, String)> {
    let items: Vec<_> = world.app.store.client.scan().table_name(&world.app.settings.ledger_table).into_paginator().items().send().try_collect().await.unwrap();
    items
        .into_iter()
        .filter_map(|item| {
            let key = item.get("pk")?.as_s().ok()?.clone();
            let outcome = item.get("outcome")?.as_m().ok()?;
            (outcome.get("outcome")?.as_s().ok()? == "sent").then_some(())?;
            let id = outcome.get("provider_id")?.as_s().ok()?.clone();
            let channel = key.rsplit('#').next()?.to_string();
            matches!(channel.as_str(), "sms" | "email").then_some((key, channel, id))
        })
        .collect()
}

/// Each of those messages delivered, as the providers report it: SES's Delivery event with the
/// email's tags (one SNS message each), SNS's SUCCESS lines for texts (50 to a log batch). The
/// addresses are stand-ins: a delivery's receipt uses no address.
pub async fn all_delivered(world: &World, sent: &[(String, String, String)]) {
    let receipts = |event: Value| crate::permissions::acting("ReceiptsFunction", wmb_aws::handlers::receipts::handle(&world.app, LambdaEvent::new(event, Context::default())));
    let mut texts = vec![];
    for (key, channel, id) in sent {
        if channel == "email" {
            let mut tags = json!({"ses:configuration-set": ["wmb-email"]});
            if let Some(tag) = wmb_core::receipts::key_tag(key) {
                tags[wmb_core::receipts::KEY_TAG] = json!([tag]);
            }
            let ses = json!({"eventType": "Delivery", "mail": {"messageId": id, "destination": ["voter@example.com"], "tags": tags}, "delivery": {"recipients": ["voter@example.com"]}});
            receipts(ses_event(&ses)).await.unwrap();
        } else {
            texts.push(sms_status(id, "+14155550100", true, "Message has been accepted by phone carrier"));
        }
    }
    for batch in texts.chunks(50) {
        receipts(sms_status_logs(batch, world.app.now().timestamp_millis())).await.unwrap();
    }
}

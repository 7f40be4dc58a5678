//! Delivery receipts: SES's events (delivery, bounce, complaint; published by the configuration
//! set to an SNS topic) and SNS's SMS delivery status logs (a CloudWatch Logs subscription),
//! translated into [`Receipt`]s for the core. Addresses in them are used to find whose contact
//! it is and are never logged; what is logged and counted is the kind of outcome.

use crate::app::{App, BoxError, NoSends};
use crate::metrics::count;
use aws_lambda_events::event::cloudwatch_logs::LogsEvent;
use aws_lambda_events::event::sns::SnsEvent;
use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use wmb_core::receipts::{Receipt, ReceiptOutcome};
use wmb_core::status::Channel;

/// The receipts in one SES event (as SES publishes it to SNS): one per recipient.
pub fn ses_receipts(message: &str, now: DateTime<Utc>) -> Vec<Receipt> {
    let Ok(e) = serde_json::from_str::<Value>(message) else { return vec![] };
    let kind = e["eventType"].as_str().or(e["notificationType"].as_str()).unwrap_or_default();
    let Some(id) = e["mail"]["messageId"].as_str() else { return vec![] };
    // The ledger key the email was tagged with (SES returns each tag as a list of values; the
    // ledger records a receipt only against a send under SES's id, whatever the tag says).
    let key = e["mail"]["tags"][wmb_core::receipts::KEY_TAG][0].as_str().and_then(wmb_core::receipts::key_from_tag);
    // When SES says it happened (the same event delivered again is the same receipt), else when
    // the email was sent, else now.
    let stamp = |v: &Value| v.as_str().and_then(|t| wmb_core::time::parse_rfc3339(t.as_bytes()));
    let at = stamp(&e[kind.to_ascii_lowercase()]["timestamp"]).or_else(|| stamp(&e["mail"]["timestamp"])).unwrap_or(now);
    let receipt = |address: &str, outcome: ReceiptOutcome| Receipt { channel: Channel::Email, provider_id: id.to_string(), key: key.clone(), address: address.to_string(), outcome, at };
    let addresses = |list: &Value, field: Option<&str>| -> Vec<String> {
        list.as_array().into_iter().flatten().filter_map(|r| field.map_or(r.as_str(), |f| r[f].as_str())).map(str::to_string).collect()
    };
    match kind {
        "Delivery" => addresses(&e["delivery"]["recipients"], None).iter().map(|a| receipt(a, ReceiptOutcome::Delivered)).collect(),
        "Bounce" => {
            let hard = e["bounce"]["bounceType"].as_str() == Some("Permanent");
            let reason = format!("bounce: {}/{}", e["bounce"]["bounceType"].as_str().unwrap_or("?"), e["bounce"]["bounceSubType"].as_str().unwrap_or("?"));
            addresses(&e["bounce"]["bouncedRecipients"], Some("emailAddress")).iter().map(|a| receipt(a, ReceiptOutcome::Failed { reason: reason.clone(), stop: hard })).collect()
        }
        "Complaint" => addresses(&e["complaint"]["complainedRecipients"], Some("emailAddress"))
            .iter()
            .map(|a| receipt(a, ReceiptOutcome::Refused { reason: "complaint: the recipient marked it as spam".into() }))
            .collect(),
        "Reject" | "RenderingFailure" => addresses(&e["mail"]["destination"], None)
            .iter()
            .map(|a| receipt(a, ReceiptOutcome::Failed { reason: kind.to_string(), stop: false }))
            .collect(),
        _ => vec![],
    }
}

/// The receipt in one SMS delivery status log line of SNS.
pub fn sms_receipt(line: &str, now: DateTime<Utc>) -> Option<Receipt> {
    let e: Value = serde_json::from_str(line).ok()?;
    let id = e["notification"]["messageId"].as_str()?;
    let to = e["delivery"]["destination"].as_str()?;
    let outcome = match e["status"].as_str()? {
        "SUCCESS" => ReceiptOutcome::Delivered,
        _ => {
            let response = e["delivery"]["providerResponse"].as_str().unwrap_or("delivery failed");
            // A number that does not exist or said STOP to the carrier gets nothing more; a phone
            // that is off or a carrier that is busy may work later.
            let lower = response.to_ascii_lowercase();
            let reason = format!("sms: {response}");
            if lower.contains("opted out") {
                ReceiptOutcome::Refused { reason }
            } else {
                let stop = ["invalid phone number", "not a valid", "unknown subscriber", "landline"].iter().any(|p| lower.contains(p));
                ReceiptOutcome::Failed { reason, stop }
            }
        }
    };
    // When SNS published it (UTC, `2026-10-06 19:00:00.000`): the same line again is the same
    // receipt.
    let at = e["notification"]["timestamp"]
        .as_str()
        .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f").ok())
        .map_or(now, |t| t.and_utc());
    Some(Receipt { channel: Channel::Sms, provider_id: id.to_string(), key: None, address: to.to_string(), outcome, at })
}

/// An SNS event (SES receipts) or a CloudWatch Logs event (SMS receipts).
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<(), BoxError> {
    let now = app.now();
    let receipts: Vec<Receipt> = if event.payload.get("awslogs").is_some() {
        // (Read from text: the event type's decoder of `awslogs.data` wants borrowed strings.)
        let logs: LogsEvent = serde_json::from_str(&event.payload.to_string())?;
        logs.aws_logs.data.log_events.iter().filter_map(|l| sms_receipt(&l.message, now)).collect()
    } else {
        let sns: SnsEvent = serde_json::from_value(event.payload)?;
        sns.records.iter().flat_map(|r| ses_receipts(&r.sns.message, now)).collect()
    };
    let config = app.config().await;
    let pipeline = app.pipeline(&config, &NoSends);
    let (mut delivered, mut failed, mut stopped, mut unknown) = (0u64, 0u64, 0u64, 0u64);
    let mut tally = wmb_core::pipeline::Tally::default();
    for r in &receipts {
        let result = pipeline.record_receipt(r, &mut tally).await;
        if result.is_err() {
            // What was recorded before the failure is counted; the retried batch finds it done.
            app.store.add_county_days(&tally.county_days.take()).await;
        }
        let result = result?;
        match (&r.outcome, result.recorded) {
            (_, false) => unknown += 1,
            (ReceiptOutcome::Delivered, true) => delivered += 1,
            (ReceiptOutcome::Failed { .. } | ReceiptOutcome::Refused { .. }, true) => failed += 1,
        }
        stopped += result.stopped as u64;
    }
    app.store.add_county_days(&tally.county_days.take()).await;
    let channel = receipts.first().map_or("-", |r| r.channel.as_str());
    app.metrics.emit(
        now.timestamp_millis(),
        &[("Channel", channel)],
        &[&["Channel"]],
        &[("MessagesDelivered", count(delivered)), ("DeliveriesFailed", count(failed)), ("ChannelsStopped", count(stopped)), ("ReceiptsUnmatched", count(unknown))],
    );
    tracing::info!(receipts = receipts.len(), delivered, failed, stopped, unknown, "receipts recorded");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-10-06T19:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ses_events_become_receipts_a_hard_bounce_and_a_complaint_stop_a_soft_bounce_does_not() {
        let hard = r#"{"eventType":"Bounce","mail":{"messageId":"m-1","destination":["a@example.com"],"timestamp":"2026-10-06T19:00:00.000Z"},"bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"a@example.com"}],"timestamp":"2026-10-06T19:00:05.000Z"}}"#;
        let r = ses_receipts(hard, now());
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].provider_id.as_str(), r[0].address.as_str(), r[0].key.as_deref()), ("m-1", "a@example.com", None));
        assert!(matches!(&r[0].outcome, ReceiptOutcome::Failed { stop: true, reason } if reason == "bounce: Permanent/General"));
        let soft = hard.replace("Permanent", "Transient");
        assert!(matches!(ses_receipts(&soft, now())[0].outcome, ReceiptOutcome::Failed { stop: false, .. }));
        let complaint = r#"{"eventType":"Complaint","mail":{"messageId":"m-2"},"complaint":{"complainedRecipients":[{"emailAddress":"b@example.com"}]}}"#;
        assert!(matches!(ses_receipts(complaint, now())[0].outcome, ReceiptOutcome::Refused { .. }), "a complaint is the recipient saying stop");
        let delivery = r#"{"eventType":"Delivery","mail":{"messageId":"m-3"},"delivery":{"recipients":["c@example.com"]}}"#;
        assert_eq!(ses_receipts(delivery, now())[0].outcome, ReceiptOutcome::Delivered);
        // An email sent with its ledger key's tag names its message
        let tagged = r#"{"eventType":"Delivery","mail":{"messageId":"m-4","tags":{"ses:configuration-set":["wmb"],"wmb-message":["E_hCA1_hB1_hnot_uaccepted_hemail"]}},"delivery":{"recipients":["c@example.com"]}}"#;
        assert_eq!(ses_receipts(tagged, now())[0].key.as_deref(), Some("E#CA1#B1#not_accepted#email"));
        // (a code's key names the contact's place, not the channel: taken too, the ledger checks it)
        let code = tagged.replace("E_hCA1_hB1_hnot_uaccepted_hemail", "code_hAbC_ud-9_h0");
        assert_eq!(ses_receipts(&code, now())[0].key.as_deref(), Some("code#AbC_d-9#0"));
        // AND a receipt is dated when SES says it happened, so the same event again is the same
        assert_eq!(r[0].at, DateTime::parse_from_rfc3339("2026-10-06T19:00:05Z").unwrap().with_timezone(&Utc));
        assert_eq!(ses_receipts(delivery, now())[0].at, now(), "no time given: now");
        assert!(ses_receipts("not json", now()).is_empty());
        assert!(ses_receipts(r#"{"eventType":"Open","mail":{"messageId":"m"}}"#, now()).is_empty());
    }

    #[test]
    fn sms_status_logs_become_receipts_and_only_a_dead_number_stops() {
        let ok = r#"{"notification":{"messageId":"s-1","timestamp":"2026-10-06 19:00:00.000"},"delivery":{"destination":"+13105550100","providerResponse":"Message has been accepted by phone carrier"},"status":"SUCCESS"}"#;
        assert_eq!(sms_receipt(ok, now()).unwrap().outcome, ReceiptOutcome::Delivered);
        assert_eq!(sms_receipt(ok, DateTime::<Utc>::MIN_UTC).unwrap().at, now(), "dated when SNS published it");
        let opted = ok.replace("SUCCESS", "FAILURE").replace("Message has been accepted by phone carrier", "Phone number is opted out");
        assert!(matches!(sms_receipt(&opted, now()).unwrap().outcome, ReceiptOutcome::Refused { .. }), "an opt-out at the carrier is the phone saying stop");
        let off = ok.replace("SUCCESS", "FAILURE").replace("Message has been accepted by phone carrier", "Phone is currently unreachable/unavailable");
        assert!(matches!(sms_receipt(&off, now()).unwrap().outcome, ReceiptOutcome::Failed { stop: false, .. }));
        assert!(sms_receipt("{}", now()).is_none());
    }
}
